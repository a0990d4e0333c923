"""Notifications: the user's preferences and push subscriptions, the staff outbox view."""

from strawberry.tools import merge_types

from resolvers.notifications import outbox, preferences, push_subscriptions

Query = merge_types("NotificationsQuery", (preferences.Query, outbox.Query))
Mutation = merge_types(
    "NotificationsMutation",
    (preferences.Mutation, push_subscriptions.Mutation, outbox.Mutation),
)
Subscription = None  # nothing to subscribe to yet

__all__ = ["Mutation", "Query", "Subscription"]
