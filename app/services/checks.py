"""Input checks shared by services: each returns the cleaned value or raises a UserError."""

from __future__ import annotations

import unicodedata
from decimal import Decimal

from email_validator import EmailNotValidError, validate_email

from app.errors import ErrorCode, UserError

MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 150
MAX_PASSWORD_LENGTH = 256
# Significant digits a decimal input may carry: far beyond any price or rating, and
# small enough that no arithmetic on it can be slow.
MAX_DECIMAL_DIGITS = 40

# The most used passwords of public breach lists, long enough to pass the length rule.
COMMON_PASSWORDS = frozenset(
    {
        "password",
        "password1",
        "password123",
        "12345678",
        "123456789",
        "1234567890",
        "qwertyuiop",
        "qwerty123",
        "iloveyou",
        "sunshine1",
        "princess1",
        "football1",
        "baseball1",
        "welcome1",
        "welcome123",
        "admin123",
        "letmein1",
        "abc12345",
        "11111111",
        "00000000",
        "87654321",
        "passw0rd",
        "p@ssw0rd",
        "trustno1",
        "starwars1",
        "monkey123",
        "dragon123",
        "master123",
        "superman1",
        "changeme",
        "changeme1",
        "whatever1",
        "computer1",
        "internet1",
    }
)


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


def clean_name(value: str, *, field: str) -> str:
    """A person's name: any script, trimmed, NFC, no control characters, at most 150 chars."""
    value = unicodedata.normalize("NFC", value.strip())
    if len(value) > MAX_NAME_LENGTH:
        raise UserError(
            ErrorCode.TOO_LONG, f"Must be at most {MAX_NAME_LENGTH} characters.", field=field
        )
    if any(unicodedata.category(char).startswith("C") for char in value):
        raise UserError(ErrorCode.INVALID, "Must not contain control characters.", field=field)
    return value


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
