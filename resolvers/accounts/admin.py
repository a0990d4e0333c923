"""Account administration: list and search users, change access, (de)activate."""

from __future__ import annotations

import strawberry

from app.auth.permissions import Perm
from app.auth.permissions import Role as DomainRole
from app.services.accounts import admin as account_admin
from app.services.pagination import PageRequest
from resolvers.accounts.types import Role, User
from resolvers.base import (
    HasPermission,
    Info,
    UserErrorType,
    current_user,
    decode_id,
    query_errors,
    run_mutation,
    user_errors_field,
)
from resolvers.connection import Connection, keyset_connection

MANAGE_USERS = [HasPermission(Perm.MANAGE_USERS)]


@strawberry.input(description="Access of an account; left out: unchanged.")
class UserAccessInput:
    role: Role | None = strawberry.field(default=None, description="New role.")
    permissions: list[Perm] | None = strawberry.field(
        default=None, description="Extra grants beyond the role (replaces the list)."
    )


@strawberry.type
class UserAdminPayload:
    user: User | None = strawberry.field(default=None, description="The account.")
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type
class Query:
    @strawberry.field(
        description="Accounts, newest first; search in email and names (MANAGE_USERS).",
        permission_classes=MANAGE_USERS,
    )
    async def users(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        search: str | None = None,
        role: Role | None = None,
    ) -> Connection[User]:
        with query_errors():  # a search no account can match: TOO_LONG / INVALID
            query = account_admin.users_query(
                search=search, role=DomainRole(role.value) if role else None
            )
        return await keyset_connection(
            info,
            query,
            page=PageRequest(first=first, after=after, last=last, before=before),
            node=User.from_row,
        )


async def _set_active(info: Info, id: strawberry.ID, *, active: bool) -> UserAdminPayload:
    return await run_mutation(
        info,
        UserAdminPayload,
        account_admin.set_active,
        lambda row: UserAdminPayload(user=User.from_row(row)),
        actor=current_user(info),
        user_id=decode_id(id, "User"),
        active=active,
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Change an account's role and extra permissions (MANAGE_USERS; staff "
        "access also needs MANAGE_STAFF). The last active admin cannot be demoted (LAST_ADMIN).",
        permission_classes=MANAGE_USERS,
    )
    async def user_update_access(
        self, info: Info, id: strawberry.ID, input: UserAccessInput
    ) -> UserAdminPayload:
        return await run_mutation(
            info,
            UserAdminPayload,
            account_admin.update_access,
            lambda row: UserAdminPayload(user=User.from_row(row)),
            actor=current_user(info),
            user_id=decode_id(id, "User"),
            role=DomainRole(input.role.value) if input.role else None,
            permissions=input.permissions,
        )

    @strawberry.mutation(
        description="Deactivate an account: its tokens and mailed links stop working at once "
        "(MANAGE_USERS; staff accounts also need MANAGE_STAFF). The last active admin cannot "
        "be deactivated (LAST_ADMIN).",
        permission_classes=MANAGE_USERS,
    )
    async def user_deactivate(self, info: Info, id: strawberry.ID) -> UserAdminPayload:
        return await _set_active(info, id, active=False)

    @strawberry.mutation(
        description="Reactivate an account (MANAGE_USERS; staff accounts also need MANAGE_STAFF).",
        permission_classes=MANAGE_USERS,
    )
    async def user_activate(self, info: Info, id: strawberry.ID) -> UserAdminPayload:
        return await _set_active(info, id, active=True)
