"""Keyset pagination: opaque cursors over a sort key that always ends with the row id."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, and_, false, or_

from app.errors import ErrorCode, UserError

MAX_PAGE = 100
DEFAULT_PAGE = 20


@dataclass(frozen=True)
class SortKey:
    """One ordering column: its SQL expression, direction, and JSON (de)serialisers."""

    expression: Any  # a column or SQL expression
    descending: bool = False
    dump: Callable[[Any], Any] = lambda value: value
    load: Callable[[Any], Any] = lambda value: value


@dataclass(frozen=True)
class PageRequest:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    @property
    def backward(self) -> bool:
        return self.last is not None or self.before is not None

    @property
    def size(self) -> int:
        """Rows asked for; INVALID when over the cap, negative, or both directions at once."""
        if self.first is not None and self.last is not None:
            raise UserError(ErrorCode.INVALID, "Pass `first` or `last`, not both.", field="first")
        size = self.last if self.backward else self.first
        field = "last" if self.backward else "first"
        if size is None:
            return DEFAULT_PAGE
        if size < 0 or size > MAX_PAGE:
            raise UserError(
                ErrorCode.INVALID, f"`{field}` must be between 0 and {MAX_PAGE}.", field=field
            )
        return size

    @property
    def cursor(self) -> str | None:
        return self.before if self.backward else self.after


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
        padded = cursor + "=" * (-len(cursor) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if data["t"] != tag or len(data["k"]) != len(keys):
            raise ValueError
        return [key.load(value) for key, value in zip(keys, data["k"], strict=True)]
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
    if page.cursor:
        field = "before" if page.backward else "after"
        values = decode_cursor(page.cursor, tag, keys, field=field)
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
