"""The outbox: written with the transaction, delivered to files and SMTP, retried, given up."""

from __future__ import annotations

import email
import json
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from app.notifications.channels import Router
from app.notifications.worker import WorkerConfig, run_once
from app.services.notifications.outbox import enqueue
from models.notifications import Notification
from tests.conftest import make_settings
from tests.notifications.conftest import DOMAIN, free_port, outbox_rows


async def _enqueue(factory, *, channel="email", locale="en", max_attempts=8, n=1) -> list[str]:
    keys = []
    async with factory() as session, session.begin():
        for i in range(n):
            row = await enqueue(
                session,
                user_id=None,
                kind="account_security",
                channel=channel,
                recipient=f"user{i}{DOMAIN}" if channel == "email" else f"+4915100000{i}{DOMAIN}",
                template="account_security_notice",
                payload={"name": "Ada", "event": "password changed", "locale": locale},
                max_attempts=max_attempts,
            )
            keys.append(row.idempotency_key)
    return keys


async def test_enqueue_rolled_back_leaves_nothing(factory):
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with factory() as session, session.begin():
            await enqueue(
                session,
                user_id=None,
                kind="account_security",
                channel="email",
                recipient=f"gone{DOMAIN}",
                template="account_security_notice",
                payload={},
            )
            raise Boom

    async with factory() as session:
        count = await session.scalar(
            select(func.count()).where(Notification.recipient.endswith(DOMAIN))
        )
    assert count == 0


async def test_worker_delivers_to_files(factory, tmp_path):
    [mail] = await _enqueue(factory, locale="de")
    [sms] = await _enqueue(factory, channel="sms")
    router = Router(make_settings(data_dir=tmp_path, smtp_host=None))

    assert await run_once(factory, channel=router, batch_size=10) == 2

    outbox = tmp_path / "outbox"
    message = email.message_from_bytes((outbox / f"{mail}.eml").read_bytes(), policy=default)
    assert isinstance(message, EmailMessage)
    assert message["Subject"] == "Sicherheitshinweis: password changed"
    assert message["X-Idempotency-Key"] == mail
    assert mail in message["Message-ID"]
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and "ändern Sie bitte" in text.get_content()
    assert html is not None and "<strong>password changed</strong>" in html.get_content()
    body = json.loads((outbox / f"{sms}.json").read_text())
    assert body["idempotency_key"] == sms and body["channel"] == "sms"
    rows = await outbox_rows(factory)
    assert {row.status for row in rows} == {"sent"}
    assert all(row.sent_at is not None and row.locked_until is None for row in rows)
    assert await run_once(factory, channel=router, batch_size=10) == 0


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


async def test_worker_delivers_over_smtp(factory):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        [key] = await _enqueue(factory, locale="fr")  # no French template: English
        settings = make_settings(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
        assert await run_once(factory, channel=Router(settings), batch_size=10) == 1
    finally:
        controller.stop()

    [message] = inbox.messages
    assert message["Subject"] == "Security notice: password changed"
    assert message["Message-ID"] == f"<{key}@commerce.notifications>"
    assert message["X-Idempotency-Key"] == key
    assert message["To"] == f"user0{DOMAIN}"
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and "change your password now" in text.get_content()
    assert html is not None and "<p>Hello Ada,</p>" in html.get_content()
    [row] = await outbox_rows(factory)
    assert row.status == "sent"


async def test_provider_down_backs_off_then_dead(factory):
    port = free_port()  # nothing listens here
    settings = make_settings(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    config = WorkerConfig(backoff_base_seconds=10, backoff_cap_seconds=10_000)
    await _enqueue(factory, max_attempts=4)
    now = datetime.now(UTC)
    gaps = []
    for attempt in range(1, 5):
        assert await run_once(factory, channel=Router(settings), now=now, config=config) == 1
        [row] = await outbox_rows(factory)
        assert row.attempts == attempt and row.last_error
        if attempt < 4:
            assert row.status == "pending"
            gap = (row.next_attempt_at - now).total_seconds()
            # counted from when the send failed: the failed connection's time on top
            assert 0.5 * 10 * 2**attempt <= gap <= 1.5 * 10 * 2**attempt + 1
            gaps.append(gap)
            # not due before its time
            assert await run_once(factory, channel=Router(settings), now=now, config=config) == 0
            now = row.next_attempt_at
    assert gaps[2] > gaps[0]
    [row] = await outbox_rows(factory)
    assert row.status == "dead" and row.attempts == 4 and "SMTP" in (row.last_error or "")
    later = now + timedelta(days=1)
    assert await run_once(factory, channel=Router(settings), now=later, config=config) == 0


async def test_a_broken_template_counts_as_a_failed_attempt(factory, tmp_path):
    async with factory() as session, session.begin():
        await enqueue(
            session,
            user_id=None,
            kind="marketing",
            channel="email",
            recipient=f"broken{DOMAIN}",
            template="no_such_template",
            payload={},
            max_attempts=1,
        )
    router = Router(make_settings(data_dir=tmp_path, smtp_host=None))
    assert await run_once(factory, channel=router) == 1
    [row] = await outbox_rows(factory)
    assert row.status == "dead" and "TemplateNotFound" in (row.last_error or "")
