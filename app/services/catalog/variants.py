"""Variants: SKU, price, options and shipping weight of a product's buyable versions (staff)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import CatalogError, ErrorCode
from app.money import MoneyData as MoneyData  # re-exported: the catalog's inputs name it here
from app.money import clean_money
from app.services.catalog.checks import check_range, clean_attributes
from app.services.catalog.products import locked_product
from app.services.catalog.search import refresh_min_price
from app.services.checks import (
    UNSET,
    Cleaner,
    Unset,
    claim_unique,
    clean_text,
    locked_or_not_found,
)
from app.services.public_changes import mark_public_change
from models.catalog import Variant

MAX_SKU_LENGTH = 64
MAX_NAME_LENGTH = 250
MAX_WEIGHT_GRAMS = 1_000_000


@dataclass(frozen=True)
class VariantData:
    """Fields of a variant; UNSET leaves a field as it is."""

    sku: str | Unset = UNSET
    name: str | Unset | None = UNSET
    price: MoneyData | Unset = UNSET
    compare_at_price: MoneyData | Unset | None = UNSET
    attributes: object | Unset = UNSET
    weight_grams: int | Unset | None = UNSET
    track_inventory: bool | Unset = UNSET


def clean_sku(value: str, *, field: str = "sku") -> str:
    """Trimmed, at most 64 characters, no whitespace or control characters inside."""
    sku = value.strip()
    if not sku:
        raise CatalogError(ErrorCode.REQUIRED, "Enter a SKU.", field=field)
    if len(sku) > MAX_SKU_LENGTH:
        raise CatalogError(
            ErrorCode.TOO_LONG, f"Must be at most {MAX_SKU_LENGTH} characters.", field=field
        )
    if not sku.isprintable() or any(char.isspace() for char in sku):
        raise CatalogError(ErrorCode.INVALID, "A SKU cannot contain spaces.", field=field)
    return sku


def _cleaned(data: VariantData) -> Cleaner:
    clean = Cleaner()
    if data.sku is not UNSET:
        clean.put("sku", clean_sku, data.sku)
    if data.name is not UNSET:
        clean.put("name", clean_text, data.name, field="name", max_length=MAX_NAME_LENGTH)
    if isinstance(data.price, MoneyData):
        clean.put("price", clean_money, data.price, field="price")
    if isinstance(data.compare_at_price, MoneyData):
        clean.put("compare_at", clean_money, data.compare_at_price, field="compareAtPrice")
    elif data.compare_at_price is None:
        clean.values["compare_at"] = None
    if data.attributes is not UNSET:
        clean.put("attributes", clean_attributes, data.attributes)
    if isinstance(data.weight_grams, int):
        clean.put(
            "weight_grams",
            check_range,
            data.weight_grams,
            field="weightGrams",
            low=0,
            high=MAX_WEIGHT_GRAMS,
        )
    elif data.weight_grams is None:
        clean.values["weight_grams"] = None
    if data.track_inventory is not UNSET:
        clean.values["track_inventory"] = data.track_inventory
    return clean


async def _check_currency(
    session: AsyncSession, clean: Cleaner, variant: Variant, *, product_id: int
) -> None:
    """One currency per product, and the compare-at price in the price's currency."""
    price = clean.values.get("price")
    if price is not None:
        others = await session.scalars(
            select(Variant.currency)
            .where(Variant.product_id == product_id, Variant.id != variant.id)
            .distinct()
        )
        if any(currency != price[1] for currency in others):
            clean.fail(
                ErrorCode.INVALID,
                "All variants of a product must be priced in one currency.",
                field="price",
            )
    currency = price[1] if price is not None else variant.currency
    compare_at = clean.values.get("compare_at", UNSET)
    if isinstance(compare_at, tuple) and currency and compare_at[1] != currency:
        clean.fail(ErrorCode.INVALID, "Use the currency of the price.", field="compareAtPrice")
    elif (
        compare_at is UNSET
        and variant.compare_at_amount is not None
        and currency != (variant.currency)
    ):
        clean.fail(
            ErrorCode.INVALID,
            "Give the compare-at price in the new currency too.",
            field="compareAtPrice",
        )


def _apply(variant: Variant, values: dict[str, object]) -> None:
    for key in ("sku", "name", "attributes", "weight_grams", "track_inventory"):
        if key in values:
            setattr(variant, key, values[key])
    price = values.get("price")
    if isinstance(price, tuple):
        variant.price_amount, variant.currency = price
    if "compare_at" in values:
        compare_at = values["compare_at"]
        variant.compare_at_amount = compare_at[0] if isinstance(compare_at, tuple) else None


async def create_variant(session: AsyncSession, *, product_id: int, data: VariantData) -> Variant:
    """Add a variant to a product; UNIQUE if the SKU is taken."""
    product = await locked_product(session, product_id, field="productId")
    clean = _cleaned(data)
    if data.sku is UNSET:
        clean.fail(ErrorCode.REQUIRED, "Enter a SKU.", field="sku")
    if data.price is UNSET:
        clean.fail(ErrorCode.REQUIRED, "Enter a price.", field="price")
    variant = Variant(product_id=product.id, currency="", track_inventory=True)
    await _check_currency(session, clean, variant, product_id=product.id)
    values = clean.done()
    values["sku"] = await claim_unique(session, Variant.sku, str(values["sku"]), field="sku")
    _apply(variant, values)
    session.add(variant)
    await session.flush()
    mark_public_change(session, f"product:{product.id}", f"variant:{variant.id}")
    await refresh_min_price(session, product_ids=[product.id])
    await session.refresh(variant)
    return variant


async def update_variant(session: AsyncSession, *, variant_id: int, data: VariantData) -> Variant:
    """Change the given fields of a variant."""
    variant = await _locked_variant(session, variant_id)
    mark_public_change(session, f"product:{variant.product_id}", f"variant:{variant.id}")
    clean = _cleaned(data)
    await _check_currency(session, clean, variant, product_id=variant.product_id)
    values = clean.done()
    if "sku" in values and values["sku"] != variant.sku:
        await claim_unique(
            session, Variant.sku, str(values["sku"]), field="sku", exclude=Variant.id != variant.id
        )
    _apply(variant, values)
    variant.updated_at = func.now()
    await session.flush()
    await refresh_min_price(session, product_ids=[variant.product_id])
    await session.refresh(variant)
    return variant


async def delete_variant(session: AsyncSession, *, variant_id: int) -> int:
    """Delete a variant with its stock; returns its id."""
    variant = await _locked_variant(session, variant_id, for_delete=True)
    mark_public_change(session, f"product:{variant.product_id}", f"variant:{variant.id}")
    await session.execute(delete(Variant).where(Variant.id == variant.id))
    session.expunge(variant)
    await refresh_min_price(session, product_ids=[variant.product_id])
    return variant_id


async def _locked_variant(
    session: AsyncSession, variant_id: int, *, for_delete: bool = False
) -> Variant:
    """The variant, its product locked first (the lock order of variant creation)."""
    product_id = await session.scalar(select(Variant.product_id).where(Variant.id == variant_id))
    if product_id is None:
        raise CatalogError(ErrorCode.NOT_FOUND, "Variant not found.", field="id")
    await locked_product(session, product_id)
    # NOT_FOUND too when it was deleted while we waited for the product lock.
    return await locked_or_not_found(
        session, Variant, variant_id, field="id", lock="update" if for_delete else "no key update"
    )
