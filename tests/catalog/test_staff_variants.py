"""Staff variant mutations through the public API: SKU, price, currency, weight."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models.catalog import Product, Stock, Variant
from tests.catalog import staff_fixtures
from tests.catalog.staff_fixtures import assert_refused, errors_of, gid

# Fixtures of staff_fixtures, made visible to pytest in this module.
customer, mutate, staff, staff_user = (
    staff_fixtures.customer,
    staff_fixtures.mutate,
    staff_fixtures.staff,
    staff_fixtures.staff_user,
)

VARIANT = """
  id sku name price { amount currency } compareAtPrice { amount currency } attributes
  weightGrams trackInventory quantityAvailable product { id }
"""
CREATE = f"""
mutation($input: VariantCreateInput!) {{
  variantCreate(input: $input) {{ variant {{ {VARIANT} }} userErrors {{ field message code }} }}
}}"""
UPDATE = f"""
mutation($id: ID!, $input: VariantUpdateInput!) {{
  variantUpdate(id: $id, input: $input) {{
    variant {{ {VARIANT} }} userErrors {{ field message code }}
  }}
}}"""
DELETE = """
mutation($id: ID!) { variantDelete(id: $id) { deletedId userErrors { field message code } } }
"""


def money(amount: str, currency: str = "USD") -> dict[str, str]:
    return {"amount": amount, "currency": currency}


@pytest.fixture
async def product(make_product):
    """A product without variants yet."""
    return await make_product("Tee", variants=(), images=0)


def _input(product_id: int, **overrides: object) -> dict[str, object]:
    return {"productId": gid("Product", product_id), "sku": "TEE-M", "price": money("12.50")} | (
        overrides
    )


async def _variants(session, *where: object) -> list[Variant]:
    return list((await session.scalars(select(Variant).where(*where).order_by(Variant.id))).all())


async def _min_price(session, product_id: int) -> int | None:
    return await session.scalar(select(Product.min_price_amount).where(Product.id == product_id))


async def test_variant_create_with_every_field(mutate, product, session, count):
    payload = await mutate(
        CREATE,
        input=_input(
            product.id,
            sku="  TEE-RED-M ",
            name="M / Red",
            price=money("12.5", "eur"),
            compareAtPrice=money("15.00", "EUR"),
            attributes={"size": "M", "color": ["red", "rouge"]},
            weightGrams=180,
            trackInventory=False,
        ),
    )

    assert payload["userErrors"] == []
    assert payload["variant"] == {
        "id": payload["variant"]["id"],
        "sku": "TEE-RED-M",
        "name": "M / Red",
        "price": {"amount": "12.50", "currency": "EUR"},
        "compareAtPrice": {"amount": "15.00", "currency": "EUR"},
        "attributes": {"size": "M", "color": ["red", "rouge"]},
        "weightGrams": 180,
        "trackInventory": False,
        "quantityAvailable": 0,
        "product": {"id": gid("Product", product.id)},
    }
    assert await count(Variant) == 1
    assert await _min_price(session, product.id) == 1250


@pytest.mark.parametrize(
    ("price", "minor"),
    [(money("1500", "JPY"), 1500), (money("1.234", "KWD"), 1234), (money("0", "USD"), 0)],
)
async def test_variant_price_uses_the_currency_minor_unit(mutate, product, session, price, minor):
    payload = await mutate(CREATE, input=_input(product.id, price=price))

    assert payload["userErrors"] == []
    assert payload["variant"]["price"]["currency"] == price["currency"]
    assert await _min_price(session, product.id) == minor


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"sku": ""}, "sku", "REQUIRED"),
        ({"sku": "   "}, "sku", "REQUIRED"),
        ({"sku": "TEE M"}, "sku", "INVALID"),
        ({"sku": "TEE\tM"}, "sku", "INVALID"),
        ({"sku": "TEE\u0007M"}, "sku", "INVALID"),
        ({"sku": "S" * 65}, "sku", "TOO_LONG"),
        ({"name": "n" * 251}, "name", "TOO_LONG"),
        ({"price": money("-1")}, "price", "INVALID"),
        ({"price": money("12.345")}, "price", "INVALID"),
        ({"price": money("12.5", "JPY")}, "price", "INVALID"),
        ({"price": money("1000000000.01")}, "price", "INVALID"),
        ({"price": money("1e30")}, "price", "INVALID"),
        ({"price": money("NaN")}, "price", "INVALID"),
        ({"price": money("Infinity")}, "price", "INVALID"),
        ({"price": money("10", "ZZZ")}, "price", "INVALID"),
        ({"price": money("10", "EURO")}, "price", "INVALID"),
        ({"price": money("10", "")}, "price", "INVALID"),
        ({"compareAtPrice": money("20", "EUR")}, "compareAtPrice", "INVALID"),
        ({"compareAtPrice": money("-20")}, "compareAtPrice", "INVALID"),
        ({"weightGrams": -1}, "weightGrams", "INVALID"),
        ({"weightGrams": 1_000_001}, "weightGrams", "INVALID"),
        ({"attributes": {"size": {"eu": "M"}}}, "attributes", "INVALID"),
        ({"attributes": {"size": "M" * 101}}, "attributes", "TOO_LONG"),
        ({"productId": gid("User", 1)}, "productId", "NOT_FOUND"),
        ({"productId": gid("Product", 987654)}, "productId", "NOT_FOUND"),
    ],
)
async def test_variant_create_rejects_bad_input_without_writing(
    mutate, product, session, count, overrides, field, code
):
    payload = await mutate(CREATE, input=_input(product.id, **overrides))

    assert payload["variant"] is None
    assert errors_of(payload) == [([field], code)]
    assert await count(Variant) == 0
    assert await _min_price(session, product.id) is None


async def test_variant_create_refuses_a_taken_sku(mutate, make_product, count):
    existing = await make_product("Mug")  # its variant has the SKU "mug-0"

    payload = await mutate(CREATE, input=_input(existing.id, sku="mug-0"))

    assert errors_of(payload) == [(["sku"], "UNIQUE")]
    assert await count(Variant) == 1


async def test_all_variants_of_a_product_share_one_currency(mutate, make_product, count):
    mug = await make_product("Mug", currency="USD")

    payload = await mutate(CREATE, input=_input(mug.id, price=money("10", "EUR")))

    assert errors_of(payload) == [(["price"], "INVALID")]
    assert await count(Variant) == 1


async def test_huge_integers_are_graphql_errors_and_write_nothing(staff, product, count):
    body = await staff.raw(CREATE, input=_input(product.id, weightGrams=2**40))

    # Refused by GraphQL's own Int coercion, before any resolver runs.
    assert "data" not in body
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "$input" in error["message"] and ".weightGrams" in error["message"]
    assert await count(Variant) == 0


async def test_variant_update_changes_only_the_given_fields(mutate, make_product, session):
    mug = await make_product("Mug", variants=[(1000, 5), (2000, 1)])
    variant = (await _variants(session))[0]

    payload = await mutate(
        UPDATE,
        id=gid("Variant", variant.id),
        input={"price": money("7.99"), "compareAtPrice": money("9.99"), "name": "Small"},
    )

    assert payload["userErrors"] == []
    updated = payload["variant"]
    assert (updated["sku"], updated["name"]) == ("mug-0", "Small")
    assert updated["price"] == {"amount": "7.99", "currency": "USD"}
    assert updated["compareAtPrice"] == {"amount": "9.99", "currency": "USD"}
    assert updated["quantityAvailable"] == 5
    assert await _min_price(session, mug.id) == 799

    cleared = await mutate(UPDATE, id=gid("Variant", variant.id), input={"compareAtPrice": None})
    assert cleared["variant"]["compareAtPrice"] is None


async def test_variant_update_currency_rules(mutate, make_product, session):
    single = await make_product("Single", variants=[(1000, 1)])
    double = await make_product("Double", variants=[(1000, 1), (1000, 1)])
    single_id = (await _variants(session, Variant.product_id == single.id))[0].id
    double_id = (await _variants(session, Variant.product_id == double.id))[0].id
    await mutate(UPDATE, id=gid("Variant", single_id), input={"compareAtPrice": money("12")})

    # The compare-at price is in the old currency: it must be given again.
    stale = await mutate(UPDATE, id=gid("Variant", single_id), input={"price": money("9", "EUR")})
    both = await mutate(
        UPDATE,
        id=gid("Variant", single_id),
        input={"price": money("9", "EUR"), "compareAtPrice": money("11", "EUR")},
    )
    mixed = await mutate(UPDATE, id=gid("Variant", double_id), input={"price": money("9", "EUR")})

    assert errors_of(stale) == [(["compareAtPrice"], "INVALID")]
    assert both["variant"]["price"] == {"amount": "9.00", "currency": "EUR"}
    assert errors_of(mixed) == [(["price"], "INVALID")]


async def test_variant_update_refuses_taken_sku_and_bad_ids(mutate, make_product, session):
    await make_product("Mug")
    cup = await make_product("Cup")
    (cup_variant,) = await _variants(session, Variant.product_id == cup.id)

    taken = await mutate(UPDATE, id=gid("Variant", cup_variant.id), input={"sku": "mug-0"})
    same = await mutate(UPDATE, id=gid("Variant", cup_variant.id), input={"sku": " cup-0 "})
    wrong = await mutate(UPDATE, id=gid("Product", cup.id), input={"sku": "x"})
    unknown = await mutate(UPDATE, id=gid("Variant", 987654), input={"sku": "x"})

    assert errors_of(taken) == [(["sku"], "UNIQUE")]
    assert same["variant"]["sku"] == "cup-0"
    assert errors_of(wrong) == [(["id"], "NOT_FOUND")]
    assert errors_of(unknown) == [(["id"], "NOT_FOUND")]
    assert {row.sku for row in await _variants(session)} == {"mug-0", "cup-0"}


async def test_variant_delete_removes_its_stock_and_updates_min_price(
    mutate, make_product, session, count
):
    mug = await make_product("Mug", variants=[(500, 5), (900, 2)])
    (cheap,) = await _variants(session, Variant.price_amount == 500)

    payload = await mutate(DELETE, id=gid("Variant", cheap.id))

    assert payload == {"deletedId": gid("Variant", cheap.id), "userErrors": []}
    assert await count(Variant) == 1
    assert await count(Stock) == 1
    assert await _min_price(session, mug.id) == 900
    again = await mutate(DELETE, id=gid("Variant", cheap.id))
    assert errors_of(again) == [(["id"], "NOT_FOUND")]


@pytest.mark.parametrize("query", [CREATE, UPDATE, DELETE])
async def test_variant_mutations_need_manage_products(
    gql, customer, make_product, session, count, query
):
    mug = await make_product("Mug")
    variant_id = (await _variants(session))[0].id
    variables: dict[str, object] = {
        CREATE: {"input": _input(mug.id, sku="NEW")},
        UPDATE: {"id": gid("Variant", variant_id), "input": {"sku": "CHANGED"}},
        DELETE: {"id": gid("Variant", variant_id)},
    }[query]

    await assert_refused(gql, customer, query, **variables)

    assert await count(Variant) == 1
    assert await count(Variant, Variant.sku == "mug-0") == 1
