"""Access tokens (short-lived JWT, HS256 pinned) and opaque refresh tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from app.settings import Settings

ALGORITHM = "HS256"
ACCESS_TYPE = "access"
REFRESH_TOKEN_BYTES = 32
MAX_USER_ID = 2**63 - 1  # users.id is a bigint
MAX_TOKEN_VERSION = 2**31 - 1  # users.token_version is an integer
_CANONICAL_ID = re.compile(r"[1-9][0-9]{0,18}")


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


def _user_id(sub: object) -> int | None:
    """The key in `sub` if it is written the way we write it: ASCII digits, no leading zero."""
    if not isinstance(sub, str) or not _CANONICAL_ID.fullmatch(sub):
        return None  # isdigit() and int() also take Arabic-Indic digits, " 12" or "012"
    value = int(sub)
    return value if value <= MAX_USER_ID else None


def _token_version(tv: object) -> int | None:
    # A JSON integer only: int() would turn "1", Arabic-Indic digits, 1.5 or true into one too.
    if type(tv) is not int or not 0 <= tv <= MAX_TOKEN_VERSION:
        return None
    return tv


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
    user_id = _user_id(claims["sub"])
    token_version = _token_version(claims.get("tv"))
    try:
        expires_at = datetime.fromtimestamp(claims["exp"], UTC)
    except (OverflowError, OSError, ValueError):
        expires_at = None  # far beyond what we issue: only our key could have signed it
    if (
        claims.get("typ") != ACCESS_TYPE
        or user_id is None
        or token_version is None
        or expires_at is None
    ):
        raise InvalidAccessToken("Access token is invalid.")
    return AccessClaims(
        user_id=user_id,
        token_version=token_version,
        jti=str(claims["jti"]),
        expires_at=expires_at,
    )


def new_refresh_token() -> tuple[str, bytes]:
    """A random refresh token and the SHA-256 digest that is stored instead of it."""
    token = secrets.token_urlsafe(REFRESH_TOKEN_BYTES)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
