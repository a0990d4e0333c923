"""Facets: how many products each refinement of the current filter would give.

Each dimension is counted with every other filter applied but its own
(disjunctive faceting), so a shopper who picked "red" still sees how many
"blue" products there are. Counts are of products, not variants.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Label,
    Select,
    Text,
    case,
    func,
    literal,
    literal_column,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.money import exponent
from app.services.catalog.listing import ProductFilter, filter_conditions, search_plan
from app.services.public_changes import LISTING, reads
from models.catalog import Product, product_tags

# Bucket edges in major units; the last bucket is open-ended.
PRICE_EDGES = (0, 10, 25, 50, 100, 250, 500, 1000)
# What filter_conditions and the dimensions read of a matching product.
_COUNTED = (
    "id",
    "category_id",
    "is_published",
    "attributes",
    "min_price_amount",
    "rating_sum",
    "rating_count",
)
MAX_VALUES_PER_ATTRIBUTE = 50


@dataclass
class Facets:
    categories: list[tuple[int, int]]
    tags: list[tuple[int, int]]
    attributes: dict[str, list[tuple[str, int]]]
    prices: list[tuple[int, int | None, int]]  # (from, to or None, count) in minor units


@reads(LISTING)
async def product_facets(
    session: AsyncSession,
    *,
    flt: ProductFilter,
    include_unpublished: bool,
    currency: str,
) -> Facets:
    """Counts per category, tag, attribute value and price bucket for `flt`: one statement
    that runs the full-text match once (a materialized CTE) and counts every dimension over
    it; a second, fuzzy one only when no product matches the words exactly."""
    facets = await _count(session, flt, include_unpublished, currency, fuzzy=False)
    if facets is None:  # no exact match anywhere: trigram similarity, as the listing does
        await session.execute(
            select(func.set_config("pg_trgm.word_similarity_threshold", "0.25", True))
        )
        facets = await _count(session, flt, include_unpublished, currency, fuzzy=True)
    assert facets is not None
    return facets


async def _count(
    session: AsyncSession,
    flt: ProductFilter,
    include_unpublished: bool,
    currency: str,
    *,
    fuzzy: bool,
) -> Facets | None:
    """The facets, or None when the search words match no product exactly (not fuzzy)."""
    plan = search_plan(flt.search, fuzzy=fuzzy)
    matched = None
    product: Any = Product
    if plan.condition is not None:
        # The matching products with the columns the facets and filters read, found once;
        # every dimension counts over these rows instead of re-reading products by key.
        matched = (
            select(*(getattr(Product, name) for name in _COUNTED))
            .where(plan.condition)
            .cte("matched")
            .prefix_with("MATERIALIZED")
        )
        product = aliased(Product, matched)

    def where(**without: Any) -> list[Any]:
        return filter_conditions(
            dataclasses.replace(flt, **without),
            include_unpublished=include_unpublished,
            product=product,
        )

    parts = [
        _ranked(
            "category",
            select(product.category_id.label("key"), _NO_VALUE, func.count().label("n")).where(
                *where(category_ids=()), product.category_id.is_not(None)
            ),
            lambda c: (c.n.desc(), c.key),
        ),
        _ranked(
            "tag",
            select(product_tags.c.tag_id.label("key"), _NO_VALUE, func.count().label("n"))
            .join(product, product.id == product_tags.c.product_id)
            .where(*where(tag_ids=())),
            lambda c: (c.n.desc(), c.key),
        ),
        _attribute_part(product, where(attributes=())),
        _price_part(product, where(price_gte=None, price_lte=None), currency),
    ]
    if matched is not None and not plan.fuzzy:  # does any product match exactly?
        parts.append(
            select(
                literal("exact"),
                literal_column("NULL::text"),
                literal_column("NULL::text"),
                select(func.count()).select_from(matched).scalar_subquery(),
                literal(0, BigInteger),
            )
        )
    statement = union_all(*parts).order_by(literal_column("1"), literal_column("5"))
    rows = (await session.execute(statement)).all()
    found: dict[str, list[tuple[Any, ...]]] = {}
    for kind, key, value, count, _ in rows:
        found.setdefault(kind, []).append((key, value, int(count)))
    if matched is not None and not plan.fuzzy and not found["exact"][0][2]:
        return None
    attributes: dict[str, list[tuple[str, int]]] = {}
    for name, text_value, count in found.get("attribute", ()):
        values = attributes.setdefault(name, [])
        if len(values) < MAX_VALUES_PER_ATTRIBUTE:
            values.append((text_value, count))
    return Facets(
        categories=[(int(key), count) for key, _, count in found.get("category", ())],
        tags=[(int(key), count) for key, _, count in found.get("tag", ())],
        attributes=attributes,
        prices=_buckets(found.get("price", ()), currency),
    )


_NO_VALUE: Label[Any] = literal_column("NULL::text").label("value")


def _ranked(
    kind: str, grouped: Select[Any], order: Callable[[Any], tuple[Any, ...]]
) -> Select[Any]:
    """One dimension's (key, value, n) rows, grouped by key and value, as (kind, key, value,
    n, position): `order` numbered in SQL, so the union keeps each dimension's order (and
    the database's collation)."""
    rows = grouped.group_by(literal_column("1"), literal_column("2")).subquery(kind)
    return select(
        literal(kind),
        rows.c.key.cast(Text),
        rows.c.value,
        rows.c.n,
        func.row_number().over(order_by=order(rows.c)),
    )


def _attribute_part(product: Any, conditions: list[Any]) -> Select[Any]:
    """Values of product attributes (a list value counts once per element)."""
    pairs = func.jsonb_each(product.attributes).table_valued("key", "value").alias("kv")
    as_array = case(
        (func.jsonb_typeof(pairs.c.value) == "array", pairs.c.value),
        else_=func.jsonb_build_array(pairs.c.value),
    )
    elements = (
        func.jsonb_array_elements_text(as_array)
        .table_valued("attr_value")
        .render_derived(name="elements")
    )
    grouped = (
        select(
            pairs.c.key.label("key"),
            elements.c.attr_value.label("value"),
            func.count(func.distinct(product.id)).label("n"),
        )
        .select_from(product)
        .join(pairs, true())
        .join(elements, true())
        .where(*conditions)
    )
    return _ranked("attribute", grouped, lambda c: (c.key, c.n.desc(), c.value))


def _price_part(product: Any, conditions: list[Any], currency: str) -> Select[Any]:
    """Products per bucket of their cheapest variant price."""
    bucket = func.width_bucket(product.min_price_amount, postgresql.array(_edges(currency)))
    grouped = select(bucket.label("key"), _NO_VALUE, func.count().label("n")).where(
        *conditions, product.min_price_amount.is_not(None)
    )
    return _ranked("price", grouped, lambda c: (c.key,))


def _edges(currency: str) -> list[int]:
    scale = 10 ** exponent(currency)
    return [edge * scale for edge in PRICE_EDGES]


def _buckets(
    rows: Iterable[tuple[Any, Any, int]], currency: str
) -> list[tuple[int, int | None, int]]:
    edges = _edges(currency)
    counts = {int(index): count for index, _, count in rows}
    return [
        (edges[i], edges[i + 1] if i + 1 < len(edges) else None, counts.get(i + 1, 0))
        for i in range(len(edges))
    ]
