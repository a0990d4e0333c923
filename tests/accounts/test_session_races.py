"""Sessions racing a credential change, through the API on committed data: refreshes,
sign-ins and reset links used at the same moment as a password change leave no session
behind it and get coded answers, never a deadlock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth import tokens
from app.auth.passwords import hash_password
from app.services.accounts.tokens import RegistrationData, register_account
from models.account_tokens import AccountToken
from models.accounts import RefreshToken, User
from tests.accounts.flows import SET_PASSWORD, sign_in
from tests.conftest import PASSWORD, TOKEN_CREATE

EMAIL = "race-session@example.com"
NEW_PASSWORD = "another-Staple-horse-7"
MAX_REFRESHES = 300
THIEVES = 4
MAX_SIGN_INS = 50
ROUNDS = 4
ROTATE = """mutation($t: String!) {
  tokenRefresh(refreshToken: $t) { refreshToken userErrors { code } } }"""
PASSWORD_CHANGE = """mutation($old: String!, $new: String!) {
  passwordChange(oldPassword: $old, newPassword: $new) { refreshToken userErrors { code } } }"""


@pytest.fixture
async def factory(committed_sessions, settings) -> async_sessionmaker[AsyncSession]:
    """Committed sessions with one committed account; removed after the test."""
    factory = committed_sessions.remove_after(delete(User).where(User.email == EMAIL))
    async with factory() as session, session.begin():
        await register_account(session, data=RegistrationData(EMAIL, PASSWORD), settings=settings)
    return factory


async def _post(http, query: str, bearer: str | None = None, **variables) -> dict:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body["data"]


async def _live_refresh_tokens(factory) -> int:
    async with factory() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(RefreshToken)
                .join(User, User.id == RefreshToken.user_id)
                .where(
                    User.email == EMAIL,
                    RefreshToken.revoked_at.is_(None),
                    RefreshToken.used_at.is_(None),
                )
            )
            or 0
        )


async def test_refresh_chains_racing_a_password_change_die_with_it(start_app, factory):
    async with start_app(bind=False) as (_, http):
        victim = await sign_in(http, EMAIL)
        stolen = [(await sign_in(http, EMAIL))["refreshToken"] for _ in range(THIEVES)]

        async def thief(token: str) -> list[str]:
            """Refresh as fast as possible until refused; the answers, in order."""
            answers = []
            for _ in range(MAX_REFRESHES):
                data = (await _post(http, ROTATE, t=token))["tokenRefresh"]
                if data["userErrors"]:
                    return [*answers, *(e["code"] for e in data["userErrors"])]
                answers.append("ok")
                token = data["refreshToken"]
            return answers

        async def change() -> dict:
            await asyncio.sleep(0.05)  # every thief is mid-chain by now
            data = await _post(
                http, PASSWORD_CHANGE, victim["accessToken"], old=PASSWORD, new=NEW_PASSWORD
            )
            return data["passwordChange"]

        *chains, payload = await asyncio.gather(*(thief(t) for t in stolen), change())

    assert payload["userErrors"] == []
    # Each chain runs until the change revokes it, and then it is refused: only the
    # session the change handed out is alive.
    assert [chain[-1] for chain in chains] == ["INVALID_TOKEN"] * THIEVES, [
        len(chain) for chain in chains
    ]
    assert await _live_refresh_tokens(factory) == 1


async def test_sign_ins_racing_a_password_change_leave_no_session(start_app, factory):
    async with start_app(bind=False) as (_, http):
        victim = await sign_in(http, EMAIL)

        async def thief() -> list[str]:
            """Sign in with the old password again and again until it stops working."""
            answers = []
            for _ in range(MAX_SIGN_INS):
                data = await _post(http, TOKEN_CREATE, email=EMAIL, password=PASSWORD)
                codes = [e["code"] for e in data["tokenCreate"]["userErrors"]]
                answers.append(codes[0] if codes else "ok")
                if codes:
                    break
            return answers

        async def change() -> dict:
            data = await _post(
                http, PASSWORD_CHANGE, victim["accessToken"], old=PASSWORD, new=NEW_PASSWORD
            )
            return data["passwordChange"]

        *attempts, payload = await asyncio.gather(*(thief() for _ in range(THIEVES)), change())

    assert payload["userErrors"] == []
    assert [answers[-1] for answers in attempts] == ["INVALID_CREDENTIALS"] * THIEVES
    assert await _live_refresh_tokens(factory) == 1


async def test_a_reset_link_used_during_a_password_change_gets_a_coded_answer(
    start_app, factory, settings
):
    for round_ in range(ROUNDS):
        async with factory() as session, session.begin():
            user = await session.scalar(select(User).where(User.email == EMAIL))
            assert user is not None
            user.password_hash = await hash_password(PASSWORD)
            link, digest = tokens.new_refresh_token()
            session.add(
                AccountToken(
                    user_id=user.id,
                    purpose="password_reset",
                    token_hash=digest,
                    expires_at=datetime.now(UTC) + timedelta(hours=1),
                )
            )
        async with start_app(bind=False) as (_, http):
            victim = await sign_in(http, EMAIL)

            async def use_link(link: str = link, round_: int = round_) -> dict:
                # Every other round the change goes first and holds the account's row
                # (checking the old password) while the link is being spent.
                await asyncio.sleep(0.03 * (round_ % 2))
                password = f"reset-Staple-horse-{round_}"
                return await _post(http, SET_PASSWORD, token=link, password=password)

            reset, changed = await asyncio.gather(
                use_link(),
                http.post(
                    "/graphql",
                    json={
                        "query": PASSWORD_CHANGE,
                        "variables": {"old": PASSWORD, "new": NEW_PASSWORD},
                    },
                    headers={"Authorization": f"Bearer {victim['accessToken']}"},
                ),
            )

        body = changed.json()
        if "errors" in body:  # the reset committed before this request was authenticated
            change_outcome = [e["extensions"]["code"] for e in body["errors"]]
            issued = None
        else:
            change_outcome = [e["code"] for e in body["data"]["passwordChange"]["userErrors"]]
            issued = body["data"]["passwordChange"]["refreshToken"]
        reset_outcome = [(e["field"][0], e["code"]) for e in reset["setPassword"]["userErrors"]]
        # One of them wins; the other finds its link voided or its password outdated.
        assert (reset_outcome, change_outcome) in (
            ([], ["INVALID_CREDENTIALS"]),
            ([], ["UNAUTHENTICATED"]),
            ([("token", "INVALID_TOKEN")], []),
        )
        assert await _live_refresh_tokens(factory) == (1 if issued else 0)
