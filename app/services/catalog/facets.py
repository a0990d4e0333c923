"""Facets: how many products each refinement of the current filter would give.

Each dimension is counted with every other filter applied but its own
(disjunctive faceting), so a shopper who picked "red" still sees how many
"blue" products there are. Counts are of products, not variants.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, exists, func, literal_column, select, true
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from app.money import exponent
from app.services.catalog.listing import ProductFilter, filter_conditions, search_plan
from app.services.public_changes import LISTING, reads
from models.catalog import Product, product_tags

# Bucket edges in major units; the last bucket is open-ended.
PRICE_EDGES = (0, 10, 25, 50, 100, 250, 500, 1000)
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
    """Counts per category, tag, attribute value and price bucket for `flt`."""
    fuzzy = False
    if flt.search:
        exact = search_plan(flt.search, fuzzy=False)
        if exact.condition is not None:
            fuzzy = not await session.scalar(select(exists().where(exact.condition)))
        if fuzzy:
            await session.execute(
                select(func.set_config("pg_trgm.word_similarity_threshold", "0.25", True))
            )
    plan = search_plan(flt.search, fuzzy=fuzzy)

    def where(**without: Any) -> list[Any]:
        conditions = filter_conditions(
            dataclasses.replace(flt, **without), include_unpublished=include_unpublished
        )
        return conditions + ([plan.condition] if plan.condition is not None else [])

    categories = (
        await session.execute(
            select(Product.category_id, func.count())
            .where(*where(category_ids=()), Product.category_id.is_not(None))
            .group_by(Product.category_id)
            .order_by(func.count().desc(), Product.category_id)
        )
    ).all()
    tags = (
        await session.execute(
            select(product_tags.c.tag_id, func.count())
            .join(Product, Product.id == product_tags.c.product_id)
            .where(*where(tag_ids=()))
            .group_by(product_tags.c.tag_id)
            .order_by(func.count().desc(), product_tags.c.tag_id)
        )
    ).all()
    return Facets(
        categories=[(int(a or 0), int(b)) for a, b in categories],
        tags=[(int(a), int(b)) for a, b in tags],
        attributes=await _attribute_counts(session, where(attributes=())),
        prices=await _price_counts(session, where(price_gte=None, price_lte=None), currency),
    )


async def _attribute_counts(
    session: AsyncSession, conditions: list[Any]
) -> dict[str, list[tuple[str, int]]]:
    """Values of product attributes (a list value counts once per element)."""
    pairs = func.jsonb_each(Product.attributes).table_valued("key", "value").alias("kv")
    as_array = case(
        (func.jsonb_typeof(pairs.c.value) == "array", pairs.c.value),
        else_=func.jsonb_build_array(pairs.c.value),
    )
    elements = (
        func.jsonb_array_elements_text(as_array)
        .table_valued("attr_value")
        .render_derived(name="elements")
    )
    rows = (
        await session.execute(
            select(pairs.c.key, elements.c.attr_value, func.count(func.distinct(Product.id)))
            .select_from(Product)
            .join(pairs, true())
            .join(elements, true())
            .where(*conditions)
            # By position: the value expression carries a bound parameter per use.
            .group_by(literal_column("1"), literal_column("2"))
            .order_by(literal_column("1"), literal_column("3").desc(), literal_column("2"))
        )
    ).all()
    result: dict[str, list[tuple[str, int]]] = {}
    for name, text_value, count in rows:
        values = result.setdefault(name, [])
        if len(values) < MAX_VALUES_PER_ATTRIBUTE:
            values.append((text_value, int(count)))
    return result


async def _price_counts(
    session: AsyncSession, conditions: list[Any], currency: str
) -> list[tuple[int, int | None, int]]:
    """Products per bucket of their cheapest variant price."""
    scale = 10 ** exponent(currency)
    edges = [edge * scale for edge in PRICE_EDGES]
    bucket = func.width_bucket(Product.min_price_amount, postgresql.array(edges))
    rows = (
        await session.execute(
            select(bucket, func.count())
            .where(*conditions, Product.min_price_amount.is_not(None))
            .group_by(literal_column("1"))
        )
    ).all()
    counts = {int(index): int(count) for index, count in rows}
    return [
        (edges[i], edges[i + 1] if i + 1 < len(edges) else None, counts.get(i + 1, 0))
        for i in range(len(edges))
    ]
