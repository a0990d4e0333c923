"""Account mutations: register, sign in, refresh, sign out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from app.services.accounts import flows as account_flows
from app.services.accounts import tokens as accounts
from app.services.cart import buyer as cart_buyer
from app.services.cart.view import CartView
from resolvers.accounts.types import User
from resolvers.base import (
    Info,
    UserErrorType,
    client_ip,
    decode_token_id,
    rate_limit,
    run_mutation,
    user_errors_field,
)

if TYPE_CHECKING:
    from resolvers.cart.types import Cart


@strawberry.input(description="A new customer account.")
class AccountRegisterInput:
    email: str = strawberry.field(description="Sign-in email; unique ignoring case.")
    password: str = strawberry.field(description="At least 8 characters, not a common password.")
    first_name: str = strawberry.field(default="", description="Given name.")
    last_name: str = strawberry.field(default="", description="Family name.")
    redirect_url: str | None = strawberry.field(
        default=None,
        description="If given, a verification link to this page (an allowed origin) is mailed.",
    )


@strawberry.type
class AccountRegisterPayload:
    user: User | None = strawberry.field(default=None, description="The new account.")
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type(description="A signed-in session: a short-lived access token and a refresh token.")
class TokenPayload:
    access_token: str | None = strawberry.field(
        default=None, description="JWT for `Authorization: Bearer`; expires after `expiresIn`."
    )
    expires_in: int | None = strawberry.field(
        default=None, description="Seconds the access token is valid."
    )
    refresh_token: str | None = strawberry.field(
        default=None, description="Single-use token for `tokenRefresh`; keep it secret."
    )
    user: User | None = strawberry.field(default=None, description="The signed-in user.")
    cart: Annotated[Cart, strawberry.lazy("resolvers.cart.types")] | None = strawberry.field(
        default=None,
        description="With `cartId` on sign-in: that cart, now yours (merged into your open "
        "cart if you had one); null when it could not be attached or none was given.",
    )
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type
class TokenRevokePayload:
    revoked: bool = strawberry.field(default=False, description="True when the session ended.")
    user_errors: list[UserErrorType] = user_errors_field()


def _user_agent(info: Info) -> str | None:
    return info.context.request.headers.get("user-agent")


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a customer account.")
    async def account_register(
        self, info: Info, input: AccountRegisterInput
    ) -> AccountRegisterPayload:
        settings = info.context.settings
        await rate_limit(info, settings.rate_limit_register_ip, "register:ip", client_ip(info))
        data = accounts.RegistrationData(
            email=input.email,
            password=input.password,
            first_name=input.first_name,
            last_name=input.last_name,
        )
        return await run_mutation(
            info,
            AccountRegisterPayload,
            accounts.register_account,
            lambda user: AccountRegisterPayload(user=User.from_row(user)),
            data=data,
            settings=info.context.settings,
            redirect_url=input.redirect_url,
        )

    @strawberry.mutation(description="Sign in with email and password.")
    async def token_create(
        self,
        info: Info,
        email: str,
        password: str,
        cart_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="An anonymous cart to make yours once signed in (see "
                "cartBuyerUpdate); a cart that cannot be attached does not fail the sign-in."
            ),
        ] = None,
    ) -> TokenPayload:
        settings = info.context.settings
        await rate_limit(info, settings.rate_limit_sign_in_ip, "sign-in:ip", client_ip(info))
        account = account_flows.rate_limit_key(email)
        await rate_limit(info, settings.rate_limit_sign_in_account, "sign-in:account", account)
        if cart_id is not None:
            return await run_mutation(
                info,
                TokenPayload,
                cart_buyer.sign_in_with_cart,
                lambda result: _token_payload(info, result[0], result[1]),
                email=email,
                password=password,
                settings=info.context.settings,
                user_agent=_user_agent(info),
                cart_token=decode_token_id(cart_id, "Cart"),
            )
        return await run_mutation(
            info,
            TokenPayload,
            accounts.create_tokens,
            lambda issued: _token_payload(info, issued),
            email=email,
            password=password,
            settings=info.context.settings,
            user_agent=_user_agent(info),
        )

    @strawberry.mutation(
        description="Exchange a refresh token for a new pair; each refresh token works once."
    )
    async def token_refresh(self, info: Info, refresh_token: str) -> TokenPayload:
        return await run_mutation(
            info,
            TokenPayload,
            accounts.refresh_tokens,
            lambda issued: _token_payload(info, issued),
            refresh_token=refresh_token,
            settings=info.context.settings,
            user_agent=_user_agent(info),
        )

    @strawberry.mutation(description="Sign out: revoke the refresh token and its rotations.")
    async def token_revoke(self, info: Info, refresh_token: str) -> TokenRevokePayload:
        return await run_mutation(
            info,
            TokenRevokePayload,
            accounts.revoke_refresh_token,
            lambda _: TokenRevokePayload(revoked=True),
            refresh_token=refresh_token,
        )


def _token_payload(
    info: Info, issued: accounts.TokenSet, cart: CartView | None = None
) -> TokenPayload:
    from resolvers.cart.types import cart_or_none

    return TokenPayload(
        access_token=issued.access_token,
        expires_in=info.context.settings.access_token_ttl_seconds,
        refresh_token=issued.refresh_token,
        user=User.from_row(issued.user),
        cart=cart_or_none(cart),
    )
