"""Carts: lines, buyer, addresses, delivery method and coupons, always priced afresh."""
