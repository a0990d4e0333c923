"""Staff mutations of products and variants (permission MANAGE_PRODUCTS)."""

from __future__ import annotations

from typing import Self

import strawberry
from strawberry import relay

from app.services.catalog import products as catalog
from app.services.catalog import variants
from models import catalog as models
from resolvers.base import Info, UserErrorType, decode_id, global_id, user_errors_field
from resolvers.catalog.inputs import (
    STAFF,
    ProductCreateInput,
    ProductUpdateInput,
    VariantCreateInput,
    VariantUpdateInput,
)
from resolvers.catalog.types import Product, Variant
from resolvers.inputs import run_parsed


@strawberry.type
class ProductResult:
    product: Product | None = strawberry.field(default=None, description="The product.")
    user_errors: list[UserErrorType] = user_errors_field()

    @classmethod
    def of(cls, row: models.Product) -> Self:
        return cls(product=Product.from_row(row))


@strawberry.type
class ProductCreatePayload(ProductResult):
    pass


@strawberry.type
class ProductUpdatePayload(ProductResult):
    pass


@strawberry.type
class ProductPublishPayload(ProductResult):
    pass


@strawberry.type
class ProductUnpublishPayload(ProductResult):
    pass


@strawberry.type
class ProductDeletePayload:
    deleted_id: relay.GlobalID | None = strawberry.field(
        default=None, description="ID of the deleted product."
    )
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type
class VariantResult:
    variant: Variant | None = strawberry.field(default=None, description="The variant.")
    user_errors: list[UserErrorType] = user_errors_field()

    @classmethod
    def of(cls, row: models.Variant) -> Self:
        return cls(variant=Variant.from_row(row))


@strawberry.type
class VariantCreatePayload(VariantResult):
    pass


@strawberry.type
class VariantUpdatePayload(VariantResult):
    pass


@strawberry.type
class VariantDeletePayload:
    deleted_id: relay.GlobalID | None = strawberry.field(
        default=None, description="ID of the deleted variant."
    )
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type
class ProductMutation:
    @strawberry.mutation(
        description="Create an unpublished product (staff).", permission_classes=STAFF
    )
    async def product_create(self, info: Info, input: ProductCreateInput) -> ProductCreatePayload:
        return await run_parsed(
            info,
            ProductCreatePayload,
            catalog.create_product,
            ProductCreatePayload.of,
            lambda: {"data": input.to_data()},
        )

    @strawberry.mutation(
        description="Change a product; fields left out stay as they are (staff).",
        permission_classes=STAFF,
    )
    async def product_update(
        self, info: Info, id: strawberry.ID, input: ProductUpdateInput
    ) -> ProductUpdatePayload:
        return await run_parsed(
            info,
            ProductUpdatePayload,
            catalog.update_product,
            ProductUpdatePayload.of,
            lambda: {"product_id": decode_id(id, "Product"), "data": input.to_data()},
        )

    @strawberry.mutation(
        description="Delete a product with its variants, images and stock (staff).",
        permission_classes=STAFF,
    )
    async def product_delete(self, info: Info, id: strawberry.ID) -> ProductDeletePayload:
        return await run_parsed(
            info,
            ProductDeletePayload,
            catalog.delete_product,
            lambda key: ProductDeletePayload(deleted_id=global_id("Product", key)),
            lambda: {"product_id": decode_id(id, "Product")},
        )

    @strawberry.mutation(
        description="Make a product visible to customers (staff).", permission_classes=STAFF
    )
    async def product_publish(self, info: Info, id: strawberry.ID) -> ProductPublishPayload:
        return await run_parsed(
            info,
            ProductPublishPayload,
            catalog.set_product_published,
            ProductPublishPayload.of,
            lambda: {"product_id": decode_id(id, "Product"), "published": True},
        )

    @strawberry.mutation(
        description="Hide a product from customers (staff).", permission_classes=STAFF
    )
    async def product_unpublish(self, info: Info, id: strawberry.ID) -> ProductUnpublishPayload:
        return await run_parsed(
            info,
            ProductUnpublishPayload,
            catalog.set_product_published,
            ProductUnpublishPayload.of,
            lambda: {"product_id": decode_id(id, "Product"), "published": False},
        )

    @strawberry.mutation(
        description="Add a variant to a product (staff).", permission_classes=STAFF
    )
    async def variant_create(self, info: Info, input: VariantCreateInput) -> VariantCreatePayload:
        return await run_parsed(
            info,
            VariantCreatePayload,
            variants.create_variant,
            VariantCreatePayload.of,
            lambda: {
                "product_id": decode_id(input.product_id, "Product"),
                "data": input.to_data(),
            },
        )

    @strawberry.mutation(
        description="Change a variant; fields left out stay as they are (staff).",
        permission_classes=STAFF,
    )
    async def variant_update(
        self, info: Info, id: strawberry.ID, input: VariantUpdateInput
    ) -> VariantUpdatePayload:
        return await run_parsed(
            info,
            VariantUpdatePayload,
            variants.update_variant,
            VariantUpdatePayload.of,
            lambda: {"variant_id": decode_id(id, "Variant"), "data": input.to_data()},
        )

    @strawberry.mutation(
        description="Delete a variant with its stock (staff).", permission_classes=STAFF
    )
    async def variant_delete(self, info: Info, id: strawberry.ID) -> VariantDeletePayload:
        return await run_parsed(
            info,
            VariantDeletePayload,
            variants.delete_variant,
            lambda key: VariantDeletePayload(deleted_id=global_id("Variant", key)),
            lambda: {"variant_id": decode_id(id, "Variant")},
        )
