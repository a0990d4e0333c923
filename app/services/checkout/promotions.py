"""Promotions (staff): coupon codes and automatic discounts, with their product and category
scope. The rules of the fields are in app/services/checkout/promotion_rules.py.

A code is unique among promotions. Two concurrent claims of one code wait for each other
on an advisory lock (`claim_unique`), so the second sees the first and answers UNIQUE; the
partial unique index is the last line of defence, its refusal UNIQUE as well.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, delete, false, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode, UserError
from app.services.checkout.promotion_rules import (
    PromotionData,
    Scope,
    clean_code,
    clean_fields,
    final_terms,
)
from app.services.checkout.staff_checks import flush_unique, mark_rules_changed
from app.services.checks import UNSET, Cleaner, Lock, claim_unique, locked_or_not_found
from app.services.pagination import KeysetQuery, newest_first
from models.catalog import Category, Product
from models.promotions import Promotion, promotion_categories, promotion_products

_CODE_INDEX = "uq_promotions_code"
# (data field, input field, referenced model, association table, its column).
_SCOPES: tuple[tuple[str, str, Any, Table, str], ...] = (
    ("product_ids", "productIds", Product, promotion_products, "product_id"),
    ("category_ids", "categoryIds", Category, promotion_categories, "category_id"),
)


async def _scope(session: AsyncSession, clean: Cleaner, promotion: Promotion | None) -> Scope:
    """Sizes of the scope lists the promotion will have: the given ones, else the kept ones."""
    sizes = []
    for key, _, _, table, _ in _SCOPES:
        if key in clean.values:
            sizes.append(len(set(clean.values[key])))
        elif promotion is None:
            sizes.append(0)
        else:
            kept = await session.scalar(
                select(func.count()).select_from(table).where(table.c.promotion_id == promotion.id)
            )
            sizes.append(kept or 0)
    return Scope(products=sizes[0], categories=sizes[1])


async def _check_references(session: AsyncSession, clean: Cleaner) -> None:
    """Every given product and category exists; they are key-share locked (cannot vanish)."""
    for key, field, model, _, _ in _SCOPES:
        keys = sorted(set(clean.values.get(key, [])))
        if not keys:
            continue
        found = await session.scalars(
            select(model.id).where(model.id.in_(keys)).with_for_update(read=True, key_share=True)
        )
        if set(found.all()) != set(keys):
            clean.fail(ErrorCode.NOT_FOUND, f"{model.__name__} not found.", field=field)


async def _claim_code(session: AsyncSession, clean: Cleaner, promotion: Promotion | None) -> None:
    code = clean.values.get("code")
    if code is None or (promotion is not None and code == promotion.code):
        return
    exclude = Promotion.id != promotion.id if promotion is not None else None
    with clean.collect():
        await claim_unique(session, Promotion.code, code, field="code", exclude=exclude)


async def _save(session: AsyncSession, promotion: Promotion, values: dict[str, Any]) -> Promotion:
    await flush_unique(
        session,
        constraint=_CODE_INDEX,
        field="code",
        message=f"{promotion.code!r} is already used.",
    )
    for key, _, _, table, column in _SCOPES:
        if key not in values:
            continue
        await session.execute(delete(table).where(table.c.promotion_id == promotion.id))
        rows = [{"promotion_id": promotion.id, column: ref} for ref in sorted(set(values[key]))]
        if rows:
            await session.execute(insert(table), rows)
    await session.refresh(promotion)
    mark_rules_changed(session)
    return promotion


async def create_promotion(session: AsyncSession, *, data: PromotionData) -> Promotion:
    """Create a promotion: a coupon with a `code`, else automatic."""
    clean = clean_fields(data)
    for field, value in (("name", data.name), ("kind", data.kind)):
        if value is UNSET:
            clean.fail(ErrorCode.REQUIRED, "This field is required.", field=field)
    columns = final_terms(clean, None, await _scope(session, clean, None))
    await _check_references(session, clean)
    await _claim_code(session, clean, None)
    values = clean.done()
    promotion = Promotion(
        name=values["name"],
        code=values.get("code"),
        stackable=values.get("stackable") is True,
        is_active=values.get("is_active") is not False,
        **columns,
    )
    session.add(promotion)
    return await _save(session, promotion, values)


async def update_promotion(
    session: AsyncSession, *, promotion_id: int, data: PromotionData
) -> Promotion:
    """Change the given fields; the kept ones are checked with them (promotion_rules)."""
    # FOR NO KEY UPDATE: a checkout counting a use of it waits, so the usage limit is
    # compared with the final count.
    promotion = await locked_promotion(session, promotion_id, lock="no key update")
    clean = clean_fields(data)
    columns = final_terms(clean, promotion, await _scope(session, clean, promotion))
    await _check_references(session, clean)
    await _claim_code(session, clean, promotion)
    values = clean.done()
    for key in ("name", "code", "stackable", "is_active"):
        if key in values:
            setattr(promotion, key, values[key])
    for column, value in columns.items():
        setattr(promotion, column, value)
    promotion.updated_at = func.now()
    return await _save(session, promotion, values)


async def delete_promotion(session: AsyncSession, *, promotion_id: int) -> int:
    """Delete a promotion: carts drop it; orders keep the discount they were given."""
    promotion = await locked_promotion(session, promotion_id, lock="update")
    await session.execute(delete(Promotion).where(Promotion.id == promotion_id))
    session.expunge(promotion)
    mark_rules_changed(session)
    return promotion_id


async def locked_promotion(session: AsyncSession, promotion_id: int, *, lock: Lock) -> Promotion:
    """The promotion, row-locked; NOT_FOUND on `id`."""
    return await locked_or_not_found(
        session, Promotion, promotion_id, field="id", message="Promotion not found.", lock=lock
    )


def running() -> Any:
    """SQL: the promotion can be used now (active, within its window, uses left)."""
    now = func.now()
    return (
        Promotion.is_active
        & or_(Promotion.starts_at.is_(None), Promotion.starts_at <= now)
        & or_(Promotion.ends_at.is_(None), Promotion.ends_at > now)
        & or_(Promotion.usage_limit.is_(None), Promotion.used_count < Promotion.usage_limit)
    )


def promotions_query(*, code: str | None = None, active: bool | None = None) -> KeysetQuery:
    """Promotions, newest first; `code` matches one coupon (any case), `active` those that
    can (or cannot) be used now. A code no coupon can have matches nothing."""
    statement = select(Promotion)
    if code is not None:
        try:
            statement = statement.where(Promotion.code == clean_code(code))
        except UserError:  # a malformed code names no coupon
            statement = statement.where(false())
    if active is not None:
        statement = statement.where(running() if active else ~running())
    return KeysetQuery(
        statement, keys=newest_first(Promotion.created_at, Promotion.id), tag="promotion:newest"
    )
