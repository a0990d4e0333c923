"""Notifications: the transactional outbox, its worker, delivery channels and templates."""
