"""Orders: the read side (the orders issue adds the state machine and staff mutations)."""

from resolvers.orders.queries import Query
from resolvers.orders.subscriptions import Subscription

Mutation = None  # nothing to change yet: checkoutComplete creates orders

__all__ = ["Mutation", "Query", "Subscription"]
