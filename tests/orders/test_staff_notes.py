"""orderNoteAdd and Order.notes: staff-only, clean multi-line text, NOT_FOUND for anything that
is not an order, oldest first, null for anyone who is not staff, batched across a page."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models.orders import OrderNote
from tests.catalog.staff_fixtures import customer, staff, staff_user
from tests.checkout.checkout_fixtures import Shop
from tests.orders.after_sale_fixtures import audit_actions, paid_order
from tests.orders.test_staff_tools import NOTE
from tests.payments.payment_fixtures import codes
from tests.sql_counter import count_statements

__all__ = ["customer", "staff", "staff_user"]

NOTES = "query($id: ID!) { order(id: $id) { notes { body createdAt author { email } } } }"
PAGE_NOTES = "query { orders(first: 20) { edges { node { notes { body author { email } } } } } }"


@pytest.fixture
def shop(session_factory) -> Shop:
    return Shop(session_factory)


async def _note_count(factory) -> int:
    async with factory() as session:
        return int(await session.scalar(select(func.count()).select_from(OrderNote)) or 0)


async def test_notes_keep_lines_and_tabs_and_come_oldest_first(gql, shop, staff, session_factory):
    order = await paid_order(gql, shop, quantities=(1,))

    first = await staff.execute(NOTE, id=order["id"], body="  Gift wrap\r\nno invoice\t!  ")
    second = await staff.execute(NOTE, id=order["id"], body="Ünïcödé 🎁")
    notes = (await staff.execute(NOTES, id=order["id"]))["order"]["notes"]

    assert first["orderNoteAdd"]["userErrors"] == second["orderNoteAdd"]["userErrors"] == []
    assert [n["body"] for n in notes] == ["Gift wrap\nno invoice\t!", "Ünïcödé 🎁"]
    assert all(n["createdAt"] and n["author"]["email"] == "staff@example.com" for n in notes)
    assert await audit_actions(session_factory, order["id"]) == ["note.add", "note.add"]


async def test_a_note_of_exactly_2000_characters_is_kept(gql, shop, staff):
    order = await paid_order(gql, shop, quantities=(1,))
    added = (await staff.execute(NOTE, id=order["id"], body="é" * 2000))["orderNoteAdd"]
    assert added["userErrors"] == [] and len(added["note"]["body"]) == 2000


@pytest.mark.parametrize("body", ["   \n\t ", "\u200bhidden", "line\u2028separator", "a\x7fb"])
async def test_blank_or_invisible_text_is_refused(gql, shop, staff, session_factory, body):
    order = await paid_order(gql, shop, quantities=(1,))
    refused = (await staff.execute(NOTE, id=order["id"], body=body))["orderNoteAdd"]
    assert codes(refused)[0][0] == ["body"]
    assert codes(refused)[0][1] in {"REQUIRED", "INVALID"}
    assert refused["note"] is None
    assert await _note_count(session_factory) == 0
    assert await audit_actions(session_factory, order["id"]) == []


async def test_nul_bytes_and_explicit_nulls_are_refused_before_anything_runs(
    gql, shop, staff, session_factory
):
    order = await paid_order(gql, shop, quantities=(1,))

    nul = await staff.raw(NOTE, id=order["id"], body="a\x00b")
    null = await staff.raw(NOTE, id=order["id"], body=None)

    assert nul["errors"][0]["extensions"]["code"] == "INVALID"
    assert null["errors"] and null.get("data") is None
    assert await _note_count(session_factory) == 0


async def test_anything_but_an_existing_order_is_not_found(gql, shop, staff, session_factory):
    await paid_order(gql, shop, quantities=(1,))
    for bad in ("T3JkZXI6OTk5OTk5", "UHJvZHVjdDox", "%%%", "T3JkZXI6LTE=", "T3JkZXI6" + "OTk" * 40):
        refused = (await staff.execute(NOTE, id=bad, body="hello"))["orderNoteAdd"]
        assert codes(refused) == [(["id"], "NOT_FOUND")], bad
    assert await _note_count(session_factory) == 0


async def test_the_customer_of_the_order_reads_null_notes(
    gql, shop, staff, customer, make_user, sign_in
):
    owner = await make_user(email="notes-owner@example.com")
    mine = gql.as_user((await sign_in(owner.email))["accessToken"])
    order = await paid_order(mine, shop, quantities=(1,), user_id=owner.id)
    await staff.execute(NOTE, id=order["id"], body="Fraud check passed")

    assert (await mine.execute(NOTES, id=order["id"]))["order"] == {"notes": None}
    assert (await customer.execute(NOTES, id=order["id"]))["order"] is None  # not theirs
    forbidden = await mine.raw(NOTE, id=order["id"], body="let me in")
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_page_of_notes_costs_the_same_statements(gql, shop, staff, connection):
    async def page_cost() -> int:
        with count_statements(connection) as statements:
            await staff.execute(PAGE_NOTES)
        return len(statements)

    for count in (2, 3):
        for _ in range(count):
            order = await paid_order(gql, shop, quantities=(1,))
            await staff.execute(NOTE, id=order["id"], body="one")
            await staff.execute(NOTE, id=order["id"], body="two")
        if count == 2:
            small = await page_cost()
    assert await page_cost() == small
