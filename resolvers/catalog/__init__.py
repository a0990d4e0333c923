"""Catalog: products, variants, categories, tags, stock, facets, reviews, wishlist."""

from strawberry.tools import merge_types

from resolvers.catalog import facets, inventory_queries, queries, reviews, wishlist
from resolvers.catalog.mutations import Mutation as StaffMutation

Query = merge_types(
    "CatalogQuery",
    (queries.Query, facets.Query, inventory_queries.Query, reviews.Query, wishlist.Query),
)
Mutation = merge_types("CatalogMutation", (StaffMutation, reviews.Mutation, wishlist.Mutation))
Subscription = None  # nothing to subscribe to yet

__all__ = ["Mutation", "Query", "Subscription"]
