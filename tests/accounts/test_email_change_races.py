"""Two accounts confirming a change to the same new address at once, through the API on
committed data: one gets it, the other a UNIQUE user error, never a database error."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth import tokens
from app.services.accounts.tokens import RegistrationData, register_account
from models.account_tokens import AccountToken
from models.accounts import User
from tests.accounts.flows import CONFIRM_CHANGE
from tests.conftest import PASSWORD

PREFIX = "race-change-"
TARGET = f"{PREFIX}wanted@example.com"
ROUNDS = 5


@pytest.fixture
def factory(committed_sessions) -> async_sessionmaker[AsyncSession]:
    """Committed sessions; the test's accounts go after."""
    return committed_sessions.remove_after(delete(User).where(User.email.startswith(PREFIX)))


async def _pending_changes(factory, settings, round_: int) -> list[str]:
    """Two committed accounts, each with an unused email-change link to TARGET."""
    links = []
    async with factory() as session, session.begin():
        for name in ("a", "b"):
            user = await register_account(
                session,
                data=RegistrationData(f"{PREFIX}{name}{round_}@example.com", PASSWORD),
                settings=settings,
            )
            token, digest = tokens.new_refresh_token()
            session.add(
                AccountToken(
                    user_id=user.id,
                    purpose="email_change",
                    token_hash=digest,
                    new_email=TARGET,
                    expires_at=datetime.now(UTC) + timedelta(hours=1),
                )
            )
            links.append(token)
    return links


async def _confirm(http, token: str) -> str:
    response = await http.post(
        "/graphql", json={"query": CONFIRM_CHANGE, "variables": {"token": token}}
    )
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    errors = body["data"]["confirmEmailChange"]["userErrors"]
    return "ok" if not errors else f"{errors[0]['field'][0]}:{errors[0]['code']}"


async def test_one_of_two_concurrent_changes_to_one_address_wins(start_app, factory, settings):
    async with start_app(bind=False) as (_, http):
        for round_ in range(ROUNDS):
            links = await _pending_changes(factory, settings, round_)

            results = await asyncio.gather(*(_confirm(http, link) for link in links))

            assert sorted(results) == ["ok", "token:UNIQUE"], results
            async with factory() as session:
                owners = await session.scalar(select(func.count()).where(User.email == TARGET))
            assert owners == 1
            async with factory() as session, session.begin():
                await session.execute(delete(User).where(User.email.startswith(PREFIX)))
