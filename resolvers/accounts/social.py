"""Social sign-in: exchange a Google ID token or a Facebook access token for our tokens."""

from __future__ import annotations

import strawberry

from app.auth.social import SocialProvider
from app.services.accounts import social
from app.services.accounts.tokens import TokenSet
from resolvers.accounts.tokens import TokenPayload
from resolvers.accounts.types import User
from resolvers.base import Info, client_ip, rate_limit, run_mutation

# Registers the GraphQL enum `SocialProvider` on the domain enum, which the argument annotates.
strawberry.enum(SocialProvider, description="An identity provider.")


def _payload(info: Info, issued: TokenSet) -> TokenPayload:
    return TokenPayload(
        access_token=issued.access_token,
        expires_in=info.context.settings.access_token_ttl_seconds,
        refresh_token=issued.refresh_token,
        user=User.from_row(issued.user),
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description=(
            "Sign in with a Google ID token or a Facebook user access token. A verified email "
            "that matches an account signs it in if that account's email is confirmed or it "
            "has no password (else EMAIL_NOT_VERIFIED); otherwise a customer account is created."
        )
    )
    async def social_token_create(
        self,
        info: Info,
        provider: SocialProvider,
        token: str,
    ) -> TokenPayload:
        settings = info.context.settings
        await rate_limit(info, settings.rate_limit_sign_in_ip, "sign-in:ip", client_ip(info))
        return await run_mutation(
            info,
            TokenPayload,
            social.social_sign_in,
            lambda issued: _payload(info, issued),
            provider=provider,
            token=token,
            settings=settings,
            user_agent=info.context.request.headers.get("user-agent"),
        )
