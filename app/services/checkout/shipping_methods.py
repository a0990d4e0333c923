"""Shipping methods (staff): what a delivery in a zone costs, when it is free, which cart
weights it takes and how many days it needs.

Amounts are integer minor units of the method's currency: `free_above` is given as a
decimal in the price's currency. Changing the price to another currency while a free-above
amount is kept is CURRENCY_MISMATCH: give it again, in the new currency, or null.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode
from app.money import MoneyData, clean_money, to_minor
from app.services.checkout.shipping import MAX_NAME_LENGTH, locked_zone
from app.services.checkout.staff_checks import check_order, check_whole, mark_rules_changed
from app.services.checks import UNSET, Cleaner, Lock, Unset, clean_text, locked_or_not_found
from models.shipping import ShippingMethod

# 100 tonnes and a year: beyond any parcel service, and far from the integer's limit.
MAX_WEIGHT_GRAMS = 100_000_000
MAX_DAYS = 365
_RANGES = {
    "min_weight_grams": ("minWeightGrams", MAX_WEIGHT_GRAMS),
    "max_weight_grams": ("maxWeightGrams", MAX_WEIGHT_GRAMS),
    "min_days": ("minDays", MAX_DAYS),
    "max_days": ("maxDays", MAX_DAYS),
}


@dataclass(frozen=True)
class MethodData:
    """Fields of a method; UNSET leaves a field as it is, None clears an optional one."""

    name: str | Unset = UNSET
    price: MoneyData | Unset = UNSET
    free_above: Decimal | Unset | None = UNSET
    min_weight_grams: int | Unset | None = UNSET
    max_weight_grams: int | Unset | None = UNSET
    min_days: int | Unset | None = UNSET
    max_days: int | Unset | None = UNSET
    is_active: bool | Unset = UNSET


def _cleaned(data: MethodData) -> Cleaner:
    clean = Cleaner()
    if data.name is not UNSET:
        clean.put(
            "name", clean_text, data.name, field="name", max_length=MAX_NAME_LENGTH, required=True
        )
    if isinstance(data.price, MoneyData):
        clean.put("price", clean_money, data.price, field="price")
    for column, (field, high) in _RANGES.items():
        value = getattr(data, column)
        if isinstance(value, int):
            clean.put(column, check_whole, value, field=field, low=0, high=high)
        elif value is None:
            clean.values[column] = None
    if isinstance(data.is_active, bool):
        clean.values["is_active"] = data.is_active
    return clean


def _check_free_above(clean: Cleaner, data: MethodData, method: ShippingMethod | None) -> None:
    """`free_above` in the currency the method will have; CURRENCY_MISMATCH when the price
    moves to another currency and the old amount would be kept."""
    price = clean.values.get("price")
    currency = price[1] if price else (method.currency if method else None)
    if isinstance(data.free_above, Decimal):
        if currency is not None:
            with clean.collect():
                clean.values["free_above_amount"] = to_minor(
                    data.free_above, currency, field="freeAbove"
                )
    elif data.free_above is None:
        clean.values["free_above_amount"] = None
    elif (
        method is not None
        and price
        and price[1] != method.currency
        and method.free_above_amount is not None
    ):
        clean.fail(
            ErrorCode.CURRENCY_MISMATCH,
            f"Give freeAbove again in {price[1]}, or null.",
            field="freeAbove",
        )


def _check_ranges(values: dict[str, Any], data: MethodData, method: ShippingMethod | None) -> None:
    def final(column: str) -> Any:
        return values.get(column, getattr(method, column) if method else None)

    clean = Cleaner()
    for low, high in (("min_weight_grams", "max_weight_grams"), ("min_days", "max_days")):
        with clean.collect():
            check_order(
                final(low),
                final(high),
                low_field=_RANGES[low][0],
                high_field=_RANGES[high][0],
                high_given=getattr(data, high) is not UNSET,
            )
    clean.done()


def _column_values(data: MethodData, method: ShippingMethod | None) -> dict[str, Any]:
    """Clean column values of the given fields, every field error at once."""
    clean = _cleaned(data)
    _check_free_above(clean, data, method)
    values = clean.done()
    _check_ranges(values, data, method)
    if "price" in values:
        values["price_amount"], values["currency"] = values.pop("price")
    return values


async def create_method(session: AsyncSession, *, zone_id: int, data: MethodData) -> ShippingMethod:
    """Add a method to a zone; the zone is key-share locked so it cannot vanish meanwhile."""
    missing = Cleaner()
    if data.name is UNSET:
        missing.fail(ErrorCode.REQUIRED, "This field is required.", field="name")
    if data.price is UNSET:
        missing.fail(ErrorCode.REQUIRED, "This field is required.", field="price")
    with missing.collect():
        values = _column_values(data, None)
    with missing.collect():
        await locked_zone(session, zone_id, lock="key share", field="zoneId")
    missing.done()
    method = ShippingMethod(zone_id=zone_id, **values)
    session.add(method)
    await session.flush()
    await session.refresh(method)
    mark_rules_changed(session)
    return method


async def update_method(
    session: AsyncSession, *, method_id: int, data: MethodData
) -> ShippingMethod:
    """Change the given fields of a method; ranges are checked against the kept values."""
    method = await locked_method(session, method_id, lock="no key update")
    for column, value in _column_values(data, method).items():
        setattr(method, column, value)
    method.updated_at = func.now()
    await session.flush()
    await session.refresh(method)
    mark_rules_changed(session)
    return method


async def delete_method(session: AsyncSession, *, method_id: int) -> int:
    """Delete a method; carts that chose it choose again, orders keep its name."""
    method = await locked_method(session, method_id, lock="update")
    await session.execute(delete(ShippingMethod).where(ShippingMethod.id == method_id))
    session.expunge(method)
    mark_rules_changed(session)
    return method_id


async def locked_method(session: AsyncSession, method_id: int, *, lock: Lock) -> ShippingMethod:
    """The method, row-locked; NOT_FOUND on `id`."""
    return await locked_or_not_found(
        session, ShippingMethod, method_id, field="id", message="Shipping method not found.",
        lock=lock,
    )  # fmt: skip
