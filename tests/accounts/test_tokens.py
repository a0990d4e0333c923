"""Sign-in, `me`, refresh rotation with reuse detection, revocation, token checks."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from unittest.mock import ANY

import jwt
import pytest

from app.auth import tokens
from app.services.accounts.tokens import INVALID_CREDENTIALS, set_user_active
from models.accounts import RefreshToken, User
from tests.conftest import PASSWORD, TOKEN_CREATE

ME = "{ me { id email firstName role } }"
REVOKED = "Refresh token has expired or was revoked."
REFRESH = """
mutation($token: String!) {
  tokenRefresh(refreshToken: $token) {
    accessToken refreshToken user { email } userErrors { field code message }
  }
}"""
REVOKE = """
mutation($token: String!) {
  tokenRevoke(refreshToken: $token) { revoked userErrors { field code } }
}"""


async def test_sign_in_returns_tokens_and_me_works_with_them(gql, make_user):
    await make_user(email="ann@example.com")

    data = await gql.execute(TOKEN_CREATE, email="ANN@example.com", password=PASSWORD)

    payload = data["tokenCreate"]
    assert payload["userErrors"] == []
    assert payload["expiresIn"] == 900
    assert payload["user"]["email"] == "ann@example.com"
    me = await gql.as_user(payload["accessToken"]).execute(ME)
    assert me["me"] == {
        "id": payload["user"]["id"],
        "email": "ann@example.com",
        "firstName": "",
        "role": "CUSTOMER",
    }


async def test_access_token_claims_are_complete_and_pinned(gql, make_user, settings):
    await make_user(email="ann@example.com")
    payload = (await gql.execute(TOKEN_CREATE, email="ann@example.com", password=PASSWORD))[
        "tokenCreate"
    ]

    header = jwt.get_unverified_header(payload["accessToken"])
    claims = jwt.decode(payload["accessToken"], options={"verify_signature": False})
    assert header["alg"] == "HS256"
    assert claims["iss"] == settings.jwt_issuer
    assert claims["aud"] == settings.jwt_audience
    assert claims["exp"] - claims["iat"] == settings.access_token_ttl_seconds
    assert len(claims["jti"]) == 32


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("ann@example.com", "wrong-password-1"),
        ("nobody@example.com", PASSWORD),
        ("nobody@example.com", "wrong-password-1"),
        ("", ""),
        ("x" * 5000, "y" * 5000),
    ],
)
async def test_failed_sign_in_does_not_reveal_whether_the_email_exists(
    gql, make_user, count, email, password
):
    await make_user(email="ann@example.com")

    data = await gql.execute(TOKEN_CREATE, email=email, password=password)

    assert data["tokenCreate"] == {
        "accessToken": None,
        "refreshToken": None,
        "expiresIn": None,
        "user": None,
        "userErrors": [
            {
                "field": ["email"],
                "code": "INVALID_CREDENTIALS",
                "message": "Please, enter valid credentials.",
            }
        ],
    }
    assert await count(RefreshToken) == 0


async def test_inactive_user_cannot_sign_in(gql, make_user, count):
    await make_user(email="gone@example.com", is_active=False)

    data = await gql.execute(TOKEN_CREATE, email="gone@example.com", password=PASSWORD)

    assert data["tokenCreate"]["userErrors"] == [
        {"field": ["email"], "code": "INVALID_CREDENTIALS", "message": INVALID_CREDENTIALS}
    ]
    assert await count(RefreshToken) == 0


async def test_refresh_rotates_and_the_new_pair_works(gql, make_user, sign_in):
    await make_user(email="ann@example.com")
    first = await sign_in("ann@example.com")

    data = await gql.execute(REFRESH, token=first["refreshToken"])

    rotated = data["tokenRefresh"]
    assert rotated["userErrors"] == []
    assert rotated["refreshToken"] != first["refreshToken"]
    assert rotated["user"] == {"email": "ann@example.com"}
    me = await gql.as_user(rotated["accessToken"]).execute(ME)
    assert me["me"]["email"] == "ann@example.com"
    again = await gql.execute(REFRESH, token=rotated["refreshToken"])
    assert again["tokenRefresh"]["userErrors"] == []


async def test_reusing_a_refresh_token_revokes_the_whole_family(gql, make_user, sign_in, count):
    await make_user(email="ann@example.com")
    first = await sign_in("ann@example.com")
    other_device = await sign_in("ann@example.com")
    second = (await gql.execute(REFRESH, token=first["refreshToken"]))["tokenRefresh"]

    replay = await gql.execute(REFRESH, token=first["refreshToken"])

    assert replay["tokenRefresh"]["userErrors"] == [
        {"field": ["refreshToken"], "code": "TOKEN_REUSED", "message": ANY}
    ]
    assert replay["tokenRefresh"]["accessToken"] is None
    # The thief's (or victim's) newer token of the same family is dead too ...
    after = await gql.execute(REFRESH, token=second["refreshToken"])
    assert after["tokenRefresh"]["userErrors"] == [
        {"field": ["refreshToken"], "code": "INVALID_TOKEN", "message": REVOKED}
    ]
    # ... but the session signed in separately on another device is untouched.
    other = await gql.execute(REFRESH, token=other_device["refreshToken"])
    assert other["tokenRefresh"]["userErrors"] == []
    assert await count(RefreshToken, RefreshToken.revoked_at.is_not(None)) == 2


@pytest.mark.parametrize("token", ["", "not-a-token", "x" * 10_000, "ü" * 40])
async def test_unknown_refresh_tokens_are_invalid(gql, token):
    data = await gql.execute(REFRESH, token=token)

    assert data["tokenRefresh"]["userErrors"] == [
        {"field": ["refreshToken"], "code": "INVALID_TOKEN", "message": "Refresh token is invalid."}
    ]


async def test_expired_refresh_token_is_refused(gql, make_user, sign_in, session_factory):
    await make_user(email="ann@example.com")
    issued = await sign_in("ann@example.com")
    async with session_factory() as session, session.begin():
        row = await session.scalar(
            RefreshToken.__table__.select()
            .with_only_columns(RefreshToken.id)
            .where(RefreshToken.token_hash == tokens.hash_refresh_token(issued["refreshToken"]))
        )
        token_row = await session.get_one(RefreshToken, row)
        token_row.expires_at = datetime.now(UTC) - timedelta(seconds=1)

    data = await gql.execute(REFRESH, token=issued["refreshToken"])

    assert data["tokenRefresh"]["userErrors"] == [
        {"field": ["refreshToken"], "code": "INVALID_TOKEN", "message": REVOKED}
    ]
    assert data["tokenRefresh"]["accessToken"] is None


async def test_revoke_signs_out_that_session(gql, make_user, sign_in):
    await make_user(email="ann@example.com")
    issued = await sign_in("ann@example.com")

    data = await gql.execute(REVOKE, token=issued["refreshToken"])

    assert data["tokenRevoke"] == {"revoked": True, "userErrors": []}
    after = await gql.execute(REFRESH, token=issued["refreshToken"])
    assert after["tokenRefresh"]["userErrors"] == [
        {"field": ["refreshToken"], "code": "INVALID_TOKEN", "message": REVOKED}
    ]


async def test_revoke_of_unknown_token_is_a_user_error(gql):
    data = await gql.execute(REVOKE, token="nope")

    assert data["tokenRevoke"] == {
        "revoked": False,
        "userErrors": [{"field": ["refreshToken"], "code": "INVALID_TOKEN"}],
    }


async def test_anonymous_me_is_null(gql):
    assert await gql.execute(ME) == {"me": None}


def _forge(claims: dict, key: str, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def _claims(settings, user_id: int, **overrides) -> dict:
    now = datetime.now(UTC)
    return {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(user_id),
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "jti": "j" * 32,
        "typ": "access",
        "tv": 0,
    } | overrides


def _unsigned(claims: dict) -> str:
    def part(value: dict) -> str:
        raw = json.dumps(value, default=str).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("expired", "Access token has expired."),
        ("wrong_key", "Access token is invalid."),
        ("wrong_audience", "Access token is invalid."),
        ("wrong_issuer", "Access token is invalid."),
        ("alg_none", "Access token is invalid."),
        ("refresh_type", "Access token is invalid."),
        ("garbage", "Access token is invalid."),
        ("old_version", "Access token is no longer valid."),
        ("unknown_user", "Access token is no longer valid."),
    ],
)
async def test_bad_access_tokens_are_unauthenticated(gql, make_user, settings, case, message):
    user = await make_user(email="ann@example.com")
    key = settings.signing_key
    forged = {
        "expired": lambda: _forge(
            _claims(
                settings,
                user.id,
                iat=datetime.now(UTC) - timedelta(hours=2),
                exp=datetime.now(UTC) - timedelta(hours=1),
            ),
            key,
        ),
        "wrong_key": lambda: _forge(_claims(settings, user.id), "another-key-" * 4),
        "wrong_audience": lambda: _forge(_claims(settings, user.id, aud="elsewhere"), key),
        "wrong_issuer": lambda: _forge(_claims(settings, user.id, iss="evil"), key),
        "alg_none": lambda: _unsigned(_claims(settings, user.id)),
        "refresh_type": lambda: _forge(_claims(settings, user.id, typ="refresh"), key),
        "garbage": lambda: "abc.def.ghi",
        "old_version": lambda: _forge(_claims(settings, user.id, tv=7), key),
        "unknown_user": lambda: _forge(_claims(settings, 987_654), key),
    }[case]()

    body = await gql.as_user(forged).raw(ME)

    assert body["data"] == {"me": None}
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        (message, "UNAUTHENTICATED")
    ]


async def test_malformed_authorization_header_is_unauthenticated(gql):
    response = await gql.post(ME, headers={"Authorization": "Token abc"})

    body = response.json()
    assert body["data"] == {"me": None}
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        ("Authorization header must be 'Bearer <access token>'.", "UNAUTHENTICATED")
    ]


async def test_tokens_of_a_deactivated_user_stop_working_at_once(
    gql, make_user, sign_in, session_factory
):
    user = await make_user(email="ann@example.com")
    issued = await sign_in("ann@example.com")
    assert (await gql.as_user(issued["accessToken"]).execute(ME))["me"]["email"]

    async with session_factory() as session, session.begin():
        await set_user_active(session, user_id=user.id, active=False)

    body = await gql.as_user(issued["accessToken"]).raw(ME)
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        ("Access token is no longer valid.", "UNAUTHENTICATED")
    ]
    refreshed = await gql.execute(REFRESH, token=issued["refreshToken"])
    assert refreshed["tokenRefresh"]["userErrors"] == [
        {"field": ["refreshToken"], "code": "INVALID_TOKEN", "message": REVOKED}
    ]
    async with session_factory() as session:
        assert (await session.get_one(User, user.id)).is_active is False


async def test_concurrent_refreshes_of_one_token_yield_one_winner(engine, settings):
    """Two devices replaying one refresh token at once: exactly one gets a new pair."""
    import asyncio

    from sqlalchemy import delete

    from app.db import create_session_factory
    from app.errors import UserError
    from app.services.accounts.tokens import (
        RegistrationData,
        create_tokens,
        refresh_tokens,
        register_account,
    )

    factory = create_session_factory(engine)
    email = "race-refresh@example.com"
    async with factory() as session, session.begin():
        await register_account(
            session, data=RegistrationData(email, "race-Password-42"), settings=settings
        )
        issued = await create_tokens(
            session, email=email, password="race-Password-42", settings=settings
        )

    async def refresh() -> str:
        async with factory() as session:
            try:
                async with session.begin():
                    await refresh_tokens(
                        session, refresh_token=issued.refresh_token, settings=settings
                    )
            except UserError as exc:
                return exc.code.value
            return "ok"

    try:
        results = await asyncio.gather(*(refresh() for _ in range(5)))
        assert results.count("ok") == 1
        assert set(results) - {"ok"} <= {"TOKEN_REUSED"}
    finally:
        async with factory() as session, session.begin():
            await session.execute(delete(User).where(User.email == email))
