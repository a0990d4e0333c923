"""Sign-in and registration rate limits: tripping, telling when to retry, recovering, sharing."""

from __future__ import annotations

import asyncio
import uuid

from tests.conftest import PASSWORD, TOKEN_CREATE

REGISTER = """mutation($email: String!) {
  accountRegister(input: {email: $email, password: "a-Good-passphrase-7"}) { userErrors { code } }
}"""


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
        assert response.json()["data"]["tokenCreate"]["userErrors"][0]["code"] == (
            "INVALID_CREDENTIALS"
        )
    error = blocked.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert 1 <= error["extensions"]["retryAfter"] <= 2
    assert "Try again in" in error["message"]
    assert other.json()["data"]["tokenCreate"]["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    assert recovered.json()["data"]["tokenCreate"]["userErrors"] == []


async def test_registration_is_limited_per_address(start_app, count):
    from models.accounts import User

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
    assert results[2].json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
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

    assert "errors" not in one.json() and "errors" not in two.json()
    assert three.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert four.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
