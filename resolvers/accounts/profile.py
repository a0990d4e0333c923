"""The signed-in user's profile: `accountUpdate` and `passwordChange`."""

from __future__ import annotations

from typing import Any

import strawberry

from app.services.accounts import profile
from app.services.accounts import tokens as accounts
from app.services.checks import Unset
from resolvers.accounts.types import User
from resolvers.base import (
    Info,
    IsAuthenticated,
    UserErrorType,
    current_user,
    run_mutation,
    user_errors_field,
)
from resolvers.inputs import given, given_not_null, run_parsed


@strawberry.input(
    description="Changes to your profile; fields left out stay as they are, null clears "
    "a name or the phone."
)
class AccountUpdateInput:
    first_name: strawberry.Maybe[str | None] = strawberry.field(
        description="Given name, up to 150 characters."
    )
    last_name: strawberry.Maybe[str | None] = strawberry.field(
        description="Family name, up to 150 characters."
    )
    phone: strawberry.Maybe[str | None] = strawberry.field(
        description="International phone number starting with + (stored in E.164); empty clears it."
    )
    locale: strawberry.Maybe[str | None] = strawberry.field(
        description="Preferred language: a supported BCP 47 primary language tag "
        "(en, de, fr, es, it, nl, pl, pt, sv, uk), case-insensitive."
    )

    def to_changes(self) -> profile.ProfileChanges:
        values: dict[str, Any] = {}
        for name in ("first_name", "last_name", "phone"):  # null clears these
            value = given(getattr(self, name))
            values[name] = value if isinstance(value, Unset) else value or ""
        return profile.ProfileChanges(**values, locale=given_not_null(self.locale, field="locale"))


@strawberry.type
class AccountUpdatePayload:
    user: User | None = strawberry.field(default=None, description="Your updated account.")
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type(description="The result of a password change: a fresh session for this client.")
class PasswordChangePayload:
    access_token: str | None = strawberry.field(
        default=None, description="New JWT for `Authorization: Bearer`; the old ones stop working."
    )
    expires_in: int | None = strawberry.field(
        default=None, description="Seconds the access token is valid."
    )
    refresh_token: str | None = strawberry.field(
        default=None, description="New single-use refresh token; all earlier ones are revoked."
    )
    user: User | None = strawberry.field(default=None, description="Your account.")
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type
class Query:
    """No root fields: the profile is read through `me`."""


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Change your names, phone number or locale.",
        permission_classes=[IsAuthenticated],
    )
    async def account_update(self, info: Info, input: AccountUpdateInput) -> AccountUpdatePayload:
        return await run_parsed(
            info,
            AccountUpdatePayload,
            profile.update_profile,
            lambda row: AccountUpdatePayload(user=User.from_row(row)),
            lambda: {"user_id": current_user(info).id, "changes": input.to_changes()},
        )

    @strawberry.mutation(
        description="Change your password: every session (all access and refresh tokens) "
        "ends, and a new token pair for this client is returned.",
        permission_classes=[IsAuthenticated],
    )
    async def password_change(
        self, info: Info, old_password: str, new_password: str
    ) -> PasswordChangePayload:
        return await run_mutation(
            info,
            PasswordChangePayload,
            profile.change_password,
            lambda issued: _password_change_payload(info, issued),
            user_id=current_user(info).id,
            old_password=old_password,
            new_password=new_password,
            settings=info.context.settings,
            user_agent=info.context.request.headers.get("user-agent"),
        )


def _password_change_payload(info: Info, issued: accounts.TokenSet) -> PasswordChangePayload:
    return PasswordChangePayload(
        access_token=issued.access_token,
        expires_in=info.context.settings.access_token_ttl_seconds,
        refresh_token=issued.refresh_token,
        user=User.from_row(issued.user),
    )
