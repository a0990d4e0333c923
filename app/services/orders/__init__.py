"""Orders: status changes (history, outbox, pub/sub) and the read side."""
