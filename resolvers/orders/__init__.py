"""Orders: reading and following them, and cancelling one (the orders issue adds fulfilment,
returns and staff transitions)."""

from resolvers.orders.mutations import Mutation
from resolvers.orders.queries import Query
from resolvers.orders.subscriptions import Subscription

__all__ = ["Mutation", "Query", "Subscription"]
