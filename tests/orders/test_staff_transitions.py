"""orderStatusUpdate: only the bookkeeping moves (fulfilled -> delivered, delivered ->
returned), each with its note in the history and an audit row; everything else is coded and
writes nothing; many at once move the order once."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from app.auth.permissions import Role
from app.services.accounts.tokens import RegistrationData, register_account
from models.orders import Order, OrderAudit, OrderEvent
from tests.catalog.staff_fixtures import customer, key_of, staff, staff_user
from tests.checkout.checkout_fixtures import Shop
from tests.conftest import TOKEN_CREATE
from tests.factories import PASSWORD
from tests.graphql_client import GraphQLClient
from tests.orders.after_sale_fixtures import audit_actions, delivered_order, paid_order, ship
from tests.orders.test_staff_tools import STAFF_VIEW, STATUS
from tests.payments.payment_fixtures import checkout, codes
from tests.payments.provider_world import committed_shop
from tests.payments.test_payment_races import _user_cleanup

__all__ = ["customer", "staff", "staff_user"]


@pytest.fixture
def shop(session_factory) -> Shop:
    return Shop(session_factory)


async def _events(factory, order_id: str) -> list[tuple[str, str | None]]:
    async with factory() as session:
        rows = await session.execute(
            select(OrderEvent.to_status, OrderEvent.note)
            .where(OrderEvent.order_id == key_of(order_id))
            .order_by(OrderEvent.sequence)
        )
        return [tuple(row) for row in rows.all()]  # type: ignore[misc]


async def test_a_delivered_order_is_marked_returned_with_the_note(
    gql, shop, staff, staff_user, session_factory
):
    order = await delivered_order(gql, staff, shop, quantities=(1,))

    note = "Parcel came back\tunopened"
    moved = (await staff.execute(STATUS, id=order["id"], status="RETURNED", note=note))[
        "orderStatusUpdate"
    ]
    view = (await staff.execute(STAFF_VIEW, id=order["id"]))["order"]

    assert moved["userErrors"] == [] and moved["order"]["status"] == "RETURNED"
    assert (await _events(session_factory, order["id"]))[-1] == (
        "returned",
        "Parcel came back\tunopened",
    )
    assert view["events"][-1] == {"toStatus": "RETURNED", "note": "Parcel came back\tunopened",
                                  "actor": "STAFF", "actorEmail": staff_user.email}  # fmt: skip
    assert view["auditTrail"][-1]["details"] == {
        "from": "delivered",
        "to": "returned",
        "note": "Parcel came back\tunopened",
    }


@pytest.mark.parametrize(
    ("status", "mutation"),
    [("CANCELLED", "orderCancel"), ("REFUNDED", "orderRefund"),
     ("PARTIALLY_REFUNDED", "orderRefund"), ("FULFILLED", "orderFulfil"),
     ("PARTIALLY_FULFILLED", "orderFulfil")],
)  # fmt: skip
async def test_moves_with_a_flow_of_their_own_name_it_and_write_nothing(
    gql, shop, staff, session_factory, status, mutation
):
    order = await paid_order(gql, shop, quantities=(1,))
    before = await _events(session_factory, order["id"])

    refused = (await staff.execute(STATUS, id=order["id"], status=status))["orderStatusUpdate"]

    assert codes(refused) == [(["status"], "USE_DEDICATED_MUTATION")]
    assert mutation in refused["userErrors"][0]["message"]
    assert refused["order"] is None
    assert await _events(session_factory, order["id"]) == before
    assert await audit_actions(session_factory, order["id"]) == []


@pytest.mark.parametrize("status", ["PENDING_PAYMENT", "AUTHORIZED", "PAID", "RETURNED"])
async def test_moves_the_machine_forbids_are_illegal_and_name_the_manual_targets(
    gql, shop, staff, session_factory, status
):
    order = await paid_order(gql, shop, quantities=(1,))
    await ship(staff, order, 1)

    refused = (await staff.execute(STATUS, id=order["id"], status=status))["orderStatusUpdate"]

    assert codes(refused) == [(["status"], "ILLEGAL_TRANSITION")]
    assert "delivered" in refused["userErrors"][0]["message"]
    assert (await _events(session_factory, order["id"]))[-1][0] == "fulfilled"
    assert await audit_actions(session_factory, order["id"]) == ["shipment.create"]


@pytest.mark.parametrize(
    ("note", "code"), [("bell\x07", "INVALID"), ("x" * 501, "TOO_LONG"), ("\u202eevil", "INVALID")]
)
async def test_a_bad_note_refuses_the_move(gql, shop, staff, session_factory, note, code):
    order = await paid_order(gql, shop, quantities=(1,))
    await ship(staff, order, 1)

    refused = await staff.execute(STATUS, id=order["id"], status="DELIVERED", note=note)

    assert codes(refused["orderStatusUpdate"]) == [(["note"], code)]
    assert (await _events(session_factory, order["id"]))[-1][0] == "fulfilled"
    assert await audit_actions(session_factory, order["id"]) == ["shipment.create"]


async def test_unknown_ids_and_customers_are_refused(gql, shop, staff, customer, session_factory):
    order = await paid_order(gql, shop, quantities=(1,))
    await ship(staff, order, 1)
    product_id = "UHJvZHVjdDox"  # Product:1, not an order

    huge = "T3JkZXI6OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5"  # Order:99999999999999999999999999999
    for bad in ("T3JkZXI6OTk5OTk5OTk5", product_id, "not-base64", huge):
        refused = (await staff.execute(STATUS, id=bad, status="DELIVERED"))["orderStatusUpdate"]
        assert codes(refused) == [(["id"], "NOT_FOUND")], bad
    nul_note = await staff.raw(STATUS, id=order["id"], status="DELIVERED", note="a\x00b")
    forbidden = await customer.raw(STATUS, id=order["id"], status="DELIVERED")
    anonymous = await gql.raw(STATUS, id=order["id"], status="DELIVERED")

    assert nul_note["errors"][0]["extensions"]["code"] == "INVALID"  # refused before resolving
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert anonymous["errors"][0]["extensions"]["code"] in {"FORBIDDEN", "UNAUTHENTICATED"}
    assert (await _events(session_factory, order["id"]))[-1][0] == "fulfilled"


@pytest.fixture
def committed(committed_sessions) -> Shop:
    return committed_shop(committed_sessions, "stf-race-")


async def test_ten_manual_deliveries_at_once_move_the_order_once(
    start_app, committed, committed_sessions, settings
):
    email = f"{committed.name('staff')}@example.com"
    async with committed_sessions.factory() as session, session.begin():
        await register_account(
            session, data=RegistrationData(email=email, password=PASSWORD), settings=settings,
            role=Role.STAFF,
        )  # fmt: skip
    committed_sessions.remove_after(*_user_cleanup(email))
    async with start_app(bind=False, database_pool_size=12) as (_, http):
        gql = GraphQLClient(http)
        variant = await committed.variant(price=1000, stock=5)
        cart = await committed.cart([(variant, 1)], method=await committed.method(price=500))
        order = await checkout(gql, cart, token="tok_success")
        token = (await gql.execute(TOKEN_CREATE, email=email, password=PASSWORD))["tokenCreate"][
            "accessToken"
        ]
        staff = gql.as_user(token)
        await ship(staff, order, 1)

        # Hold the order's row while the ten requests start, so all of them read it at the
        # same moment: without the service's own lock each would see `fulfilled`.
        async with committed.factory() as blocker, blocker.begin():
            await blocker.execute(
                select(Order.id).where(Order.id == key_of(order["id"])).with_for_update()
            )
            racing = asyncio.gather(*(
                staff.execute(STATUS, id=order["id"], status="DELIVERED", note=f"call {i}")
                for i in range(10)
            ))  # fmt: skip
            await asyncio.sleep(0.5)
        answers = await racing

    outcomes = sorted(
        a["orderStatusUpdate"]["order"]["status"] if a["orderStatusUpdate"]["order"]
        else a["orderStatusUpdate"]["userErrors"][0]["code"]
        for a in answers
    )  # fmt: skip
    assert outcomes == ["DELIVERED"] + ["ILLEGAL_TRANSITION"] * 9
    async with committed.factory() as session:
        delivered = await session.scalar(
            select(func.count())
            .select_from(OrderEvent)
            .where(OrderEvent.order_id == key_of(order["id"]), OrderEvent.to_status == "delivered")
        )
        moves = await session.scalar(
            select(func.count())
            .select_from(OrderAudit)
            .where(
                OrderAudit.order_id == key_of(order["id"]),
                OrderAudit.action == "order.transition",
            )
        )
    assert (delivered, moves) == (1, 1)
