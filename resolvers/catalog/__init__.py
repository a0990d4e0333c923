"""Catalog: products, variants, categories, tags, stock."""

from strawberry.tools import merge_types

from resolvers.catalog import facets, inventory_queries, queries
from resolvers.catalog.mutations import Mutation

Query = merge_types("CatalogQuery", (queries.Query, facets.Query, inventory_queries.Query))

__all__ = ["Mutation", "Query"]
