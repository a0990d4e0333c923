"""Administration of accounts (MANAGE_USERS): search, roles and grants, (de)activation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Perm, Role, has_permission
from app.errors import AccountError, ErrorCode
from app.services.accounts import set_user_active
from models.accounts import User

MAX_SEARCH_LENGTH = 100


def users_statement(*, search: str | None, role: Role | None) -> Select[Any]:
    """Accounts whose email or names contain `search` (case-insensitive), of `role`."""
    statement = select(User)
    if search and search.strip():
        if len(search) > MAX_SEARCH_LENGTH:
            raise AccountError(ErrorCode.TOO_LONG, "Search is too long.", field="search")
        escaped = search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        statement = statement.where(
            or_(
                User.email.ilike(pattern, escape="\\"),
                User.first_name.ilike(pattern, escape="\\"),
                User.last_name.ilike(pattern, escape="\\"),
            )
        )
    if role is not None:
        statement = statement.where(User.role == role.value)
    return statement


async def _target(session: AsyncSession, *, actor: User, user_id: int) -> User:
    user = await session.get(User, user_id, with_for_update=True)
    if user is None:
        raise AccountError(ErrorCode.NOT_FOUND, "User not found.", field="id")
    if user.id == actor.id:
        # Nobody locks themself out or promotes themself; another admin must do it.
        raise AccountError(
            ErrorCode.INVALID, "You cannot change your own account here.", field="id"
        )
    return user


async def update_access(
    session: AsyncSession,
    *,
    actor: User,
    user_id: int,
    role: Role | None,
    permissions: Sequence[Perm] | None,
) -> User:
    """Change role and extra grants; staff-level changes need MANAGE_STAFF."""
    user = await _target(session, actor=actor, user_id=user_id)
    touches_staff = (
        (role is not None and role is not Role.CUSTOMER)
        or user.role != Role.CUSTOMER.value
        or bool(permissions)
    )
    if touches_staff and not has_permission(actor, Perm.MANAGE_STAFF):
        raise AccountError(
            ErrorCode.INVALID,
            "Changing staff access needs the MANAGE_STAFF permission.",
            field="role",
        )
    if role is not None:
        user.role = role.value
    if permissions is not None:
        user.permissions = sorted({perm.value for perm in permissions})
    # Access tokens carry no permissions: the next request sees the change.
    await session.flush()
    return user


async def set_active(session: AsyncSession, *, actor: User, user_id: int, active: bool) -> User:
    """Activate or deactivate someone else; deactivation ends their sessions at once."""
    await _target(session, actor=actor, user_id=user_id)
    return await set_user_active(session, user_id=user_id, active=active)
