"""Checkout: the rules staff configure (shipping zones and methods, tax rates, promotions)
and completion (checkoutComplete)."""

from strawberry.tools import merge_types

from resolvers.checkout import complete, promotions, shipping, taxes

Query = merge_types("CheckoutQuery", (shipping.Query, taxes.Query, promotions.Query))
Mutation = merge_types(
    "CheckoutMutation",
    (shipping.Mutation, taxes.Mutation, promotions.Mutation, complete.Mutation),
)
Subscription = None  # nothing to subscribe to yet

__all__ = ["Mutation", "Query", "Subscription"]
