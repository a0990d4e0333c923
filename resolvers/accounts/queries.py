"""Account queries."""

from __future__ import annotations

import strawberry

from app.auth.permissions import Perm
from resolvers.accounts.types import User
from resolvers.base import MISSING_KEY, ApiError, HasPermission, Info, decode_id


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in user, or null for an anonymous request.")
    async def me(self, info: Info) -> User | None:
        context = info.context
        if context.auth_error:
            raise ApiError(context.auth_error, "UNAUTHENTICATED")
        return User.from_row(context.user) if context.user else None

    @strawberry.field(
        description="Look up any account (staff with MANAGE_USERS).",
        permission_classes=[HasPermission(Perm.MANAGE_USERS)],
    )
    async def user(self, info: Info, id: strawberry.ID) -> User | None:
        key = decode_id(id, "User")
        if key == MISSING_KEY:  # a wrong ID is a missing account
            return None
        row = await info.context.loaders.user.load(key)
        return User.from_row(row) if row else None
