"""Accounts: tokens, mailed flows, administration, profile, privacy, social sign-in, addresses."""
