"""Account queries."""

from __future__ import annotations

import strawberry
from strawberry import relay

from app.auth.permissions import Perm
from resolvers.accounts.types import User
from resolvers.base import ApiError, HasPermission, Info, db_id


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
    async def user(self, info: Info, id: relay.GlobalID) -> User | None:
        key = db_id(id.node_id) if id.type_name == "User" else None
        if key is None:
            return None
        row = await info.context.loaders.user.load(key)
        return User.from_row(row) if row else None
