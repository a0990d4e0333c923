"""Mailed account flows: password reset, email verification, email change."""

from __future__ import annotations

from typing import Any

import strawberry

from app.services.accounts import flows as account_flows
from resolvers.base import (
    Info,
    IsAuthenticated,
    UserErrorType,
    client_ip,
    current_user,
    rate_limit,
    run_mutation,
    user_errors_field,
)


@strawberry.type(description="The outcome of an account flow step: only errors, if any.")
class AccountFlowPayload:
    user_errors: list[UserErrorType] = user_errors_field()


def _done(_: Any) -> AccountFlowPayload:
    return AccountFlowPayload()


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Mail a password reset link to `redirectUrl?token=...&email=...` if an "
        "active account has this email. The answer is the same whether it exists or not."
    )
    async def request_password_reset(
        self, info: Info, email: str, redirect_url: str
    ) -> AccountFlowPayload:
        settings = info.context.settings
        await rate_limit(info, settings.rate_limit_reset_ip, "reset:ip", client_ip(info))
        account = account_flows.rate_limit_key(email)
        await rate_limit(info, settings.rate_limit_reset_account, "reset:account", account)
        return await run_mutation(
            info,
            AccountFlowPayload,
            account_flows.request_password_reset,
            _done,
            email=email,
            redirect_url=redirect_url,
            settings=settings,
        )

    @strawberry.mutation(
        description="Set a new password with the token of a reset link; every session of "
        "the account ends. Sign in afterwards with `tokenCreate`."
    )
    async def set_password(self, info: Info, token: str, password: str) -> AccountFlowPayload:
        return await run_mutation(
            info,
            AccountFlowPayload,
            account_flows.set_password_with_token,
            _done,
            token=token,
            new_password=password,
            settings=info.context.settings,
        )

    @strawberry.mutation(description="Confirm your email address with a verification token.")
    async def confirm_email(self, info: Info, token: str) -> AccountFlowPayload:
        return await run_mutation(
            info, AccountFlowPayload, account_flows.confirm_email, _done, token=token
        )

    @strawberry.mutation(
        description="Ask to change your email: a confirmation link is mailed to the new "
        "address, and the email changes only when it is used.",
        permission_classes=[IsAuthenticated],
    )
    async def request_email_change(
        self, info: Info, new_email: str, password: str, redirect_url: str
    ) -> AccountFlowPayload:
        return await run_mutation(
            info,
            AccountFlowPayload,
            account_flows.request_email_change,
            _done,
            user_id=current_user(info).id,
            new_email=new_email,
            password=password,
            redirect_url=redirect_url,
            settings=info.context.settings,
        )

    @strawberry.mutation(
        description="Make the new email yours with the token of its link; every session and "
        "pending link of the account ends, so sign in again with the new address."
    )
    async def confirm_email_change(self, info: Info, token: str) -> AccountFlowPayload:
        return await run_mutation(
            info, AccountFlowPayload, account_flows.confirm_email_change, _done, token=token
        )
