"""Invoice numbers under 50 concurrent, committed transactions on their own connections,
some of which roll back after taking a number: the committed numbers are exactly the next
N, no gap and no duplicate."""

from __future__ import annotations

import asyncio

from sqlalchemy import delete, select, update

from app.db import create_engine, create_session_factory
from app.services.payments.invoices import issue_invoice
from models.orders import Order
from models.payments import Invoice, InvoiceSequence
from tests.conftest import make_settings
from tests.payments.invoice_fixtures import LineSpec, make_order

TRANSACTIONS = 50


class _RollBack(Exception):
    pass


async def test_numbers_are_gap_free_under_concurrent_transactions(committed_sessions) -> None:
    factory = committed_sessions.factory
    async with factory() as session, session.begin():
        orders = [
            (await make_order(session, [LineSpec("Mug", "Blue", 1000)], gross=False))[0]
            for _ in range(TRANSACTIONS)
        ]
        last = await session.scalar(
            select(InvoiceSequence.last_number).where(InvoiceSequence.series == "INV")
        )
    ids = [order.id for order in orders]
    committed_sessions.remove_after(
        delete(Order).where(Order.id.in_(ids)),  # its invoices go with it (cascade)
        update(InvoiceSequence).where(InvoiceSequence.series == "INV").values(last_number=last)
        if last is not None
        else delete(InvoiceSequence).where(InvoiceSequence.series == "INV"),
    )
    start = last or 0
    # Its own pool: every transaction on its own connection at once.
    settings = make_settings(database_pool_size=TRANSACTIONS // 2)
    assert settings.database_url
    engine = create_engine(settings.database_url, settings)
    own = create_session_factory(engine)
    rolled_back: list[int] = []
    gate = asyncio.Event()

    async def pay(index: int, order: Order) -> None:
        try:
            async with own() as session, session.begin():
                await gate.wait()
                invoice = await issue_invoice(session, order=order, settings=settings)
                await asyncio.sleep(0.005)  # hold the series row while others queue on it
                if index % 5 == 2:
                    rolled_back.append(invoice.number)
                    raise _RollBack
        except _RollBack:
            pass

    try:
        tasks = [asyncio.create_task(pay(index, order)) for index, order in enumerate(orders)]
        await asyncio.sleep(0.2)  # every task holds its connection and waits at the gate
        gate.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
    finally:
        await engine.dispose()

    async with factory() as session:
        numbers = list(
            await session.scalars(select(Invoice.number).where(Invoice.order_id.in_(ids)))
        )
        sequence = await session.scalar(
            select(InvoiceSequence.last_number).where(InvoiceSequence.series == "INV")
        )
    committed = TRANSACTIONS - TRANSACTIONS // 5
    assert len(rolled_back) == TRANSACTIONS // 5
    assert sorted(numbers) == list(range(start + 1, start + committed + 1))
    assert sequence == start + committed
