"""Social sign-in: a verified Google or Facebook email signs in (or creates) a customer account.

An existing account is signed in only if its email is confirmed or it has no password.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Role
from app.auth.social import SocialIdentity, SocialProvider, verify_social_token
from app.errors import AccountError, ErrorCode, UserError
from app.events import emit
from app.services.accounts.tokens import INVALID_CREDENTIALS, TokenSet, issue_new_session, lock_user
from app.services.checks import clean_email, clean_name
from app.settings import Settings
from models.accounts import User


def _name(value: str) -> str:
    """A provider-supplied name, or "" when it breaks our rules (too long, control characters)."""
    try:
        return clean_name(value, field="token")
    except UserError:
        return ""


def _may_link(user: User) -> bool:
    """Whether a provider's word on the email may sign in this existing account."""
    # Anyone can register someone else's address with a password of their own; until
    # the address is confirmed, the provider's owner of that address must not get it.
    return user.email_verified_at is not None or user.password_hash is None


async def _account_for(session: AsyncSession, identity: SocialIdentity) -> User | None:
    if not identity.email or not identity.email_verified:
        raise AccountError(
            ErrorCode.INVALID,
            f"Your {identity.provider.name.title()} account did not share a verified email "
            "address; sign up with email and password instead.",
            field="token",
        )
    try:
        email = clean_email(identity.email, field="token")
    except UserError:
        raise AccountError(
            ErrorCode.INVALID, "The provider returned an unusable email address.", field="token"
        ) from None
    user = await session.scalar(select(User).where(User.email == email))
    if user is not None:
        return user
    # ON CONFLICT DO NOTHING: a racing registration of the same email wins; we sign it in.
    user_id = await session.scalar(
        insert(User)
        .values(
            email=email,
            password_hash=None,
            first_name=_name(identity.first_name),
            last_name=_name(identity.last_name),
            role=Role.CUSTOMER.value,
        )
        .on_conflict_do_nothing(index_elements=[User.email])
        .returning(User.id)
    )
    if user_id is None:
        return await session.scalar(select(User).where(User.email == email))
    user = await session.get_one(User, user_id)
    emit(session, f"user:{user.id}", {"kind": "ACCOUNT_CREATED"})
    return user


async def social_sign_in(
    session: AsyncSession,
    *,
    provider: SocialProvider,
    token: str,
    settings: Settings,
    user_agent: str | None = None,
) -> TokenSet:
    """Verify the provider token, then sign in the account of its verified email (or create one)."""
    # The provider is called before the first query, so no database connection waits on it.
    identity = await verify_social_token(settings, provider, token)
    user = await _account_for(session, identity)
    if user is not None:  # as for a password: a concurrent deactivation is seen or waits
        user = await lock_user(session, user.id)
    if user is None or not user.is_active:  # None: lost a race with a deletion
        raise AccountError(ErrorCode.INVALID_CREDENTIALS, INVALID_CREDENTIALS, field="token")
    if not _may_link(user):
        raise AccountError(
            ErrorCode.EMAIL_NOT_VERIFIED,
            "An account with this email has a password but an unconfirmed address: confirm "
            "it first (a verification or password reset link does), then "
            f"{provider.name.title()} sign-in works.",
            field="token",
        )
    user.last_login_at = datetime.now(UTC)
    issued = await issue_new_session(session, user=user, settings=settings, user_agent=user_agent)
    emit(session, f"user:{user.id}", {"kind": "SIGNED_IN"})
    return issued
