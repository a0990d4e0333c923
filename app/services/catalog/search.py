"""The product search index: a weighted tsvector and an unaccented text for typo matching.

Weights: name A; tags and category B; description C. The 'simple' configuration
(no stemming, no stop words) works the same for every language; unaccent folds
accents so "creme" finds "crème". Rebuilt by the service after every change of a
product, its tags, or its category's name.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

SEARCH_CONFIG = "simple"

_REFRESH = text(
    """
    WITH source AS (
        SELECT p.id,
               unaccent(p.name) AS name,
               unaccent(coalesce(string_agg(t.name, ' '), '')) AS tags,
               unaccent(coalesce(c.name, '')) AS category,
               unaccent(p.description) AS description
          FROM products p
          LEFT JOIN product_tags pt ON pt.product_id = p.id
          LEFT JOIN tags t ON t.id = pt.tag_id
          LEFT JOIN categories c ON c.id = p.category_id
         WHERE p.id = ANY(:ids)
         GROUP BY p.id, c.name
    )
    UPDATE products p
       SET search_vector =
               setweight(to_tsvector('simple', s.name), 'A')
            || setweight(to_tsvector('simple', s.tags), 'B')
            || setweight(to_tsvector('simple', s.category), 'B')
            || setweight(to_tsvector('simple', s.description), 'C'),
           search_text = lower(concat_ws(' ', s.name, nullif(s.tags, '')))
      FROM source s
     WHERE p.id = s.id
    """
)


async def refresh_search(session: AsyncSession, *, product_ids: Sequence[int]) -> None:
    """Rebuild the search columns of these products."""
    if product_ids:
        await session.execute(_REFRESH, {"ids": list(product_ids)})


async def refresh_category_search(session: AsyncSession, *, category_id: int) -> None:
    """After a category rename: rebuild its products' search columns."""
    ids = (
        await session.scalars(
            text("SELECT id FROM products WHERE category_id = :c").bindparams(c=category_id)
        )
    ).all()
    await refresh_search(session, product_ids=list(ids))


_MIN_PRICE = text(
    """
    UPDATE products p
       SET min_price_amount = (SELECT min(v.price_amount) FROM variants v WHERE v.product_id = p.id)
     WHERE p.id = ANY(:ids)
    """
)


async def refresh_min_price(session: AsyncSession, *, product_ids: Sequence[int]) -> None:
    """Recompute the cheapest variant price used for price sorting and filtering."""
    if product_ids:
        await session.execute(_MIN_PRICE, {"ids": list(product_ids)})
