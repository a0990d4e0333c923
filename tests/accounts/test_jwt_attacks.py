"""Hostile access tokens through `{ me { id } }`: other algorithms, edited payloads and odd
claims are all UNAUTHENTICATED with a plain message, never a traceback or someone's account."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from app.auth.tokens import ACCESS_TYPE
from tests.conftest import PASSWORD, TOKEN_CREATE
from tests.graphql_client import without_extensions

ME = "{ me { id } }"
INVALID = "Access token is invalid."


def _arabic_indic(number: int) -> str:
    """`number` in Arabic-Indic digits ("١٢" for 12): str.isdigit() and int() accept them."""
    return "".join(chr(0x660 + int(digit)) for digit in str(number))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(settings, sub: Any, **overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": sub,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
        "jti": "j" * 32,
        "typ": ACCESS_TYPE,
        "tv": 0,
    } | overrides


def _unsigned(claims: dict[str, Any], alg: str) -> str:
    header = _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."


def _raw_json_token(settings, payload: str) -> str:
    """A correctly HS256-signed token whose payload is `payload` verbatim (e.g. huge numbers)."""
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(payload.encode())
    signature = hmac.new(
        settings.signing_key.encode(), f"{head}.{body}".encode(), hashlib.sha256
    ).digest()
    return f"{head}.{body}.{_b64(signature)}"


async def _me(gql, token: str) -> tuple[int, dict[str, Any]]:
    response = await gql.post(ME, headers={"Authorization": f"Bearer {token}"})
    return response.status_code, without_extensions(response.json())


def _refused(message: str = INVALID) -> tuple[int, dict[str, Any]]:
    return 200, {
        "data": {"me": None},
        "errors": [
            {
                "message": message,
                "locations": [{"line": 1, "column": 3}],
                "path": ["me"],
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ],
    }


@pytest.fixture
async def ann(make_user):
    """A signed-up user whose token_version is 1 (so a `tv` of 1 in any spelling is tempting)."""
    return await make_user(email="ann@example.com", token_version=1)


@pytest.mark.filterwarnings("ignore:The HMAC key is")  # the test key is short for SHA-512
@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
async def test_other_hmac_algorithms_with_our_secret_are_refused(gql, settings, ann, algorithm):
    token = jwt.encode(_claims(settings, str(ann.id), tv=1), settings.signing_key, algorithm)

    assert await _me(gql, token) == _refused()


async def test_rs256_with_an_rsa_key_is_refused(gql, settings, ann):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(_claims(settings, str(ann.id), tv=1), key, "RS256")

    assert await _me(gql, token) == _refused()


@pytest.mark.parametrize("alg", ["none", "None", "NONE", ""])
async def test_unsigned_tokens_are_refused(gql, settings, ann, alg):
    assert await _me(gql, _unsigned(_claims(settings, str(ann.id), tv=1), alg)) == _refused()


async def test_a_payload_edited_after_signing_is_refused(gql, make_user, settings):
    await make_user(email="eve@example.com")
    victim = await make_user(email="victim@example.com")
    signed = (await gql.execute(TOKEN_CREATE, email="eve@example.com", password=PASSWORD))[
        "tokenCreate"
    ]["accessToken"]
    head, body, signature = signed.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert (await _me(gql, signed))[1]["data"]["me"] is not None  # the untouched token works

    claims["sub"] = str(victim.id)
    edited = f"{head}.{_b64(json.dumps(claims).encode())}.{signature}"

    assert await _me(gql, edited) == _refused()


@pytest.mark.parametrize(
    "claim",
    [
        pytest.param(lambda user: {"sub": _arabic_indic(user.id)}, id="sub-arabic-indic"),
        pytest.param(lambda user: {"sub": "1" * 5000}, id="sub-5000-digits"),
        pytest.param(lambda user: {"sub": "9" * 19}, id="sub-beyond-bigint"),
        pytest.param(lambda user: {"sub": "0"}, id="sub-zero"),
        pytest.param(lambda user: {"sub": f"-{user.id}"}, id="sub-negative"),
        pytest.param(lambda user: {"sub": f"+{user.id}"}, id="sub-plus"),
        pytest.param(lambda user: {"sub": f" {user.id}"}, id="sub-space"),
        pytest.param(lambda user: {"sub": f"{user.id}\x00"}, id="sub-nul"),
        pytest.param(lambda user: {"sub": f"0{user.id}"}, id="sub-leading-zero"),
        pytest.param(lambda user: {"sub": user.id}, id="sub-number"),
        pytest.param(lambda user: {"tv": "١"}, id="tv-arabic-indic"),
        pytest.param(lambda user: {"tv": "1"}, id="tv-string"),
        pytest.param(lambda user: {"tv": 1.0}, id="tv-float"),
        pytest.param(lambda user: {"tv": True}, id="tv-bool"),
        pytest.param(lambda user: {"tv": "abc"}, id="tv-not-a-number"),
        pytest.param(lambda user: {"tv": None}, id="tv-null"),
        pytest.param(lambda user: {"tv": [1]}, id="tv-list"),
        pytest.param(lambda user: {"tv": {"v": 1}}, id="tv-object"),
        pytest.param(lambda user: {"tv": -1}, id="tv-negative"),
        pytest.param(lambda user: {"tv": 10**30}, id="tv-huge"),
        pytest.param(lambda user: {"jti": 7}, id="jti-number"),
        pytest.param(lambda user: {"typ": None}, id="typ-null"),
        pytest.param(lambda user: {"exp": 10**20}, id="exp-beyond-datetime"),
    ],
)
async def test_odd_claims_signed_with_our_key_are_refused(gql, settings, ann, claim):
    claims = _claims(settings, str(ann.id), tv=1) | claim(ann)
    token = jwt.encode(claims, settings.signing_key, "HS256")

    assert await _me(gql, token) == _refused()


async def test_a_missing_token_version_is_refused(gql, settings, make_user):
    user = await make_user(email="old@example.com")  # token_version 0, what `tv` used to default to
    claims = _claims(settings, str(user.id))
    del claims["tv"]

    assert await _me(gql, jwt.encode(claims, settings.signing_key, "HS256")) == _refused()


@pytest.mark.parametrize(
    ("claim", "raw"),
    [
        ("tv", "1e400"),
        ("tv", "NaN"),
        ("tv", "-Infinity"),
        ("tv", "1" * 5000),
        ("exp", "1e400"),
        ("exp", "NaN"),
        ("sub", "1" * 5000),
    ],
)
async def test_numbers_no_encoder_would_write_are_refused(gql, settings, ann, claim, raw):
    payload = json.dumps(_claims(settings, str(ann.id), tv=1) | {claim: "__RAW__"})
    token = _raw_json_token(settings, payload.replace('"__RAW__"', raw))

    assert await _me(gql, token) == _refused()


@pytest.mark.parametrize("payload", ["[]", '"a string"', "{", "null"])
async def test_payloads_that_are_not_claims_are_refused(gql, settings, payload):
    assert await _me(gql, _raw_json_token(settings, payload)) == _refused()


async def test_the_right_token_still_works(gql, settings, ann):
    token = jwt.encode(_claims(settings, str(ann.id), tv=1), settings.signing_key, "HS256")

    status, body = await _me(gql, token)

    assert status == 200 and "errors" not in body
    assert body["data"]["me"]["id"]
