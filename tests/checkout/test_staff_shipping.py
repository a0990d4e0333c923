"""Staff shipping zones and methods: areas, prices, ranges, permissions, deletes, paging."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from models.carts import Cart
from models.shipping import ShippingMethod, ShippingZone, ShippingZoneArea
from tests.checkout import staff_checkout_fixtures as fx
from tests.checkout.staff_checkout_fixtures import (
    METHOD_CREATE,
    METHOD_DELETE,
    METHOD_UPDATE,
    ZONE_CREATE,
    ZONE_DELETE,
    ZONE_UPDATE,
    ZONES,
    errors_of,
    gid,
    key_of,
)
from tests.sql_counter import count_statements

admin, as_admin, customer, method, rows, rule_state, staff, staff_user, zone = (
    fx.admin,
    fx.as_admin,
    fx.customer,
    fx.method,
    fx.rows,
    fx.rule_state,
    fx.staff,
    fx.staff_user,
    fx.zone,
)

NODE = "query($id: ID!) { node(id: $id) { ... on ShippingZone { name } } }"


async def test_zone_create_cleans_its_areas(zone, rows):
    assert zone | {"id": None} == {
        "id": None,
        "name": "Europe",
        "isWorldwide": False,
        "countries": ["DE", "FR"],
        "regions": [{"country": "AT", "region": "TIROL"}],
        "methods": [],
    }
    assert await rows(
        ShippingZoneArea, ShippingZoneArea.zone_id, ShippingZoneArea.country,
        ShippingZoneArea.region,
    ) == [(key_of(zone["id"]), "DE", ""), (key_of(zone["id"]), "FR", ""),
          (key_of(zone["id"]), "AT", "TIROL")]  # fmt: skip


async def test_a_worldwide_zone_needs_no_area(as_admin):
    payload = await as_admin(ZONE_CREATE, input={"name": "Rest of world", "isWorldwide": True})

    assert payload["shippingZone"] | {"id": None} == {
        "id": None,
        "name": "Rest of world",
        "isWorldwide": True,
        "countries": [],
        "regions": [],
        "methods": [],
    }


async def test_only_checkout_managers_configure_shipping(
    gql, customer, staff, zone, method, rule_state
):
    before = await rule_state()
    create = {"input": {"name": "Asia", "countries": ["JP"]}}
    calls: list[tuple[str, dict[str, Any]]] = [
        (ZONE_CREATE, create),
        (ZONE_UPDATE, {"id": zone["id"], "input": {"name": "X"}}),
        (ZONE_DELETE, {"id": zone["id"]}),
        (METHOD_CREATE, {"input": {"zoneId": zone["id"], "name": "X",
                                   "price": {"amount": "1", "currency": "EUR"}}}),
        (METHOD_UPDATE, {"id": method["id"], "input": {"name": "X"}}),
        (METHOD_DELETE, {"id": method["id"]}),
        (ZONES, {}),
    ]  # fmt: skip
    for document, variables in calls:
        assert await gql.error_codes(document, **variables) == ["UNAUTHENTICATED"]
        assert await customer.error_codes(document, **variables) == ["FORBIDDEN"]
        # Staff manage discounts, not shipping: MANAGE_CHECKOUT is the admins'.
        assert await staff.error_codes(document, **variables) == ["FORBIDDEN"]
    assert await staff.execute(NODE, id=zone["id"]) == {"node": None}
    assert await rule_state() == before


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"name": ""}, "name", "REQUIRED"),
        ({"name": " \t "}, "name", "REQUIRED"),
        ({"name": "Z" * 251}, "name", "TOO_LONG"),
        ({"name": "Eu\u202erope"}, "name", "INVALID"),
        ({"countries": ["XX"]}, "countries", "INVALID"),
        ({"countries": ["DEU"]}, "countries", "INVALID"),
        ({"countries": ["D\u200b"]}, "countries", "INVALID"),
        ({"countries": [""]}, "countries", "REQUIRED"),
        ({"countries": ["de", "DE"]}, "countries", "UNIQUE"),
        ({"countries": ["DE"] * 501}, "countries", "INVALID"),
        ({"regions": [{"country": "DE", "region": " "}]}, "regions", "REQUIRED"),
        ({"regions": [{"country": "ZZ", "region": "BY"}]}, "regions", "INVALID"),
        ({"regions": [{"country": "DE", "region": "B\u200bY"}]}, "regions", "INVALID"),
        ({"regions": [{"country": "DE", "region": "B" * 151}]}, "regions", "TOO_LONG"),
        ({"regions": [{"country": "DE", "region": "ß" * 100}]}, "regions", "TOO_LONG"),
        ({"regions": [{"country": "DE", "region": "by"}, {"country": "de", "region": "BY "}]},
         "regions", "UNIQUE"),
    ],
)  # fmt: skip
async def test_zone_create_refuses_bad_input(as_admin, rule_state, overrides, field, code):
    before = await rule_state()

    payload = await as_admin(ZONE_CREATE, input={"name": "Europe"} | overrides)

    assert payload["shippingZone"] is None
    assert errors_of(payload) == [([field], code)]
    assert await rule_state() == before


async def test_a_nul_byte_anywhere_is_refused_before_anything_runs(admin, zone, rule_state):
    before = await rule_state()
    nul = [
        (ZONE_CREATE, {"input": {"name": "Eu\x00rope"}}),
        (ZONE_CREATE, {"input": {"name": "Europe", "countries": ["D\x00"]}}),
        (ZONE_UPDATE, {"id": zone["id"],
                       "input": {"regions": [{"country": "AT", "region": "\x00"}]}}),
        (METHOD_CREATE, {"input": {"zoneId": zone["id"], "name": "X",
                                   "price": {"amount": "1", "currency": "EU\x00"}}}),
    ]  # fmt: skip
    for document, variables in nul:
        assert await admin.error_codes(document, **variables) == ["INVALID"]
    assert await rule_state() == before


async def test_zone_create_reports_every_bad_field_at_once(as_admin, rule_state):
    before = await rule_state()

    payload = await as_admin(
        ZONE_CREATE,
        input={"name": "", "countries": ["XX"], "regions": [{"country": "DE", "region": ""}]},
    )

    assert errors_of(payload) == [
        (["name"], "REQUIRED"),
        (["countries"], "INVALID"),
        (["regions"], "REQUIRED"),
    ]
    assert await rule_state() == before


async def test_zone_update_replaces_only_the_lists_it_gives(as_admin, zone):
    countries = await as_admin(ZONE_UPDATE, id=zone["id"], input={"countries": ["it", "ES"]})
    regions = await as_admin(
        ZONE_UPDATE,
        id=zone["id"],
        input={"name": "South", "isWorldwide": True, "regions": None},
    )

    assert countries["shippingZone"]["countries"] == ["ES", "IT"]
    assert countries["shippingZone"]["regions"] == [{"country": "AT", "region": "TIROL"}]
    assert regions["shippingZone"] | {"id": None} == {
        "id": None,
        "name": "South",
        "isWorldwide": True,
        "countries": ["ES", "IT"],
        "regions": [],
        "methods": [],
    }


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"name": None}, "name", "REQUIRED"),
        ({"isWorldwide": None}, "isWorldwide", "REQUIRED"),
        ({"name": ""}, "name", "REQUIRED"),
        ({"countries": ["DE", "XX"]}, "countries", "INVALID"),
        ({"regions": [{"country": "AT", "region": "W"}, {"country": "AT", "region": "w"}]},
         "regions", "UNIQUE"),
    ],
)  # fmt: skip
async def test_zone_update_refuses_bad_input_and_keeps_the_zone(
    as_admin, admin, zone, rule_state, change, field, code
):
    before = await rule_state()

    payload = await as_admin(ZONE_UPDATE, id=zone["id"], input=change)

    assert errors_of(payload) == [([field], code)]
    assert await rule_state() == before
    node = await admin.execute(
        "query($id: ID!) { node(id: $id) { ... on ShippingZone { name countries } } }",
        id=zone["id"],
    )
    assert node == {"node": {"name": "Europe", "countries": ["DE", "FR"]}}


@pytest.mark.parametrize("wrong", [gid("ShippingZone", 999_999), gid("TaxRate", 1), "nonsense"])
async def test_zone_update_and_delete_of_a_missing_zone_are_not_found(as_admin, wrong):
    updated = await as_admin(ZONE_UPDATE, id=wrong, input={"name": "X"})
    deleted = await as_admin(ZONE_DELETE, id=wrong)

    assert errors_of(updated) == [(["id"], "NOT_FOUND")]
    assert errors_of(deleted) == [(["id"], "NOT_FOUND")]


async def test_zone_delete_takes_its_areas_and_methods(
    as_admin, zone, method, count, session_factory
):
    async with session_factory() as session, session.begin():
        cart = Cart(token="t" * 43, currency="EUR", shipping_method_id=key_of(method["id"]))
        session.add(cart)

    deleted = await as_admin(ZONE_DELETE, id=zone["id"])
    again = await as_admin(ZONE_DELETE, id=zone["id"])

    assert deleted == {"deletedId": zone["id"], "userErrors": []}
    assert errors_of(again) == [(["id"], "NOT_FOUND")]
    assert await count(ShippingZone) == 0
    assert await count(ShippingZoneArea) == 0
    assert await count(ShippingMethod) == 0
    async with session_factory() as session:  # the cart chooses a method again
        assert await session.scalar(select(Cart.shipping_method_id)) is None


async def test_method_create_stores_minor_units(method, rows):
    assert method | {"id": None} == {
        "id": None,
        "name": "Standard",
        "price": {"amount": "4.90", "currency": "EUR"},
        "freeAbove": {"amount": "50.00", "currency": "EUR"},
        "minWeightGrams": 0,
        "maxWeightGrams": 30_000,
        "minDays": 2,
        "maxDays": 5,
        "isActive": True,
        "zone": {"name": "Europe"},
    }
    assert await rows(
        ShippingMethod, ShippingMethod.price_amount, ShippingMethod.currency,
        ShippingMethod.free_above_amount,
    ) == [(490, "EUR", 5000)]  # fmt: skip


async def test_a_zone_lists_its_methods(as_admin, admin, zone, method):
    await as_admin(
        METHOD_CREATE,
        input={"zoneId": zone["id"], "name": "Express", "isActive": False,
               "price": {"amount": "1500", "currency": "JPY"}},
    )  # fmt: skip

    node = await admin.execute(
        "query($id: ID!) { node(id: $id) { ... on ShippingZone"
        " { methods { name isActive price { amount currency } freeAbove { amount } } } } }",
        id=zone["id"],
    )

    assert node["node"]["methods"] == [
        {"name": "Standard", "isActive": True, "price": {"amount": "4.90", "currency": "EUR"},
         "freeAbove": {"amount": "50.00"}},
        {"name": "Express", "isActive": False, "price": {"amount": "1500", "currency": "JPY"},
         "freeAbove": None},
    ]  # fmt: skip


METHOD_INPUT = {"name": "Express", "price": {"amount": "9.90", "currency": "EUR"}}


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"name": ""}, "name", "REQUIRED"),
        ({"name": "E" * 251}, "name", "TOO_LONG"),
        ({"price": {"amount": "9.90", "currency": "ABC"}}, "price", "INVALID"),
        ({"price": {"amount": "9.90", "currency": "E\u0301R"}}, "price", "INVALID"),
        ({"price": {"amount": "-1", "currency": "EUR"}}, "price", "INVALID"),
        ({"price": {"amount": "9.901", "currency": "EUR"}}, "price", "INVALID"),
        ({"price": {"amount": "1e999999999", "currency": "EUR"}}, "price", "INVALID"),
        ({"price": {"amount": "NaN", "currency": "EUR"}}, "price", "INVALID"),
        ({"freeAbove": "-0.01"}, "freeAbove", "INVALID"),
        ({"freeAbove": "50.001"}, "freeAbove", "INVALID"),
        ({"price": {"amount": "500", "currency": "JPY"}, "freeAbove": "5000.5"},
         "freeAbove", "INVALID"),
        ({"minWeightGrams": -1}, "minWeightGrams", "INVALID"),
        ({"maxWeightGrams": 100_000_001}, "maxWeightGrams", "INVALID"),
        ({"minWeightGrams": 2000, "maxWeightGrams": 1000}, "maxWeightGrams", "INVALID"),
        ({"minDays": -1}, "minDays", "INVALID"),
        ({"maxDays": 366}, "maxDays", "INVALID"),
        ({"minDays": 5, "maxDays": 2}, "maxDays", "INVALID"),
        ({"zoneId": gid("ShippingZone", 999_999)}, "zoneId", "NOT_FOUND"),
        ({"zoneId": gid("Product", 1)}, "zoneId", "NOT_FOUND"),
    ],
)  # fmt: skip
async def test_method_create_refuses_bad_input(as_admin, zone, rule_state, overrides, field, code):
    before = await rule_state()

    payload = await as_admin(METHOD_CREATE, input={"zoneId": zone["id"]} | METHOD_INPUT | overrides)

    assert payload["shippingMethod"] is None
    assert errors_of(payload) == [([field], code)]
    assert await rule_state() == before


async def test_method_update_checks_ranges_against_kept_values(as_admin, method):
    lighter = await as_admin(METHOD_UPDATE, id=method["id"], input={"minWeightGrams": 40_000})
    later = await as_admin(METHOD_UPDATE, id=method["id"], input={"minDays": 6})
    cleared = await as_admin(
        METHOD_UPDATE,
        id=method["id"],
        input={"maxWeightGrams": None, "minWeightGrams": 40_000, "maxDays": None},
    )

    assert errors_of(lighter) == [(["minWeightGrams"], "INVALID")]
    assert errors_of(later) == [(["minDays"], "INVALID")]
    assert cleared["userErrors"] == []
    assert cleared["shippingMethod"] | {"id": None, "zone": None} == {
        "id": None,
        "zone": None,
        "name": "Standard",
        "price": {"amount": "4.90", "currency": "EUR"},
        "freeAbove": {"amount": "50.00", "currency": "EUR"},
        "minWeightGrams": 40_000,
        "maxWeightGrams": None,
        "minDays": 2,
        "maxDays": None,
        "isActive": True,
    }


async def test_method_price_in_another_currency_needs_the_free_amount_again(as_admin, method, rows):
    usd = {"amount": "5.50", "currency": "USD"}
    kept = await as_admin(METHOD_UPDATE, id=method["id"], input={"price": usd})
    jpy_cents = await as_admin(
        METHOD_UPDATE,
        id=method["id"],
        input={"price": {"amount": "700", "currency": "JPY"}, "freeAbove": "60.50"},
    )
    given = await as_admin(METHOD_UPDATE, id=method["id"], input={"price": usd, "freeAbove": "60"})
    dropped = await as_admin(
        METHOD_UPDATE,
        id=method["id"],
        input={"price": {"amount": "700", "currency": "JPY"}, "freeAbove": None},
    )

    assert errors_of(kept) == [(["freeAbove"], "CURRENCY_MISMATCH")]
    assert errors_of(jpy_cents) == [(["freeAbove"], "INVALID")]
    assert given["shippingMethod"]["freeAbove"] == {"amount": "60.00", "currency": "USD"}
    assert dropped["shippingMethod"]["price"] == {"amount": "700", "currency": "JPY"}
    assert dropped["shippingMethod"]["freeAbove"] is None
    assert await rows(
        ShippingMethod, ShippingMethod.price_amount, ShippingMethod.currency,
        ShippingMethod.free_above_amount,
    ) == [(700, "JPY", None)]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "field"),
    [({"name": None}, "name"), ({"price": None}, "price"), ({"isActive": None}, "isActive")],
)
async def test_method_update_refuses_null_for_required_fields(
    as_admin, method, rule_state, change, field
):
    before = await rule_state()

    payload = await as_admin(METHOD_UPDATE, id=method["id"], input=change)

    assert payload["userErrors"] == [
        {"field": [field], "code": "REQUIRED", "message": "This field cannot be null."}
    ]
    assert await rule_state() == before


async def test_method_delete(as_admin, method, zone, count):
    deleted = await as_admin(METHOD_DELETE, id=method["id"])
    again = await as_admin(METHOD_DELETE, id=method["id"])
    wrong_type = await as_admin(METHOD_DELETE, id=zone["id"])

    assert deleted == {"deletedId": method["id"], "userErrors": []}
    assert errors_of(again) == [(["id"], "NOT_FOUND")]
    assert errors_of(wrong_type) == [(["id"], "NOT_FOUND")]
    assert await count(ShippingMethod) == 0
    assert await count(ShippingZone) == 1


async def test_zones_are_listed_by_name_in_pages(as_admin, admin):
    for name in ("Oceania", "Asia", "Europe"):
        await as_admin(ZONE_CREATE, input={"name": name})

    first = await admin.execute(ZONES, first=2)
    rest = await admin.execute(
        ZONES, first=2, after=first["shippingZones"]["pageInfo"]["endCursor"]
    )

    names = [[edge["node"]["name"] for edge in page["shippingZones"]["edges"]]
             for page in (first, rest)]  # fmt: skip
    assert names == [["Asia", "Europe"], ["Oceania"]]
    assert first["shippingZones"]["pageInfo"]["hasNextPage"] is True
    assert rest["shippingZones"]["pageInfo"]["hasNextPage"] is False
    assert first["shippingZones"]["totalCount"] == 3


async def test_a_page_of_zones_costs_the_same_statements_whatever_its_size(
    as_admin, admin, connection
):
    for index in range(6):
        created = await as_admin(
            ZONE_CREATE,
            input={"name": f"Zone {index}", "countries": ["DE", "FR"],
                   "regions": [{"country": "AT", "region": "Tirol"}]},
        )  # fmt: skip
        for name in ("Standard", "Express"):
            await as_admin(
                METHOD_CREATE,
                input={"zoneId": created["shippingZone"]["id"], "name": name,
                       "price": {"amount": "5", "currency": "EUR"}},
            )  # fmt: skip
    query = """query($n: Int) { shippingZones(first: $n) { edges { node {
        name countries regions { region } methods { name price { amount } zone { name } } } } } }"""

    counts = []
    for size in (2, 6):
        with count_statements(connection) as statements:
            data = await admin.execute(query, n=size)
        assert len(data["shippingZones"]["edges"]) == size
        assert data["shippingZones"]["edges"][0]["node"]["methods"][1]["name"] == "Express"
        counts.append(len(statements))

    # The viewer, the page, one batch of areas, one of methods, one of their zones.
    assert counts == [5, 5]
