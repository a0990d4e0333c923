"""Catalog: products, variants, categories, tags, stock."""

from resolvers.catalog.mutations import Mutation
from resolvers.catalog.queries import Query

__all__ = ["Mutation", "Query"]
