"""Accounts: registration, sign-in, refresh-token rotation, revocation, staff creation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import tokens
from app.auth.passwords import hash_password, verify_password
from app.auth.permissions import Role
from app.errors import AccountError, ErrorCode, TokenReuseError
from app.events import emit
from app.services.accounts import flows as account_flows
from app.services.accounts.sessions import end_sessions
from app.services.checks import (
    Cleaner,
    check_password,
    clean_email,
    clean_name,
    locked_or_not_found,
)
from app.settings import Settings
from models.accounts import RefreshToken, User

INVALID_CREDENTIALS = "Please, enter valid credentials."


@dataclass(frozen=True)
class RegistrationData:
    email: str
    password: str
    first_name: str = ""
    last_name: str = ""


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    user: User


async def _validated(data: RegistrationData, *, settings: Settings) -> RegistrationData:
    clean = Cleaner()
    clean.put("email", clean_email, data.email)
    clean.put("first_name", clean_name, data.first_name, field="firstName")
    clean.put("last_name", clean_name, data.last_name, field="lastName")
    clean.put(
        "password",
        check_password,
        data.password,
        email=clean.values.get("email", ""),
        min_length=settings.password_min_length,
    )
    values = clean.done()
    return RegistrationData(
        values["email"], data.password, values["first_name"], values["last_name"]
    )


async def register_account(
    session: AsyncSession,
    *,
    data: RegistrationData,
    settings: Settings,
    role: Role = Role.CUSTOMER,
    redirect_url: str | None = None,
) -> User:
    """Create an account; UNIQUE if the email (in any case) is taken.

    With `redirect_url`, a verification link to that page is mailed to the address.
    """
    if redirect_url is not None:
        account_flows.clean_redirect_url(redirect_url, settings=settings)
    clean = await _validated(data, settings=settings)
    password_hash = await hash_password(clean.password)
    # ON CONFLICT DO NOTHING: two racing registrations give one account and one UNIQUE error.
    user_id = await session.scalar(
        insert(User)
        .values(
            email=clean.email,
            password_hash=password_hash,
            first_name=clean.first_name,
            last_name=clean.last_name,
            role=role.value,
        )
        .on_conflict_do_nothing(index_elements=[User.email])
        .returning(User.id)
    )
    if user_id is None:
        raise AccountError(
            ErrorCode.UNIQUE, "An account with this email already exists.", field="email"
        )
    user = await session.get_one(User, user_id)
    emit(session, f"user:{user.id}", {"kind": "ACCOUNT_CREATED"})
    if redirect_url is not None:
        await account_flows.send_verification_email(
            session, user=user, redirect_url=redirect_url, settings=settings
        )
    return user


async def _issue_tokens(
    session: AsyncSession,
    *,
    user: User,
    settings: Settings,
    family_id: uuid.UUID,
    user_agent: str | None,
) -> TokenSet:
    refresh, digest = tokens.new_refresh_token()
    session.add(
        RefreshToken(
            user_id=user.id,
            family_id=family_id,
            token_hash=digest,
            expires_at=datetime.now(UTC) + timedelta(seconds=settings.refresh_token_ttl_seconds),
            user_agent=(user_agent or "")[:255] or None,
        )
    )
    await session.flush()
    access = tokens.create_access_token(settings, user_id=user.id, token_version=user.token_version)
    return TokenSet(access_token=access, refresh_token=refresh, user=user)


async def issue_new_session(
    session: AsyncSession, *, user: User, settings: Settings, user_agent: str | None = None
) -> TokenSet:
    """A token pair in a new family for a user already verified (e.g. after a password change)."""
    return await _issue_tokens(
        session, user=user, settings=settings, family_id=uuid.uuid4(), user_agent=user_agent
    )


async def create_tokens(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    settings: Settings,
    user_agent: str | None = None,
) -> TokenSet:
    """Sign in; the same INVALID_CREDENTIALS whether the email is unknown or the password wrong."""
    user = None
    address = account_flows.lookup_address(email)
    if address is not None and len(password) <= 256:
        user = await session.scalar(select(User).where(User.email == address))
    verified_hash = user.password_hash if user else None
    password_ok = await verify_password(verified_hash, password)
    if user is not None and password_ok:
        # Locked after the slow check, then read again: a password change or deactivation
        # that committed meanwhile wins, one that comes later waits and ends this session.
        user = await lock_user(session, user.id)
    if user is None or not password_ok or not user.is_active:
        raise AccountError(ErrorCode.INVALID_CREDENTIALS, INVALID_CREDENTIALS, field="email")
    if user.password_hash != verified_hash:
        raise AccountError(ErrorCode.INVALID_CREDENTIALS, INVALID_CREDENTIALS, field="email")
    if settings.email_verification_required and user.email_verified_at is None:
        raise AccountError(
            ErrorCode.EMAIL_NOT_VERIFIED, "Confirm your email address first.", field="email"
        )
    user.last_login_at = datetime.now(UTC)
    issued = await _issue_tokens(
        session, user=user, settings=settings, family_id=uuid.uuid4(), user_agent=user_agent
    )
    emit(session, f"user:{user.id}", {"kind": "SIGNED_IN"})
    return issued


async def _revoke_family(session: AsyncSession, family_id: uuid.UUID) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )


async def lock_user(session: AsyncSession, user_id: int, *, share: bool = False) -> User | None:
    """The user row as committed now, locked (FOR UPDATE, or FOR SHARE with `share`)."""
    # Lock order everywhere: a user's row before their tokens and links. end_sessions runs
    # under the row's FOR UPDATE, so whatever holds a token of that user must not wait
    # for the row while holding the token (a deadlock), nor slip a new token past it.
    return await session.scalar(
        select(User)
        .where(User.id == user_id)
        .with_for_update(read=share)
        .execution_options(populate_existing=True)
    )


async def _locked_token(session: AsyncSession, refresh_token: str) -> RefreshToken:
    row = None
    if 0 < len(refresh_token) <= 512:
        digest = tokens.hash_refresh_token(refresh_token)
        owner = await session.scalar(
            select(RefreshToken.user_id).where(RefreshToken.token_hash == digest)
        )
        if owner is not None and await lock_user(session, owner, share=True) is not None:
            row = await session.scalar(
                select(RefreshToken)
                .where(RefreshToken.token_hash == digest)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
    if row is None:
        raise AccountError(
            ErrorCode.INVALID_TOKEN, "Refresh token is invalid.", field="refreshToken"
        )
    return row


async def refresh_tokens(
    session: AsyncSession, *, refresh_token: str, settings: Settings, user_agent: str | None = None
) -> TokenSet:
    """Rotate: the token is spent and a new pair issued; a replayed token revokes its family."""
    row = await _locked_token(session, refresh_token)
    now = datetime.now(UTC)
    if row.revoked_at is not None or row.expires_at <= now:
        raise AccountError(
            ErrorCode.INVALID_TOKEN,
            "Refresh token has expired or was revoked.",
            field="refreshToken",
        )
    if row.used_at is not None:
        await _revoke_family(session, row.family_id)
        emit(session, f"user:{row.user_id}", {"kind": "TOKENS_REVOKED"})
        raise TokenReuseError()
    user = await session.get_one(User, row.user_id)  # locked and read by _locked_token
    if not user.is_active:
        raise AccountError(ErrorCode.INACTIVE, "This account is inactive.", field="refreshToken")
    row.used_at = now
    return await _issue_tokens(
        session, user=user, settings=settings, family_id=row.family_id, user_agent=user_agent
    )


async def revoke_refresh_token(session: AsyncSession, *, refresh_token: str) -> None:
    """Sign out the session the token belongs to: its whole family is revoked."""
    row = await _locked_token(session, refresh_token)
    await _revoke_family(session, row.family_id)
    emit(session, f"user:{row.user_id}", {"kind": "TOKENS_REVOKED"})


async def user_for_access_token(session: AsyncSession, *, token: str, settings: Settings) -> User:
    """The active user a bearer token stands for; InvalidAccessToken otherwise."""
    claims = tokens.decode_access_token(settings, token)
    user = await session.get(User, claims.user_id)
    if user is None or not user.is_active or user.token_version != claims.token_version:
        raise tokens.InvalidAccessToken("Access token is no longer valid.")
    return user


async def set_user_active(session: AsyncSession, *, user_id: int, active: bool) -> User:
    """Activate or deactivate; deactivation kills every token and pending link at once."""
    user = await locked_or_not_found(session, User, user_id, field="id")
    user.is_active = active
    if not active:
        await end_sessions(session, user=user)
    await session.flush()
    return user
