"""Checkout: shipping, tax and promotion rules, prices, stock taken, and completion."""
