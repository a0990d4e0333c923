"""Rate limits, every rule: tripping, telling when to retry, recovering, sharing, and no write
by the refused attempt."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from unittest.mock import ANY

import pytest
from sqlalchemy import select

from app.auth.social import clear_jwks_cache
from app.services.accounts.tokens import INVALID_CREDENTIALS
from models.account_tokens import AccountToken
from models.accounts import RefreshToken, User
from models.notifications import Notification
from tests.accounts.flows import REQUEST_RESET, RESET_URL, SHOP
from tests.conftest import PASSWORD, TOKEN_CREATE
from tests.fakes.google_jwks import CLIENT_ID, FakeGoogle

REGISTER = """mutation($email: String!) {
  accountRegister(input: {email: $email, password: "a-Good-passphrase-7"}) { userErrors { code } }
}"""


def assert_rate_limited(response, *, longest: int) -> None:
    """The answer is only a RATE_LIMITED error saying, in 1..`longest` seconds, when to retry."""
    body = response.json()
    [error] = body["errors"]
    retry = error["extensions"]["retryAfter"]
    assert 1 <= retry <= longest
    assert error == {
        "message": f"Too many attempts. Try again in {retry} seconds.",
        "locations": ANY,
        "path": ANY,
        "extensions": {"code": "RATE_LIMITED", "retryAfter": retry},
    }
    assert body["data"] is None


SOCIAL = """mutation($token: String!) {
  socialTokenCreate(provider: GOOGLE, token: $token) { userErrors { field code } } }"""


def _reset(email: str) -> dict:
    return {"query": REQUEST_RESET, "variables": {"email": email, "url": RESET_URL}}


def _social(token: str) -> dict:
    return {"query": SOCIAL, "variables": {"token": token}}


def _sign_in(email: str, password: str = PASSWORD) -> dict:
    return {"query": TOKEN_CREATE, "variables": {"email": email, "password": password}}


async def test_sign_in_per_account_trips_says_when_and_recovers(start_app, make_user):
    await make_user(email="ann@example.com")
    async with start_app(
        rate_limits_enabled=True,
        rate_limit_sign_in_account="3/2second",
        pubsub_prefix=f"rl-{uuid.uuid4()}",
    ) as (_, http):
        wrong = [
            await http.post("/graphql", json=_sign_in("ann@example.com", "nope-1"))
            for _ in range(3)
        ]
        blocked = await http.post("/graphql", json=_sign_in("ANN@example.com"))
        other = await http.post("/graphql", json=_sign_in("bob@example.com", "nope-1"))
        await asyncio.sleep(2.1)
        recovered = await http.post("/graphql", json=_sign_in("ann@example.com"))

    for response in wrong:
        assert response.json()["data"]["tokenCreate"]["userErrors"] == [
            {"field": ["email"], "code": "INVALID_CREDENTIALS", "message": INVALID_CREDENTIALS}
        ]
    assert_rate_limited(blocked, longest=2)
    assert other.json()["data"]["tokenCreate"]["userErrors"] == [
        {"field": ["email"], "code": "INVALID_CREDENTIALS", "message": INVALID_CREDENTIALS}
    ]
    assert recovered.json()["data"]["tokenCreate"]["userErrors"] == []


async def test_registration_is_limited_per_address(start_app, count):
    async with start_app(
        rate_limits_enabled=True,
        rate_limit_register_ip="2/minute",
        pubsub_prefix=f"rl-{uuid.uuid4()}",
    ) as (_, http):
        results = [
            await http.post(
                "/graphql", json={"query": REGISTER, "variables": {"email": f"u{i}@example.com"}}
            )
            for i in range(3)
        ]

    assert [r.json()["data"]["accountRegister"]["userErrors"] for r in results[:2]] == [[], []]
    assert_rate_limited(results[2], longest=60)
    assert await count(User) == 2


async def test_redis_limits_are_shared_by_two_app_instances(start_app, make_user, redis_url):
    await make_user(email="ann@example.com")
    shared = {
        "rate_limits_enabled": True,
        "rate_limit_sign_in_account": "2/minute",
        "redis_url": redis_url,
        "pubsub_prefix": f"rl-{uuid.uuid4()}",
    }
    async with start_app(**shared) as (_, first), start_app(**shared) as (_, second):
        one = await first.post("/graphql", json=_sign_in("ann@example.com", "nope-1"))
        two = await second.post("/graphql", json=_sign_in("ann@example.com", "nope-1"))
        three = await first.post("/graphql", json=_sign_in("ann@example.com"))
        four = await second.post("/graphql", json=_sign_in("ann@example.com"))

    for response in (one, two):
        assert response.json()["data"]["tokenCreate"]["userErrors"] == [
            {"field": ["email"], "code": "INVALID_CREDENTIALS", "message": INVALID_CREDENTIALS}
        ]
    assert_rate_limited(three, longest=60)
    assert_rate_limited(four, longest=60)


def _limited(**rules: str) -> dict:
    """Settings for an app with only `rules` tight, its counters in a namespace of its own."""
    return {"rate_limits_enabled": True, "pubsub_prefix": f"rl-{uuid.uuid4()}", **rules}


async def test_sign_in_per_address_trips_and_the_refused_attempt_writes_nothing(
    start_app, make_user, count, session_factory
):
    for name in ("ann", "bob", "cid"):
        await make_user(email=f"{name}@example.com")
    async with start_app(**_limited(rate_limit_sign_in_ip="2/minute")) as (_, http):
        allowed = [
            await http.post("/graphql", json=_sign_in(f"{name}@example.com"))
            for name in ("ann", "bob")
        ]
        # Another account, the right password: only the address is over its limit.
        blocked = await http.post("/graphql", json=_sign_in("cid@example.com"))

    assert [r.json()["data"]["tokenCreate"]["userErrors"] for r in allowed] == [[], []]
    assert_rate_limited(blocked, longest=60)
    assert await count(RefreshToken) == 2
    async with session_factory() as session:
        cid = await session.scalar(select(User).where(User.email == "cid@example.com"))
    assert cid is not None and cid.last_login_at is None


async def test_reset_per_address_trips_and_mails_nothing(start_app, make_user, count):
    for name in ("ann", "bob", "cid"):
        await make_user(email=f"{name}@example.com")
    settings = _limited(rate_limit_reset_ip="2/minute", account_redirect_origins=[SHOP])
    async with start_app(**settings) as (_, http):
        answers = [
            await http.post("/graphql", json=_reset(f"{name}@example.com"))
            for name in ("ann", "bob", "cid")
        ]

    assert [r.json()["data"]["requestPasswordReset"] for r in answers[:2]] == [
        {"userErrors": []},
        {"userErrors": []},
    ]
    assert_rate_limited(answers[2], longest=60)
    assert await count(Notification) == 2
    assert await count(Notification, Notification.recipient == "cid@example.com") == 0
    assert await count(AccountToken) == 2


async def test_reset_per_account_trips_in_any_spelling_and_mails_nothing(
    start_app, make_user, count
):
    await make_user(email="ann@example.com")
    await make_user(email="bob@example.com")
    settings = _limited(rate_limit_reset_account="2/minute", account_redirect_origins=[SHOP])
    async with start_app(**settings) as (_, http):
        answers = [
            await http.post("/graphql", json=_reset(spelling))
            for spelling in ("ann@example.com", "ANN@example.com ", " Ann@Example.COM")
        ]
        other = await http.post("/graphql", json=_reset("bob@example.com"))

    assert [r.json()["data"]["requestPasswordReset"]["userErrors"] for r in answers[:2]] == [
        [],
        [],
    ]
    assert_rate_limited(answers[2], longest=60)
    assert other.json()["data"]["requestPasswordReset"]["userErrors"] == []
    assert await count(Notification, Notification.recipient == "ann@example.com") == 2
    assert await count(Notification, Notification.recipient == "bob@example.com") == 1


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    clear_jwks_cache()
    with FakeGoogle() as fake:
        yield fake
    clear_jwks_cache()


async def test_social_sign_in_shares_the_sign_in_limit_and_creates_nothing(
    start_app, make_user, google, count
):
    await make_user(email="ann@example.com")
    settings = _limited(
        rate_limit_sign_in_ip="2/minute",
        google_client_id=CLIENT_ID,
        google_jwks_url=google.jwks_url,
    )
    async with start_app(**settings) as (_, http):
        password = await http.post("/graphql", json=_sign_in("ann@example.com"))
        first = await http.post("/graphql", json=_social(google.id_token(email="g1@gmail.com")))
        blocked = await http.post("/graphql", json=_social(google.id_token(email="g2@gmail.com")))

    assert password.json()["data"]["tokenCreate"]["userErrors"] == []
    assert first.json()["data"]["socialTokenCreate"]["userErrors"] == []
    assert_rate_limited(blocked, longest=60)
    assert await count(User, User.email == "g2@gmail.com") == 0
    assert await count(User) == 2
    assert await count(RefreshToken) == 2
