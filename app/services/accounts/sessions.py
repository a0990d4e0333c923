"""Ending everything issued to an account before a credential changes.

Its own module because both accounts/tokens.py and accounts/flows.py need it, and tokens.py
already imports flows (registration mails a verification link).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.events import emit
from models.account_tokens import AccountToken
from models.accounts import RefreshToken, User


async def end_sessions(session: AsyncSession, *, user: User) -> None:
    """Kill every access and refresh token and every pending mailed link of `user`.

    The caller holds the user's row lock (FOR UPDATE), so the version bump cannot be lost.
    """
    # Sessions do not autoflush: what the caller changed (the link it just spent) must be
    # in the database before the bulk statements below look at the rows.
    await session.flush()
    # Access tokens carry the version: bumping it ends every one issued before.
    user.token_version += 1
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    # A reset, verification or email-change link mailed before the change must not
    # outlive it (a reset link in a stolen mailbox would undo a password change).
    await session.execute(
        delete(AccountToken).where(AccountToken.user_id == user.id, AccountToken.used_at.is_(None))
    )
    await session.flush()
    emit(session, f"user:{user.id}", {"kind": "TOKENS_REVOKED"})
