"""`productFacets`: counts per refinement of the current product filter."""

from __future__ import annotations

import strawberry

from app.money import clean_currency
from app.services.catalog.facets import product_facets
from resolvers.base import Info, query_errors, run_query
from resolvers.catalog.queries import ProductFilterInput, to_filter
from resolvers.catalog.types import Category, Tag, can_see_unpublished
from resolvers.money import Money


@strawberry.type(description="Products in one category under the current filter.")
class CategoryFacet:
    category: Category = strawberry.field(description="The category.")
    count: int = strawberry.field(description="Matching products directly in it.")


@strawberry.type(description="Products with one tag under the current filter.")
class TagFacet:
    tag: Tag = strawberry.field(description="The tag.")
    count: int = strawberry.field(description="Matching products with it.")


@strawberry.type(description="Products with one attribute value.")
class AttributeValueFacet:
    value: str = strawberry.field(description="The value.")
    count: int = strawberry.field(description="Matching products with it.")


@strawberry.type(description="Values of one attribute under the current filter.")
class AttributeFacet:
    name: str = strawberry.field(description="Attribute name.")
    values: list[AttributeValueFacet] = strawberry.field(description="Most common first.")


@strawberry.type(description="Products whose lowest price falls in a range.")
class PriceRangeFacet:
    gte: Money = strawberry.field(description="Lower bound, inclusive.")
    lt: Money | None = strawberry.field(description="Upper bound, exclusive; null: open.")
    count: int = strawberry.field(description="Matching products in the range.")


@strawberry.type(description="How many products each refinement of the filter would give.")
class ProductFacets:
    categories: list[CategoryFacet] = strawberry.field(description="Per category.")
    tags: list[TagFacet] = strawberry.field(description="Per tag.")
    attributes: list[AttributeFacet] = strawberry.field(description="Per attribute value.")
    price_ranges: list[PriceRangeFacet] = strawberry.field(description="Per price bucket.")


@strawberry.type
class Query:
    @strawberry.field(
        description="Facet counts for a filter; each dimension ignores its own filter."
    )
    async def product_facets(
        self, info: Info, filter: ProductFilterInput | None = None
    ) -> ProductFacets:
        with query_errors():
            flt = to_filter(filter)
            currency = flt.price_currency or clean_currency(info.context.settings.default_currency)
        facets = await run_query(
            info,
            product_facets,
            flt=flt,
            include_unpublished=can_see_unpublished(info),
            currency=currency,
        )
        loaders = info.context.loaders
        categories = await loaders.category.load_many([key for key, _ in facets.categories])
        tags = await loaders.tag.load_many([key for key, _ in facets.tags])
        return ProductFacets(
            categories=[
                CategoryFacet(category=Category.from_row(row), count=count)
                for row, (_, count) in zip(categories, facets.categories, strict=True)
                if row is not None
            ],
            tags=[
                TagFacet(tag=Tag.from_row(row), count=count)
                for row, (_, count) in zip(tags, facets.tags, strict=True)
                if row is not None
            ],
            attributes=[
                AttributeFacet(
                    name=name,
                    values=[AttributeValueFacet(value=v, count=c) for v, c in values],
                )
                for name, values in facets.attributes.items()
            ],
            price_ranges=[
                PriceRangeFacet(
                    gte=Money.of(low, currency),
                    lt=Money.of(high, currency) if high is not None else None,
                    count=count,
                )
                for low, high, count in facets.prices
            ],
        )
