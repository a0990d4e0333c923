"""Storefront product listing: combinable filters, search with typo tolerance, keyset pages."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum
from functools import partial
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Numeric,
    Select,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode, UserError
from app.services.catalog.rows import PRODUCT_COLUMNS, PRODUCT_WIDTH, ProductRow, product_row
from app.services.pagination import (
    PageRequest,
    SortKey,
    after_condition,
    cursor_tag_of,
    decode_cursor,
    dump_decimal,
    encode_cursor,
    flipped,
    load_decimal,
    load_float,
    load_int32,
    load_text,
    load_timestamp,
    order_by,
)
from app.services.public_changes import LISTING, reads
from models.catalog import Category, Product, Stock, Variant, product_tags

MAX_SEARCH_LENGTH = 200
FUZZY_THRESHOLD = 0.25
_WORD = re.compile(r"\w+", re.UNICODE)


class ProductSort(Enum):
    RELEVANCE = "RELEVANCE"
    NEWEST = "NEWEST"
    NAME = "NAME"
    PRICE_ASC = "PRICE_ASC"
    PRICE_DESC = "PRICE_DESC"
    RATING = "RATING"


@dataclass(frozen=True)
class ProductFilter:
    search: str | None = None
    category_ids: tuple[int, ...] = ()
    tag_ids: tuple[int, ...] = ()
    price_gte: int | None = None
    price_lte: int | None = None
    price_currency: str | None = None
    in_stock: bool | None = None
    attributes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    min_rating: Decimal | None = None


@dataclass
class ProductPage:
    rows: list[ProductRow]
    cursors: list[str]
    has_next: bool
    has_previous: bool
    total_count: int | None = None
    fuzzy: bool = False
    meta: dict[str, Any] = field(default_factory=dict)


def _prefix_query(search: str) -> str | None:
    """`shirt red` -> `shirt:* & red:*` (unaccented later in SQL); None without words."""
    words = _WORD.findall(search.lower())[:20]
    return " & ".join(f"{word}:*" for word in words) or None


def _rating_expression() -> ColumnElement[Any]:
    return case(
        (Product.rating_count > 0, cast(Product.rating_sum, Numeric) / Product.rating_count),
        else_=literal(0, Numeric),
    )


def filter_conditions(
    flt: ProductFilter, *, include_unpublished: bool, product: Any = Product
) -> list[ColumnElement[bool]]:
    """Every filter but search, as WHERE conditions on products (or on `product`, an alias
    of Product over a selection of its rows with the columns the filters read)."""
    conditions: list[ColumnElement[bool]] = []
    if not include_unpublished:
        conditions.append(product.is_published == true())  # "= true" can use the index
    if flt.category_ids:
        tree = select(Category.id).where(Category.id.in_(flt.category_ids)).cte(recursive=True)
        tree = tree.union(select(Category.id).where(Category.parent_id == tree.c.id))
        conditions.append(product.category_id.in_(select(tree.c.id)))
    if flt.tag_ids:
        conditions.append(
            exists().where(
                product_tags.c.product_id == product.id, product_tags.c.tag_id.in_(flt.tag_ids)
            )
        )
    if flt.price_gte is not None or flt.price_lte is not None:
        price = [Variant.product_id == product.id]
        if flt.price_currency:
            price.append(Variant.currency == flt.price_currency)
        if flt.price_gte is not None:
            price.append(Variant.price_amount >= flt.price_gte)
        if flt.price_lte is not None:
            price.append(Variant.price_amount <= flt.price_lte)
        conditions.append(exists().where(*price))
    if flt.in_stock:
        stocked = exists().where(Stock.variant_id == Variant.id, Stock.quantity > 0)
        conditions.append(
            exists().where(
                Variant.product_id == product.id,
                or_(Variant.track_inventory.is_(False), stocked),
            )
        )
    for name, values in flt.attributes:
        matches: list[ColumnElement[bool]] = []
        for value in values:
            scalar, listed = cast({name: value}, JSONB), cast({name: [value]}, JSONB)
            matches += [product.attributes.op("@>")(scalar), product.attributes.op("@>")(listed)]
            matches.append(
                exists().where(
                    Variant.product_id == product.id, Variant.attributes.op("@>")(scalar)
                )
            )
        conditions.append(or_(*matches))
    if flt.min_rating is not None:
        conditions.append(
            and_(
                product.rating_count > 0,
                product.rating_sum >= flt.min_rating * product.rating_count,
            )
        )
    return conditions


@dataclass(frozen=True)
class SearchPlan:
    condition: ColumnElement[bool] | None
    rank: ColumnElement[Any] | None
    fuzzy: bool


def search_plan(search: str | None, *, fuzzy: bool) -> SearchPlan:
    if search is not None and len(search) > MAX_SEARCH_LENGTH:  # blank or not
        raise UserError(
            ErrorCode.TOO_LONG,
            f"Search is limited to {MAX_SEARCH_LENGTH} characters.",
            field="search",
        )
    if not search or not search.strip():
        return SearchPlan(None, None, False)
    if fuzzy:
        needle = func.lower(func.unaccent(search.strip()))
        return SearchPlan(
            needle.op("<%")(Product.search_text),
            func.word_similarity(needle, Product.search_text),
            True,
        )
    prefix = _prefix_query(search)
    if prefix is None:
        return SearchPlan(None, None, False)
    query = func.to_tsquery("simple", func.unaccent(prefix))
    return SearchPlan(
        Product.search_vector.op("@@")(query),
        func.ts_rank_cd(Product.search_vector, query),
        False,
    )


def sort_keys(sort: ProductSort, rank: ColumnElement[Any] | None) -> list[SortKey]:
    identity = SortKey(Product.id)
    if sort is ProductSort.RELEVANCE and rank is not None:
        return [SortKey(rank, True, float, load_float), SortKey(Product.id, True)]
    if sort is ProductSort.NAME:
        return [SortKey(Product.name, load=load_text), identity]
    if sort is ProductSort.PRICE_ASC:
        price = func.coalesce(Product.min_price_amount, 2**62)
        return [SortKey(price), identity]
    if sort is ProductSort.PRICE_DESC:
        price = func.coalesce(Product.min_price_amount, -1)
        return [SortKey(price, True), SortKey(Product.id, True)]
    if sort is ProductSort.RATING:
        return [
            SortKey(_rating_expression(), True, dump_decimal, load_decimal),
            SortKey(Product.rating_count, True, load=load_int32),
            SortKey(Product.id, True),
        ]
    return [
        SortKey(Product.created_at, True, datetime.isoformat, load_timestamp),
        SortKey(Product.id, True),
    ]


@reads(LISTING)
async def list_products(
    session: AsyncSession,
    *,
    flt: ProductFilter,
    sort: ProductSort,
    page: PageRequest,
    include_unpublished: bool = False,
) -> ProductPage:
    """One page of products; an exact search that finds nothing retries with typo matching."""
    # A cursor remembers whether its page came from the typo-tolerant fallback.
    fuzzy = (cursor_tag_of(page.cursor) or "").endswith(":f") if page.cursor else False
    fetch = partial(
        _page,
        session,
        flt=flt,
        sort=sort,
        page=page,
        size=page.size,
        include_unpublished=include_unpublished,
        cursor_tag=sort.value,
    )
    result = await fetch(fuzzy=fuzzy)
    if result.total_count == 0 and flt.search and not fuzzy:  # no exact match at all
        result = await fetch(fuzzy=True)
    return result


async def _page(
    session: AsyncSession,
    *,
    flt: ProductFilter,
    sort: ProductSort,
    page: PageRequest,
    size: int,
    fuzzy: bool,
    include_unpublished: bool,
    cursor_tag: str,
) -> ProductPage:
    plan = search_plan(flt.search, fuzzy=fuzzy)
    tag = f"{cursor_tag}:{'f' if plan.fuzzy else 'e'}"
    keys = sort_keys(sort, plan.rank)
    conditions = filter_conditions(flt, include_unpublished=include_unpublished)
    if plan.condition is not None:
        conditions.append(plan.condition)
    walk = flipped(keys) if page.backward else keys
    cursor_values = None
    if page.cursor is not None:
        cursor_values = decode_cursor(page.cursor, tag, keys, field=page.cursor_field)
    statement: Select[Any] = select(*PRODUCT_COLUMNS, *[key.expression for key in keys]).where(
        *conditions
    )
    if cursor_values is not None:
        statement = statement.where(after_condition(walk, cursor_values))
    statement = statement.order_by(*order_by(walk)).limit(size + 1)
    if plan.fuzzy:
        await _set_fuzzy_threshold(session)
    fetched = (await session.execute(statement)).all()
    more = len(fetched) > size
    rows = fetched[:size]
    if page.backward:
        rows.reverse()
    products = [product_row(row) for row in rows]
    cursors = [
        encode_cursor(
            tag, [key.dump(value) for key, value in zip(keys, row[PRODUCT_WIDTH:], strict=True)]
        )
        for row in rows
    ]
    # Nothing at all before any cursor is a total of 0 for free (an empty page of
    # `first: 0` is not); otherwise `count_products` on demand (a window count here
    # would defeat the index that serves the top of the list).
    total = 0 if not fetched and cursor_values is None else None
    return ProductPage(
        rows=products,
        cursors=cursors,
        has_next=more if not page.backward else page.before is not None,
        has_previous=more if page.backward else page.after is not None,
        total_count=total,
        fuzzy=plan.fuzzy,
    )


async def _set_fuzzy_threshold(session: AsyncSession) -> None:
    """`<%` matches above this word similarity, for this transaction only."""
    await session.execute(
        select(func.set_config("pg_trgm.word_similarity_threshold", str(FUZZY_THRESHOLD), True))
    )


@reads(LISTING)
async def count_products(
    session: AsyncSession, *, flt: ProductFilter, include_unpublished: bool, fuzzy: bool
) -> int:
    """The size of the whole filtered set (for `totalCount` on pages after the first)."""
    plan = search_plan(flt.search, fuzzy=fuzzy)
    conditions = filter_conditions(flt, include_unpublished=include_unpublished)
    if plan.condition is not None:
        conditions.append(plan.condition)
    if plan.fuzzy:
        await _set_fuzzy_threshold(session)
    return await session.scalar(select(func.count()).select_from(Product).where(*conditions)) or 0
