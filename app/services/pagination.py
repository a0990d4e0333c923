"""Keyset pagination: opaque cursors over a sort key that always ends with the row id."""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode, UserError

MAX_PAGE = 100
DEFAULT_PAGE = 20
MAX_BIGINT = 2**63 - 1
# Our cursors are well under 200 characters; a longer one is not ours.
MAX_CURSOR_LENGTH = 1_000
# Text keys are names (at most 250 characters); room for any sort key we have.
MAX_CURSOR_TEXT = 1_000
_DECIMAL = re.compile(r"-?[0-9]{1,20}(?:\.[0-9]{1,40})?")


def load_bigint(value: Any) -> int:
    """A cursor's integer key: a JSON integer a bigint holds (no bool, float or string)."""
    if type(value) is not int or not -MAX_BIGINT - 1 <= value <= MAX_BIGINT:
        raise ValueError("not a bigint")
    return value


def load_int32(value: Any) -> int:
    """A cursor's key of an `integer` column (a count)."""
    if load_bigint(value) != value or not -(2**31) <= value < 2**31:
        raise ValueError("not an int32")
    return int(value)


def load_text(value: Any) -> str:
    """A cursor's text key: a string PostgreSQL can compare (no NUL, bounded length)."""
    if not isinstance(value, str) or len(value) > MAX_CURSOR_TEXT or "\x00" in value:
        raise ValueError("not a text key")
    return value


def load_float(value: Any) -> float:
    """A cursor's float key (a search rank): a finite JSON number."""
    if type(value) not in (int, float) or not math.isfinite(value):
        raise ValueError("not a finite number")
    return float(value)


def dump_decimal(value: Decimal) -> str:
    """A decimal key as a plain decimal string ("4.25", never "0E-20")."""
    return format(value, "f")


def load_decimal(value: Any) -> Decimal:
    """A cursor's decimal key, as `dump_decimal` wrote it."""
    if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
        raise ValueError("not a decimal")
    return Decimal(value)


def load_timestamp(value: Any) -> datetime:
    """A cursor's timestamp key: an ISO 8601 string with a time zone."""
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError("not a timestamp")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("naive timestamp")
    try:  # 0001-01-01T00:00+14:00 is a valid string but no moment the database can hold
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("timestamp out of range") from None


@dataclass(frozen=True)
class SortKey:
    """One ordering column: its SQL expression, direction, and JSON (de)serialisers.

    `load` must check the type and range of what a client sends back: a cursor is
    client input, and a value of the wrong type would reach the database.
    """

    expression: Any  # a column or SQL expression
    descending: bool = False
    dump: Callable[[Any], Any] = lambda value: value
    load: Callable[[Any], Any] = load_bigint


def newest_first(created_at: Any, id_column: Any) -> list[SortKey]:
    """Keyset order (created_at, id) descending, with strict cursor parsing."""
    return [
        SortKey(created_at, descending=True, dump=datetime.isoformat, load=load_timestamp),
        SortKey(id_column, descending=True),
    ]


@dataclass(frozen=True)
class KeysetQuery:
    """What a list pages through: a select of one entity, its order, and the cursor tag
    that order's cursors carry. Services build it; the API layer hands it to `fetch_page`."""

    statement: Any
    keys: Sequence[SortKey]
    tag: str


def _invalid(message: str, field: str) -> UserError:
    return UserError(ErrorCode.INVALID, message, field=field)


@dataclass(frozen=True)
class PageRequest:
    """Relay paging arguments: `first` with `after` forward, `last` with `before` backward.

    An empty cursor string is no cursor (some clients start from "").
    """

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    def __post_init__(self) -> None:
        for name in ("after", "before"):
            if getattr(self, name) == "":
                object.__setattr__(self, name, None)

    @property
    def backward(self) -> bool:
        return self.last is not None or self.before is not None

    @property
    def size(self) -> int:
        """Rows asked for; INVALID when out of range or when both directions are mixed."""
        for name in ("first", "last"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= MAX_PAGE:
                raise _invalid(f"`{name}` must be between 0 and {MAX_PAGE}.", name)
        if self.first is not None and self.last is not None:
            raise _invalid("Pass `first` or `last`, not both.", "first")
        if self.after is not None and self.before is not None:
            raise _invalid("Pass `after` or `before`, not both.", "before")
        if self.first is not None and self.before is not None:
            raise _invalid("`first` pages forward from `after`; use `last` with `before`.", "first")
        if self.last is not None and self.after is not None:
            raise _invalid("`last` pages backward from `before`; use `first` with `after`.", "last")
        size = self.last if self.backward else self.first
        return DEFAULT_PAGE if size is None else size

    @property
    def cursor(self) -> str | None:
        return self.before if self.backward else self.after

    @property
    def cursor_field(self) -> str:
        return "before" if self.backward else "after"


def encode_cursor(tag: str, values: Sequence[Any]) -> str:
    raw = orjson.dumps({"t": tag, "k": list(values)})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_tag_of(cursor: str) -> str | None:
    """The ordering tag a cursor was made for, or None if it is not one of ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        tag = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))["t"]
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeEncodeError):
        return None
    return tag if isinstance(tag, str) else None


def decode_cursor(
    cursor: str, tag: str, keys: Sequence[SortKey], *, field: str = "after"
) -> list[Any]:
    """The key values of a cursor made for the same ordering `tag`; INVALID otherwise."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        padded = cursor + "=" * (-len(cursor) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        values = data["k"]
        if data["t"] != tag or not isinstance(values, list) or len(values) != len(keys):
            raise ValueError("another list's cursor")
        return [key.load(value) for key, value in zip(keys, values, strict=True)]
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeEncodeError):
        raise UserError(ErrorCode.INVALID, "Invalid cursor.", field=field) from None


def after_condition(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in the order of `keys` (lexicographic, per-key direction)."""
    clauses: list[ColumnElement[bool]] = []
    for index, key in enumerate(keys):
        equal_before = [keys[i].expression == values[i] for i in range(index)]
        beyond = (
            key.expression < values[index] if key.descending else key.expression > values[index]
        )
        clauses.append(and_(*equal_before, beyond))
    return or_(false(), *clauses)


def order_by(keys: Sequence[SortKey], *, reverse: bool = False) -> list[ColumnElement[Any]]:
    return [
        key.expression.desc() if key.descending != reverse else key.expression.asc() for key in keys
    ]


def flipped(keys: Sequence[SortKey]) -> list[SortKey]:
    return [SortKey(key.expression, not key.descending, key.dump, key.load) for key in keys]


@dataclass
class Page:
    rows: list[Any]
    cursors: list[str]
    has_next: bool
    has_previous: bool


async def fetch_page(
    session: Any, statement: Any, *, keys: Sequence[SortKey], page: PageRequest, tag: str
) -> Page:
    """Run `statement` (a select of one entity) as one keyset page ordered by `keys`."""
    size = page.size
    walk = flipped(keys) if page.backward else list(keys)
    if page.cursor is not None:
        values = decode_cursor(page.cursor, tag, keys, field=page.cursor_field)
        statement = statement.where(after_condition(walk, values))
    statement = statement.add_columns(*[key.expression for key in keys])
    rows = (await session.execute(statement.order_by(*order_by(walk)).limit(size + 1))).all()
    more = len(rows) > size
    rows = rows[:size]
    if page.backward:
        rows.reverse()
    return Page(
        rows=[row[0] for row in rows],
        cursors=[
            encode_cursor(tag, [key.dump(v) for key, v in zip(keys, row[1:], strict=True)])
            for row in rows
        ],
        has_next=more if not page.backward else page.before is not None,
        has_previous=more if page.backward else page.after is not None,
    )


async def count_rows(session: AsyncSession, statement: Select[Any]) -> int:
    """How many rows `statement` (the unpaged select of a connection) yields."""
    counted: int | None = await session.scalar(
        select(func.count()).select_from(statement.subquery())
    )
    return counted or 0
