"""Accounts: `me`, registration and tokens, mailed flows, profile, addresses, privacy,
social sign-in, administration, and account events."""

from strawberry.tools import merge_types

from resolvers.accounts import addresses, admin, flows, privacy, profile, queries, social, tokens
from resolvers.accounts.subscriptions import Subscription

Query = merge_types(
    "AccountsQuery",
    (queries.Query, addresses.Query, admin.Query, privacy.Query, profile.Query),
)
Mutation = merge_types(
    "AccountsMutation",
    (
        tokens.Mutation,
        addresses.Mutation,
        admin.Mutation,
        flows.Mutation,
        privacy.Mutation,
        profile.Mutation,
        social.Mutation,
    ),
)

__all__ = ["Mutation", "Query", "Subscription"]
