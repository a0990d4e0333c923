"""Checks only the catalog has: attributes, image URLs, stock reasons, ranges and counts.

Text, slugs and unique names follow the shared rules of app/services/checks.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import CatalogError, ErrorCode
from app.services.checks import (
    UNSET,
    Cleaner,
    Unset,
    claim_slug,
    clean_slug,
    clean_text,
    refused_character,
)

T = TypeVar("T")

MAX_DESCRIPTION_LENGTH = 50_000
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_LENGTH = 100
MAX_URL_LENGTH = 2048
MAX_REASON_LENGTH = 250


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
    if refused_character(text) is not None:
        raise CatalogError(
            ErrorCode.INVALID,
            "Attributes must not contain control or invisible formatting characters.",
            field=field,
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
        or refused_character(url) is not None
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


def clean_names(
    name: str | Unset, slug: str | Unset | None, *, name_length: int, slug_length: int
) -> Cleaner:
    """A Cleaner holding the given name and explicit slug of a named row (category, tag,
    product, warehouse); a blank or None slug is left for `claim_row_slug` to generate."""
    clean = Cleaner()
    if name is not UNSET:
        clean.put("name", clean_text, name, field="name", max_length=name_length, required=True)
    if isinstance(slug, str) and slug.strip():
        clean.put("slug", clean_slug, slug, max_length=slug_length)
    return clean


def require_name(clean: Cleaner, name: str | Unset) -> None:
    """A new row needs a name: REQUIRED when the input left it out."""
    if name is UNSET:
        clean.fail(ErrorCode.REQUIRED, "This field is required.", field="name")


async def claim_row_slug(
    session: AsyncSession, row: Any, slug: str | None, *, max_length: int, fallback: str
) -> str:
    """The slug of `row`, new or changed: `slug` (UNIQUE when another row has it), else one
    made from its name; a saved row does not collide with itself."""
    model = type(row)
    return await claim_slug(
        session,
        model.slug,
        slug=slug,
        name=row.name,
        max_length=max_length,
        fallback=fallback,
        exclude=model.id != row.id if row.id is not None else None,
    )


async def apply_changes(
    session: AsyncSession,
    row: Any,
    values: dict[str, Any],
    *,
    columns: Sequence[str],
    slug_given: bool,
    max_length: int,
    fallback: str,
) -> None:
    """Write the cleaned `values` of `columns` onto `row`; when a slug was given (or cleared,
    which makes one from the name) claim it; stamp `updated_at` where the table has one;
    flush."""
    for key in columns:
        if key in values:
            setattr(row, key, values[key])
    if slug_given and values.get("slug") != row.slug:
        row.slug = await claim_row_slug(
            session, row, values.get("slug"), max_length=max_length, fallback=fallback
        )
    if "updated_at" in type(row).__table__.c:
        row.updated_at = func.now()
    await session.flush()
