"""Leases under stress: a batch slower than its lease, a worker that lost its lease, a
message that kills its worker every time."""

from __future__ import annotations

import asyncio
import email
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.policy import default

import pytest
from aiosmtpd.controller import Controller
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.notifications.channels import DeliveryError, Message, Router
from app.notifications.worker import WorkerConfig, run_once
from tests.conftest import make_settings
from tests.fakes.local_server import LocalServer
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN
from tests.notifications.conftest import (
    CountingChannel,
    committed_rows,
    free_port,
    outbox_rows,
)


class SlowInbox:
    """An SMTP server that takes `delay` seconds per message and may refuse some keys."""

    def __init__(self, delay: float, refuse: frozenset[str] = frozenset()) -> None:
        self.delay = delay
        self.refuse = refuse
        self.keys: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)
        key = email.message_from_bytes(envelope.content, policy=default)["X-Idempotency-Key"]
        if key in self.refuse:
            return "451 4.3.0 Try again later"
        self.keys.append(key)
        return "250 OK"


def _smtp(inbox: SlowInbox) -> tuple[Controller, Router]:
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    settings = make_settings(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    return controller, Router(settings)


async def test_a_batch_slower_than_its_lease_is_still_delivered_once(factory):
    """A's SMTP relay takes 2.2 s per message with a 1 s lease, while B polls all along: the
    heartbeat keeps A's 10 sends in flight, B takes only the 5 rows still waiting, and A
    sends none of those once it gets to them."""
    keys = await committed_rows(factory, 15, channel="email")  # 10 in flight, 5 waiting
    refused = keys[0]  # in A's first 10: fails after the slow send, must not be re-sent
    slow, fast = SlowInbox(2.2, refuse=frozenset({refused})), SlowInbox(0)
    (slow_smtp, worker_a), (fast_smtp, worker_b) = _smtp(slow), _smtp(fast)
    # The refused message waits far longer than A runs, however slow the machine: B must
    # not see it again within this test.
    config = WorkerConfig(lease_seconds=1.0, backoff_base_seconds=600.0)
    a_claimed, a_done = asyncio.Event(), asyncio.Event()

    async def note_a(ids: list[int]) -> None:
        a_claimed.set()

    async def first() -> int:
        try:
            return await run_once(
                factory, channel=worker_a, batch_size=15, config=config, while_locked=note_a
            )
        finally:
            a_done.set()

    async def second() -> int:
        await a_claimed.wait()  # A's rows are locked now: B starts polling and skips them
        claimed = 0
        while not a_done.is_set():
            claimed += await run_once(factory, channel=worker_b, config=config)
            await asyncio.sleep(0.05)
        return claimed + await run_once(factory, channel=worker_b, config=config)

    slow_smtp.start()
    fast_smtp.start()
    try:
        a_claimed, b_claimed = await asyncio.wait_for(asyncio.gather(first(), second()), 20)
    finally:
        slow_smtp.stop()
        fast_smtp.stop()

    assert (a_claimed, b_claimed) == (15, 5)
    assert sorted(slow.keys) == sorted(keys[1:10])
    assert sorted(fast.keys) == sorted(keys[10:])
    assert Counter(slow.keys + fast.keys) == dict.fromkeys(keys[1:], 1)
    rows = {row.idempotency_key: row for row in await outbox_rows(factory)}
    failed = rows.pop(refused)
    assert (failed.status, failed.attempts, failed.claim_token) == ("pending", 1, None)
    assert "451" in (failed.last_error or "")
    assert failed.next_attempt_at > datetime.now(UTC)  # backing off, not due again yet
    assert {
        (row.status, row.attempts, row.locked_until, row.claim_token) for row in rows.values()
    } == {("sent", 0, None, None)}


class Gated:
    """Starts a send, then waits for `release`; delivers, or fails when `fail` is set."""

    def __init__(self, *, fail: bool = False) -> None:
        self.started, self.release = asyncio.Event(), asyncio.Event()
        self.fail = fail
        self.sent: list[str] = []

    async def send(self, message: Message) -> None:
        self.started.set()
        await self.release.wait()
        if self.fail:
            raise DeliveryError("relay said no")
        self.sent.append(message.idempotency_key)


@pytest.mark.parametrize("stale_outcome", ["delivered", "failed"])
async def test_a_worker_whose_lease_was_taken_over_records_nothing(
    factory, spawn, tmp_path, stale_outcome
):
    """A stalls past its lease (a paused process, a clock jump) and B takes the row over.
    A's heartbeat and late outcome must neither pull back, finish nor release B's claim."""
    [key] = await committed_rows(factory, 1)
    t0 = datetime.now(UTC)
    a_config = WorkerConfig(lease_seconds=0.3)  # A's heartbeat beats every 0.1 s
    config = WorkerConfig(lease_seconds=30)
    a, b = Gated(fail=stale_outcome == "failed"), Gated()
    first = spawn(run_once(factory, channel=a, now=t0, config=a_config))
    await asyncio.wait_for(a.started.wait(), 5)
    taken_over = t0 + timedelta(seconds=60)  # A's clock runs a minute behind B's
    second = spawn(run_once(factory, channel=b, now=taken_over, config=config))
    await asyncio.wait_for(b.started.wait(), 5)
    [b_claim] = await outbox_rows(factory)
    await asyncio.sleep(0.35)  # A's heartbeat has tried to renew, to its own clock, by now

    a.release.set()
    assert await asyncio.wait_for(first, 5) == 1
    [row] = await outbox_rows(factory)
    assert (row.status, row.attempts, row.last_error) == ("sending", 2, None)
    assert (row.claim_token, row.locked_until) == (b_claim.claim_token, b_claim.locked_until)
    assert row.locked_until is not None and row.locked_until > taken_over
    bystander = CountingChannel(tmp_path / "outbox")
    assert await run_once(factory, channel=bystander, now=taken_over, config=config) == 0

    b.release.set()
    assert await asyncio.wait_for(second, 5) == 1
    [row] = await outbox_rows(factory)
    # A's send was lost with its lease: one failed attempt, then B's delivery.
    assert (row.status, row.attempts, row.claim_token, row.locked_until) == ("sent", 1, None, None)
    assert b.sent == [key] and bystander.sent == []


class Hang:
    async def send(self, message: Message) -> None:
        await asyncio.Event().wait()


async def test_a_message_that_kills_its_worker_every_time_ends_dead(factory, spawn, tmp_path):
    """Each crash mid-send counts as an attempt; out of attempts, the row is given up at
    its next claim instead of being sent again."""
    [key] = await committed_rows(factory, 1, max_attempts=3)
    now = datetime.now(UTC)
    config = WorkerConfig(lease_seconds=30)
    for attempt in range(1, 4):
        crashed = spawn(run_once(factory, channel=Hang(), now=now, config=config))
        for _ in range(200):
            [row] = await outbox_rows(factory)
            if row.attempts == attempt:
                break
            await asyncio.sleep(0.01)
        crashed.cancel()
        await asyncio.gather(crashed, return_exceptions=True)
        [row] = await outbox_rows(factory)
        assert (row.status, row.attempts) == ("sending", attempt)
        now += timedelta(seconds=31)

    channel = CountingChannel(tmp_path / "outbox")
    assert await run_once(factory, channel=channel, now=now, config=config) == 0
    [row] = await outbox_rows(factory)
    assert (row.status, row.attempts, row.locked_until, row.claim_token) == ("dead", 3, None, None)
    assert row.last_error == (
        "gave up after 3 attempts: the last send never finished (worker died or hung)"
    )
    later = now + timedelta(days=1)
    assert await run_once(factory, channel=channel, now=later, config=config) == 0
    assert channel.sent == [] and key not in {p.stem for p in tmp_path.glob("outbox/*")}


async def _refuse_garbled(request: Request) -> Response:
    """Twilio's error shape; its message has a NUL and a lone surrogate (legal JSON escapes)."""
    body = b'{"code": 30001, "message": "queue\\u0000full \\udcff", "status": 503}'
    return Response(body, 503, media_type="application/json")


async def test_a_provider_error_with_a_nul_byte_is_stored_and_retried(factory, tmp_path):
    """PostgreSQL text holds neither NUL nor lone surrogates: stored escaped, then backoff."""
    await committed_rows(factory, 1, channel="sms")
    app = Starlette(routes=[Route("/{path:path}", _refuse_garbled, methods=["POST"])])
    with LocalServer(app) as provider:
        settings = make_settings(
            data_dir=tmp_path,
            sms_api_url=provider.url,
            sms_account_sid=ACCOUNT_SID,
            sms_auth_token=SecretStr(AUTH_TOKEN),
            sms_from="+15005550006",
        )
        assert await run_once(factory, channel=Router(settings)) == 1

    [row] = await outbox_rows(factory)
    assert (row.status, row.attempts, row.claim_token) == ("pending", 1, None)
    assert row.last_error == "SMS provider HTTP 503: queue\\x00full \\udcff (code 30001)"
