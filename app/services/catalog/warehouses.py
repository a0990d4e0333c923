"""Warehouses (staff): exactly one is the default, where stock goes when none is named."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import CatalogError, ErrorCode
from app.services.catalog.checks import apply_changes, claim_row_slug, clean_names, require_name
from app.services.checks import UNSET, Cleaner, Unset, locked_or_not_found
from app.services.pagination import KeysetQuery, SortKey, load_text
from models.catalog import Stock, Warehouse

MAX_NAME_LENGTH = 250
MAX_SLUG_LENGTH = 255
# Advisory lock key: changes of the default are serialised (the partial unique
# index allows one default; two racing switches would otherwise hit it).
_DEFAULT_LOCK = 7_303


@dataclass(frozen=True)
class WarehouseData:
    """Fields of a warehouse; UNSET leaves a field as it is, a None slug is generated."""

    name: str | Unset = UNSET
    slug: str | Unset | None = UNSET
    is_default: bool | Unset = UNSET


def _cleaned(data: WarehouseData) -> Cleaner:
    return clean_names(
        data.name, data.slug, name_length=MAX_NAME_LENGTH, slug_length=MAX_SLUG_LENGTH
    )


async def _claim_slug(session: AsyncSession, warehouse: Warehouse, slug: str | None) -> str:
    return await claim_row_slug(
        session, warehouse, slug, max_length=MAX_SLUG_LENGTH, fallback="warehouse"
    )


async def _take_default(session: AsyncSession) -> None:
    """Clear the current default; the caller makes its warehouse the new one."""
    await session.execute(select(func.pg_advisory_xact_lock(_DEFAULT_LOCK)))
    await session.execute(update(Warehouse).where(Warehouse.is_default).values(is_default=False))


async def create_warehouse(session: AsyncSession, *, data: WarehouseData) -> Warehouse:
    """Create a warehouse; `is_default` moves the default to it."""
    clean = _cleaned(data)
    require_name(clean, data.name)
    values = clean.done()
    warehouse = Warehouse(name=values["name"], is_default=data.is_default is True)
    warehouse.slug = await _claim_slug(session, warehouse, values.get("slug"))
    if warehouse.is_default:
        await _take_default(session)
    session.add(warehouse)
    await session.flush()
    await session.refresh(warehouse)
    return warehouse


async def update_warehouse(
    session: AsyncSession, *, warehouse_id: int, data: WarehouseData
) -> Warehouse:
    """Rename, re-slug, or make it the default (a default is replaced, never just removed)."""
    warehouse = await locked_warehouse(session, warehouse_id)
    clean = _cleaned(data)
    if data.is_default is False and warehouse.is_default:
        clean.fail(
            ErrorCode.INVALID,
            "Make another warehouse the default instead.",
            field="isDefault",
        )
    values = clean.done()
    if data.is_default is True and not warehouse.is_default:
        await _take_default(session)
        warehouse.is_default = True
    await apply_changes(
        session,
        warehouse,
        values,
        columns=("name",),
        slug_given=data.slug is not UNSET,
        max_length=MAX_SLUG_LENGTH,
        fallback="warehouse",
    )
    await session.refresh(warehouse)
    return warehouse


async def delete_warehouse(session: AsyncSession, *, warehouse_id: int) -> int:
    """Delete an empty, non-default warehouse and its zero stock rows; history keeps (unlinked)."""
    warehouse = await locked_warehouse(session, warehouse_id, for_delete=True)
    if warehouse.is_default:
        raise CatalogError(
            ErrorCode.INVALID, "The default warehouse cannot be deleted.", field="id"
        )
    holding = select(Stock).where(Stock.warehouse_id == warehouse_id, Stock.quantity > 0)
    if await session.scalar(select(exists(holding))):
        raise CatalogError(ErrorCode.NOT_EMPTY, "Move or write off its stock first.", field="id")
    await session.execute(delete(Stock).where(Stock.warehouse_id == warehouse_id))
    await session.execute(delete(Warehouse).where(Warehouse.id == warehouse_id))
    session.expunge(warehouse)
    return warehouse_id


async def locked_warehouse(
    session: AsyncSession, warehouse_id: int, *, for_delete: bool = False
) -> Warehouse:
    """The warehouse, row-locked. FOR UPDATE (delete) waits for running stock changes,
    which hold FOR KEY SHARE on it; FOR NO KEY UPDATE (a change) does not block them."""
    return await locked_or_not_found(
        session,
        Warehouse,
        warehouse_id,
        field="id",
        lock="update" if for_delete else "no key update",
    )


def warehouses_query() -> KeysetQuery:
    """Every warehouse, by name."""
    return KeysetQuery(
        select(Warehouse),
        keys=[SortKey(Warehouse.name, load=load_text), SortKey(Warehouse.id)],
        tag="warehouse:name",
    )
