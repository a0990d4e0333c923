"""Product reviews: one per customer and product, moderated by staff, with exact rating totals.

`products.rating_sum` / `rating_count` count the visible (not hidden) reviews. Every change
shifts them with one atomic UPDATE in the caller's transaction, so concurrent reviews of one
product never lose an update. Locks are always taken review first, then product: no deadlocks.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from app.errors import ErrorCode, ReviewError
from app.services.checks import Cleaner, clean_text, locked_or_not_found
from app.services.orders.queries import has_bought
from app.services.pagination import Page, PageRequest, count_rows, fetch_page, newest_first
from app.services.public_changes import mark_public_change, reads
from models.catalog import Product, Review

MAX_TITLE_LENGTH = 200
MAX_BODY_LENGTH = 10_000

_SHIFT_RATING = text(
    "UPDATE products SET rating_sum = rating_sum + :d, rating_count = rating_count + :c"
    " WHERE id = :id RETURNING rating_sum, rating_count"
)


@dataclass(frozen=True)
class ReviewData:
    rating: int
    title: str = ""
    body: str = ""


@dataclass(frozen=True)
class ReviewChanges:
    """A partial update: None leaves the field as it is."""

    rating: int | None = None
    title: str | None = None
    body: str | None = None


def _clean_rating(rating: int) -> int:
    if not 1 <= rating <= 5:
        raise ReviewError(ErrorCode.INVALID, "Rating must be from 1 to 5.", field="rating")
    return rating


def _validated(changes: ReviewChanges) -> ReviewChanges:
    """The cleaned changes; every bad field reported at once."""
    clean = Cleaner()
    if changes.rating is not None:
        clean.put("rating", _clean_rating, changes.rating)
    if changes.title is not None:
        clean.put("title", clean_text, changes.title, field="title", max_length=MAX_TITLE_LENGTH)
    if changes.body is not None:
        clean.put(
            "body",
            clean_text,
            changes.body,
            field="body",
            max_length=MAX_BODY_LENGTH,
            multiline=True,
        )
    return ReviewChanges(**clean.done())


async def _shift_rating(session: AsyncSession, product_id: int, *, delta: int, count: int) -> None:
    """Change the product's visible rating totals atomically (a no-op when both are 0)."""
    if not (delta or count):
        return
    params = {"d": delta, "c": count, "id": product_id}
    totals = (await session.execute(_SHIFT_RATING, params)).one_or_none()
    # A Product this session already holds would otherwise keep showing the old totals.
    held = session.identity_map.get(identity_key(Product, product_id))
    if held is not None and totals is not None:
        set_committed_value(held, "rating_sum", totals.rating_sum)
        set_committed_value(held, "rating_count", totals.rating_count)


async def _locked_review(
    session: AsyncSession, review_id: int, *, author_id: int | None = None
) -> Review:
    """The review row, locked; NOT_FOUND if missing or (with `author_id`) someone else's."""
    mine = [Review.user_id == author_id] if author_id is not None else []
    return await locked_or_not_found(session, Review, review_id, field="id", where=mine)


async def create_review(
    session: AsyncSession, *, user_id: int, product_id: int, data: ReviewData
) -> Review:
    """Review a published product; ALREADY_REVIEWED on a second review by the same customer.
    `verified_purchase` says the customer has a paid order with a line of it."""
    clean = _validated(ReviewChanges(data.rating, data.title, data.body))
    assert clean.rating is not None
    # KEY SHARE keeps the product from being deleted under us yet lets the rating UPDATEs
    # of concurrent reviews through.
    await locked_or_not_found(
        session,
        Product,
        product_id,
        field="productId",
        lock="key share",
        where=[Product.is_published],
    )
    # ON CONFLICT DO NOTHING: of two racing first reviews, one wins and one gets the error.
    review: Review | None = await session.scalar(
        insert(Review)
        .values(
            product_id=product_id,
            user_id=user_id,
            rating=clean.rating,
            title=clean.title or "",
            body=clean.body or "",
            # Set once, when written: a later refund does not unwrite what was bought.
            verified_purchase=await has_bought(session, user_id=user_id, product_id=product_id),
        )
        .on_conflict_do_nothing(index_elements=[Review.product_id, Review.user_id])
        .returning(Review)
    )
    if review is None:
        raise ReviewError(
            ErrorCode.ALREADY_REVIEWED, "You have already reviewed this product.", field="productId"
        )
    mark_public_change(session, f"product:{product_id}", f"review:{review.id}")
    await _shift_rating(session, product_id, delta=clean.rating, count=1)
    return review


async def update_review(
    session: AsyncSession, *, user_id: int, review_id: int, changes: ReviewChanges
) -> Review:
    """Edit one's own review; NOT_FOUND for anyone else's."""
    clean = _validated(changes)
    review = await _locked_review(session, review_id, author_id=user_id)
    mark_public_change(session, f"product:{review.product_id}", f"review:{review.id}")
    old_rating = review.rating
    if clean.rating is not None:
        review.rating = clean.rating
    if clean.title is not None:
        review.title = clean.title
    if clean.body is not None:
        review.body = clean.body
    await session.flush()
    await session.refresh(review)  # updated_at is set by the database
    if not review.is_hidden:
        await _shift_rating(session, review.product_id, delta=review.rating - old_rating, count=0)
    return review


async def delete_review(session: AsyncSession, *, user_id: int, review_id: int) -> int:
    """Delete one's own review; returns its id. NOT_FOUND for anyone else's."""
    review = await _locked_review(session, review_id, author_id=user_id)
    mark_public_change(session, f"product:{review.product_id}", f"review:{review.id}")
    product_id, rating, counted = review.product_id, review.rating, not review.is_hidden
    await session.delete(review)
    await session.flush()
    if counted:
        await _shift_rating(session, product_id, delta=-rating, count=-1)
    return review_id


async def set_review_hidden(session: AsyncSession, *, review_id: int, hidden: bool) -> Review:
    """Hide or show a review (staff); hidden reviews leave the product's rating. Idempotent."""
    review = await _locked_review(session, review_id)
    if review.is_hidden == hidden:
        return review
    mark_public_change(session, f"product:{review.product_id}", f"review:{review.id}")
    review.is_hidden = hidden
    await session.flush()
    await session.refresh(review)
    sign = -1 if hidden else 1
    await _shift_rating(session, review.product_id, delta=sign * review.rating, count=sign)
    return review


def _visible_reviews(product_id: int, *, include_hidden: bool) -> Select[Review]:
    statement = select(Review).where(Review.product_id == product_id)
    if not include_hidden:
        statement = statement.join(Product, Product.id == Review.product_id).where(
            Product.is_published, Review.is_hidden.is_(False)
        )
    return statement


@reads("product:{product_id}")
async def list_reviews(
    session: AsyncSession, *, product_id: int, include_hidden: bool, page: PageRequest
) -> Page:
    """Reviews of a product, newest first; hidden ones and unpublished products for staff only."""
    return await fetch_page(
        session,
        _visible_reviews(product_id, include_hidden=include_hidden),
        keys=newest_first(Review.created_at, Review.id),
        page=page,
        tag="review:newest",
    )


@reads("product:{product_id}")
async def count_reviews(session: AsyncSession, *, product_id: int, include_hidden: bool) -> int:
    """How many reviews `list_reviews` pages through."""
    statement = _visible_reviews(product_id, include_hidden=include_hidden)
    return await count_rows(session, statement)
