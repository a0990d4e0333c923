"""Moving units of stock for an order after checkout: giving them back (a cancellation, a
restocked return, a shipment from another warehouse than the one that gave them) and taking
them (such a shipment). Each move is one UPDATE and a StockAdjustment row, and tells the
public cache that the variant's availability changed.

Callers move several rows in (variant, warehouse) order, as checkout locks them, so two
transactions moving the same rows never deadlock.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode, OrderError
from app.services.public_changes import mark_public_change
from models.catalog import Stock, StockAdjustment, Variant


async def _changed(session: AsyncSession, variant_id: int) -> None:
    product_id = await session.scalar(select(Variant.product_id).where(Variant.id == variant_id))
    mark_public_change(session, f"variant:{variant_id}", f"product:{product_id}")


async def put_back(
    session: AsyncSession, *, variant_id: int, warehouse_id: int, quantity: int, reason: str,
    user_id: int | None = None, create: bool = False,
) -> bool:  # fmt: skip
    """Add `quantity` units to the stock row; False when the row is gone (its warehouse was
    deleted): there is nothing to return the units to. With `create` a missing row is made
    (a restocked return may go to a warehouse that never held the variant)."""
    if create:
        insert_row = insert(Stock).values(
            variant_id=variant_id, warehouse_id=warehouse_id, quantity=quantity
        )
        after = await session.scalar(
            insert_row.on_conflict_do_update(
                index_elements=[Stock.variant_id, Stock.warehouse_id],
                set_={"quantity": Stock.quantity + insert_row.excluded.quantity},
            ).returning(Stock.quantity)
        )
    else:
        after = await session.scalar(
            update(Stock)
            .where(Stock.variant_id == variant_id, Stock.warehouse_id == warehouse_id)
            .values(quantity=Stock.quantity + quantity)
            .returning(Stock.quantity)
            .execution_options(synchronize_session=False)
        )
    if after is None:
        return False
    session.add(StockAdjustment(
        variant_id=variant_id, warehouse_id=warehouse_id, delta=quantity, quantity_after=after,
        reason=reason, user_id=user_id,
    ))  # fmt: skip
    await _changed(session, variant_id)
    return True


async def take(
    session: AsyncSession, *, variant_id: int, warehouse_id: int, quantity: int, reason: str,
    user_id: int | None, field: str,
) -> None:  # fmt: skip
    """Take `quantity` units with one conditional UPDATE; INSUFFICIENT_STOCK when the
    warehouse has fewer (or no stock row for the variant)."""
    after = await session.scalar(
        update(Stock)
        .where(
            Stock.variant_id == variant_id,
            Stock.warehouse_id == warehouse_id,
            Stock.quantity >= quantity,
        )
        .values(quantity=Stock.quantity - quantity)
        .returning(Stock.quantity)
        .execution_options(synchronize_session=False)
    )
    if after is None:
        raise OrderError(
            ErrorCode.INSUFFICIENT_STOCK,
            f"The warehouse has fewer than {quantity} units of a line's variant.",
            field=field,
        )
    session.add(StockAdjustment(
        variant_id=variant_id, warehouse_id=warehouse_id, delta=-quantity, quantity_after=after,
        reason=reason, user_id=user_id,
    ))  # fmt: skip
    await _changed(session, variant_id)
