"""Staff promotions: codes, the value of each kind, currency, window, limits, scope, filters,
permissions, and the race for one code."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import delete, select, update

from app.errors import UserError
from app.money import MoneyData
from app.services.checkout.promotion_rules import PromotionData, PromotionKind
from app.services.checkout.promotions import create_promotion, update_promotion
from models.promotions import Promotion, promotion_categories, promotion_products
from tests.checkout import staff_checkout_fixtures as fx
from tests.checkout.staff_checkout_fixtures import (
    PROMOTION_BY_ID,
    PROMOTION_CREATE,
    PROMOTION_DELETE,
    PROMOTION_UPDATE,
    PROMOTIONS,
    errors_of,
    gid,
    key_of,
)
from tests.sql_counter import count_statements

admin, as_staff, customer, rows, rule_state, staff, staff_user = (
    fx.admin,
    fx.as_staff,
    fx.customer,
    fx.rows,
    fx.rule_state,
    fx.staff,
    fx.staff_user,
)

EUR5 = {"amount": "5", "currency": "EUR"}
TEN_PERCENT = {"name": "Welcome", "kind": "PERCENTAGE", "percentage": "10"}


@pytest.fixture
async def mug(make_product):
    return await make_product("Mug")


@pytest.fixture
async def kitchen(make_category):
    return await make_category("Kitchen")


@pytest.fixture
async def coupon(as_staff, mug, kitchen):
    """WELCOME10: 10 % off mugs and the kitchen, from 20.00 EUR, 100 uses, 1 per customer."""
    payload = await as_staff(
        PROMOTION_CREATE,
        input=TEN_PERCENT
        | {
            "code": " welcome10 ",
            "minSubtotal": {"amount": "20", "currency": "eur"},
            "startsAt": "2030-01-01T00:00:00+01:00",
            "endsAt": "2030-02-01T00:00:00Z",
            "usageLimit": 100,
            "perCustomerLimit": 1,
            "stackable": True,
            "productIds": [gid("Product", mug.id), gid("Product", mug.id)],
            "categoryIds": [gid("Category", kitchen.id)],
        },
    )
    assert payload["userErrors"] == []
    return payload["promotion"]


async def test_promotion_create_of_a_coupon(coupon, rows, mug, kitchen):
    assert coupon | {"id": None} == {
        "id": None,
        "name": "Welcome",
        "code": "WELCOME10",
        "kind": "PERCENTAGE",
        "percentage": "10.00",
        "amount": None,
        "minSubtotal": {"amount": "20.00", "currency": "EUR"},
        "startsAt": "2029-12-31T23:00:00+00:00",
        "endsAt": "2030-02-01T00:00:00+00:00",
        "usageLimit": 100,
        "usedCount": 0,
        "perCustomerLimit": 1,
        "stackable": True,
        "isActive": True,
        "products": [{"name": "Mug"}],
        "categories": [{"name": "Kitchen"}],
    }
    assert await rows(
        Promotion, Promotion.code, Promotion.percentage, Promotion.min_subtotal_amount,
        Promotion.currency,
    ) == [("WELCOME10", Decimal("10.00"), 2000, "EUR")]  # fmt: skip
    scope = [
        await rows(promotion_products, promotion_products.c.promotion_id,
                   promotion_products.c.product_id),
        await rows(promotion_categories, promotion_categories.c.promotion_id,
                   promotion_categories.c.category_id),
    ]  # fmt: skip
    key = key_of(coupon["id"])
    assert scope == [[(key, mug.id)], [(key, kitchen.id)]]


async def test_automatic_fixed_and_free_shipping_promotions(as_staff, rows):
    fixed = await as_staff(
        PROMOTION_CREATE,
        input={"name": "Five off", "kind": "FIXED", "amount": EUR5,
               "minSubtotal": {"amount": "20", "currency": "EUR"}},
    )  # fmt: skip
    free = await as_staff(
        PROMOTION_CREATE, input={"name": "Free delivery", "kind": "FREE_SHIPPING", "code": "ship"}
    )

    assert fixed["promotion"] | {"id": None} == {
        "id": None,
        "name": "Five off",
        "code": None,
        "kind": "FIXED",
        "percentage": None,
        "amount": {"amount": "5.00", "currency": "EUR"},
        "minSubtotal": {"amount": "20.00", "currency": "EUR"},
        "startsAt": None,
        "endsAt": None,
        "usageLimit": None,
        "usedCount": 0,
        "perCustomerLimit": None,
        "stackable": False,
        "isActive": True,
        "products": [],
        "categories": [],
    }
    assert free["promotion"]["code"] == "SHIP"
    assert free["promotion"]["amount"] is None
    assert await rows(
        Promotion, Promotion.kind, Promotion.amount, Promotion.min_subtotal_amount,
        Promotion.currency,
    ) == [("fixed", 500, 2000, "EUR"), ("free_shipping", None, None, None)]  # fmt: skip


async def test_promotions_need_manage_discounts(gql, customer, admin, coupon, rule_state):
    before = await rule_state()
    calls = [
        (PROMOTION_CREATE, {"input": TEN_PERCENT}),
        (PROMOTION_UPDATE, {"id": coupon["id"], "input": {"name": "X"}}),
        (PROMOTION_DELETE, {"id": coupon["id"]}),
        (PROMOTIONS, {}),
        (PROMOTION_BY_ID, {"id": coupon["id"]}),
    ]
    for document, variables in calls:
        assert await gql.error_codes(document, **variables) == ["UNAUTHENTICATED"]
        assert await customer.error_codes(document, **variables) == ["FORBIDDEN"]
    node = "query($id: ID!) { node(id: $id) { ... on Promotion { code } } }"
    assert await customer.execute(node, id=coupon["id"]) == {"node": None}
    assert await admin.execute(node, id=coupon["id"]) == {"node": {"code": "WELCOME10"}}
    assert await rule_state() == before


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"name": ""}, "name", "REQUIRED"),
        ({"name": "N" * 251}, "name", "TOO_LONG"),
        ({"code": ""}, "code", "INVALID"),
        ({"code": "   "}, "code", "INVALID"),
        ({"code": "TWO WORDS"}, "code", "INVALID"),
        ({"code": "ÄPFEL"}, "code", "INVALID"),
        ({"code": "WELCOMEı"}, "code", "INVALID"),  # dotless i: upper-cases to ASCII I
        ({"code": "ﬀ"}, "code", "INVALID"),  # ligature: upper-cases to FF
        ({"code": "SALE\u200b"}, "code", "INVALID"),
        ({"code": "C" * 65}, "code", "TOO_LONG"),
        ({"percentage": None}, "percentage", "REQUIRED"),
        ({"percentage": "0"}, "percentage", "INVALID"),
        ({"percentage": "-5"}, "percentage", "INVALID"),
        ({"percentage": "100.01"}, "percentage", "INVALID"),
        ({"percentage": "12.345"}, "percentage", "INVALID"),
        ({"percentage": "1e999999999"}, "percentage", "INVALID"),
        ({"amount": EUR5}, "amount", "INVALID"),
        ({"kind": "FIXED", "percentage": None}, "amount", "REQUIRED"),
        ({"kind": "FIXED", "percentage": None, "amount": {"amount": "0", "currency": "EUR"}},
         "amount", "INVALID"),
        ({"kind": "FIXED", "percentage": None, "amount": {"amount": "5", "currency": "EURO"}},
         "amount", "INVALID"),
        ({"kind": "FIXED", "percentage": None, "amount": {"amount": "5.5", "currency": "JPY"}},
         "amount", "INVALID"),
        ({"kind": "FIXED", "amount": EUR5}, "percentage", "INVALID"),
        ({"kind": "FREE_SHIPPING"}, "percentage", "INVALID"),
        ({"kind": "FIXED", "percentage": None, "amount": EUR5,
          "minSubtotal": {"amount": "20", "currency": "USD"}}, "minSubtotal", "CURRENCY_MISMATCH"),
        ({"minSubtotal": {"amount": "-1", "currency": "USD"}}, "minSubtotal", "INVALID"),
        ({"startsAt": "2030-01-02T00:00:00Z", "endsAt": "2030-01-01T00:00:00Z"},
         "endsAt", "INVALID"),
        ({"startsAt": "2030-01-01T00:00:00Z", "endsAt": "2030-01-01T01:00:00+01:00"},
         "endsAt", "INVALID"),
        ({"startsAt": "2030-01-01T00:00:00"}, "startsAt", "INVALID"),
        ({"endsAt": "0001-01-01T00:00:00+14:00"}, "endsAt", "INVALID"),
        ({"usageLimit": 0}, "usageLimit", "INVALID"),
        ({"usageLimit": -1}, "usageLimit", "INVALID"),
        ({"perCustomerLimit": 0}, "perCustomerLimit", "INVALID"),
        ({"productIds": [gid("Product", 999_999)]}, "productIds", "NOT_FOUND"),
        ({"productIds": [gid("Category", 1)]}, "productIds", "NOT_FOUND"),
        ({"productIds": ["junk"]}, "productIds", "NOT_FOUND"),
        ({"categoryIds": [gid("Category", 999_999)]}, "categoryIds", "NOT_FOUND"),
        ({"categoryIds": [gid("Category", 1)] * 501}, "categoryIds", "INVALID"),
    ],
)  # fmt: skip
async def test_promotion_create_refuses_bad_input(as_staff, rule_state, overrides, field, code):
    before = await rule_state()

    payload = await as_staff(PROMOTION_CREATE, input=TEN_PERCENT | overrides)

    assert payload["promotion"] is None
    assert errors_of(payload) == [([field], code)]
    assert await rule_state() == before


async def test_free_shipping_takes_no_scope(as_staff, mug, kitchen, rule_state):
    before = await rule_state()

    payload = await as_staff(
        PROMOTION_CREATE,
        input={"name": "Ship", "kind": "FREE_SHIPPING", "productIds": [gid("Product", mug.id)],
               "categoryIds": [gid("Category", kitchen.id)]},
    )  # fmt: skip

    assert errors_of(payload) == [(["productIds"], "INVALID"), (["categoryIds"], "INVALID")]
    assert await rule_state() == before


async def test_a_code_is_unique_in_any_case(as_staff, coupon, count):
    again = await as_staff(PROMOTION_CREATE, input=TEN_PERCENT | {"code": "Welcome10"})
    automatic = await as_staff(PROMOTION_CREATE, input=TEN_PERCENT)
    automatic_too = await as_staff(PROMOTION_CREATE, input=TEN_PERCENT)

    assert errors_of(again) == [(["code"], "UNIQUE")]
    assert automatic["userErrors"] == automatic_too["userErrors"] == []
    assert await count(Promotion) == 3
    assert await count(Promotion, Promotion.code.is_(None)) == 2


async def test_promotion_update_switches_the_kind(as_staff, coupon, rows):
    no_amount = await as_staff(PROMOTION_UPDATE, id=coupon["id"], input={"kind": "FIXED"})
    fixed = await as_staff(
        PROMOTION_UPDATE, id=coupon["id"], input={"kind": "FIXED", "amount": EUR5}
    )
    other_currency = await as_staff(
        PROMOTION_UPDATE, id=coupon["id"], input={"amount": {"amount": "5", "currency": "USD"}}
    )
    both = await as_staff(
        PROMOTION_UPDATE,
        id=coupon["id"],
        input={"amount": {"amount": "6", "currency": "USD"},
               "minSubtotal": {"amount": "25", "currency": "USD"}},
    )  # fmt: skip

    assert errors_of(no_amount) == [(["amount"], "REQUIRED")]
    assert fixed["promotion"]["kind"] == "FIXED"
    assert fixed["promotion"]["percentage"] is None
    assert fixed["promotion"]["amount"] == {"amount": "5.00", "currency": "EUR"}
    assert errors_of(other_currency) == [(["amount"], "CURRENCY_MISMATCH")]
    assert both["promotion"]["amount"] == {"amount": "6.00", "currency": "USD"}
    assert both["promotion"]["minSubtotal"] == {"amount": "25.00", "currency": "USD"}
    assert await rows(
        Promotion, Promotion.kind, Promotion.percentage, Promotion.amount,
        Promotion.min_subtotal_amount, Promotion.currency,
    ) == [("fixed", None, 600, 2500, "USD")]  # fmt: skip


async def test_promotion_update_of_the_other_fields(as_staff, coupon, mug, make_product, rows):
    cup = await make_product("Cup")

    changed = await as_staff(
        PROMOTION_UPDATE,
        id=coupon["id"],
        input={"name": "Hello", "code": None, "productIds": [gid("Product", cup.id)],
               "categoryIds": None, "usageLimit": None, "endsAt": None, "isActive": False,
               "minSubtotal": None},
    )  # fmt: skip

    assert changed["userErrors"] == []
    promotion = changed["promotion"]
    assert (promotion["name"], promotion["code"], promotion["usageLimit"], promotion["endsAt"],
            promotion["isActive"], promotion["minSubtotal"]) == (
        "Hello", None, None, None, False, None)  # fmt: skip
    assert promotion["products"] == [{"name": "Cup"}]
    assert promotion["categories"] == []
    assert promotion["percentage"] == "10.00"
    assert promotion["startsAt"] == "2029-12-31T23:00:00+00:00"
    assert await rows(Promotion, Promotion.currency) == [(None,)]


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"name": None}, "name", "REQUIRED"),
        ({"kind": None}, "kind", "REQUIRED"),
        ({"stackable": None}, "stackable", "REQUIRED"),
        ({"isActive": None}, "isActive", "REQUIRED"),
        ({"percentage": None}, "percentage", "REQUIRED"),
        ({"endsAt": "2029-12-01T00:00:00Z"}, "endsAt", "INVALID"),
        ({"startsAt": "2030-03-01T00:00:00Z"}, "startsAt", "INVALID"),
        ({"kind": "FREE_SHIPPING"}, "productIds", "INVALID"),
        ({"minSubtotal": {"amount": "1", "currency": "ABC"}}, "minSubtotal", "INVALID"),
        ({"code": "bad code"}, "code", "INVALID"),
        ({"productIds": [gid("Product", 999_999)]}, "productIds", "NOT_FOUND"),
    ],
)
async def test_promotion_update_refuses_bad_input(
    as_staff, coupon, rule_state, change, field, code
):
    before = await rule_state()

    payload = await as_staff(PROMOTION_UPDATE, id=coupon["id"], input=change)

    assert payload["promotion"] is None
    assert errors_of(payload)[0] == ([field], code)
    assert await rule_state() == before


async def test_update_code_rules(as_staff, coupon, count):
    other = (await as_staff(PROMOTION_CREATE, input=TEN_PERCENT | {"code": "SUMMER"}))["promotion"]

    taken = await as_staff(PROMOTION_UPDATE, id=other["id"], input={"code": "welcome10"})
    own = await as_staff(PROMOTION_UPDATE, id=coupon["id"], input={"code": "Welcome10"})
    missing = await as_staff(PROMOTION_UPDATE, id=gid("Promotion", 999_999), input={"name": "X"})

    assert errors_of(taken) == [(["code"], "UNIQUE")]
    assert own["promotion"]["code"] == "WELCOME10"
    assert errors_of(missing) == [(["id"], "NOT_FOUND")]
    assert await count(Promotion, Promotion.code == "SUMMER") == 1


async def test_a_usage_limit_cannot_go_below_the_uses(as_staff, coupon, session_factory):
    async with session_factory() as session, session.begin():
        await session.execute(update(Promotion).values(used_count=7))

    below = await as_staff(PROMOTION_UPDATE, id=coupon["id"], input={"usageLimit": 6})
    at = await as_staff(PROMOTION_UPDATE, id=coupon["id"], input={"usageLimit": 7})

    assert errors_of(below) == [(["usageLimit"], "INVALID")]
    assert (at["promotion"]["usageLimit"], at["promotion"]["usedCount"]) == (7, 7)


async def test_promotion_delete(as_staff, coupon, count, mug):
    deleted = await as_staff(PROMOTION_DELETE, id=coupon["id"])
    again = await as_staff(PROMOTION_DELETE, id=coupon["id"])

    assert deleted == {"deletedId": coupon["id"], "userErrors": []}
    assert errors_of(again) == [(["id"], "NOT_FOUND")]
    assert await count(Promotion) == 0
    assert await count(promotion_products) == 0
    assert await count(promotion_categories) == 0


async def test_promotion_by_id(staff, coupon):
    found = await staff.execute(PROMOTION_BY_ID, id=coupon["id"])
    missing = await staff.execute(PROMOTION_BY_ID, id=gid("Promotion", 999_999))
    junk = await staff.execute(PROMOTION_BY_ID, id="junk")

    assert found == {"promotion": {"name": "Welcome", "code": "WELCOME10"}}
    assert missing == junk == {"promotion": None}


async def test_promotions_filter_by_code_and_by_whether_they_run_now(
    as_staff, staff, session_factory
):
    for name, extra in [
        ("Running", {"code": "NOW", "startsAt": "2020-01-01T00:00:00Z"}),
        ("Future", {"startsAt": "2999-01-01T00:00:00Z"}),
        ("Expired", {"endsAt": "2020-01-01T00:00:00Z"}),
        ("Off", {"isActive": False}),
        ("Used up", {"usageLimit": 1}),
        ("Endless", {}),
    ]:
        await as_staff(PROMOTION_CREATE, input=TEN_PERCENT | {"name": name} | extra)
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Promotion).where(Promotion.name == "Used up").values(used_count=1)
        )

    async def names(**filter):
        data = await staff.execute(PROMOTIONS, filter=filter)
        return [edge["node"]["name"] for edge in data["promotions"]["edges"]]

    assert await names() == ["Endless", "Used up", "Off", "Expired", "Future", "Running"]
    assert await names(active=True) == ["Endless", "Running"]
    assert await names(active=False) == ["Used up", "Off", "Expired", "Future"]
    assert await names(code=" now ") == ["Running"]
    assert await names(code="now", active=False) == []
    assert await names(code="no such code!") == []
    assert await names(code="N" * 10_000) == []


async def test_a_page_of_promotions_costs_the_same_statements_whatever_its_size(
    as_staff, staff, make_product, make_category, connection
):
    products = [gid("Product", (await make_product(f"P{i}")).id) for i in range(3)]
    category = gid("Category", (await make_category("C")).id)
    for index in range(6):
        await as_staff(
            PROMOTION_CREATE,
            input=TEN_PERCENT | {"code": f"C{index}", "productIds": products,
                                 "categoryIds": [category]},
        )  # fmt: skip
    query = """query($n: Int) { promotions(first: $n) { edges { node {
        code products { name } categories { name } } } } }"""

    counts = []
    for size in (2, 6):
        with count_statements(connection) as statements:
            data = await staff.execute(query, n=size)
        assert len(data["promotions"]["edges"]) == size
        assert len(data["promotions"]["edges"][-1]["node"]["products"]) == 3
        counts.append(len(statements))

    # The viewer, the page, one batch of products, one of categories.
    assert counts == [4, 4]


@pytest.fixture
def committed(committed_sessions):
    """Committed sessions; the test's promotions (named "Race ...") are removed after."""
    return committed_sessions.remove_after(
        delete(Promotion).where(Promotion.name.startswith("Race "))
    )


async def _create(factory, data: PromotionData) -> str:
    async with factory() as session, session.begin():
        try:
            await create_promotion(session, data=data)
        except UserError as exc:
            return exc.code.value
        return "ok"


async def test_concurrent_creates_of_one_code_give_one_promotion(committed):
    data = PromotionData(
        name="Race coupon",
        code="race-code",
        kind=PromotionKind.FIXED,
        amount=MoneyData(Decimal("5"), "EUR"),
    )

    results = await asyncio.gather(_create(committed, data), _create(committed, data))

    assert sorted(results) == ["UNIQUE", "ok"]
    async with committed() as session:
        query = select(Promotion.code).where(Promotion.name == "Race coupon")
        codes = (await session.scalars(query)).all()
    assert codes == ["RACE-CODE"]


async def test_a_limit_lowered_while_a_checkout_counts_a_use_sees_that_use(committed):
    """A checkout takes the 8th use (its conditional UPDATE, not yet committed) while staff
    lower the limit to 7: the update waits for it, sees 8 uses, and refuses."""
    async with committed() as session, session.begin():
        promotion = Promotion(
            name="Race limit", kind="percentage", percentage=Decimal(10), usage_limit=10,
            used_count=7,
        )  # fmt: skip
        session.add(promotion)
    lower = PromotionData(usage_limit=7)

    async with committed() as checkout, checkout.begin():
        taken = await checkout.execute(
            update(Promotion)
            .where(Promotion.id == promotion.id, Promotion.used_count < Promotion.usage_limit)
            .values(used_count=Promotion.used_count + 1)
        )
        assert taken.rowcount == 1
        staff = asyncio.create_task(
            _outcome(committed, update_promotion, promotion_id=promotion.id, data=lower)
        )
        await asyncio.sleep(0.3)  # the staff update reads the promotion meanwhile

    assert await staff == "INVALID"
    async with committed() as session:
        row = await session.get(Promotion, promotion.id)
        assert row is not None
        assert (row.used_count, row.usage_limit) == (8, 10)


async def _outcome(factory, service, **kwargs) -> str:
    async with factory() as session, session.begin():
        try:
            await service(session, **kwargs)
        except UserError as exc:
            return exc.code.value
        return "ok"


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": None},
        {"kind": "NOPE"},
        {"kind": None},
        {"percentage": "ten"},
        {"usageLimit": 2**40},
        {"startsAt": "soon"},
        {"productIds": None, "categoryIds": [None]},
    ],
)
async def test_values_the_schema_cannot_take_are_bad_user_input(staff, rule_state, overrides):
    before = await rule_state()

    codes = await staff.error_codes(PROMOTION_CREATE, input=TEN_PERCENT | overrides)

    assert codes == ["BAD_USER_INPUT"]
    assert await rule_state() == before
