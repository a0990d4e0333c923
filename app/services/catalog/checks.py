"""Input checks and unique-name claims shared by the staff catalog services."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

from slugify import slugify
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode, UserError, ValidationErrors

T = TypeVar("T")

MAX_DESCRIPTION_LENGTH = 50_000
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_LENGTH = 100
MAX_URL_LENGTH = 2048
MAX_REASON_LENGTH = 250
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Namespace of the advisory locks that serialise claims of one unique name.
_CLAIM_LOCK_NAMESPACE = 7_301


class Unset(Enum):
    """The value of a field an update leaves as it is."""

    UNSET = "UNSET"


UNSET: Final = Unset.UNSET


class CatalogError(UserError):
    """An error of the catalog domain (products, categories, stock)."""


class Cleaner:
    """Runs field checks, keeping the clean values and collecting every error at once."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.errors: list[UserError] = []

    def put(self, key: str, check: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        try:
            self.values[key] = check(*args, **kwargs)
        except ValidationErrors as exc:
            self.errors.extend(exc.errors)
        except UserError as exc:
            self.errors.append(exc)

    def fail(self, code: ErrorCode, message: str, *, field: str) -> None:
        self.errors.append(CatalogError(code, message, field=field))

    def done(self) -> dict[str, Any]:
        if self.errors:
            raise ValidationErrors(self.errors)
        return self.values


def _bad_characters(value: str, *, multiline: bool) -> bool:
    allowed = "\n\r\t" if multiline else ""
    # Cc: control characters (NUL cannot even be stored); Cs: lone surrogates (not UTF-8).
    return any(unicodedata.category(char) in ("Cc", "Cs") and char not in allowed for char in value)


def clean_text(
    value: str | None,
    *,
    field: str,
    max_length: int,
    required: bool = False,
    multiline: bool = False,
) -> str:
    """Trimmed NFC text in any script; REQUIRED, TOO_LONG, or INVALID for control characters."""
    text = unicodedata.normalize("NFC", (value or "").strip())
    if required and not text:
        raise CatalogError(ErrorCode.REQUIRED, "This field is required.", field=field)
    if len(text) > max_length:
        raise CatalogError(
            ErrorCode.TOO_LONG, f"Must be at most {max_length:,} characters.", field=field
        )
    if _bad_characters(text, multiline=multiline):
        raise CatalogError(ErrorCode.INVALID, "Must not contain control characters.", field=field)
    return text


def clean_slug(value: str, *, max_length: int, field: str = "slug") -> str:
    """An explicit slug: lower-case letters and digits in groups joined by single hyphens."""
    slug = value.strip()
    if len(slug) > max_length:
        raise CatalogError(
            ErrorCode.TOO_LONG, f"Must be at most {max_length} characters.", field=field
        )
    if not _SLUG.fullmatch(slug):
        raise CatalogError(
            ErrorCode.INVALID,
            "Use lower-case letters and digits separated by single hyphens.",
            field=field,
        )
    return slug


def slug_base(name: str, *, max_length: int, fallback: str) -> str:
    """A slug from a name in any script ("Crème Brûlée" -> "creme-brulee", "Пирог" -> "pirog")."""
    # Room for a "-NNNNN" suffix when the base is taken.
    return slugify(name, max_length=max_length - 7, word_boundary=True) or fallback


def clean_attributes(value: object, *, field: str = "attributes") -> dict[str, Any]:
    """A flat JSON object: string keys to a string or a list of strings, each <= 100 chars."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CatalogError(ErrorCode.INVALID, "Attributes must be a JSON object.", field=field)
    if len(value) > MAX_ATTRIBUTES:
        raise CatalogError(
            ErrorCode.INVALID, f"At most {MAX_ATTRIBUTES} attributes are allowed.", field=field
        )
    for key, item in value.items():
        _check_attribute_text(key, field=field, what="name")
        values = item if isinstance(item, list) else [item]
        if len(values) > MAX_ATTRIBUTES:
            raise CatalogError(
                ErrorCode.INVALID,
                f"Attribute {key!r} has more than {MAX_ATTRIBUTES} values.",
                field=field,
            )
        for entry in values:
            if not isinstance(entry, str):
                raise CatalogError(
                    ErrorCode.INVALID,
                    f"Attribute {key!r} must be a string or a list of strings.",
                    field=field,
                )
            _check_attribute_text(entry, field=field, what="value")
    return dict(value)


def _check_attribute_text(text: str, *, field: str, what: str) -> None:
    if what == "name" and not text.strip():
        raise CatalogError(ErrorCode.INVALID, "Attribute names must not be blank.", field=field)
    if len(text) > MAX_ATTRIBUTE_LENGTH:
        raise CatalogError(
            ErrorCode.TOO_LONG,
            f"Attribute {what}s must be at most {MAX_ATTRIBUTE_LENGTH} characters.",
            field=field,
        )
    if _bad_characters(text, multiline=False):
        raise CatalogError(
            ErrorCode.INVALID, "Attributes must not contain control characters.", field=field
        )


def clean_url(value: str, *, field: str) -> str:
    """An absolute http(s) URL of at most 2048 characters."""
    url = value.strip()
    if not url:
        raise CatalogError(ErrorCode.REQUIRED, "Enter the image URL.", field=field)
    if len(url) > MAX_URL_LENGTH:
        raise CatalogError(
            ErrorCode.TOO_LONG, f"URLs must be at most {MAX_URL_LENGTH} characters.", field=field
        )
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not host
        or any(char.isspace() for char in url)
        or _bad_characters(url, multiline=False)
    ):
        raise CatalogError(ErrorCode.INVALID, "Enter an absolute http(s) URL.", field=field)
    return url


def clean_reason(value: str, *, field: str = "reason") -> str:
    """Why stock changed: required, one line, at most 250 characters."""
    return clean_text(value, field=field, max_length=MAX_REASON_LENGTH, required=True)


def check_range(value: int, *, field: str, low: int, high: int) -> int:
    if not low <= value <= high:
        raise CatalogError(ErrorCode.INVALID, f"Must be between {low:,} and {high:,}.", field=field)
    return value


def check_count(values: Sequence[T], *, field: str, limit: int) -> Sequence[T]:
    if len(values) > limit:
        raise CatalogError(ErrorCode.INVALID, f"At most {limit} items are allowed.", field=field)
    return values


async def claim_unique(
    session: AsyncSession,
    column: Any,
    value: str,
    *,
    field: str,
    exclude: ColumnElement[bool] | None = None,
    generated: bool = False,
) -> str:
    """Reserve `value` (or, when `generated`, the next free `value-2`, `value-3`...) in `column`.

    A transaction-scoped advisory lock per candidate makes two concurrent claims of
    one name wait for each other instead of failing on the unique constraint; the
    check after the lock then sees the winner's committed row.
    """
    table = column.table.name
    for _ in range(20):
        candidate = await _free_value(session, column, value, exclude) if generated else value
        await session.execute(
            select(
                func.pg_advisory_xact_lock(
                    _CLAIM_LOCK_NAMESPACE, func.hashtext(f"{table}:{candidate}")
                )
            )
        )
        query = select(column).where(column == candidate)
        if exclude is not None:
            query = query.where(exclude)
        if await session.scalar(query) is None:
            return candidate
        if not generated:
            break
    raise CatalogError(ErrorCode.UNIQUE, f"{value!r} is already used.", field=field)


async def _free_value(
    session: AsyncSession, column: Any, base: str, exclude: ColumnElement[bool] | None
) -> str:
    query = select(column).where((column == base) | column.like(f"{base}-%"))
    if exclude is not None:
        query = query.where(exclude)
    taken = set((await session.scalars(query)).all())
    if base not in taken:
        return base
    suffix = 2
    while f"{base}-{suffix}" in taken:
        suffix += 1
    return f"{base}-{suffix}"
