"""Staff mutations of the catalog (permission MANAGE_PRODUCTS), one module per concern."""

from __future__ import annotations

from strawberry.tools import merge_types

from resolvers.catalog.inventory_mutations import InventoryMutation
from resolvers.catalog.product_mutations import ProductMutation
from resolvers.catalog.taxonomy_mutations import TaxonomyMutation

Mutation = merge_types("CatalogMutation", (ProductMutation, TaxonomyMutation, InventoryMutation))
