"""Accounts: the `me` query, registration, tokens, account events."""

from resolvers.accounts.mutations import Mutation
from resolvers.accounts.queries import Query
from resolvers.accounts.subscriptions import Subscription

__all__ = ["Mutation", "Query", "Subscription"]
