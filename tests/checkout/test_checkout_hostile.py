"""An attacker's review of checkout on committed data: a customer's cart completing while
they create or take over another one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select, update
from strawberry.relay import to_base64

from app.services.accounts.tokens import RegistrationData, register_account
from models.accounts import User
from models.carts import Cart, CartLine
from tests.accounts.flows import sign_in
from tests.checkout.checkout_fixtures import Shop, cart_id
from tests.conftest import PASSWORD

PREFIX = "ck-hostile-"
CART_CREATE = """mutation { cartCreate { cart { id } userErrors { field code } } }"""
CART_CREATE_LINES = """mutation($lines: [CartLineInput!]!) {
  cartCreate(input: {lines: $lines}) { cart { id } userErrors { field code } } }"""
BUYER_UPDATE = """mutation($cartId: ID!) {
  cartBuyerUpdate(cartId: $cartId) { cart { id } userErrors { field code } } }"""


@pytest.fixture
def shop(committed_sessions) -> Shop:
    shop = Shop(committed_sessions.factory, prefix=PREFIX)
    committed_sessions.remove_after(
        *shop.cleanup(), delete(User).where(User.email.like(f"{PREFIX}%"))
    )
    return shop


async def _customer(shop: Shop, settings) -> User:
    async with shop.factory() as session, session.begin():
        return await register_account(
            session,
            data=RegistrationData(f"{PREFIX}buyer@example.com", PASSWORD),
            settings=settings,
        )


@pytest.mark.parametrize("mutation", ["cartCreate", "cartBuyerUpdate"])
async def test_a_cart_write_waiting_on_the_customers_completing_cart_gets_a_fresh_cart(
    start_app, shop, settings, mutation
):
    # Given a customer's open cart being completed in a transaction not yet committed
    customer = await _customer(shop, settings)
    variant = await shop.variant(stock=5)
    own = await shop.cart([(variant, 1)], user_id=customer.id, email=customer.email)
    anonymous = await shop.cart([(variant, 2)], email=f"{PREFIX}guest@example.com")
    async with start_app(bind=False, database_pool_size=4) as (_, http):
        token = (await sign_in(http, customer.email))["accessToken"]
        headers = {"Authorization": f"Bearer {token}"}
        async with shop.factory() as checkout, checkout.begin():
            await checkout.execute(select(Cart.id).where(Cart.id == own.id).with_for_update())
            await checkout.execute(
                update(Cart).where(Cart.id == own.id).values(completed_at=datetime.now(UTC))
            )
            # When the customer creates a cart (or takes over one) meanwhile
            if mutation == "cartCreate":
                body = {"query": CART_CREATE}
            else:
                body = {"query": BUYER_UPDATE, "variables": {"cartId": cart_id(anonymous)}}
            call = asyncio.create_task(http.post("/graphql", json=body, headers=headers))
            await asyncio.sleep(0.5)  # it waits for the cart's lock
            assert not call.done()
        response = await call

    # Then it gets an open cart of its own, not CART_COMPLETED for the cart that became an order
    payload = response.json()["data"][mutation]
    assert payload["userErrors"] == []
    assert payload["cart"]["id"] != cart_id(own)
    async with shop.factory() as session:
        open_carts = await session.scalar(
            select(func.count()).where(Cart.user_id == customer.id, Cart.completed_at.is_(None))
        )
    assert open_carts == 1
    if mutation == "cartBuyerUpdate":
        assert payload["cart"]["id"] == cart_id(anonymous)  # handed over whole


LINES_ADD = """mutation($cartId: ID!, $lines: [CartLineInput!]!) {
  cartLinesAdd(cartId: $cartId, lines: $lines) { cart { id } userErrors { field code } } }"""


async def test_twenty_cart_creates_at_once_leave_one_open_cart(start_app, shop, settings):
    # Given a signed-in customer without a cart
    customer = await _customer(shop, settings)
    variant = await shop.variant(stock=100)
    line = {"variantId": to_base64("Variant", variant.id), "quantity": 1}
    async with start_app(bind=False, database_pool_size=20) as (_, http):
        token = (await sign_in(http, customer.email))["accessToken"]
        headers = {"Authorization": f"Bearer {token}"}
        body = {"query": CART_CREATE_LINES, "variables": {"lines": [line]}}
        # When they send cartCreate twenty times at once
        responses = await asyncio.gather(
            *(http.post("/graphql", json=body, headers=headers) for _ in range(20))
        )

    # Then all twenty answer the one open cart, which holds the twenty units
    payloads = [response.json()["data"]["cartCreate"] for response in responses]
    assert all(payload["userErrors"] == [] for payload in payloads)
    assert len({payload["cart"]["id"] for payload in payloads}) == 1
    async with shop.factory() as session:
        carts = list(await session.scalars(select(Cart).where(Cart.user_id == customer.id)))
        quantity = await session.scalar(
            select(func.sum(CartLine.quantity)).where(CartLine.cart_id == carts[0].id)
        )
    assert len(carts) == 1 and quantity == 20


async def test_fifty_adds_at_once_never_pass_cart_max_lines(start_app, shop):
    # Given an anonymous cart and fifty variants, with CART_MAX_LINES 5
    cart = await shop.cart([])
    keys = [(await shop.variant(stock=5)).id for _ in range(50)]
    async with start_app(bind=False, database_pool_size=20, cart_max_lines=5) as (_, http):
        # When fifty cartLinesAdd of a new variant each arrive at once
        responses = await asyncio.gather(
            *(
                http.post("/graphql", json={"query": LINES_ADD, "variables": {
                    "cartId": cart_id(cart),
                    "lines": [{"variantId": to_base64("Variant", key), "quantity": 1}],
                }})
                for key in keys
            )
        )  # fmt: skip

    # Then five were added and forty-five refused with TOO_MANY_LINES; the cart has 5 lines
    codes = [[e["code"] for e in r.json()["data"]["cartLinesAdd"]["userErrors"]] for r in responses]
    assert sorted(map(tuple, codes)) == [()] * 5 + [("TOO_MANY_LINES",)] * 45
    async with shop.factory() as session:
        lines = await session.scalar(
            select(func.count()).select_from(CartLine).where(CartLine.cart_id == cart.id)
        )
    assert lines == 5
