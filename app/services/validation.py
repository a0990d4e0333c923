"""Input checks shared by services: each returns the cleaned value or raises a UserError."""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email

from app.errors import ErrorCode, UserError

MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 150
MAX_PASSWORD_LENGTH = 256

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
