"""Stock on hand per variant and warehouse; every change is one recorded adjustment.

Concurrency: an adjustment is one conditional UPDATE (or an upsert when stock is
added), so concurrent adjustments serialise on the stock row and never lose an
update or go below zero. Setting a quantity first takes the row with an upsert
that locks it and returns the current value, so the recorded delta is exact.
Variants and warehouses are share-locked (FOR KEY SHARE) while stock changes, so
a concurrent delete waits instead of breaking a foreign key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Executable, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import CatalogError, ErrorCode
from app.services.catalog.checks import check_range, clean_reason
from app.services.checks import Cleaner, locked_or_not_found
from app.services.pagination import KeysetQuery, SortKey
from app.services.public_changes import mark_public_change
from models.catalog import Stock, StockAdjustment, Variant, Warehouse

MAX_QUANTITY = 10_000_000
MAX_BULK_ITEMS = 100


@dataclass(frozen=True)
class StockLine:
    variant_id: int
    warehouse_id: int | None  # None: the default warehouse
    quantity: int


@dataclass(frozen=True)
class StockChange:
    variant: Variant
    warehouse: Warehouse
    quantity: int
    adjustment: StockAdjustment


async def _variants(session: AsyncSession, ids: Sequence[int]) -> dict[int, Variant]:
    rows = await session.scalars(
        select(Variant)
        .where(Variant.id.in_(sorted(set(ids))))
        .with_for_update(read=True, key_share=True)
    )
    return {row.id: row for row in rows}


async def _warehouses(
    session: AsyncSession, ids: Sequence[int | None]
) -> dict[int | None, Warehouse]:
    """Warehouses by id; the key None maps to the default warehouse."""
    keys = sorted({key for key in ids if key is not None})
    condition: ColumnElement[bool] = Warehouse.id.in_(keys)
    if None in ids:
        condition = condition | Warehouse.is_default
    rows = (
        await session.scalars(
            select(Warehouse)
            .where(condition)
            .order_by(Warehouse.id)
            .with_for_update(read=True, key_share=True)
        )
    ).all()
    found: dict[int | None, Warehouse] = {row.id: row for row in rows if row.id in keys}
    default = next((row for row in rows if row.is_default), None)
    if None in ids and default is not None:
        found[None] = default
    return found


async def _targets(
    session: AsyncSession, variant_id: int, warehouse_id: int | None
) -> tuple[Variant, Warehouse]:
    variant = await locked_or_not_found(
        session, Variant, variant_id, field="variantId", lock="key share"
    )
    warehouse = (await _warehouses(session, [warehouse_id])).get(warehouse_id)
    if warehouse is None:
        raise CatalogError(ErrorCode.NOT_FOUND, "Warehouse not found.", field="warehouseId")
    return variant, warehouse


async def _record(
    session: AsyncSession,
    *,
    variant: Variant,
    warehouse: Warehouse,
    delta: int,
    quantity: int,
    reason: str,
    user_id: int | None,
) -> StockChange:
    mark_public_change(session, f"product:{variant.product_id}", f"variant:{variant.id}")
    adjustment = StockAdjustment(
        variant_id=variant.id,
        warehouse_id=warehouse.id,
        delta=delta,
        quantity_after=quantity,
        reason=reason,
        user_id=user_id,
    )
    session.add(adjustment)
    await session.flush()
    await session.refresh(adjustment)
    return StockChange(variant, warehouse, quantity, adjustment)


async def _set(session: AsyncSession, variant: Variant, warehouse: Warehouse, quantity: int) -> int:
    """Set the quantity; returns the delta from the quantity before."""
    where = (Stock.variant_id == variant.id, Stock.warehouse_id == warehouse.id)
    # Creates the row at 0 or locks the existing one, and returns its current quantity.
    before = await session.scalar(
        insert(Stock)
        .values(variant_id=variant.id, warehouse_id=warehouse.id, quantity=0)
        .on_conflict_do_update(
            index_elements=[Stock.variant_id, Stock.warehouse_id],
            set_={"quantity": Stock.quantity},
        )
        .returning(Stock.quantity)
    )
    await session.execute(update(Stock).where(*where).values(quantity=quantity))
    return quantity - int(before or 0)


async def set_stock(
    session: AsyncSession,
    *,
    variant_id: int,
    warehouse_id: int | None,
    quantity: int,
    reason: str,
    user_id: int | None,
) -> StockChange:
    """Set the quantity on hand (a stock count); recorded with the delta from before."""
    clean = Cleaner()
    clean.put("reason", clean_reason, reason)
    clean.put("quantity", check_range, quantity, field="quantity", low=0, high=MAX_QUANTITY)
    values = clean.done()
    variant, warehouse = await _targets(session, variant_id, warehouse_id)
    delta = await _set(session, variant, warehouse, quantity)
    return await _record(
        session,
        variant=variant,
        warehouse=warehouse,
        delta=delta,
        quantity=quantity,
        reason=values["reason"],
        user_id=user_id,
    )


async def adjust_stock(
    session: AsyncSession,
    *,
    variant_id: int,
    warehouse_id: int | None,
    delta: int,
    reason: str,
    user_id: int | None,
) -> StockChange:
    """Add or remove units atomically; INSUFFICIENT_STOCK rather than going below zero."""
    clean = Cleaner()
    clean.put("reason", clean_reason, reason)
    clean.put("delta", check_range, delta, field="delta", low=-MAX_QUANTITY, high=MAX_QUANTITY)
    if delta == 0:
        clean.fail(ErrorCode.INVALID, "Adjust by at least one unit.", field="delta")
    values = clean.done()
    variant, warehouse = await _targets(session, variant_id, warehouse_id)
    statement: Executable
    if delta > 0:
        statement = (
            insert(Stock)
            .values(variant_id=variant.id, warehouse_id=warehouse.id, quantity=delta)
            .on_conflict_do_update(
                index_elements=[Stock.variant_id, Stock.warehouse_id],
                set_={"quantity": Stock.quantity + delta},
                where=Stock.quantity + delta <= MAX_QUANTITY,
            )
            .returning(Stock.quantity)
        )
    else:
        statement = (
            update(Stock)
            .where(
                Stock.variant_id == variant.id,
                Stock.warehouse_id == warehouse.id,
                Stock.quantity + delta >= 0,
            )
            .values(quantity=Stock.quantity + delta)
            .returning(Stock.quantity)
        )
    quantity = await session.scalar(statement)
    if quantity is None and delta < 0:
        raise CatalogError(
            ErrorCode.INSUFFICIENT_STOCK, "Not enough stock to remove.", field="delta"
        )
    if quantity is None:
        raise CatalogError(
            ErrorCode.INVALID, f"Stock cannot exceed {MAX_QUANTITY:,} units.", field="delta"
        )
    return await _record(
        session,
        variant=variant,
        warehouse=warehouse,
        delta=delta,
        quantity=quantity,
        reason=values["reason"],
        user_id=user_id,
    )


async def set_stocks(
    session: AsyncSession, *, items: Sequence[StockLine], reason: str, user_id: int | None
) -> list[StockChange]:
    """Set many quantities at once: all of them, or none when any line is refused."""
    clean = Cleaner()
    clean.put("reason", clean_reason, reason)
    if not items:
        clean.fail(ErrorCode.REQUIRED, "Give at least one line.", field="items")
    elif len(items) > MAX_BULK_ITEMS:
        clean.fail(ErrorCode.INVALID, f"At most {MAX_BULK_ITEMS} lines at once.", field="items")
    for line, item in enumerate(items[:MAX_BULK_ITEMS], start=1):
        if not 0 <= item.quantity <= MAX_QUANTITY:
            clean.fail(
                ErrorCode.INVALID,
                f"Line {line}: the quantity must be between 0 and {MAX_QUANTITY:,}.",
                field="items",
            )
    values = clean.done()
    variants = await _variants(session, [item.variant_id for item in items])
    warehouses = await _warehouses(session, [item.warehouse_id for item in items])
    targets = []
    for line, item in enumerate(items, start=1):
        variant, warehouse = variants.get(item.variant_id), warehouses.get(item.warehouse_id)
        if variant is None or warehouse is None:
            missing = "variant" if variant is None else "warehouse"
            clean.fail(ErrorCode.NOT_FOUND, f"Line {line}: {missing} not found.", field="items")
        else:
            targets.append((variant, warehouse, item.quantity))
    if len({(v.id, w.id) for v, w, _ in targets}) < len(targets):
        clean.fail(ErrorCode.INVALID, "Each variant and warehouse only once.", field="items")
    clean.done()
    # A fixed lock order, so two bulk updates over the same rows cannot deadlock.
    deltas = {}
    for variant, warehouse, quantity in sorted(targets, key=lambda t: (t[0].id, t[1].id)):
        deltas[variant.id, warehouse.id] = await _set(session, variant, warehouse, quantity)
    return [
        await _record(
            session,
            variant=variant,
            warehouse=warehouse,
            delta=deltas[variant.id, warehouse.id],
            quantity=quantity,
            reason=values["reason"],
            user_id=user_id,
        )
        for variant, warehouse, quantity in targets
    ]


def stock_history_query(*, variant_id: int) -> KeysetQuery:
    """The recorded stock changes of a variant, newest first."""
    return KeysetQuery(
        select(StockAdjustment).where(StockAdjustment.variant_id == variant_id),
        keys=[SortKey(StockAdjustment.id, True)],
        tag="stock:newest",
    )
