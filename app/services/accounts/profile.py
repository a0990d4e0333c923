"""The signed-in user's own profile: names, phone, locale, and changing the password.

Phones must be international ("+" and a country code): a profile has no country to read
a national number in. They are stored in E.164; an empty phone clears it. Locales are
BCP 47 primary language tags from SUPPORTED_LOCALES, stored lower-case.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.passwords import hash_password, verify_password
from app.errors import AccountError, ErrorCode
from app.services.accounts.sessions import end_sessions
from app.services.accounts.tokens import TokenSet, issue_new_session
from app.services.checks import (
    MAX_PASSWORD_LENGTH,
    UNSET,
    Cleaner,
    Unset,
    check_password,
    clean_name,
    clean_phone,
    locked_or_not_found,
)
from app.settings import Settings
from models.accounts import User

SUPPORTED_LOCALES = ("en", "de", "fr", "es", "it", "nl", "pl", "pt", "sv", "uk")


@dataclass(frozen=True)
class ProfileChanges:
    """A partial update: UNSET leaves the field as it is."""

    first_name: str | Unset = UNSET
    last_name: str | Unset = UNSET
    phone: str | Unset = UNSET
    locale: str | Unset = UNSET


def clean_locale(value: str, *, field: str = "locale") -> str:
    """A supported locale, lower-cased ("DE" -> "de")."""
    locale = value.strip().lower()
    if locale not in SUPPORTED_LOCALES:
        raise AccountError(
            ErrorCode.INVALID,
            f"Choose one of the supported locales: {', '.join(SUPPORTED_LOCALES)}.",
            field=field,
        )
    return locale


_CLEANERS = {
    "first_name": lambda value: clean_name(value, field="firstName"),
    "last_name": lambda value: clean_name(value, field="lastName"),
    "phone": clean_phone,
    "locale": clean_locale,
}


async def update_profile(session: AsyncSession, *, user_id: int, changes: ProfileChanges) -> User:
    """Change one's own names, phone and locale; every field error at once."""
    clean = Cleaner()
    for column, check in _CLEANERS.items():
        given = getattr(changes, column)
        if given is not UNSET:
            clean.put(column, check, given)
    values = clean.done()
    user = await locked_or_not_found(session, User, user_id, field=None)
    for column, value in values.items():
        setattr(user, column, value)
    await session.flush()
    await session.refresh(user)  # updated_at is set by the database
    return user


async def change_password(
    session: AsyncSession,
    *,
    user_id: int,
    old_password: str,
    new_password: str,
    settings: Settings,
    user_agent: str | None = None,
) -> TokenSet:
    """Set a new password; every other session ends and a fresh token pair is returned."""
    user = await locked_or_not_found(session, User, user_id, field=None)
    old_ok = len(old_password) <= MAX_PASSWORD_LENGTH and await verify_password(
        user.password_hash, old_password
    )
    if not old_ok:
        raise AccountError(
            ErrorCode.INVALID_CREDENTIALS, "The current password is wrong.", field="oldPassword"
        )
    if new_password == old_password:
        raise AccountError(
            ErrorCode.INVALID,
            "The new password must differ from the current one.",
            field="newPassword",
        )
    check_password(
        new_password,
        email=user.email,
        min_length=settings.password_min_length,
        field="newPassword",
    )
    user.password_hash = await hash_password(new_password)
    await end_sessions(session, user=user)
    await session.refresh(user)  # updated_at is set by the database
    # Issued after end_sessions, so this pair carries the new version and survives it.
    return await issue_new_session(session, user=user, settings=settings, user_agent=user_agent)
