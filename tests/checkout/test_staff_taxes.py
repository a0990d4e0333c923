"""Staff tax rates: one per country and region, percent with three places, permissions, races."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import delete, select

from app.errors import UserError
from app.services.checkout.taxes import TaxRateData, create_tax_rate, update_tax_rate
from models.taxes import TaxRate
from tests.checkout import staff_checkout_fixtures as fx
from tests.checkout.staff_checkout_fixtures import (
    TAX_CREATE,
    TAX_DELETE,
    TAX_UPDATE,
    TAXES,
    errors_of,
    gid,
)

admin, as_admin, customer, rows, rule_state, staff, staff_user = (
    fx.admin,
    fx.as_admin,
    fx.customer,
    fx.rows,
    fx.rule_state,
    fx.staff,
    fx.staff_user,
)


@pytest.fixture
async def vat(as_admin):
    """Germany's VAT, 19 %."""
    payload = await as_admin(TAX_CREATE, input={"country": "de", "rate": "19", "name": "VAT"})
    assert payload["userErrors"] == []
    return payload["taxRate"]


async def test_tax_rate_create_of_a_country_and_of_a_region(as_admin, vat, rows):
    region = await as_admin(
        TAX_CREATE, input={"country": "US", "region": " ny ", "rate": "8.875", "name": " Sales "}
    )

    assert vat | {"id": None} == {
        "id": None,
        "country": "DE",
        "region": "",
        "rate": "19.000",
        "name": "VAT",
    }
    assert region["taxRate"] | {"id": None} == {
        "id": None,
        "country": "US",
        "region": "NY",
        "rate": "8.875",
        "name": "Sales",
    }
    assert await rows(TaxRate, TaxRate.country, TaxRate.region, TaxRate.rate) == [
        ("DE", "", Decimal("19.000")),
        ("US", "NY", Decimal("8.875")),
    ]


async def test_a_rate_of_zero_is_a_rate(as_admin):
    payload = await as_admin(TAX_CREATE, input={"country": "HK", "rate": "0"})

    assert payload["taxRate"]["rate"] == "0.000"


async def test_only_checkout_managers_configure_taxes(gql, customer, staff, vat, rule_state):
    before = await rule_state()
    calls = [
        (TAX_CREATE, {"input": {"country": "FR", "rate": "20"}}),
        (TAX_UPDATE, {"id": vat["id"], "input": {"rate": "7"}}),
        (TAX_DELETE, {"id": vat["id"]}),
        (TAXES, {}),
    ]
    for document, variables in calls:
        assert await gql.error_codes(document, **variables) == ["UNAUTHENTICATED"]
        assert await customer.error_codes(document, **variables) == ["FORBIDDEN"]
        assert await staff.error_codes(document, **variables) == ["FORBIDDEN"]
    node = "query($id: ID!) { node(id: $id) { ... on TaxRate { rate } } }"
    assert await staff.execute(node, id=vat["id"]) == {"node": None}
    assert await rule_state() == before


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"country": ""}, "country", "REQUIRED"),
        ({"country": "XX"}, "country", "INVALID"),
        ({"country": "Ü1"}, "country", "INVALID"),
        ({"region": "B" * 151}, "region", "TOO_LONG"),
        ({"region": "B\u202eY"}, "region", "INVALID"),
        ({"rate": "-1"}, "rate", "INVALID"),
        ({"rate": "-0"}, "rate", "INVALID"),
        ({"rate": "100.001"}, "rate", "INVALID"),
        ({"rate": "7.2555"}, "rate", "INVALID"),
        ({"rate": "1e999999999"}, "rate", "INVALID"),
        ({"rate": "1e-999999999"}, "rate", "INVALID"),
        ({"rate": "NaN"}, "rate", "INVALID"),
        ({"rate": "Infinity"}, "rate", "INVALID"),
        ({"name": "V" * 101}, "name", "TOO_LONG"),
        ({"name": "V\u200bAT"}, "name", "INVALID"),
    ],
)
async def test_tax_rate_create_refuses_bad_input(as_admin, rule_state, overrides, field, code):
    before = await rule_state()

    payload = await as_admin(TAX_CREATE, input={"country": "FR", "rate": "20"} | overrides)

    assert payload["taxRate"] is None
    assert errors_of(payload) == [([field], code)]
    assert await rule_state() == before


async def test_a_second_rate_for_one_country_and_region_is_unique(as_admin, vat, count):
    again = await as_admin(TAX_CREATE, input={"country": "DE", "rate": "7"})
    region = await as_admin(TAX_CREATE, input={"country": "DE", "region": "by", "rate": "7"})
    region_again = await as_admin(TAX_CREATE, input={"country": "de", "region": "BY", "rate": "8"})

    assert errors_of(again) == [(["country"], "UNIQUE")]
    assert region["taxRate"]["region"] == "BY"
    assert errors_of(region_again) == [(["country"], "UNIQUE")]
    assert await count(TaxRate) == 2


async def test_tax_rate_update(as_admin, vat, rows):
    region = (await as_admin(TAX_CREATE, input={"country": "AT", "rate": "20"}))["taxRate"]

    changed = await as_admin(TAX_UPDATE, id=vat["id"], input={"rate": "7.5", "name": None})
    onto_taken = await as_admin(TAX_UPDATE, id=region["id"], input={"country": "DE"})
    to_region = await as_admin(
        TAX_UPDATE, id=region["id"], input={"country": "DE", "region": "Sachsen"}
    )
    back = await as_admin(TAX_UPDATE, id=region["id"], input={"region": None})

    assert changed["taxRate"] | {"id": None} == {
        "id": None,
        "country": "DE",
        "region": "",
        "rate": "7.500",
        "name": "",
    }
    assert errors_of(onto_taken) == [(["country"], "UNIQUE")]
    assert to_region["taxRate"]["region"] == "SACHSEN"
    assert errors_of(back) == [(["country"], "UNIQUE")]
    assert await rows(TaxRate, TaxRate.country, TaxRate.region, TaxRate.rate) == [
        ("DE", "", Decimal("7.500")),
        ("DE", "SACHSEN", Decimal("20.000")),
    ]


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"rate": None}, "rate", "REQUIRED"),
        ({"country": None}, "country", "REQUIRED"),
        ({"rate": "101"}, "rate", "INVALID"),
        ({"country": "EU"}, "country", "INVALID"),
    ],
)
async def test_tax_rate_update_refuses_bad_input(as_admin, vat, rows, change, field, code):
    payload = await as_admin(TAX_UPDATE, id=vat["id"], input=change)

    assert errors_of(payload) == [([field], code)]
    assert await rows(TaxRate, TaxRate.country, TaxRate.rate) == [("DE", Decimal("19.000"))]


async def test_tax_rate_delete(as_admin, vat, count):
    deleted = await as_admin(TAX_DELETE, id=vat["id"])
    again = await as_admin(TAX_DELETE, id=vat["id"])
    other_type = await as_admin(TAX_UPDATE, id=gid("ShippingZone", 1), input={"rate": "1"})

    assert deleted == {"deletedId": vat["id"], "userErrors": []}
    assert errors_of(again) == [(["id"], "NOT_FOUND")]
    assert errors_of(other_type) == [(["id"], "NOT_FOUND")]
    assert await count(TaxRate) == 0


async def test_tax_rates_are_listed_by_country_then_region(as_admin, admin):
    for country, region in (("US", "NY"), ("DE", ""), ("US", ""), ("US", "CA")):
        await as_admin(TAX_CREATE, input={"country": country, "region": region, "rate": "5"})

    first = await admin.execute(TAXES, first=3)
    rest = await admin.execute(TAXES, first=3, after=first["taxRates"]["pageInfo"]["endCursor"])
    us = await admin.execute(TAXES, country="us")

    def areas(data):
        return [(e["node"]["country"], e["node"]["region"]) for e in data["taxRates"]["edges"]]

    assert areas(first) == [("DE", ""), ("US", ""), ("US", "CA")]
    assert areas(rest) == [("US", "NY")]
    assert areas(us) == [("US", ""), ("US", "CA"), ("US", "NY")]
    assert await admin.error_codes(TAXES, country="Germany") == ["INVALID"]


@pytest.fixture
def committed(committed_sessions):
    """Committed sessions; the test's rates (country IS) are removed after."""
    return committed_sessions.remove_after(delete(TaxRate).where(TaxRate.country == "IS"))


async def _outcome(factory, service, **kwargs) -> str:
    async with factory() as session, session.begin():
        try:
            await service(session, **kwargs)
        except UserError as exc:
            return exc.code.value
        return "ok"


async def test_concurrent_creates_of_one_rate_give_one_winner(committed):
    data = TaxRateData(country="IS", rate=Decimal(24))

    results = await asyncio.gather(
        *(_outcome(committed, create_tax_rate, data=data) for _ in range(4))
    )

    assert sorted(results) == ["UNIQUE"] * 3 + ["ok"]
    async with committed() as session:
        rates = (await session.scalars(select(TaxRate.rate).where(TaxRate.country == "IS"))).all()
    assert rates == [Decimal("24.000")]


async def test_concurrent_moves_onto_one_region_give_one_winner(committed):
    ids = []
    async with committed() as session, session.begin():
        for region in ("A", "B"):
            rate = TaxRate(country="IS", region=region, rate=Decimal(1), name="")
            session.add(rate)
            await session.flush()
            ids.append(rate.id)

    results = await asyncio.gather(
        *(
            _outcome(committed, update_tax_rate, tax_rate_id=key, data=TaxRateData(region="C"))
            for key in ids
        )
    )

    assert sorted(results) == ["UNIQUE", "ok"]
    async with committed() as session:
        query = select(TaxRate.region).where(TaxRate.country == "IS")
        regions = (await session.scalars(query)).all()
    assert sorted(regions) == sorted(["C", "A" if results[1] == "ok" else "B"])
