"""Catalog: products, variants, categories, inventory, warehouses, listing, facets, search,
reviews, wishlist."""
