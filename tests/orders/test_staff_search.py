"""Staff order lists sorted by date, total or number, either way: every page in order, ties by
id, nothing skipped or repeated (also when orders arrive between pages), cursors bound to
their ordering, hostile bounds coded."""

from __future__ import annotations

import pytest

from tests.catalog.staff_fixtures import customer, staff, staff_user
from tests.checkout.checkout_fixtures import Shop
from tests.orders.after_sale_fixtures import paid_order

__all__ = ["customer", "staff", "staff_user"]

PAGE = """
query($filter: OrdersFilter, $sort: OrderSortInput, $first: Int, $after: String,
      $last: Int, $before: String) {
  orders(filter: $filter, sort: $sort, first: $first, after: $after, last: $last,
         before: $before) {
    edges { cursor node { id number createdAt total { amount } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


@pytest.fixture
def shop(session_factory) -> Shop:
    return Shop(session_factory)


async def _orders(gql, shop: Shop) -> None:
    """Five orders; two pairs share a total (15.00 and 35.00), so ties need the id."""
    for quantity in (3, 1, 5, 1, 3):
        await paid_order(gql, shop, quantities=(quantity,))


async def _walk(staff, sort, *, size: int = 2, backward: bool = False, **extra) -> list[dict]:
    """Every order, page by page, in the order the list gives them."""
    seen: list[dict] = []
    cursor = None
    while True:
        args = {"last": size, "before": cursor} if backward else {"first": size, "after": cursor}
        data = (await staff.execute(PAGE, sort=sort, **args, **extra))["orders"]
        nodes = [edge["node"] for edge in data["edges"]]
        seen = nodes + seen if backward else seen + nodes
        info = data["pageInfo"]
        if not (info["hasPreviousPage"] if backward else info["hasNextPage"]):
            return seen
        cursor = info["startCursor"] if backward else info["endCursor"]


def _key(field: str):
    def number_of(node: dict) -> int:
        return int(node["number"])

    def total(node: dict):
        return (float(node["total"]["amount"]), node["number"])  # number grows with the id

    def created(node: dict):
        return (node["createdAt"], node["number"])

    return {"NUMBER": number_of, "TOTAL": total, "CREATED_AT": created}[field]


@pytest.mark.parametrize("field", ["CREATED_AT", "TOTAL", "NUMBER"])
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_every_ordering_pages_through_all_orders_either_way(
    gql, shop, staff, field, direction
):
    await _orders(gql, shop)
    sort = {"field": field, "direction": direction}

    forward = await _walk(staff, sort)
    backward = await _walk(staff, sort, backward=True)

    expected = sorted(forward, key=_key(field), reverse=direction == "DESC")
    assert [n["number"] for n in forward] == [n["number"] for n in expected]
    assert len({n["number"] for n in forward}) == 5
    assert [n["number"] for n in backward] == [n["number"] for n in forward]


async def test_the_default_is_newest_first_and_keeps_its_cursors(gql, shop, staff):
    await _orders(gql, shop)
    default = await _walk(staff, None)
    explicit = await _walk(staff, {"field": "CREATED_AT"})
    page = (await staff.execute(PAGE, first=2))["orders"]
    same = (await staff.execute(PAGE, sort={"field": "CREATED_AT", "direction": "DESC"},
                                first=2, after=page["pageInfo"]["endCursor"]))  # fmt: skip

    assert [n["number"] for n in default] == [n["number"] for n in explicit]
    assert [n["number"] for n in default] == sorted((n["number"] for n in default), reverse=True)
    assert [e["node"]["number"] for e in same["orders"]["edges"]] == [
        n["number"] for n in default[2:4]
    ]


async def test_orders_placed_between_pages_are_neither_repeated_nor_skipped(gql, shop, staff):
    await _orders(gql, shop)
    sort = {"field": "TOTAL", "direction": "ASC"}
    first = (await staff.execute(PAGE, sort=sort, first=3))["orders"]
    await paid_order(gql, shop, quantities=(1,))  # ties the smallest total: before the cursor
    await paid_order(gql, shop, quantities=(9,))  # the largest: after it

    after = (await staff.execute(PAGE, sort=sort, first=10,
                                 after=first["pageInfo"]["endCursor"]))["orders"]  # fmt: skip

    before_numbers = [e["node"]["number"] for e in first["edges"]]
    after_numbers = [e["node"]["number"] for e in after["edges"]]
    totals = [float(e["node"]["total"]["amount"]) for e in after["edges"]]
    assert not set(before_numbers) & set(after_numbers)
    assert len(after_numbers) == 3  # two of the first five, and the new largest
    assert totals == sorted(totals) and totals[-1] == 95.0


async def test_a_cursor_only_works_with_its_own_ordering(gql, shop, staff):
    await _orders(gql, shop)
    by_total = (await staff.execute(PAGE, sort={"field": "TOTAL"}, first=1))["orders"]
    cursor = by_total["pageInfo"]["endCursor"]

    for sort in ({"field": "NUMBER"}, {"field": "TOTAL", "direction": "ASC"}, None):
        assert await staff.error_codes(PAGE, sort=sort, first=1, after=cursor) == ["INVALID"]
    assert await staff.error_codes(PAGE, sort={"field": "TOTAL"}, first=1, after="x" * 2000) == [
        "INVALID"
    ]


async def test_sorting_combines_with_the_total_filter_and_hostile_values_are_coded(
    gql, shop, staff, customer
):
    await _orders(gql, shop)
    total = {"currency": "USD", "min": "20.00", "max": "40.00"}

    middle = await _walk(staff, {"field": "TOTAL", "direction": "DESC"}, filter={"total": total})

    assert [float(n["total"]["amount"]) for n in middle] == [35.0, 35.0]
    assert middle[0]["number"] > middle[1]["number"]  # ties by id, in the same direction
    for bad in ({"currency": "USD", "min": "9" * 30}, {"currency": "USD", "max": "-1e400"},
                {"currency": "USD", "min": "NaN"}):  # fmt: skip
        assert await staff.error_codes(PAGE, filter={"total": bad}, first=1) == ["INVALID"]
    assert await staff.error_codes(PAGE, first=2**31) == ["BAD_USER_INPUT"]
    assert await staff.error_codes(PAGE, sort={"field": "PRICE"}, first=1) == ["BAD_USER_INPUT"]
    assert await customer.error_codes(PAGE, sort={"field": "TOTAL"}) == ["FORBIDDEN"]
