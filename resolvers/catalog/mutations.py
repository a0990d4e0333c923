"""Staff mutations of the catalog (permission MANAGE_PRODUCTS), one module per concern."""

from __future__ import annotations

from strawberry.tools import merge_types

from resolvers.catalog.category_mutations import CategoryMutation
from resolvers.catalog.inventory_mutations import InventoryMutation
from resolvers.catalog.product_mutations import ProductMutation

Mutation = merge_types("CatalogMutation", (ProductMutation, CategoryMutation, InventoryMutation))
