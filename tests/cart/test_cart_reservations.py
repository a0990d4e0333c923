"""Stock held for carts in checkout: what it takes from others, expiry, the race for the last
unit, the purge of abandoned carts, and SQL statements that do not grow with lines."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update

from app.errors import UserError
from app.housekeeping import purge_carts
from app.services.cart import delivery
from app.services.cart.common import Caller
from models.carts import Cart, CartLine, StockReservation
from models.catalog import Product, Stock, Variant, Warehouse
from models.shipping import ShippingMethod, ShippingZone, ShippingZoneArea
from tests.cart import cart_fixtures
from tests.cart.cart_fixtures import (
    BERLIN,
    CART_QUERY,
    DELIVERY,
    LINES_ADD,
    LINES_UPDATE,
    SHIPPING_ADDRESS,
    errors_of,
    expire_reservations,
    gid,
    new_cart,
    token_of,
)
from tests.sql_counter import count_statements

variants = cart_fixtures.variants
sql = cart_fixtures.sql
make_zone = cart_fixtures.make_zone
cart_row = cart_fixtures.cart_row

VARIANT_QTY = "query($id: ID!) { node(id: $id) { ... on Variant { quantityAvailable } } }"


async def _checkout_ready(gql, method_id: int, *lines):
    cart = await new_cart(gql, *lines)
    await gql.execute(SHIPPING_ADDRESS, cartId=cart["id"], address=BERLIN)
    return cart, gid("ShippingMethod", method_id)


async def test_delivery_choice_holds_stock_others_cannot_take(
    gql, make_product, variants, make_zone, count, cart_row
):
    product = await make_product("Mug", variants=((1000, 3),))
    [variant] = await variants(product)
    [method] = await make_zone()
    cart, method_id = await _checkout_ready(gql, method.id, (variant.id, 2))

    chosen = await gql.execute(DELIVERY, cartId=cart["id"], methodId=method_id)

    assert chosen["cartDeliveryMethodUpdate"]["cart"]["reservedUntil"] is not None
    assert await count(StockReservation, StockReservation.quantity == 2) == 1
    shown = await gql.execute(VARIANT_QTY, id=gid("Variant", variant.id))
    assert shown["node"]["quantityAvailable"] == 1  # 3 on hand, 2 held
    # Its own cart still sees all it holds.
    assert chosen["cartDeliveryMethodUpdate"]["cart"]["lines"][0]["quantityAvailable"] == 3

    other, _ = await _checkout_ready(gql, method.id, (variant.id, 1))
    more = await gql.execute(LINES_ADD, cartId=other["id"],
                             lines=[{"variantId": gid("Variant", variant.id)}])  # fmt: skip
    assert errors_of(more["cartLinesAdd"]) == [("lines.0.quantity", "INSUFFICIENT_STOCK")]
    # Held stock beats a later cart's delivery choice: nothing of it is written.
    await gql.execute(LINES_UPDATE, cartId=cart["id"],
                      lines=[{"lineId": cart["lines"][0]["id"], "quantity": 3}])  # fmt: skip
    refused = await gql.execute(DELIVERY, cartId=other["id"], methodId=method_id)
    assert errors_of(refused["cartDeliveryMethodUpdate"]) == [("lines", "INSUFFICIENT_STOCK")]
    assert (await cart_row(other["id"])).shipping_method_id is None
    assert await count(StockReservation) == 1  # the first cart's hold, now for 3
    assert await count(StockReservation, StockReservation.quantity == 3) == 1


async def test_expired_reservations_free_the_stock(
    gql, make_product, variants, make_zone, sql, count
):
    product = await make_product("Mug", variants=((1000, 1),))
    [variant] = await variants(product)
    [method] = await make_zone()
    first, method_id = await _checkout_ready(gql, method.id, (variant.id, 1))
    second, _ = await _checkout_ready(gql, method.id, (variant.id, 1))
    await gql.execute(DELIVERY, cartId=first["id"], methodId=method_id)
    blocked = await gql.execute(DELIVERY, cartId=second["id"], methodId=method_id)
    assert errors_of(blocked["cartDeliveryMethodUpdate"]) == [("lines", "INSUFFICIENT_STOCK")]

    await expire_reservations(sql)

    shown = await gql.execute(VARIANT_QTY, id=gid("Variant", variant.id))
    assert shown["node"]["quantityAvailable"] == 1
    view = (await gql.execute(CART_QUERY, id=first["id"]))["cart"]
    assert view["reservedUntil"] is None
    taken = await gql.execute(DELIVERY, cartId=second["id"], methodId=method_id)
    assert taken["cartDeliveryMethodUpdate"]["userErrors"] == []
    assert await count(StockReservation, StockReservation.expires_at > datetime.now(UTC)) == 1


async def test_purge_deletes_only_expired_anonymous_carts(
    gql, make_user, sign_in, sql, count, session_factory, settings, cart_row
):
    old = datetime.now(UTC) - timedelta(days=settings.cart_expiry_days + 1)
    stale, fresh, done = await new_cart(gql), await new_cart(gql), await new_cart(gql)
    await make_user("ada@example.com")
    ada = gql.as_user((await sign_in("ada@example.com"))["accessToken"])
    owned = await new_cart(ada)
    tokens = [token_of(c["id"]) for c in (stale, done, owned)]
    await sql(
        update(Cart).where(Cart.token.in_(tokens)).values(updated_at=old),
        update(Cart).where(Cart.token == tokens[1]).values(completed_at=old),
    )

    purged = await purge_carts(session_factory, settings=settings)

    assert purged == 1
    assert await cart_row(stale["id"]) is None
    for kept in (fresh, done, owned):
        assert await cart_row(kept["id"]) is not None
    assert await count(Cart) == 3


async def test_cart_sql_statements_do_not_grow_with_lines(gql, make_product, variants, connection):
    product = await make_product("Many", variants=((100, 50),) * 20)
    keys = [v.id for v in await variants(product)]
    small = await new_cart(gql, (keys[0], 1))
    large = await new_cart(gql, *((key, 1) for key in keys))

    with count_statements(connection) as one:
        await gql.execute(CART_QUERY, id=small["id"])
    with count_statements(connection) as twenty:
        data = await gql.execute(CART_QUERY, id=large["id"])

    assert len(data["cart"]["lines"]) == 20
    assert len(twenty) == len(one)


async def _race_world(factory):
    async with factory() as session, session.begin():
        product = Product(name="Race cart", slug="race-cart-product", is_published=True)
        session.add(product)
        await session.flush()
        variant = Variant(
            product_id=product.id, sku="RACE-CART-1", price_amount=100, currency="USD"
        )
        session.add(variant)
        await session.flush()
        warehouse = await session.scalar(select(Warehouse.id).where(Warehouse.is_default))
        session.add(Stock(variant_id=variant.id, warehouse_id=warehouse, quantity=1))
        zone = ShippingZone(name="race-cart-zone")
        session.add(zone)
        await session.flush()
        session.add(ShippingZoneArea(zone_id=zone.id, country="DE"))
        method = ShippingMethod(zone_id=zone.id, name="Race", price_amount=0, currency="USD")
        session.add(method)
        carts = []
        for index in range(2):
            cart = Cart(token=f"race-cart-{index}".ljust(43, "x"), currency="USD",
                        shipping_address={"country": "DE", "city": "Berlin"})  # fmt: skip
            session.add(cart)
            await session.flush()
            session.add(CartLine(cart_id=cart.id, variant_id=variant.id, quantity=1,
                                 seen_unit_price_amount=100))  # fmt: skip
            carts.append(cart.token)
    return variant.id, method.id, carts


async def test_two_carts_racing_for_the_last_unit_exactly_one_holds_it(
    committed_sessions, settings
):
    factory = committed_sessions.remove_after(
        delete(Cart).where(Cart.token.startswith("race-cart-")),
        delete(Product).where(Product.slug == "race-cart-product"),
        delete(ShippingZone).where(ShippingZone.name == "race-cart-zone"),
    )
    variant_id, method_id, tokens = await _race_world(factory)
    gate = asyncio.Barrier(2)

    async def choose(token: str) -> str:
        try:  # as run_mutation does: the error rolls the whole transaction back
            async with factory() as session, session.begin():
                await gate.wait()
                await delivery.set_delivery_method(
                    session, caller=Caller(token=token, user_id=None), method_id=method_id,
                    settings=settings,
                )  # fmt: skip
        except UserError as exc:
            return exc.code.value
        return "ok"

    results = await asyncio.gather(*(choose(token) for token in tokens))

    assert sorted(results) == ["INSUFFICIENT_STOCK", "ok"]
    async with factory() as session:
        held = (await session.scalars(
            select(StockReservation.quantity).where(StockReservation.variant_id == variant_id)
        )).all()  # fmt: skip
        chosen = (await session.scalars(
            select(Cart.shipping_method_id).where(Cart.token.in_(tokens))
        )).all()  # fmt: skip
    assert held == [1]
    assert sorted(chosen, key=lambda v: v is None) == [method_id, None]
