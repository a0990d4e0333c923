"""Storefront catalog queries: products, categories, tags."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from app.errors import ErrorCode, UserError
from app.money import clean_currency, to_minor
from app.services.catalog import categories, listing
from app.services.catalog.categories import MAX_CATEGORY_SLUG_LENGTH
from app.services.catalog.checks import MAX_ATTRIBUTE_LENGTH
from app.services.catalog.products import MAX_SLUG_LENGTH
from app.services.checks import clean_decimal
from app.services.pagination import PageRequest
from resolvers.base import (
    MISSING_KEY,
    Info,
    decode_id,
    decode_ids,
    decode_optional_id,
    query_errors,
    run_query,
)
from resolvers.catalog.types import (
    Category,
    Product,
    Tag,
    can_see_unpublished,
    prefetch_relations,
)
from resolvers.connection import (
    Connection,
    keyset_connection,
    node_fields,
    page_connection,
    selects_total_count,
)

MAX_FILTER_IDS = 100
MAX_ATTRIBUTE_FILTERS = 10
MAX_ATTRIBUTE_FILTER_VALUES = 20
MAX_ATTRIBUTE_FILTER_VALUES_IN_ALL = 50
MAX_RATING = Decimal(5)

# Registers the GraphQL enum `ProductSort` on the service's enum, which fields annotate.
strawberry.enum(listing.ProductSort, description="Orderings of products.")


@strawberry.input(description="A price range in one currency; either bound may be left out.")
class PriceRangeInput:
    currency: str = strawberry.field(description="ISO 4217 code of the amounts.")
    gte: Decimal | None = strawberry.field(default=None, description="At least this much.")
    lte: Decimal | None = strawberry.field(default=None, description="At most this much.")


@strawberry.input(description="Products whose attribute (or a variant's) has one of the values.")
class AttributeFilterInput:
    name: str = strawberry.field(description='Attribute name, e.g. "color".')
    values: list[str] = strawberry.field(description="Accepted values (any of them).")


@strawberry.input(description="Filters that combine (AND); lists inside a filter mean any of.")
class ProductFilterInput:
    search: str | None = strawberry.field(default=None, description="Full-text search.")
    categories: list[strawberry.ID] | None = strawberry.field(
        default=None, description="In these categories or their descendants (at most 100)."
    )
    tags: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Having any of these tags (at most 100)."
    )
    price: PriceRangeInput | None = strawberry.field(
        default=None, description="Having a variant priced in this range."
    )
    in_stock: bool | None = strawberry.field(
        default=None, description="Only products with a variant that can be sold now."
    )
    attributes: list[AttributeFilterInput] | None = strawberry.field(
        default=None,
        description="Attribute values; several filters all apply (at most 10 filters, 20 "
        "values each, 50 in all).",
    )
    min_rating: Decimal | None = strawberry.field(
        default=None, description="Average rating at least this (1-5)."
    )


def _filter_ids(values: list[strawberry.ID] | None, type_name: str, field: str) -> tuple[int, ...]:
    # A wrong ID names no row: the filter then matches nothing, as for a missing object.
    keys = decode_ids(values or [], type_name, field=field, limit=MAX_FILTER_IDS)
    return tuple(dict.fromkeys(keys))


def _attribute_filters(
    items: list[AttributeFilterInput] | None,
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Attribute filters within caps: each value costs SQL conditions in several statements."""
    items = items or []
    if len(items) > MAX_ATTRIBUTE_FILTERS:
        raise UserError(
            ErrorCode.INVALID,
            f"At most {MAX_ATTRIBUTE_FILTERS} attribute filters.",
            field="attributes",
        )
    if any(len(item.values) > MAX_ATTRIBUTE_FILTER_VALUES for item in items) or (
        sum(len(item.values) for item in items) > MAX_ATTRIBUTE_FILTER_VALUES_IN_ALL
    ):
        raise UserError(
            ErrorCode.INVALID,
            f"At most {MAX_ATTRIBUTE_FILTER_VALUES} values per attribute and "
            f"{MAX_ATTRIBUTE_FILTER_VALUES_IN_ALL} in all.",
            field="attributes",
        )
    texts = (text for item in items for text in (item.name, *item.values))
    if any(len(text) > MAX_ATTRIBUTE_LENGTH for text in texts):
        raise UserError(
            ErrorCode.TOO_LONG,
            f"Attribute names and values have at most {MAX_ATTRIBUTE_LENGTH} characters.",
            field="attributes",
        )
    return tuple((item.name, tuple(item.values)) for item in items)


def to_filter(value: ProductFilterInput | None) -> listing.ProductFilter:
    """The service filter of a client's filter; INVALID / TOO_LONG for what no product has."""
    if value is None:
        return listing.ProductFilter()
    price_gte = price_lte = None
    currency = None
    if value.price is not None:
        currency = clean_currency(value.price.currency, field="price")
        if value.price.gte is not None:
            price_gte = to_minor(value.price.gte, currency, field="price")
        if value.price.lte is not None:
            price_lte = to_minor(value.price.lte, currency, field="price")
    min_rating = None
    if value.min_rating is not None:
        min_rating = clean_decimal(
            value.min_rating, field="minRating", places=2, maximum=MAX_RATING
        )
    return listing.ProductFilter(
        search=value.search,
        category_ids=_filter_ids(value.categories, "Category", "categories"),
        tag_ids=_filter_ids(value.tags, "Tag", "tags"),
        price_gte=price_gte,
        price_lte=price_lte,
        price_currency=currency,
        in_stock=value.in_stock,
        attributes=_attribute_filters(value.attributes),
        min_rating=min_rating,
    )


async def resolve_products(
    info: Info,
    *,
    page: PageRequest,
    filter: ProductFilterInput | None,
    sort_by: listing.ProductSort | None,
    category_id: int | None = None,
) -> Connection[Product]:
    with query_errors():
        flt = to_filter(filter)
    if category_id is not None:
        flt = listing.ProductFilter(**{**flt.__dict__, "category_ids": (category_id,)})
    sort = sort_by or (listing.ProductSort.RELEVANCE if flt.search else listing.ProductSort.NEWEST)
    staff = can_see_unpublished(info)
    result = await run_query(
        info, listing.list_products, flt=flt, sort=sort, page=page, include_unpublished=staff
    )
    total = result.total_count
    if total is None and selects_total_count(info):
        total = await run_query(
            info, listing.count_products, flt=flt, include_unpublished=staff, fuzzy=result.fuzzy
        )
    loaders = info.context.loaders
    for row in result.rows:
        loaders.product.prime(row.id, row)
    nodes = [Product.from_row(row) for row in result.rows]
    await prefetch_relations(info, nodes, node_fields(info))
    return page_connection(result, nodes, total_count=total)


@strawberry.type
class Query:
    @strawberry.field(description="Products, filtered and sorted; unpublished ones for staff only.")
    async def products(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: ProductFilterInput | None = None,
        sort_by: listing.ProductSort | None = None,
    ) -> Connection[Product]:
        page = PageRequest(first=first, after=after, last=last, before=before)
        return await resolve_products(info, page=page, filter=filter, sort_by=sort_by)

    @strawberry.field(description="One product by ID or slug.")
    async def product(
        self, info: Info, id: strawberry.ID | None = None, slug: str | None = None
    ) -> Product | None:
        if id is not None:
            key = decode_id(id, "Product")
            row = await info.context.loaders.product.load(key) if key != MISSING_KEY else None
        elif slug is not None and len(slug) <= MAX_SLUG_LENGTH:
            row = await info.context.loaders.product_by_slug.load(slug)
        else:
            return None
        if row is None or not (row.is_published or can_see_unpublished(info)):
            return None
        return Product.from_row(row)

    @strawberry.field(description="Categories by name; top-level ones unless `parent` is given.")
    async def categories(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        parent: strawberry.ID | None = None,
    ) -> Connection[Category]:
        # A wrong parent ID names no category: no children, as for a missing parent.
        parent_id = decode_optional_id(parent, "Category")
        return await keyset_connection(
            info,
            categories.children_query(parent_id=parent_id),
            page=PageRequest(first=first, after=after, last=last, before=before),
            node=Category.from_row,
        )

    @strawberry.field(description="One category by slug.")
    async def category(self, info: Info, slug: str) -> Category | None:
        if len(slug) > MAX_CATEGORY_SLUG_LENGTH:  # no category has it (never a prefix match)
            return None
        row = await info.context.loaders.category_by_slug.load(slug)
        return Category.from_row(row) if row else None

    @strawberry.field(description="Tags by name.")
    async def tags(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Tag]:
        return await keyset_connection(
            info,
            categories.tags_query(),
            page=PageRequest(first=first, after=after, last=last, before=before),
            node=Tag.from_row,
        )
