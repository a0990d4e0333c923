"""Input rules shared by the staff services of checkout: regions, whole numbers and their
ranges, moments, ID lists, and the unique indexes that decide between concurrent writes.

Country codes, text, decimals and money follow the shared rules (app/services/checks.py,
app/money.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import CheckoutError, ErrorCode
from app.services.checks import clean_text
from app.services.public_changes import mark_public_change

T = TypeVar("T")

MAX_REGION_LENGTH = 150
# A Postgres `integer` column: limits, weights and days are stored in one.
MAX_INT32 = 2**31 - 1
# Answers that show what a cart costs read these rules: a change marks this tag (and every
# list) stale in the public response cache. Shopper-side reads of the rules can tag it.
CHECKOUT_RULES = "checkout"


def clean_region(value: str | None, *, field: str, required: bool = False) -> str:
    """A region of a country as stored and matched: one line of text, upper-cased.

    Blank is "" (the whole country), or REQUIRED where a region must be named.
    """
    text = clean_text(value, field=field, max_length=MAX_REGION_LENGTH, required=required)
    region = text.upper()
    if len(region) > MAX_REGION_LENGTH:  # "ß" upper-cases to "SS"
        raise CheckoutError(
            ErrorCode.TOO_LONG, f"Must be at most {MAX_REGION_LENGTH} characters.", field=field
        )
    return region


def check_whole(value: int, *, field: str, low: int, high: int = MAX_INT32) -> int:
    """An integer from `low` to `high`; INVALID else."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise CheckoutError(
            ErrorCode.INVALID, f"Must be a whole number from {low:,} to {high:,}.", field=field
        )
    return value


def check_order(
    low: int | datetime | None,
    high: int | datetime | None,
    *,
    low_field: str,
    high_field: str,
    high_given: bool,
) -> None:
    """INVALID when both ends of a range are set and `low` is above `high` (moments: not
    before it); reported on the upper end when the input gave it, else on the lower one."""
    if low is None or high is None:
        return
    moments = isinstance(low, datetime)
    if low > high or (moments and low == high):  # type: ignore[operator]
        raise CheckoutError(
            ErrorCode.INVALID,
            "The start must be before the end."
            if moments
            else "The minimum must not exceed the maximum.",
            field=high_field if high_given else low_field,
        )


def clean_moment(value: datetime, *, field: str) -> datetime:
    """A moment with a time zone, in UTC; INVALID for a local time or one out of range."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise CheckoutError(
            ErrorCode.INVALID,
            "Give a time zone offset, e.g. 2030-01-31T00:00:00Z.",
            field=field,
        )
    try:  # 0001-01-01T00:00+14:00 is a valid string but no moment the database can hold
        return value.astimezone(UTC)
    except OverflowError:
        raise CheckoutError(ErrorCode.INVALID, "Out of range.", field=field) from None


def check_count(values: Sequence[T], *, field: str, limit: int) -> list[T]:
    """The list, INVALID when longer than `limit`."""
    if len(values) > limit:
        raise CheckoutError(ErrorCode.INVALID, f"At most {limit:,} items are allowed.", field=field)
    return list(values)


def _violated(error: IntegrityError) -> str | None:
    """Name of the constraint an asyncpg integrity error names (the driver's error is the
    cause of SQLAlchemy's adapted one)."""
    cause = getattr(error.orig, "__cause__", None)
    name = getattr(cause, "constraint_name", None)
    return name if isinstance(name, str) else None


async def flush_unique(session: AsyncSession, *, constraint: str, field: str, message: str) -> None:
    """Flush in a savepoint: a concurrent transaction that committed the same key makes the
    unique index `constraint` refuse it, which is UNIQUE on `field`. Other errors pass."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        if _violated(exc) != constraint:
            raise
        raise CheckoutError(ErrorCode.UNIQUE, message, field=field) from None


def mark_rules_changed(session: AsyncSession) -> None:
    """Cached public answers priced with the old rules are stale once this commits."""
    mark_public_change(session, CHECKOUT_RULES)
