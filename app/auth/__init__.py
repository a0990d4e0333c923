"""Authentication and authorisation: tokens, passwords, permissions."""
