"""Privacy of the signed-in user: `myDataExport` and `accountDelete`."""

from __future__ import annotations

from typing import cast

import strawberry
from strawberry.scalars import JSON

from app.services.accounts import privacy
from resolvers.base import (
    Info,
    IsAuthenticated,
    UserErrorType,
    current_user,
    run_mutation,
    run_query,
    user_errors_field,
)


@strawberry.type(description="The result of deleting your account.")
class AccountDeletePayload:
    deleted: bool = strawberry.field(
        default=False, description="True when the account was anonymised and signed out."
    )
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type
class Query:
    @strawberry.field(
        description="Everything we hold about you (profile, addresses, wishlist, reviews, "
        "sessions) as one JSON document; never password or token hashes.",
        permission_classes=[IsAuthenticated],
    )
    async def my_data_export(self, info: Info) -> JSON:
        data = await run_query(info, privacy.export_personal_data, user=current_user(info))
        return cast(JSON, data)  # JSON is a NewType over object: a dict is one


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Delete your account: your personal data, addresses and wishlist are "
        "erased, every session ends; reviews stay, shown as Anonymous. Confirm with your "
        "password (an empty string for accounts without one). Staff must be demoted first.",
        permission_classes=[IsAuthenticated],
    )
    async def account_delete(self, info: Info, password: str) -> AccountDeletePayload:
        return await run_mutation(
            info,
            AccountDeletePayload,
            privacy.delete_account,
            lambda deleted: AccountDeletePayload(deleted=deleted),
            user=current_user(info),
            password=password,
        )
