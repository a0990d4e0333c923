"""Mailed account flows: password reset, email verification and email change.

Each sends a single-use link `{redirect_url}?token=...&email=...`; only the token's
SHA-256 is stored. Redirect URLs must be http(s) on an allowed origin (CORS_ORIGINS,
ACCOUNT_REDIRECT_ORIGINS, or in development localhost and 127.0.0.1 on any port), so a
link never sends a token to someone else's site.
A reset request answers the same whether or not the account exists.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import tokens
from app.auth.passwords import hash_password, verify_password
from app.errors import AccountError, ErrorCode
from app.services.accounts.sessions import end_sessions
from app.services.checks import MAX_PASSWORD_LENGTH, check_password, clean_email
from app.services.notifications.outbox import enqueue
from app.settings import Settings
from models.account_tokens import AccountToken
from models.accounts import User

PASSWORD_RESET = "password_reset"
EMAIL_VERIFICATION = "email_verification"
EMAIL_CHANGE = "email_change"
MAX_TOKEN_LENGTH = 128


def _has_unstorable(value: str) -> bool:
    """Control characters (NUL among them) or lone surrogates: PostgreSQL takes neither."""
    return any(unicodedata.category(char) in ("Cc", "Cs") for char in value)


def lookup_address(email: str) -> str | None:
    """The form an account's email is stored in, or None if no account can have this one."""
    address = email.strip().lower()
    if not 0 < len(address) <= 254 or _has_unstorable(address):
        return None
    return address


def rate_limit_key(email: str) -> str:
    """The per-account rate-limit key: the stored form, one shared "-" for impossible ones."""
    # A lone surrogate could not even be encoded into a Redis key.
    return lookup_address(email) or "-"


def _origin(url: str) -> str | None:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def _is_localhost(url: str) -> bool:
    """http(s) to localhost or 127.0.0.1 itself, any port, no user info (`localhost@evil`)."""
    try:
        parts = urlsplit(url.strip())
        _ = parts.port  # ValueError unless a number in 0..65535
    except ValueError:
        return False
    return parts.hostname in ("localhost", "127.0.0.1") and "@" not in parts.netloc


def clean_redirect_url(url: str, *, settings: Settings, field: str = "redirectUrl") -> str:
    """The URL if it is http(s) on an allowed origin; INVALID otherwise."""
    allowed = {
        o.rstrip("/").lower() for o in (*settings.cors_origins, *settings.account_redirect_origins)
    }
    origin = _origin(url) if len(url) <= 2_000 and not _has_unstorable(url) else None
    if origin is not None and settings.localhost_redirects_allowed and _is_localhost(url):
        allowed.add(origin)
    if origin is None or origin not in allowed or "?" in url or "#" in url:
        raise AccountError(
            ErrorCode.INVALID, "The redirect URL is not an allowed address.", field=field
        )
    return url.strip()


def _link(redirect_url: str, token: str, email: str) -> str:
    return f"{redirect_url}?{urlencode({'token': token, 'email': email})}"


async def _new_token(
    session: AsyncSession,
    *,
    user: User,
    purpose: str,
    ttl_seconds: int,
    new_email: str | None = None,
) -> str:
    """Replace the user's unused tokens of `purpose` with a fresh one; return it in clear."""
    await session.execute(
        delete(AccountToken).where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
    )
    token, digest = tokens.new_refresh_token()
    session.add(
        AccountToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=digest,
            new_email=new_email,
            expires_at=datetime.now(UTC) + timedelta(seconds=ttl_seconds),
        )
    )
    await session.flush()
    return token


async def _mail_link(
    session: AsyncSession,
    *,
    user: User,
    purpose: str,
    ttl_seconds: int,
    template: str,
    redirect_url: str,
    new_email: str | None = None,
) -> None:
    """Mail a fresh link of `purpose` to the user (to `new_email` for an address change)."""
    token = await _new_token(
        session, user=user, purpose=purpose, ttl_seconds=ttl_seconds, new_email=new_email
    )
    recipient = new_email or user.email
    await enqueue(
        session,
        user_id=user.id,
        kind="account_security",
        channel="email",
        recipient=recipient,
        template=template,
        payload={
            "name": user.first_name,
            "link": _link(redirect_url, token, recipient),
            "locale": user.locale,
        },
    )


async def _spend(session: AsyncSession, *, token: str, purpose: str) -> AccountToken:
    """Lock and mark used a valid token of `purpose`; INVALID_TOKEN otherwise."""
    row = None
    if 0 < len(token) <= MAX_TOKEN_LENGTH:
        match = (
            AccountToken.token_hash == tokens.hash_refresh_token(token),
            AccountToken.purpose == purpose,
        )
        owner = await session.scalar(select(AccountToken.user_id).where(*match))
        # The account's row before its link: the order end_sessions (under that row's
        # lock) deletes links in, so the two never wait for each other crosswise.
        if owner is not None and await _lock_user(session, owner) is not None:
            row = await session.scalar(
                select(AccountToken)
                .where(*match)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
    now = datetime.now(UTC)
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise AccountError(
            ErrorCode.INVALID_TOKEN, "The link is invalid or has expired.", field="token"
        )
    row.used_at = now
    await session.flush()  # spent in the database now, whatever bulk statement comes next
    return row


async def _lock_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id, with_for_update=True, populate_existing=True)


async def _active_user(session: AsyncSession, user_id: int) -> User:
    user = await _lock_user(session, user_id)
    if user is None or not user.is_active:
        raise AccountError(
            ErrorCode.INVALID_TOKEN, "The link is invalid or has expired.", field="token"
        )
    return user


async def request_password_reset(
    session: AsyncSession, *, email: str, redirect_url: str, settings: Settings
) -> None:
    """Mail a reset link if an active account has this email; the same outcome either way."""
    redirect_url = clean_redirect_url(redirect_url, settings=settings)
    address = lookup_address(email)
    if address is None:
        return
    # Locked: the link replaces older ones, and end_sessions must not interleave with that.
    user = await session.scalar(select(User).where(User.email == address).with_for_update())
    if user is None or not user.is_active:
        return
    await _mail_link(
        session,
        user=user,
        purpose=PASSWORD_RESET,
        ttl_seconds=settings.password_reset_ttl_seconds,
        template="password_reset",
        redirect_url=redirect_url,
    )


async def set_password_with_token(
    session: AsyncSession, *, token: str, new_password: str, settings: Settings
) -> User:
    """Set a new password from a reset link; every session of the account ends."""
    row = await _spend(session, token=token, purpose=PASSWORD_RESET)
    user = await _active_user(session, row.user_id)
    check_password(
        new_password, email=user.email, min_length=settings.password_min_length, field="password"
    )
    user.password_hash = await hash_password(new_password)
    # Receiving the reset mail proves the address, too.
    user.email_verified_at = user.email_verified_at or datetime.now(UTC)
    await end_sessions(session, user=user)
    return user


async def send_verification_email(
    session: AsyncSession, *, user: User, redirect_url: str, settings: Settings
) -> None:
    """Mail a link that confirms the account's address."""
    redirect_url = clean_redirect_url(redirect_url, settings=settings)
    await _mail_link(
        session,
        user=user,
        purpose=EMAIL_VERIFICATION,
        ttl_seconds=settings.account_token_ttl_seconds,
        template="email_verification",
        redirect_url=redirect_url,
    )


async def confirm_email(session: AsyncSession, *, token: str) -> User:
    row = await _spend(session, token=token, purpose=EMAIL_VERIFICATION)
    user = await _active_user(session, row.user_id)
    user.email_verified_at = user.email_verified_at or datetime.now(UTC)
    await session.flush()
    return user


async def _email_taken(session: AsyncSession, email: str, *, field: str) -> None:
    if await session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError(
            ErrorCode.UNIQUE, "An account with this email already exists.", field=field
        )


async def request_email_change(
    session: AsyncSession,
    *,
    user_id: int,
    new_email: str,
    password: str,
    redirect_url: str,
    settings: Settings,
) -> None:
    """Mail a confirmation link to the new address; the email changes only when it is used."""
    redirect_url = clean_redirect_url(redirect_url, settings=settings)
    user = await _active_user(session, user_id)
    password_ok = len(password) <= MAX_PASSWORD_LENGTH and await verify_password(
        user.password_hash, password
    )
    if not password_ok:
        raise AccountError(
            ErrorCode.INVALID_CREDENTIALS, "The password is wrong.", field="password"
        )
    address = clean_email(new_email, field="newEmail")
    if address == user.email:
        raise AccountError(
            ErrorCode.INVALID, "This is already your email address.", field="newEmail"
        )
    await _email_taken(session, address, field="newEmail")
    await _mail_link(
        session,
        user=user,
        purpose=EMAIL_CHANGE,
        ttl_seconds=settings.account_token_ttl_seconds,
        template="email_change",
        redirect_url=redirect_url,
        new_email=address,
    )


async def confirm_email_change(session: AsyncSession, *, token: str) -> User:
    """Make the link's new address the account's email; every session and link ends."""
    row = await _spend(session, token=token, purpose=EMAIL_CHANGE)
    user = await _active_user(session, row.user_id)
    assert row.new_email is not None
    await _email_taken(session, row.new_email, field="token")
    user.email = row.new_email
    user.email_verified_at = datetime.now(UTC)
    try:
        # Another confirmation or a registration may take the address between the check
        # above and this write; the unique index decides, in a savepoint we can recover.
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise AccountError(
            ErrorCode.UNIQUE, "An account with this email already exists.", field="token"
        ) from None
    # The email is a credential (it receives reset links): whoever had a session before
    # the change keeps none after it.
    await end_sessions(session, user=user)
    await session.refresh(user)  # updated_at is set by the database
    return user
