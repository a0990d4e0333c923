"""Hostile text where the payment API takes text: NUL bytes in refund
reasons, refund keys and order tokens, odd numbers and explicit nulls in refund amounts are
refused as errors of the request, never a 500, and nothing is written."""

from __future__ import annotations

import pytest

from tests.catalog.staff_fixtures import customer, key_of, staff, staff_user
from tests.checkout.checkout_fixtures import Shop
from tests.payments.payment_fixtures import CONFIRM, REFUND, checkout, codes, money_rows

__all__ = ["customer", "staff", "staff_user"]


@pytest.fixture
def shop(session_factory) -> Shop:
    return Shop(session_factory)


async def _order(shop: Shop, gql) -> dict:
    variant = await shop.variant(price=1000, stock=5)
    cart = await shop.cart([(variant, 2)], method=await shop.method(price=500))
    return await checkout(gql, cart, token="tok_success")


@pytest.mark.parametrize(
    "refund_input",
    [{"amount": "1", "reason": "a\x00b"}, {"amount": "1", "idempotencyKey": "k\x00"}],
)
async def test_a_nul_in_refund_text_is_refused_before_anything_is_written(
    gql, shop, staff, session_factory, refund_input
):
    order = await _order(shop, gql)
    assert await staff.error_codes(REFUND, orderId=order["id"], input=refund_input) == ["INVALID"]
    rows = await money_rows(session_factory, key_of(order["id"]))
    assert (rows["refunds"], rows["payments"]) == ([], [("succeeded", 2500, 0, 0)])


async def test_a_hostile_order_token_is_refused(gql):
    assert await gql.error_codes(CONFIRM, token="a\x00b") == ["INVALID"]
    long = (await gql.execute(CONFIRM, token="x" * 100_000))["orderPaymentConfirm"]
    assert codes(long) == [(["orderToken"], "NOT_FOUND")]
