"""Cart: the storefront Cart API (lines, buyer, addresses, delivery, coupons)."""

from resolvers.cart import mutations, queries

Query = queries.Query
Mutation = mutations.Mutation
Subscription = None  # nothing to subscribe to

__all__ = ["Mutation", "Query", "Subscription"]
