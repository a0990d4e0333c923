"""The services' shared input toolkit: each check returns the clean value or raises a UserError.

`Cleaner` collects the errors of many fields into one ValidationErrors; `UNSET` marks a field
a partial update leaves alone; `claim_unique`/`claim_slug` reserve unique names and
`locked_or_not_found` takes a row lock or answers NOT_FOUND.

The text rule, one for every free text we store (people's names, addresses, product,
category, tag, warehouse and review text, stock reasons), applied by `clean_text` in order:
1. multi-line text: CR LF and a lone CR become LF;
2. trimmed (Unicode white space at both ends), then NFC-normalised;
3. empty: REQUIRED where the field is required, else "";
4. longer than the field's maximum (counted after 1 and 2): TOO_LONG;
5. INVALID when any character is
   - a control character (Cc: NUL, C0, DEL, C1), except LF and TAB in multi-line text;
   - a line or paragraph separator (U+2028, U+2029): LF is the only line break;
   - a format character (Cf): bidi embeddings, overrides and isolates (U+202A-202E,
     U+2066-2069), direction marks (U+200E, U+200F), zero-width space (U+200B), word
     joiner (U+2060), byte order mark (U+FEFF), soft hyphen, tags... except the zero-width
     non-joiner and joiner (U+200C, U+200D) that Persian and Indic spelling and emoji need;
   - a lone surrogate (Cs), a private-use character (Co) or a noncharacter.
   Unassigned code points pass: they may be newer than Python's tables (new emoji).
The first failing step is reported. Why: docs/decisions.md, "One text rule".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from enum import Enum
from typing import Any, Final, Literal, TypeVar

import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email
from slugify import slugify
from sqlalchemy import ColumnElement, ColumnExpressionArgument, func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode, UserError, ValidationErrors
from models.base import Base

M = TypeVar("M", bound=Base)

MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 150
MAX_PASSWORD_LENGTH = 256
MAX_PHONE_INPUT_LENGTH = 32
# Significant digits a decimal input may carry: far beyond any price or rating, and
# small enough that no arithmetic on it can be slow.
MAX_DECIMAL_DIGITS = 40
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Namespace of the advisory locks that serialise claims of one unique name.
_CLAIM_LOCK_NAMESPACE = 7_301
_JOINERS = frozenset("\u200c\u200d")
# The most used passwords of public breach lists, long enough to pass the length rule.
COMMON_PASSWORDS = frozenset({
    "password", "password1", "password123", "12345678", "123456789", "1234567890",
    "qwertyuiop", "qwerty123", "iloveyou", "sunshine1", "princess1", "football1",
    "baseball1", "welcome1", "welcome123", "admin123", "letmein1", "abc12345", "11111111",
    "00000000", "87654321", "passw0rd", "p@ssw0rd", "trustno1", "starwars1", "monkey123",
    "dragon123", "master123", "superman1", "changeme", "changeme1", "whatever1",
    "computer1", "internet1",
})  # fmt: skip


class Unset(Enum):
    """The value of a field an update leaves as it is."""

    UNSET = "UNSET"


UNSET: Final = Unset.UNSET


class Cleaner:
    """Runs field checks, keeping the clean values and collecting every error at once."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.errors: list[UserError] = []

    @contextmanager
    def collect(self) -> Iterator[None]:
        """Record the UserError the block raises (each one of a ValidationErrors) and go on."""
        try:
            yield
        except ValidationErrors as exc:
            self.errors.extend(exc.errors)
        except UserError as exc:
            self.errors.append(exc)

    def put(self, key: str, check: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        with self.collect():
            self.values[key] = check(*args, **kwargs)

    def fail(self, code: ErrorCode, message: str, *, field: str | None) -> None:
        self.errors.append(UserError(code, message, field=field))

    def done(self) -> dict[str, Any]:
        if self.errors:
            raise ValidationErrors(self.errors)
        return self.values


def _refused(char: str, *, multiline: bool) -> bool:
    category = unicodedata.category(char)
    if category == "Cc":
        return not (multiline and char in "\n\t")
    if category == "Cf":
        return char not in _JOINERS
    code = ord(char)
    return (
        category in ("Cs", "Co")
        or char in "\u2028\u2029"
        or 0xFDD0 <= code <= 0xFDEF
        or code & 0xFFFE == 0xFFFE
    )


def refused_character(value: str, *, multiline: bool = False) -> str | None:
    """The first character the text rule refuses in `value` (step 5), or None."""
    # Every refused character is unprintable: most text is decided by one C-speed test.
    plain = value.replace("\n", " ").replace("\t", " ") if multiline else value
    if plain.isprintable():
        return None
    return next((char for char in value if _refused(char, multiline=multiline)), None)


def like_contains(text: str) -> str:
    """A LIKE pattern (escape character backslash) matching values that contain `text`."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def clean_text(
    value: str | None,
    *,
    field: str,
    max_length: int,
    required: bool = False,
    multiline: bool = False,
) -> str:
    """Free text by the one text rule (module docstring); None is the empty text."""
    text = value or ""
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text.strip())
    if required and not text:
        raise UserError(ErrorCode.REQUIRED, "This field is required.", field=field)
    if len(text) > max_length:
        raise UserError(
            ErrorCode.TOO_LONG, f"Must be at most {max_length:,} characters.", field=field
        )
    char = refused_character(text, multiline=multiline)
    if char is not None:
        raise UserError(
            ErrorCode.INVALID,
            f"Must not contain control or invisible formatting characters (U+{ord(char):04X}).",
            field=field,
        )
    return text


def clean_name(value: str, *, field: str) -> str:
    """A person's name: one line of text by the text rule, at most 150 characters."""
    return clean_text(value, field=field, max_length=MAX_NAME_LENGTH)


def clean_country(value: str, *, field: str = "country") -> str:
    """An ISO 3166-1 alpha-2 country code, upper-cased ("de" -> "DE"); REQUIRED when blank."""
    code = value.strip().upper()
    if not code:
        raise UserError(ErrorCode.REQUIRED, "Choose a country.", field=field)
    if len(code) != 2 or not code.isascii() or pycountry.countries.get(alpha_2=code) is None:
        raise UserError(ErrorCode.INVALID, "Use an ISO 3166-1 alpha-2 country code.", field=field)
    return code


def clean_email(value: str, *, field: str = "email") -> str:
    """Syntax-checked, lower-cased email (no DNS look-up)."""
    value = value.strip()
    if not value:
        raise UserError(ErrorCode.REQUIRED, "Enter an email address.", field=field)
    if len(value) > MAX_EMAIL_LENGTH:
        raise UserError(ErrorCode.TOO_LONG, "Email address is too long.", field=field)
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise UserError(
            ErrorCode.INVALID, f"Enter a valid email address: {exc}", field=field
        ) from None
    return result.normalized.lower()


def clean_phone(value: str, *, field: str = "phone", region: str | None = None) -> str:
    """A phone number in E.164, or "" for an empty input.

    A national number ("030 1234567") is read in `region` (an ISO 3166-1 alpha-2 code);
    without one the number must be international ("+" and the country code).
    """
    value = value.strip()
    if not value:
        return ""
    if region is None and not value.startswith("+"):
        raise UserError(
            ErrorCode.INVALID,
            "Enter an international phone number starting with + and the country code.",
            field=field,
        )
    invalid = UserError(ErrorCode.INVALID, "Enter a valid phone number.", field=field)
    if len(value) > MAX_PHONE_INPUT_LENGTH or refused_character(value) is not None:
        raise invalid
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise invalid from None
    if not phonenumbers.is_valid_number(number):
        raise invalid
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def check_password(password: str, *, email: str, min_length: int, field: str = "password") -> None:
    """Reject passwords that are short, common, trivial or built from the email."""
    if not password:
        raise UserError(ErrorCode.REQUIRED, "Enter a password.", field=field)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(
            ErrorCode.TOO_LONG, f"Must be at most {MAX_PASSWORD_LENGTH} characters.", field=field
        )
    weak = None
    local_part = email.split("@", 1)[0].lower()
    if len(password) < min_length:
        weak = f"Use at least {min_length} characters."
    elif password.lower() in COMMON_PASSWORDS:
        weak = "This password is too common."
    elif password.isdigit():
        weak = "Use more than digits."
    elif len(set(password)) < 4:
        weak = "Use more different characters."
    elif len(local_part) >= 4 and local_part in password.lower():
        weak = "Do not build the password from your email address."
    if weak:
        raise UserError(ErrorCode.PASSWORD_TOO_WEAK, weak, field=field)


def clean_decimal(value: object, *, field: str, places: int, maximum: Decimal) -> Decimal:
    """A finite decimal from 0 to `maximum` with at most `places` decimal places; INVALID else.

    Works on the digits and exponent only, never in a decimal context: `1e999999999`
    would overflow it and `1e-999999999` would silently round to zero.
    """
    if not isinstance(value, Decimal) or not value.is_finite():
        raise UserError(ErrorCode.INVALID, "Enter a valid number.", field=field)
    if value.is_signed():  # also -0: a sign is never meant here
        raise UserError(ErrorCode.INVALID, "Must not be negative.", field=field)
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    if len(digits) > MAX_DECIMAL_DIGITS:
        raise UserError(ErrorCode.INVALID, "Too many digits.", field=field)
    if not any(digits):
        return Decimal(0)
    if value > maximum:
        raise UserError(ErrorCode.INVALID, f"Must be at most {maximum:,}.", field=field)
    significant = list(digits)
    while exponent < 0 and significant[-1] == 0:  # 12.500 is 12.5
        significant.pop()
        exponent += 1
    if exponent < -places:
        raise UserError(ErrorCode.INVALID, f"Use at most {places} decimal places.", field=field)
    return Decimal((0, tuple(significant), exponent))


def clean_slug(value: str, *, max_length: int, field: str = "slug") -> str:
    """An explicit slug: lower-case letters and digits in groups joined by single hyphens."""
    slug = value.strip()
    if len(slug) > max_length:
        raise UserError(
            ErrorCode.TOO_LONG, f"Must be at most {max_length} characters.", field=field
        )
    if not _SLUG.fullmatch(slug):
        raise UserError(
            ErrorCode.INVALID,
            "Use lower-case letters and digits separated by single hyphens.",
            field=field,
        )
    return slug


def slug_base(name: str, *, max_length: int, fallback: str) -> str:
    """A slug from a name in any script ("Crème Brûlée" -> "creme-brulee", "Пирог" -> "pirog")."""
    # Room for a "-NNNNN" suffix when the base is taken.
    return slugify(name, max_length=max_length - 7, word_boundary=True) or fallback


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
    raise UserError(ErrorCode.UNIQUE, f"{value!r} is already used.", field=field)


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


async def claim_slug(
    session: AsyncSession,
    column: Any,
    *,
    slug: str | None,
    name: str,
    max_length: int,
    fallback: str,
    exclude: ColumnElement[bool] | None = None,
) -> str:
    """The explicit `slug` (UNIQUE when taken), else one made from `name`, numbered when taken."""
    if slug is not None:
        return await claim_unique(session, column, slug, field="slug", exclude=exclude)
    base = slug_base(name, max_length=max_length, fallback=fallback)
    return await claim_unique(session, column, base, field="slug", exclude=exclude, generated=True)


# Row lock strengths, as PostgreSQL names them. A change that keeps the key takes
# "no key update", so rows referencing it (FOR KEY SHARE) can still be written meanwhile.
Lock = Literal["update", "no key update", "share", "key share"]


async def locked_or_not_found(
    session: AsyncSession,
    model: type[M],
    key: int,
    *,
    field: str | None,
    message: str | None = None,
    lock: Lock = "update",
    where: Sequence[ColumnExpressionArgument[bool]] = (),
) -> M:
    """The `model` row with primary key `key` (and `where`), locked and read fresh; else NOT_FOUND.

    The lock lasts until the transaction ends; NOT_FOUND goes on `field`, with `message`
    or "<Model> not found.".
    """
    row = await session.scalar(
        select(model)
        .where(inspect(model).primary_key[0] == key, *where)
        .with_for_update(
            read=lock in ("share", "key share"), key_share=lock in ("no key update", "key share")
        )
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise UserError(ErrorCode.NOT_FOUND, message or f"{model.__name__} not found.", field=field)
    return row
