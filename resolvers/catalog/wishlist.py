"""The signed-in customer's wishlist: `myWishlist`, add and remove."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import relay

from app.services.catalog import wishlist
from app.services.pagination import PageRequest
from models import catalog as models
from resolvers.base import (
    ApiError,
    Info,
    IsAuthenticated,
    UserErrorType,
    current_user,
    decode_id,
    decode_optional_id,
    global_id,
    node_keys,
    payload_field,
    run_mutation,
    user_errors_field,
)
from resolvers.catalog.types import Product, Variant, can_see_unpublished
from resolvers.connection import Connection, counted_connection


@strawberry.type(description="A product (or one variant of it) the customer saved for later.")
class WishlistItem(relay.Node):
    id: relay.NodeID[int]
    created_at: datetime = strawberry.field(description="When it was saved.")
    row: strawberry.Private[models.WishlistItem]

    @classmethod
    def from_row(cls, row: models.WishlistItem) -> WishlistItem:
        return cls(id=row.id, created_at=row.created_at, row=row)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # never `required`: see resolvers.node
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[WishlistItem | None]:
        """Only the owner's own items, and only while the product is published (or for staff)."""
        viewer = info.context.user
        if viewer is None:
            return [None for _ in node_ids]
        rows = await info.context.loaders.wishlist_item.load_many(node_keys(node_ids))
        products = await info.context.loaders.product.load_many(
            [row.product_id if row else 0 for row in rows]
        )
        staff = can_see_unpublished(info)
        return [
            cls.from_row(row)
            if row is not None
            and product is not None
            and row.user_id == viewer.id
            and (product.is_published or staff)
            else None
            for row, product in zip(rows, products, strict=True)
        ]

    @strawberry.field(description="The saved product.")
    async def product(self, info: Info) -> Product:
        row = await info.context.loaders.product.load(self.row.product_id)
        assert row is not None  # the foreign key cascades deletes
        return Product.from_row(row)

    @strawberry.field(description="The saved variant, or null when the whole product was saved.")
    async def variant(self, info: Info) -> Variant | None:
        if self.row.variant_id is None:
            return None
        row = await info.context.loaders.variant.load(self.row.variant_id)
        return Variant.from_row(row) if row else None


async def resolve_wishlist(
    info: Info, *, user_id: int, page: PageRequest
) -> Connection[WishlistItem]:
    """A page of the user's wishlist, newest first; User.wishlist delegates here too."""
    viewer = info.context.user
    if viewer is None or viewer.id != user_id:
        raise ApiError("Only the account holder can see their wishlist.", "FORBIDDEN")
    return await counted_connection(
        info,
        wishlist.list_wishlist,
        wishlist.count_wishlist,
        page=page,
        node=WishlistItem.from_row,
        user_id=user_id,
        include_unpublished=can_see_unpublished(info),
    )


@strawberry.type
class Query:
    @strawberry.field(
        description="The signed-in customer's wishlist, newest first.",
        permission_classes=[IsAuthenticated],
    )
    async def my_wishlist(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[WishlistItem]:
        page = PageRequest(first=first, after=after, last=last, before=before)
        return await resolve_wishlist(info, user_id=current_user(info).id, page=page)


@strawberry.type
class WishlistAddProductPayload:
    item: WishlistItem | None = payload_field(
        "The saved item (the existing one if it was saved before)."
    )
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type
class WishlistRemovePayload:
    removed_item_id: relay.GlobalID | None = payload_field("ID of the removed item.")
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Save a product, or one of its variants, to your wishlist; saving twice is "
        "harmless and returns the same item.",
        permission_classes=[IsAuthenticated],
    )
    async def wishlist_add_product(
        self, info: Info, product_id: strawberry.ID, variant_id: strawberry.ID | None = None
    ) -> WishlistAddProductPayload:
        return await run_mutation(
            info,
            WishlistAddProductPayload,
            wishlist.add_to_wishlist,
            lambda row: WishlistAddProductPayload(item=WishlistItem.from_row(row)),
            user_id=current_user(info).id,
            product_id=decode_id(product_id, "Product"),
            variant_id=decode_optional_id(variant_id, "Variant"),
        )

    @strawberry.mutation(
        description="Remove an item from your wishlist, by its ID or by product (and variant).",
        permission_classes=[IsAuthenticated],
    )
    async def wishlist_remove(
        self,
        info: Info,
        item_id: strawberry.ID | None = None,
        product_id: strawberry.ID | None = None,
        variant_id: strawberry.ID | None = None,
    ) -> WishlistRemovePayload:
        return await run_mutation(
            info,
            WishlistRemovePayload,
            wishlist.remove_from_wishlist,
            lambda key: WishlistRemovePayload(removed_item_id=global_id("WishlistItem", key)),
            user_id=current_user(info).id,
            item_id=decode_optional_id(item_id, "WishlistItem"),
            product_id=decode_optional_id(product_id, "Product"),
            variant_id=decode_optional_id(variant_id, "Variant"),
        )
