"""Payments rules: payments, refunds, invoices and credit notes over a session."""
