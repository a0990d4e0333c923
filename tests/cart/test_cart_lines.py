"""cartCreate, cartLinesAdd / Update / Remove: exact lines, limits, nothing written on refusal."""

from __future__ import annotations

from sqlalchemy import delete

from models.carts import Cart, CartLine
from models.catalog import Variant
from tests.cart import cart_fixtures
from tests.cart.cart_fixtures import (
    CART_CREATE,
    CART_QUERY,
    LINES_ADD,
    LINES_REMOVE,
    LINES_UPDATE,
    errors_of,
    gid,
    new_cart,
)
from tests.graphql_client import GraphQLClient

variants = cart_fixtures.variants
sql = cart_fixtures.sql
cart_row = cart_fixtures.cart_row


async def test_anonymous_cart_create_prices_its_lines(gql, make_product, variants, count):
    product = await make_product("Mug", variants=((1250, 5), (900, 3)))
    first, second = await variants(product)

    cart = await new_cart(gql, (first.id, 2), (second.id, 1), email=" Ada@Example.com ")

    assert cart["email"] == "ada@example.com"
    assert cart["totalQuantity"] == 3
    assert [
        (line["sku"], line["quantity"], line["quantityAvailable"]) for line in cart["lines"]
    ] == [
        ("mug-0", 2, 5),
        ("mug-1", 1, 3),
    ]
    line = cart["lines"][0]
    assert line["unitPrice"] == {"amount": "12.50", "currency": "USD"}
    assert line["total"] == {"amount": "25.00"}
    assert line["previousUnitPrice"] is None
    assert line["variant"] == {"id": gid("Variant", first.id), "sku": "mug-0"}
    assert line["productName"] == "Mug"
    assert cart["cost"]["subtotalAmount"] == {"amount": "34.00", "currency": "USD"}
    assert cart["cost"]["totalAmount"] == {"amount": "34.00", "currency": "USD"}
    assert cart["problems"] == []
    assert await count(Cart) == 1 and await count(CartLine) == 2


async def test_cart_currency_is_the_first_lines(gql, make_product, variants):
    product = await make_product("Euro mug", currency="EUR", variants=((700, 5),))
    [variant] = await variants(product)
    cart = await new_cart(gql, (variant.id, 1))
    assert cart["cost"]["totalAmount"] == {"amount": "7.00", "currency": "EUR"}
    empty = await new_cart(gql)
    assert empty["cost"]["totalAmount"] == {"amount": "0.00", "currency": "USD"}
    assert empty["lines"] == []


async def test_adding_the_same_variant_adds_to_its_line(gql, make_product, variants, count):
    product = await make_product("Mug", variants=((1000, 10),))
    [variant] = await variants(product)
    cart = await new_cart(gql, (variant.id, 2))

    data = await gql.execute(
        LINES_ADD,
        cartId=cart["id"],
        lines=[{"variantId": gid("Variant", variant.id), "quantity": 3},
               {"variantId": gid("Variant", variant.id)}],
    )  # fmt: skip

    payload = data["cartLinesAdd"]
    assert payload["userErrors"] == []
    assert [line["quantity"] for line in payload["cart"]["lines"]] == [6]  # 2 + 3 + default 1
    assert await count(CartLine) == 1


async def test_update_sets_quantity_and_zero_removes(gql, make_product, variants, count):
    product = await make_product("Mug", variants=((1000, 10), (500, 10)))
    first, second = await variants(product)
    cart = await new_cart(gql, (first.id, 2), (second.id, 1))
    line_a, line_b = (line["id"] for line in cart["lines"])

    data = await gql.execute(
        LINES_UPDATE,
        cartId=cart["id"],
        lines=[{"lineId": line_a, "quantity": 7}, {"lineId": line_b, "quantity": 0}],
    )

    payload = data["cartLinesUpdate"]
    assert payload["userErrors"] == []
    assert [(line["id"], line["quantity"]) for line in payload["cart"]["lines"]] == [(line_a, 7)]
    assert payload["cart"]["cost"]["subtotalAmount"]["amount"] == "70.00"
    assert await count(CartLine) == 1


async def test_remove_takes_all_or_none(gql, make_product, variants, count):
    product = await make_product("Mug", variants=((1000, 10), (500, 10)))
    first, second = await variants(product)
    cart = await new_cart(gql, (first.id, 1), (second.id, 1))
    line_a, line_b = (line["id"] for line in cart["lines"])

    refused = await gql.execute(
        LINES_REMOVE, cartId=cart["id"], lineIds=[line_a, gid("CartLine", 999999)]
    )
    assert errors_of(refused["cartLinesRemove"]) == [("lineIds.1", "NOT_FOUND")]
    assert refused["cartLinesRemove"]["cart"] is None
    twice = await gql.execute(LINES_REMOVE, cartId=cart["id"], lineIds=[line_a, line_a])
    assert errors_of(twice["cartLinesRemove"]) == [("lineIds.1", "INVALID")]
    assert await count(CartLine) == 2

    done = await gql.execute(LINES_REMOVE, cartId=cart["id"], lineIds=[line_b])
    assert [line["id"] for line in done["cartLinesRemove"]["cart"]["lines"]] == [line_a]
    assert await count(CartLine) == 1


async def test_quantities_out_of_range_are_coded(gql, make_product, variants, count):
    product = await make_product("Mug", variants=((1000, 5000),))
    [variant] = await variants(product)
    cart = await new_cart(gql, (variant.id, 1))
    vid = gid("Variant", variant.id)

    for quantity, code in ((0, "INVALID"), (-1, "INVALID"), (1000, "INVALID"), (None, "REQUIRED")):
        data = await gql.execute(LINES_ADD, cartId=cart["id"],
                                 lines=[{"variantId": vid, "quantity": quantity}])  # fmt: skip
        assert errors_of(data["cartLinesAdd"]) == [("lines.0.quantity", code)], quantity
    line_id = cart["lines"][0]["id"]
    for quantity, code in ((-5, "INVALID"), (1000, "INVALID"), (None, "REQUIRED")):
        data = await gql.execute(LINES_UPDATE, cartId=cart["id"],
                                 lines=[{"lineId": line_id, "quantity": quantity}])  # fmt: skip
        assert errors_of(data["cartLinesUpdate"]) == [("lines.0.quantity", code)], quantity
    # 998 + 2 passes the per-entry check but not the line's total.
    data = await gql.execute(
        LINES_ADD, cartId=cart["id"], lines=[{"variantId": vid, "quantity": 999}]
    )
    assert errors_of(data["cartLinesAdd"]) == [("lines.0.quantity", "INVALID")]
    assert await count(CartLine, CartLine.quantity == 1) == 1


async def test_huge_quantities_are_coded_errors_not_tracebacks(gql, make_product, variants, count):
    product = await make_product("Mug")
    [variant] = await variants(product)
    cart = await new_cart(gql, (variant.id, 1))
    lines = [{"variantId": gid("Variant", variant.id), "quantity": 2**31}]

    thousand = await gql.post(LINES_ADD, {"cartId": cart["id"], "lines": [
        {"variantId": gid("Variant", variant.id), "quantity": int("9" * 1000)}]})  # fmt: skip
    over_int = await gql.raw(LINES_ADD, cartId=cart["id"], lines=lines)
    literal = await gql.raw(
        'mutation($c: ID!) { cartLinesAdd(cartId: $c, lines: [{variantId: "x", quantity: '
        + "9" * 1000
        + "}]) { userErrors { code } } }",
        c=cart["id"],
    )

    # 1000 digits: the JSON body itself is refused (no integer that long is parsed).
    assert thousand.status_code == 400
    assert [e["extensions"]["code"] for e in thousand.json()["errors"]] == ["BAD_REQUEST"]
    # Past GraphQL's 32-bit Int: a variable coercion error; in a literal, validation fails.
    assert over_int.get("data") is None
    assert [e["extensions"]["code"] for e in over_int["errors"]] == ["BAD_USER_INPUT"]
    assert [e["extensions"]["code"] for e in literal["errors"]] == [
        "INVALID"
    ]  # the guard: long token
    assert await count(CartLine, CartLine.quantity == 1) == 1


async def test_over_stock_is_insufficient_stock_with_the_quantity(
    gql, make_product, variants, count
):
    product = await make_product("Mug", variants=((1000, 3),))
    [variant] = await variants(product)
    cart = await new_cart(gql, (variant.id, 2))

    data = await gql.execute(LINES_ADD, cartId=cart["id"],
                             lines=[{"variantId": gid("Variant", variant.id),
                                     "quantity": 2}])  # fmt: skip

    [error] = data["cartLinesAdd"]["userErrors"]
    assert (error["field"], error["code"], error["message"]) == (
        ["lines.0.quantity"],
        "INSUFFICIENT_STOCK",
        "Only 3 available.",
    )
    assert await count(CartLine, CartLine.quantity == 2) == 1
    update_data = await gql.execute(LINES_UPDATE, cartId=cart["id"],
                                    lines=[{"lineId": cart["lines"][0]["id"],
                                            "quantity": 4}])  # fmt: skip
    assert errors_of(update_data["cartLinesUpdate"]) == [("lines.0.quantity", "INSUFFICIENT_STOCK")]
    assert await count(CartLine, CartLine.quantity == 2) == 1


async def test_unsellable_variants_are_refused_on_add(gql, make_product, variants, count, sql):
    sold = await make_product("Mug")
    hidden = await make_product("Draft", published=False)
    euro = await make_product("Euro", currency="EUR")
    [sold_v], [hidden_v], [euro_v] = [await variants(p) for p in (sold, hidden, euro)]
    cart = await new_cart(gql, (sold_v.id, 1))

    data = await gql.execute(LINES_ADD, cartId=cart["id"], lines=[
        {"variantId": gid("Variant", hidden_v.id)},
        {"variantId": gid("Variant", euro_v.id)},
        {"variantId": gid("Variant", 987654)},
        {"variantId": "not-an-id"},
    ])  # fmt: skip

    assert errors_of(data["cartLinesAdd"]) == [
        ("lines.0.variantId", "PRODUCT_UNAVAILABLE"),
        ("lines.1.variantId", "CURRENCY_MISMATCH"),
        ("lines.2.variantId", "NOT_FOUND"),
        ("lines.3.variantId", "NOT_FOUND"),
    ]
    assert await count(CartLine) == 1
    created = await gql.execute(
        CART_CREATE, input={"lines": [{"variantId": gid("Variant", hidden_v.id)}]}
    )
    assert errors_of(created["cartCreate"]) == [("lines.0.variantId", "PRODUCT_UNAVAILABLE")]
    assert await count(Cart) == 1  # the refused create left no empty cart behind


async def test_line_limits(start_app, make_product, variants, count):
    product = await make_product("Mug", variants=((100, 50),) * 4)
    keys = [v.id for v in await variants(product)]
    async with start_app(cart_max_lines=3, cart_max_line_quantity=10) as (_, http):
        gql = GraphQLClient(http)
        cart = await new_cart(gql, (keys[0], 1), (keys[1], 1), (keys[2], 1))

        more = await gql.execute(LINES_ADD, cartId=cart["id"],
                                 lines=[{"variantId": gid("Variant", keys[3])}])  # fmt: skip
        assert errors_of(more["cartLinesAdd"]) == [("lines", "TOO_MANY_LINES")]
        long_list = await gql.execute(
            LINES_ADD, cartId=cart["id"], lines=[{"variantId": gid("Variant", keys[0])}] * 4
        )
        assert errors_of(long_list["cartLinesAdd"]) == [("lines", "INVALID")]
        dup = await gql.execute(LINES_UPDATE, cartId=cart["id"], lines=[
            {"lineId": cart["lines"][0]["id"], "quantity": 2},
            {"lineId": cart["lines"][0]["id"], "quantity": 3},
        ])  # fmt: skip
        assert errors_of(dup["cartLinesUpdate"]) == [("lines.1", "INVALID")]
        over = await gql.execute(LINES_UPDATE, cartId=cart["id"],
                                 lines=[{"lineId": cart["lines"][0]["id"],
                                         "quantity": 11}])  # fmt: skip
        assert errors_of(over["cartLinesUpdate"]) == [("lines.0.quantity", "INVALID")]
    assert await count(CartLine) == 3
    assert await count(CartLine, CartLine.quantity == 1) == 3


async def test_malformed_and_random_cart_ids_are_not_found(gql, make_product, variants):
    product = await make_product("Mug")
    [variant] = await variants(product)
    line = [{"variantId": gid("Variant", variant.id)}]
    for cart_id in ("", "garbage", gid("Cart", "A" * 43), gid("Cart", "1"), gid("Product", 1),
                    "Q2FydDo" + "x" * 200):  # fmt: skip
        data = await gql.execute(LINES_ADD, cartId=cart_id, lines=line)
        assert errors_of(data["cartLinesAdd"]) == [("cartId", "NOT_FOUND")], cart_id
        assert (await gql.execute(CART_QUERY, id=cart_id))["cart"] is None


async def test_lines_of_a_deleted_variant_stay_as_a_problem_until_removed(
    gql, make_product, variants, sql, count
):
    product = await make_product("Mug", variants=((1000, 5), (200, 5)))
    gone, kept = await variants(product)
    cart = await new_cart(gql, (gone.id, 1), (kept.id, 1))
    await sql(delete(Variant).where(Variant.id == gone.id))

    view = (await gql.execute(CART_QUERY, id=cart["id"]))["cart"]
    gone_line = view["lines"][0]
    assert gone_line["variant"] is None and gone_line["unitPrice"] is None
    assert [p["code"] for p in gone_line["problems"]] == ["PRODUCT_UNAVAILABLE"]
    raise_qty = await gql.execute(LINES_UPDATE, cartId=cart["id"],
                                  lines=[{"lineId": gone_line["id"], "quantity": 2}])  # fmt: skip
    assert errors_of(raise_qty["cartLinesUpdate"]) == [("lines.0.lineId", "PRODUCT_UNAVAILABLE")]
    removed = await gql.execute(LINES_UPDATE, cartId=cart["id"],
                                lines=[{"lineId": gone_line["id"], "quantity": 0}])  # fmt: skip
    assert removed["cartLinesUpdate"]["cart"]["problems"] == []
    assert await count(CartLine) == 1
