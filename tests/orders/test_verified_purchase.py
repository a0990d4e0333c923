"""A review is a verified purchase when its author has a paid order with the product."""

from __future__ import annotations

import pytest
from strawberry.relay import to_base64

from tests.checkout.checkout_fixtures import Shop
from tests.payments.payment_fixtures import checkout

REVIEW = """
mutation($input: ReviewCreateInput!) {
  reviewCreate(input: $input) { review { verifiedPurchase } userErrors { code } }
}"""


@pytest.fixture
def shop(session_factory) -> Shop:
    return Shop(session_factory)


async def _review(client, variant) -> bool:
    data = await client.execute(
        REVIEW, input={"productId": to_base64("Product", variant.product_id), "rating": 5}
    )
    assert data["reviewCreate"]["userErrors"] == []
    return data["reviewCreate"]["review"]["verifiedPurchase"]


async def test_only_a_paid_order_of_the_product_verifies_the_review(gql, shop, make_user, sign_in):
    user = await make_user(email="buyer@example.com")
    client = gql.as_user((await sign_in("buyer@example.com"))["accessToken"])
    bought, unpaid, never = (await shop.variant(), await shop.variant(), await shop.variant())
    method = await shop.method()
    await checkout(client, await shop.cart([(bought, 1)], method=method, user_id=user.id))
    await checkout(
        client, await shop.cart([(unpaid, 1)], method=method, user_id=user.id),
        token="tok_pending", key="key-2",
    )  # fmt: skip

    assert await _review(client, bought) is True
    assert await _review(client, unpaid) is False
    assert await _review(client, never) is False


async def test_someone_elses_purchase_does_not_verify_mine(gql, shop, make_user, sign_in):
    buyer = await make_user(email="buyer@example.com")
    await make_user(email="other@example.com")
    variant = await shop.variant()
    buyer_client = gql.as_user((await sign_in("buyer@example.com"))["accessToken"])
    await checkout(buyer_client, await shop.cart([(variant, 1)], method=await shop.method(),
                                                 user_id=buyer.id))  # fmt: skip
    other = gql.as_user((await sign_in("other@example.com"))["accessToken"])
    assert await _review(other, variant) is False
