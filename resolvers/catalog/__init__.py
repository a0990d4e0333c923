"""Catalog: products, variants, categories, tags, stock."""

from strawberry.tools import merge_types

from resolvers.catalog import facets, queries
from resolvers.catalog.mutations import Mutation

Query = merge_types("CatalogQuery", (queries.Query, facets.Query))

__all__ = ["Mutation", "Query"]
