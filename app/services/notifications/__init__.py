"""Notifications: the outbox, preferences, push subscriptions (delivery: app/notifications)."""
