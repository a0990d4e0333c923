"""Staff reads of inventory: warehouses, stock per warehouse, stock history."""

from __future__ import annotations

from strawberry.relay import from_base64, to_base64

from app.auth.permissions import Role

SET = """mutation($v: ID!, $w: ID, $q: Int!, $r: String!) {
  stockSet(variantId: $v, warehouseId: $w, quantity: $q, reason: $r) { userErrors { code } }
}"""
ADJUST = """mutation($v: ID!, $d: Int!, $r: String!) {
  stockAdjust(variantId: $v, delta: $d, reason: $r) { userErrors { code } }
}"""
W_CREATE = """mutation { warehouseCreate(input: {name: "Annex"}) { warehouse { id } } }"""
STOCKS = """query($id: ID!) { node(id: $id) { ... on Variant {
  quantityAvailable stocks { warehouse { slug isDefault } quantity } } } }"""
HISTORY = """query($v: ID!, $first: Int, $after: String) {
  stockHistory(variantId: $v, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { delta quantityAfter reason warehouse { slug } } }
  }
}"""


async def _staff(gql, make_user, sign_in):
    await make_user(email="staff@example.com", role=Role.STAFF)
    return gql.as_user((await sign_in("staff@example.com"))["accessToken"])


async def test_stock_per_warehouse_and_history(gql, make_user, sign_in, make_product):
    staff = await _staff(gql, make_user, sign_in)
    product = await make_product("Mug", variants=[(500, 0)])
    variant = to_base64("Variant", await _variant_id(staff, product.id))
    annex = (await staff.execute(W_CREATE))["warehouseCreate"]["warehouse"]["id"]

    await staff.execute(SET, v=variant, w=None, q=5, r="Delivery")
    await staff.execute(SET, v=variant, w=annex, q=2, r="Count")
    await staff.execute(ADJUST, v=variant, d=-1, r="Broken")

    stocks = (await staff.execute(STOCKS, id=variant))["node"]
    first = (await staff.execute(HISTORY, v=variant, first=2))["stockHistory"]
    rest = (await staff.execute(HISTORY, v=variant, first=2, after=first["pageInfo"]["endCursor"]))[
        "stockHistory"
    ]
    warehouses = await staff.execute("{ warehouses(first: 5) { edges { node { slug } } } }")

    assert stocks["quantityAvailable"] == 6
    assert stocks["stocks"] == [
        {"warehouse": {"slug": "default", "isDefault": True}, "quantity": 4},
        {"warehouse": {"slug": "annex", "isDefault": False}, "quantity": 2},
    ]
    history = [e["node"] for e in first["edges"] + rest["edges"]]
    assert [
        (h["delta"], h["quantityAfter"], h["reason"], h["warehouse"]["slug"]) for h in history
    ] == [(-1, 4, "Broken", "default"), (2, 2, "Count", "annex"), (5, 5, "Delivery", "default")]
    assert first["pageInfo"]["hasNextPage"] is True and rest["pageInfo"]["hasNextPage"] is False
    assert [e["node"]["slug"] for e in warehouses["warehouses"]["edges"]] == ["annex", "default"]


async def _variant_id(client, product_id: int) -> int:
    data = await client.execute(
        "query($id: ID!) { node(id: $id) { ... on Product { variants { id } } } }",
        id=to_base64("Product", product_id),
    )
    return int(from_base64(data["node"]["variants"][0]["id"])[1])


async def test_inventory_reads_are_staff_only(gql, make_user, sign_in, make_product):
    product = await make_product("Mug")
    await make_user(email="cust@example.com")
    customer = gql.as_user((await sign_in("cust@example.com"))["accessToken"])
    variant = to_base64("Variant", await _variant_id(customer, product.id))

    for client, code in ((gql, "UNAUTHENTICATED"), (customer, "FORBIDDEN")):
        history = await client.raw(HISTORY, v=variant)
        warehouses = await client.raw("{ warehouses { edges { node { id } } } }")
        stocks = await client.raw(STOCKS, id=variant)
        assert history["errors"][0]["extensions"]["code"] == code
        assert warehouses["errors"][0]["extensions"]["code"] == code
        assert stocks["errors"][0]["extensions"]["code"] == code


async def test_stock_history_of_a_wrong_id_is_empty_like_a_missing_variant(
    gql, make_user, sign_in, make_product
):
    staff = await _staff(gql, make_user, sign_in)
    product = await make_product("Mug", variants=[(500, 0)])
    variant_id = await _variant_id(staff, product.id)
    await staff.execute(SET, v=to_base64("Variant", variant_id), w=None, q=5, r="Delivery")
    empty = {
        "data": {
            "stockHistory": {"pageInfo": {"hasNextPage": False, "endCursor": None}, "edges": []}
        }
    }

    for wrong in (to_base64("Product", variant_id), to_base64("Variant", 987_654), "garbage"):
        assert await staff.data_and_errors(HISTORY, v=wrong) == empty
