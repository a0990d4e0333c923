"""Open sockets lose their user's rights in time: deactivation, token version, expiry."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.auth.tokens import create_access_token, decode_access_token
from app.db import create_session_factory
from app.services.accounts.tokens import RegistrationData, register_account, set_user_active
from app.settings import Settings
from app.ws import RECHECK_TASK_NAME
from models.accounts import User
from models.notifications import Notification
from tests.conftest import PASSWORD
from tests.graphql_client import GraphQLClient
from tests.test_websocket import (
    ACCOUNT_EVENTS,
    ACK,
    SIGNED_IN,
    connect,
    init,
    receive,
    ws_client,
)
from tests.test_websocket_protocol import (
    close_and_messages,
    next_event,
    open_subscription,
    sign_in_token,
)

DOMAIN = "@ws-hardening.example.com"
ALICE = f"alice{DOMAIN}"
BOB = f"bob{DOMAIN}"
RECHECK = 0.2  # seconds between re-checks where a test waits for one
BOUND = RECHECK + 1.0  # a lost user's socket must be closed this soon
PONG = {"type": "pong"}
FORBIDDEN = (4403, "Forbidden")
NEW_PASSWORD = "another-Staple-horse-7"
PASSWORD_CHANGE = """
mutation($old: String!, $new: String!) {
  passwordChange(oldPassword: $old, newPassword: $new) { accessToken userErrors { code } }
}"""


@dataclass
class Committed:
    """Accounts committed on their own connections, for an app that is not bound to the test."""

    factory: async_sessionmaker[AsyncSession]
    settings: Settings

    async def user(self, email: str) -> User:
        async with self.factory() as session, session.begin():
            return await register_account(
                session,
                data=RegistrationData(email=email, password=PASSWORD),
                settings=self.settings,
            )

    async def deactivate(self, user: User) -> None:
        async with self.factory() as session, session.begin():
            await set_user_active(session, user_id=user.id, active=False)


@pytest.fixture
async def committed(engine: AsyncEngine, settings: Settings) -> AsyncIterator[Committed]:
    accounts = Committed(create_session_factory(engine), settings)
    try:
        yield accounts
    finally:
        async with accounts.factory() as session, session.begin():
            await session.execute(
                delete(Notification).where(Notification.recipient.endswith(DOMAIN))
            )
            await session.execute(delete(User).where(User.email.endswith(DOMAIN)))


def _recheck_tasks() -> list[asyncio.Task[Any]]:
    return [task for task in asyncio.all_tasks() if task.get_name() == RECHECK_TASK_NAME]


async def test_deactivation_closes_the_users_socket_with_4403_and_no_one_elses(
    start_app: Callable[..., Any], committed: Committed
) -> None:
    alice, _ = await committed.user(ALICE), await committed.user(BOB)
    async with (
        start_app(bind=False, ws_auth_recheck_seconds=RECHECK) as (app, http),
        ws_client(app) as client,
        connect(client) as alice_ws,
        connect(client) as bob_ws,
    ):
        await open_subscription(alice_ws, await sign_in_token(http, ALICE))
        await open_subscription(bob_ws, await sign_in_token(http, BOB))
        before = await next_event(alice_ws, http, ALICE)
        await committed.deactivate(alice)
        deactivated = time.monotonic()
        code, reason, late = await close_and_messages(alice_ws)
        took = time.monotonic() - deactivated
        bob_still = await next_event(bob_ws, http, BOB)

    assert before == {"id": "1", "type": "next", "payload": SIGNED_IN}
    assert (code, reason) == FORBIDDEN
    assert took < BOUND
    assert all(message == before for message in late), late  # retried sign-ins, nothing else
    assert bob_still == {"id": "1", "type": "next", "payload": SIGNED_IN}


async def test_a_password_change_closes_the_sockets_of_the_old_token_with_4403(
    start_app: Callable[..., Any], committed: Committed
) -> None:
    await committed.user(ALICE)
    async with (
        start_app(bind=False, ws_auth_recheck_seconds=RECHECK) as (app, http),
        ws_client(app) as client,
    ):
        old = await sign_in_token(http, ALICE)
        async with connect(client) as ws:
            await open_subscription(ws, old)
            live = await next_event(ws, http, ALICE)
            changed = (
                await GraphQLClient(http)
                .as_user(old)
                .execute(PASSWORD_CHANGE, old=PASSWORD, new=NEW_PASSWORD)
            )
            bumped = time.monotonic()
            code, reason, before_close = await close_and_messages(ws)
            took = time.monotonic() - bumped
        async with connect(client) as ws:
            await init(ws, changed["passwordChange"]["accessToken"])
            new_token_ack = await receive(ws)

    assert live == {"id": "1", "type": "next", "payload": SIGNED_IN}
    assert changed["passwordChange"]["userErrors"] == []
    assert (code, reason) == FORBIDDEN
    assert took < BOUND
    # The change itself may still be relayed (after retried sign-ins); nothing after it is.
    revoked = {
        "id": "1",
        "type": "next",
        "payload": {"data": {"accountEvents": {"kind": "TOKENS_REVOKED"}}},
    }
    assert [message for message in before_close if message != live] in ([], [revoked])
    assert new_token_ack == ACK


async def test_an_expired_access_token_closes_the_socket_at_its_exp(
    start_app: Callable[..., Any], committed: Committed, settings: Settings
) -> None:
    user = await committed.user(ALICE)
    issued = datetime.now(UTC) - timedelta(seconds=settings.access_token_ttl_seconds - 2)
    token = create_access_token(settings, user_id=user.id, token_version=0, now=issued)
    expires = decode_access_token(settings, token).expires_at.timestamp()
    # Re-checks far apart: only the timer at `exp` can close it in time.
    async with (
        start_app(bind=False, ws_auth_recheck_seconds=3_600) as (app, http),
        ws_client(app) as client,
        connect(client) as ws,
    ):
        await open_subscription(ws, token)
        live = await next_event(ws, http, ALICE)
        code, reason, _ = await close_and_messages(ws)
        closed_at = time.time()

    assert live == {"id": "1", "type": "next", "payload": SIGNED_IN}
    assert (code, reason) == FORBIDDEN
    assert expires - 0.1 <= closed_at < expires + 1.0


@pytest.mark.parametrize("loss", ["deactivated", "password changed"])
async def test_a_subscribe_after_the_user_lost_access_is_refused_with_4403(
    start_app: Callable[..., Any],
    make_user: Callable[..., Any],
    session_factory: async_sessionmaker[AsyncSession],
    loss: str,
) -> None:
    user = await make_user(email=ALICE)
    # No periodic re-check during the test: the subscribe itself must notice.
    async with (
        start_app(ws_auth_recheck_seconds=3_600) as (app, http),
        ws_client(app) as client,
        connect(client) as ws,
    ):
        token = await sign_in_token(http, ALICE)
        await open_subscription(ws, token)  # while allowed, a subscribe works
        live = await next_event(ws, http, ALICE)
        if loss == "deactivated":
            async with session_factory() as session, session.begin():
                await set_user_active(session, user_id=user.id, active=False)
        else:
            changed = (
                await GraphQLClient(http)
                .as_user(token)
                .execute(PASSWORD_CHANGE, old=PASSWORD, new=NEW_PASSWORD)
            )
            assert changed["passwordChange"]["userErrors"] == []
        await ws.send_json({"id": "2", "type": "subscribe", "payload": ACCOUNT_EVENTS})
        code, reason, messages = await close_and_messages(ws)

    assert live == {"id": "1", "type": "next", "payload": SIGNED_IN}
    assert (code, reason) == FORBIDDEN
    # Only subscription 1 may still have relayed something (its retried sign-ins, the change).
    assert [message["id"] for message in messages] == ["1"] * len(messages)


async def test_a_database_stall_is_logged_and_retried_without_closing_the_socket(
    start_app: Callable[..., Any], committed: Committed, caplog: pytest.LogCaptureFixture
) -> None:
    user = await committed.user(ALICE)
    caplog.set_level(logging.WARNING, logger="app.ws")
    async with (
        start_app(
            bind=False, ws_auth_recheck_seconds=RECHECK, database_statement_timeout_ms=300
        ) as (app, http),
        ws_client(app) as client,
        connect(client) as ws,
    ):
        await open_subscription(ws, await sign_in_token(http, ALICE))
        async with committed.factory() as locker, locker.begin():
            # Every re-check's read of the user now waits, and hits the statement timeout.
            await locker.execute(text("LOCK TABLE users IN ACCESS EXCLUSIVE MODE"))
            for _ in range(100):  # two failed re-checks, however slow the machine is
                if len([r for r in caplog.records if "re-check failed" in r.getMessage()]) >= 2:
                    break
                await asyncio.sleep(0.1)
            await ws.send_json({"type": "ping"})
            during_stall = await receive(ws)
            await set_user_active(locker, user_id=user.id, active=False)
        released = time.monotonic()
        code, reason, _ = await close_and_messages(ws)
        took = time.monotonic() - released

    failures = [r for r in caplog.records if "re-check failed" in r.getMessage()]
    assert len(failures) >= 2
    assert all(r.levelno == logging.WARNING for r in failures)
    assert during_stall == PONG
    assert (code, reason) == FORBIDDEN
    assert took < BOUND


async def test_rechecks_hold_no_database_connection_between_checks(
    start_app: Callable[..., Any], committed: Committed
) -> None:
    user = await committed.user(ALICE)
    async with (
        start_app(bind=False, ws_auth_recheck_seconds=0.05) as (app, http),
        ws_client(app) as client,
        connect(client) as one,
        connect(client) as two,
        connect(client) as three,
    ):
        pool = app.state.resources.engine.pool
        token = await sign_in_token(http, ALICE)
        for ws in (one, two, three):
            await open_subscription(ws, token)
        checked_out = []
        for _ in range(50):
            checked_out.append(pool.checkedout())
            await asyncio.sleep(0.01)
        await committed.deactivate(user)
        closes = [(await close_and_messages(ws))[:2] for ws in (one, two, three)]

    assert min(checked_out) == 0
    assert closes == [FORBIDDEN] * 3  # and the re-checks did run all along


async def test_the_recheck_stops_when_the_socket_closes(
    start_app: Callable[..., Any], make_user: Callable[..., Any]
) -> None:
    await make_user(email=ALICE)
    async with start_app(ws_auth_recheck_seconds=3_600) as (app, http), ws_client(app) as client:
        token = await sign_in_token(http, ALICE)
        async with connect(client) as ws:
            await init(ws, token)
            assert await receive(ws) == ACK
            while_open = len(_recheck_tasks())
        for _ in range(100):
            if not _recheck_tasks():
                break
            await asyncio.sleep(0.01)
        after_close = _recheck_tasks()

    assert while_open == 1
    assert after_close == []


async def test_an_anonymous_socket_is_not_rechecked(start_app: Callable[..., Any]) -> None:
    async with (
        start_app(ws_auth_recheck_seconds=0.05) as (app, _),
        ws_client(app) as client,
        connect(client) as ws,
    ):
        await init(ws)
        ack = await receive(ws)
        await asyncio.sleep(0.3)
        tasks = _recheck_tasks()
        await ws.send_json({"type": "ping"})
        pong = await receive(ws)

    assert ack == ACK
    assert tasks == []
    assert pong == PONG
