"""Product reviews: the Review type, `productReviews`, and the review mutations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Self, TypeVar

import strawberry
from strawberry import relay

from app.auth.permissions import Perm
from app.services.catalog import reviews
from app.services.checks import Unset
from app.services.pagination import PageRequest
from models import catalog as models
from models.accounts import User as UserRow
from resolvers.base import (
    HasPermission,
    Info,
    IsAuthenticated,
    UserErrorType,
    current_user,
    decode_id,
    global_id,
    node_keys,
    payload_field,
    run_mutation,
    user_errors_field,
)
from resolvers.catalog.types import Product, can_see_unpublished
from resolvers.connection import Connection, counted_connection
from resolvers.inputs import given, given_not_null, run_parsed

T = TypeVar("T")
_EXTRA_LOADERS = "catalog_extra_loaders"


def display_name(user: UserRow | None) -> str:
    """First name and last initial ("Ann S."); never the email."""
    if user is None or not user.first_name:
        return "Anonymous"
    initial = f" {user.last_name[0].upper()}." if user.last_name else ""
    return user.first_name + initial


@strawberry.type(description="A customer's rating and review of a product.")
class Review(relay.Node):
    id: relay.NodeID[int]
    rating: int = strawberry.field(description="Stars, 1 to 5.")
    title: str = strawberry.field(description="Headline, up to 200 characters.")
    body: str = strawberry.field(description="Text, up to 10,000 characters.")
    created_at: datetime = strawberry.field(description="When it was written.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    is_hidden: bool = strawberry.field(
        description="Hidden by staff: not listed and not in the rating."
    )
    verified_purchase: bool = strawberry.field(
        description="The author bought the product (set by the orders work)."
    )
    row: strawberry.Private[models.Review]

    @classmethod
    def from_row(cls, row: models.Review) -> Review:
        return cls(
            id=row.id,
            rating=row.rating,
            title=row.title,
            body=row.body,
            created_at=row.created_at,
            updated_at=row.updated_at,
            is_hidden=row.is_hidden,
            verified_purchase=row.verified_purchase,
            row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # never `required`: see resolvers.node
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Review | None]:
        """Visible reviews; hidden ones (or of unpublished products) to staff and the author."""
        rows = await info.context.loaders.review.load_many(node_keys(node_ids))
        products = await info.context.loaders.product.load_many(
            [row.product_id if row else 0 for row in rows]
        )
        staff = can_see_unpublished(info)
        viewer = info.context.user
        return [
            cls.from_row(row)
            if row is not None
            and product is not None
            and (
                staff
                or (viewer is not None and viewer.id == row.user_id)
                or (product.is_published and not row.is_hidden)
            )
            else None
            for row, product in zip(rows, products, strict=True)
        ]

    @strawberry.field(description='Display name of the author: first name and initial, "Ann S."')
    async def author_name(self, info: Info) -> str:
        return display_name(await info.context.loaders.user.load(self.row.user_id))

    @strawberry.field(description="The reviewed product; null if it is no longer published.")
    async def product(self, info: Info) -> Product | None:
        row = await info.context.loaders.product.load(self.row.product_id)
        if row is None or not (row.is_published or can_see_unpublished(info)):
            return None
        return Product.from_row(row)


async def resolve_product_reviews(
    info: Info, *, product_id: int, page: PageRequest
) -> Connection[Review]:
    """A page of a product's reviews; Product.reviews delegates here too."""
    return await counted_connection(
        info,
        reviews.list_reviews,
        reviews.count_reviews,
        page=page,
        node=Review.from_row,
        product_id=product_id,
        include_hidden=can_see_unpublished(info),
    )


@strawberry.type
class Query:
    @strawberry.field(
        description="Reviews of a product, newest first; hidden reviews are listed for staff only."
    )
    async def product_reviews(
        self,
        info: Info,
        product_id: strawberry.ID,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Review]:
        page = PageRequest(first=first, after=after, last=last, before=before)
        # A wrong ID names no product: no reviews, as for a missing product.
        key = decode_id(product_id, "Product")
        return await resolve_product_reviews(info, product_id=key, page=page)


@strawberry.input(description="A new review.")
class ReviewCreateInput:
    product_id: strawberry.ID = strawberry.field(description="The product to review.")
    rating: int = strawberry.field(description="Stars, 1 to 5.")
    title: str = strawberry.field(default="", description="Headline, up to 200 characters.")
    body: str = strawberry.field(default="", description="Text, up to 10,000 characters.")


@strawberry.input(description="Changes to a review; fields left out stay as they are.")
class ReviewUpdateInput:
    rating: strawberry.Maybe[int | None] = strawberry.field(description="Stars, 1 to 5.")
    title: strawberry.Maybe[str | None] = strawberry.field(description="Headline; null clears it.")
    body: strawberry.Maybe[str | None] = strawberry.field(description="Text; null clears it.")

    def to_changes(self) -> reviews.ReviewChanges:
        rating = given_not_null(self.rating, field="rating")
        title, body = given(self.title), given(self.body)
        return reviews.ReviewChanges(
            rating=None if isinstance(rating, Unset) else rating,
            title=None if isinstance(title, Unset) else title or "",
            body=None if isinstance(body, Unset) else body or "",
        )


@strawberry.type
class ReviewResult:
    review: Review | None = payload_field("The review.")
    user_errors: list[UserErrorType] = user_errors_field()

    @classmethod
    def of(cls, row: models.Review) -> Self:
        return cls(review=Review.from_row(row))


@strawberry.type
class ReviewCreatePayload(ReviewResult):
    pass


@strawberry.type
class ReviewUpdatePayload(ReviewResult):
    pass


@strawberry.type
class ReviewDeletePayload:
    deleted_id: relay.GlobalID | None = payload_field("ID of the deleted review.")
    deleted_review_id: relay.GlobalID | None = strawberry.field(
        default=None,
        description="ID of the deleted review (the same as `deletedId`).",
        deprecation_reason="Use deletedId.",
    )
    user_errors: list[UserErrorType] = user_errors_field()


def _deleted_review(key: int) -> ReviewDeletePayload:
    deleted = global_id("Review", key)
    return ReviewDeletePayload(deleted_id=deleted, deleted_review_id=deleted)


@strawberry.type(description="Result of hiding or showing a review.")
class ReviewVisibilityPayload(ReviewResult):
    pass


async def _set_hidden(info: Info, id: strawberry.ID, *, hidden: bool) -> ReviewVisibilityPayload:
    return await run_mutation(
        info,
        ReviewVisibilityPayload,
        reviews.set_review_hidden,
        ReviewVisibilityPayload.of,
        review_id=decode_id(id, "Review"),
        hidden=hidden,
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Review a published product; one review per customer and product.",
        permission_classes=[IsAuthenticated],
    )
    async def review_create(self, info: Info, input: ReviewCreateInput) -> ReviewCreatePayload:
        return await run_parsed(
            info,
            ReviewCreatePayload,
            reviews.create_review,
            ReviewCreatePayload.of,
            lambda: {
                "user_id": current_user(info).id,
                "product_id": decode_id(input.product_id, "Product"),
                "data": reviews.ReviewData(rating=input.rating, title=input.title, body=input.body),
            },
        )

    @strawberry.mutation(description="Edit your own review.", permission_classes=[IsAuthenticated])
    async def review_update(
        self, info: Info, id: strawberry.ID, input: ReviewUpdateInput
    ) -> ReviewUpdatePayload:
        return await run_parsed(
            info,
            ReviewUpdatePayload,
            reviews.update_review,
            ReviewUpdatePayload.of,
            lambda: {
                "user_id": current_user(info).id,
                "review_id": decode_id(id, "Review"),
                "changes": input.to_changes(),
            },
        )

    @strawberry.mutation(
        description="Delete your own review.", permission_classes=[IsAuthenticated]
    )
    async def review_delete(self, info: Info, id: strawberry.ID) -> ReviewDeletePayload:
        return await run_mutation(
            info,
            ReviewDeletePayload,
            reviews.delete_review,
            _deleted_review,
            user_id=current_user(info).id,
            review_id=decode_id(id, "Review"),
        )

    @strawberry.mutation(
        description="Hide a review from customers and from the rating (staff).",
        permission_classes=[HasPermission(Perm.MANAGE_PRODUCTS)],
    )
    async def review_hide(self, info: Info, id: strawberry.ID) -> ReviewVisibilityPayload:
        return await _set_hidden(info, id, hidden=True)

    @strawberry.mutation(
        description="Show a hidden review again (staff).",
        permission_classes=[HasPermission(Perm.MANAGE_PRODUCTS)],
    )
    async def review_unhide(self, info: Info, id: strawberry.ID) -> ReviewVisibilityPayload:
        return await _set_hidden(info, id, hidden=False)
