"""Verify third-party sign-in tokens: Google ID tokens (JWKS, RS256) and Facebook access tokens."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from enum import Enum
from typing import Any

import httpx
import jwt

from app.errors import ErrorCode, UserError
from app.settings import Settings

log = logging.getLogger("app.auth.social")

JWKS_TTL_SECONDS = 3600.0
MAX_TOKEN_CHARS = 4096
HTTP_TIMEOUT = httpx.Timeout(5.0)
INVALID_TOKEN_MESSAGE = "The sign-in token is invalid or expired."
UNAVAILABLE_MESSAGE = "The sign-in provider is unavailable; try again later."


class SocialProvider(Enum):
    """An identity provider accepted by `socialTokenCreate`."""

    GOOGLE = "google"
    FACEBOOK = "facebook"


@dataclass(frozen=True)
class SocialIdentity:
    provider: SocialProvider
    subject: str
    email: str | None
    email_verified: bool
    first_name: str = ""
    last_name: str = ""


def _plain_token(token: str) -> bool:
    """Provider tokens are short printable ASCII; anything else cannot be one."""
    # Checked first: PyJWT and httpx raise on a lone surrogate instead of refusing it.
    return 0 < len(token) <= MAX_TOKEN_CHARS and token.isascii() and token.isprintable()


def _invalid() -> UserError:
    return UserError(ErrorCode.INVALID_TOKEN, INVALID_TOKEN_MESSAGE, field="token")


def _unavailable() -> UserError:
    return UserError(ErrorCode.PROVIDER_UNAVAILABLE, UNAVAILABLE_MESSAGE, field="token")


def _disabled(provider: SocialProvider) -> UserError:
    return UserError(
        ErrorCode.INVALID, f"Sign-in with {provider.name.title()} is not enabled.", field="provider"
    )


async def _get_json(url: str, params: dict[str, str] | None = None) -> tuple[int, Any]:
    """GET a JSON document; PROVIDER_UNAVAILABLE on network errors, 5xx or a non-JSON body."""
    try:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as client:
            response = await client.get(url, params=params)
        if response.status_code >= 500:
            raise _unavailable()
        return response.status_code, response.json()
    except httpx.HTTPError as exc:
        log.warning("provider request to %s failed: %s", url.split("?")[0], exc)
        raise _unavailable() from None
    except ValueError:  # not JSON
        raise _unavailable() from None


# --- Google -----------------------------------------------------------------------------------

# url -> (fetched at (monotonic), keys by kid)
_jwks_cache: dict[str, tuple[float, dict[str, jwt.PyJWK]]] = {}


async def _fetch_jwks(url: str) -> dict[str, jwt.PyJWK]:
    status, body = await _get_json(url)
    if status != 200 or not isinstance(body, dict):
        raise _unavailable()
    keys: dict[str, jwt.PyJWK] = {}
    for data in body.get("keys", []):
        if not isinstance(data, dict) or data.get("kty") != "RSA" or not data.get("kid"):
            continue
        try:
            keys[data["kid"]] = jwt.PyJWK(data, algorithm="RS256")
        except jwt.PyJWTError:
            continue
    _jwks_cache[url] = (time.monotonic(), keys)
    return keys


async def _google_key(url: str, kid: str) -> jwt.PyJWK:
    """The key `kid` from the cached JWKS; refetched when stale or when `kid` is unknown."""
    cached = _jwks_cache.get(url)
    fresh = cached is not None and time.monotonic() - cached[0] < JWKS_TTL_SECONDS
    keys = cached[1] if cached is not None and fresh else await _fetch_jwks(url)
    if kid not in keys and fresh:  # Google rotated its keys since we fetched them
        keys = await _fetch_jwks(url)
    if kid not in keys:
        raise _invalid()
    return keys[kid]


def clear_jwks_cache() -> None:
    _jwks_cache.clear()


async def verify_google_id_token(settings: Settings, token: str) -> SocialIdentity:
    """Check a Google ID token's RS256 signature, audience, issuer, expiry and verified email."""
    if not settings.google_client_id:
        raise _disabled(SocialProvider.GOOGLE)
    if not _plain_token(token):
        raise _invalid()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise _invalid() from None
    kid = header.get("kid")
    if header.get("alg") != "RS256" or not isinstance(kid, str) or not kid:
        raise _invalid()
    key = await _google_key(settings.google_jwks_url, kid)
    try:
        claims = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=settings.google_client_id,
            issuer=settings.google_issuers,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.PyJWTError:
        raise _invalid() from None
    verified = claims.get("email_verified") in (True, "true")
    email = claims.get("email")
    if not verified or not isinstance(email, str) or not email:
        raise UserError(
            ErrorCode.INVALID,
            "The Google account has no verified email address.",
            field="token",
        )
    return SocialIdentity(
        provider=SocialProvider.GOOGLE,
        subject=str(claims["sub"]),
        email=email,
        email_verified=True,
        first_name=str(claims.get("given_name") or ""),
        last_name=str(claims.get("family_name") or ""),
    )


# --- Facebook ---------------------------------------------------------------------------------


async def verify_facebook_token(settings: Settings, token: str) -> SocialIdentity:
    """Check a Facebook user access token with debug_token, then read the profile from /me."""
    if not settings.facebook_app_id or settings.facebook_app_secret is None:
        raise _disabled(SocialProvider.FACEBOOK)
    if not _plain_token(token):
        raise _invalid()
    graph = settings.facebook_graph_url.rstrip("/")
    app_token = f"{settings.facebook_app_id}|{settings.facebook_app_secret.get_secret_value()}"
    status, body = await _get_json(
        f"{graph}/debug_token", {"input_token": token, "access_token": app_token}
    )
    data = body.get("data") if isinstance(body, dict) else None
    if status != 200 or not isinstance(data, dict):
        raise _invalid()
    if data.get("is_valid") is not True or str(data.get("app_id")) != settings.facebook_app_id:
        raise _invalid()
    status, me = await _get_json(
        f"{graph}/me", {"fields": "id,email,first_name,last_name", "access_token": token}
    )
    if status != 200 or not isinstance(me, dict) or not me.get("id"):
        raise _invalid()
    if data.get("user_id") is not None and str(data["user_id"]) != str(me["id"]):
        raise _invalid()
    email = me.get("email")
    has_email = isinstance(email, str) and bool(email)
    return SocialIdentity(
        provider=SocialProvider.FACEBOOK,
        subject=str(me["id"]),
        email=email if has_email else None,
        email_verified=has_email,  # Facebook only returns confirmed emails
        first_name=str(me.get("first_name") or ""),
        last_name=str(me.get("last_name") or ""),
    )


async def verify_social_token(
    settings: Settings, provider: SocialProvider, token: str
) -> SocialIdentity:
    if provider is SocialProvider.GOOGLE:
        return await verify_google_id_token(settings, token)
    return await verify_facebook_token(settings, token)
