"""Orders: reading and following them, cancelling, fulfilment and delivery, returns, and the
staff's notes, audit trail and manual transitions."""

import strawberry

from resolvers.orders import after_sale, fulfilment, mutations
from resolvers.orders.queries import Query
from resolvers.orders.subscriptions import Subscription


@strawberry.type
class Mutation(mutations.Mutation, fulfilment.Mutation, after_sale.Mutation):
    pass


__all__ = ["Mutation", "Query", "Subscription"]
