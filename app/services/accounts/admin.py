"""Administration of accounts (MANAGE_USERS): search, roles and grants, (de)activation.

Staff accounts (any role or grant beyond a customer's) need MANAGE_STAFF as well, and no
change may leave the shop without an active admin, even when two run at the same time.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Perm, Role, effective_permissions, has_permission
from app.errors import AccountError, ErrorCode
from app.services.accounts.tokens import set_user_active
from app.services.checks import like_contains, locked_or_not_found
from app.services.pagination import KeysetQuery, SortKey
from models.accounts import User

MAX_SEARCH_LENGTH = 100
# Key of the transaction-level advisory lock around changes that can remove an admin
# (the catalog uses 7_30x).
ADMIN_CHANGES_LOCK = 7_401


def users_statement(*, search: str | None, role: Role | None) -> Select[Any]:
    """Accounts whose email or names contain `search` (case-insensitive), of `role`."""
    statement = select(User)
    if search and search.strip():
        if len(search) > MAX_SEARCH_LENGTH:
            raise AccountError(ErrorCode.TOO_LONG, "Search is too long.", field="search")
        if any(unicodedata.category(char) in ("Cc", "Cs") for char in search):
            # NUL or a lone surrogate would fail in PostgreSQL instead of matching nothing.
            raise AccountError(
                ErrorCode.INVALID, "Search must not contain control characters.", field="search"
            )
        pattern = like_contains(search.strip())
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


def users_query(*, search: str | None, role: Role | None) -> KeysetQuery:
    """`users_statement` newest first; TOO_LONG / INVALID for a search no account can match."""
    return KeysetQuery(
        users_statement(search=search, role=role), keys=[SortKey(User.id, True)], tag="user:newest"
    )


async def lock_admin_changes(session: AsyncSession) -> None:
    """Serialise every change that could take away an active admin, until the transaction ends."""
    # Taken before any user row lock in every such change: one fixed order, so no deadlock,
    # and the active admins counted after it are the ones the change will commit against.
    await session.execute(select(func.pg_advisory_xact_lock(ADMIN_CHANGES_LOCK)))


async def keep_an_active_admin(session: AsyncSession, *, losing: User, field: str | None) -> None:
    """LAST_ADMIN if `losing` is the only active admin; call with the admin lock held."""
    if losing.role != Role.ADMIN.value or not losing.is_active:
        return
    others = await session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN.value, User.is_active, User.id != losing.id)
    )
    if not others:
        raise AccountError(
            ErrorCode.LAST_ADMIN,
            "This is the last active admin; make another account admin first.",
            field=field,
        )


def _holds_staff_access(user: User) -> bool:
    return bool(effective_permissions(user))


def _require(actor: User, perm: Perm, *, field: str | None) -> None:
    if not has_permission(actor, perm):
        raise AccountError(
            ErrorCode.INVALID,
            f"Changing staff access needs the {perm.value} permission.",
            field=field,
        )


async def _current_actor(session: AsyncSession, actor: User) -> User:
    """The actor as committed now: a concurrent change may have demoted or deactivated them."""
    current = await session.get(User, actor.id, populate_existing=True)
    if current is None or not has_permission(current, Perm.MANAGE_USERS):
        raise AccountError(
            ErrorCode.INVALID, "You need the MANAGE_USERS permission to do this.", field=None
        )
    return current


async def _target(session: AsyncSession, *, actor: User, user_id: int) -> User:
    user = await locked_or_not_found(session, User, user_id, field="id")
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
    """Change role and extra grants; staff-level changes need MANAGE_STAFF; LAST_ADMIN kept."""
    await lock_admin_changes(session)
    actor = await _current_actor(session, actor)
    user = await _target(session, actor=actor, user_id=user_id)
    touches_staff = (
        (role is not None and role is not Role.CUSTOMER)
        or _holds_staff_access(user)
        or bool(permissions)
    )
    if touches_staff:
        _require(actor, Perm.MANAGE_STAFF, field="role")
    if role is not None and role is not Role.ADMIN:
        await keep_an_active_admin(session, losing=user, field="role")
    if role is not None:
        user.role = role.value
    if permissions is not None:
        user.permissions = sorted({perm.value for perm in permissions})
    # Access tokens carry no permissions: the next request sees the change.
    await session.flush()
    return user


async def set_active(session: AsyncSession, *, actor: User, user_id: int, active: bool) -> User:
    """(De)activate someone else (staff: MANAGE_STAFF); deactivation ends all their sessions."""
    await lock_admin_changes(session)
    actor = await _current_actor(session, actor)
    user = await _target(session, actor=actor, user_id=user_id)
    if _holds_staff_access(user):
        _require(actor, Perm.MANAGE_STAFF, field="id")
    if not active:
        await keep_an_active_admin(session, losing=user, field="id")
    return await set_user_active(session, user_id=user_id, active=active)
