"""Access tokens (short-lived JWT, HS256 pinned) and opaque refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from app.settings import Settings

ALGORITHM = "HS256"
ACCESS_TYPE = "access"
REFRESH_TOKEN_BYTES = 32


class InvalidAccessToken(Exception):
    """The bearer token is malformed, forged, expired or not an access token."""


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    token_version: int
    jti: str
    expires_at: datetime


def create_access_token(
    settings: Settings, *, user_id: int, token_version: int, now: datetime | None = None
) -> str:
    issued = now or datetime.now(UTC)
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(user_id),
        "iat": issued,
        "nbf": issued,
        "exp": issued + timedelta(seconds=settings.access_token_ttl_seconds),
        "jti": uuid.uuid4().hex,
        "typ": ACCESS_TYPE,
        "tv": token_version,
    }
    return jwt.encode(claims, settings.signing_key, algorithm=ALGORITHM)


def decode_access_token(settings: Settings, token: str) -> AccessClaims:
    """Verify signature, algorithm, issuer, audience and expiry; raise InvalidAccessToken."""
    try:
        claims = jwt.decode(
            token,
            settings.signing_key,
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
            leeway=5,
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidAccessToken("Access token has expired.") from exc
    except jwt.PyJWTError as exc:
        raise InvalidAccessToken("Access token is invalid.") from exc
    if claims.get("typ") != ACCESS_TYPE or not str(claims["sub"]).isdigit():
        raise InvalidAccessToken("Access token is invalid.")
    return AccessClaims(
        user_id=int(claims["sub"]),
        token_version=int(claims.get("tv", 0)),
        jti=str(claims["jti"]),
        expires_at=datetime.fromtimestamp(claims["exp"], UTC),
    )


def new_refresh_token() -> tuple[str, bytes]:
    """A random refresh token and the SHA-256 digest that is stored instead of it."""
    token = secrets.token_urlsafe(REFRESH_TOKEN_BYTES)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
