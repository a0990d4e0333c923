"""An attacker's review of the cart API: inputs, numbers and IDs that must give a coded
answer (never a traceback), leave nothing half-written and leak nothing."""

from __future__ import annotations

from sqlalchemy import update

from models.catalog import Variant
from tests.cart import cart_fixtures
from tests.cart.cart_fixtures import BERLIN, SHIPPING_ADDRESS, new_cart

variants = cart_fixtures.variants
sql = cart_fixtures.sql
make_zone = cart_fixtures.make_zone

WEIGHT = "query($id: ID!) { cart(id: $id) { weightGrams availableDeliveryMethods { name } } }"


async def test_a_cart_heavier_than_a_32_bit_int_is_priced_not_a_traceback(
    gql, make_product, variants, make_zone, sql
):
    # Given three one-tonne variants (the heaviest a variant may be), 999 of each: 3,000 t
    products = [await make_product(f"Anvil {n}", variants=((1000, 5),)) for n in range(3)]
    keys = [(await variants(product))[0].id for product in products]
    await sql(
        update(Variant)
        .where(Variant.id.in_(keys))
        .values(weight_grams=1_000_000, track_inventory=False)
    )
    await make_zone(methods=(("Freight", 500, None),), max_weight_grams=100_000_000)
    await make_zone(countries=("DE",), methods=(("Any weight", 900, None),))
    cart = await new_cart(gql, *[(key, 999) for key in keys])

    # When the shopper gives an address (delivery methods are now matched against the weight)
    data = await gql.execute(SHIPPING_ADDRESS, cartId=cart["id"], address=BERLIN)

    # Then the cart is priced (2,997,000,000 g): only the method without a limit is offered
    payload = data["cartShippingAddressUpdate"]
    assert payload["userErrors"] == []
    assert payload["cart"]["weightGrams"] == 2**31 - 1  # saturated: GraphQL Int is 32-bit
    assert [m["name"] for m in payload["cart"]["availableDeliveryMethods"]] == ["Any weight"]
    read = await gql.execute(WEIGHT, id=cart["id"])
    assert read["cart"]["availableDeliveryMethods"] == [{"name": "Any weight"}]


CART_IDS = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"


async def test_every_cart_read_pays_for_pricing_the_cart(gql, make_product, variants, count):
    # Given a cart (each read prices it afresh, whatever the document selects of it)
    product = await make_product("Mug", variants=((1000, 5),))
    [variant] = await variants(product)
    cart = await new_cart(gql, (variant.id, 1))

    # When it is read by `cart(id:)`, thirty times through aliases, and through `nodes`
    one = await gql.raw("query($id: ID!) { cart(id: $id) { id } }", id=cart["id"])
    aliases = " ".join(f"a{n}: cart(id: $id) {{ id }}" for n in range(30))
    many = await gql.raw(f"query($id: ID!) {{ {aliases} }}", id=cart["id"])
    nodes = await gql.raw(CART_IDS, ids=[cart["id"]] * 10)
    flood = await gql.raw(CART_IDS, ids=[cart["id"]] * 100)

    # Then each cart costs 200 asked and answered (not 2 + 1 for its `id`)
    assert one["extensions"]["cost"] == {"requestedQueryCost": 201, "actualQueryCost": 201}
    assert many["extensions"]["cost"]["requestedQueryCost"] == 30 * 201
    assert many["extensions"]["cost"]["actualQueryCost"] == 30 * 201
    assert nodes["extensions"]["cost"] == {
        "requestedQueryCost": 2 + 10 * 201,
        "actualQueryCost": 2 + 10 * 201,
    }
    # and a hundred cart IDs in one `nodes` are refused before anything runs
    assert "data" not in flood or flood["data"] is None
    assert [e["extensions"]["code"] for e in flood["errors"]] == ["QUERY_TOO_COSTLY"]
    assert flood["extensions"]["cost"]["actualQueryCost"] == 0
