"""Orders: the read side (the orders issue adds the state machine and staff mutations)."""

from resolvers.orders.queries import Query

Mutation = None  # nothing to change yet: checkoutComplete creates orders
Subscription = None  # order status subscriptions come with the orders issue

__all__ = ["Mutation", "Query", "Subscription"]
