"""Payments: money records, refunds, invoices and the webhook inbox (staff), and the
customer's confirmation after paying in the provider's UI."""

from resolvers.payments.mutations import Mutation
from resolvers.payments.queries import Query

Subscription = None

__all__ = ["Mutation", "Query", "Subscription"]
