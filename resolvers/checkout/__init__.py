"""Checkout: completion (checkoutComplete); shipping, tax and promotions come from staff CRUD."""

from resolvers.checkout.complete import Mutation

Query = None  # the staff part adds its queries here
Subscription = None

__all__ = ["Mutation", "Query", "Subscription"]
