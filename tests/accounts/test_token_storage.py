"""Mailed links keep their token out of `account_tokens`: only its SHA-256 is stored."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, text

from models.account_tokens import AccountToken
from models.notifications import Notification
from tests.accounts.flows import (
    REGISTER,
    REQUEST_CHANGE,
    REQUEST_RESET,
    RESET_URL,
    SHOP,
    execute,
    sign_in,
)
from tests.conftest import PASSWORD
from tests.graphql_client import GraphQLClient


async def _reset(http, make_user) -> str:
    await make_user(email="ann@example.com")
    await execute(http, REQUEST_RESET, email="ann@example.com", url=RESET_URL)
    return "ann@example.com"


async def _verification(http, make_user) -> str:
    await execute(
        http,
        REGISTER,
        input={"email": "ann@example.com", "password": PASSWORD, "redirectUrl": SHOP},
    )
    return "ann@example.com"


async def _email_change(http, make_user) -> str:
    await make_user(email="ann@example.com")
    client = GraphQLClient(http).as_user((await sign_in(http, "ann@example.com"))["accessToken"])
    await client.execute(REQUEST_CHANGE, email="ann.new@example.com", password=PASSWORD, url=SHOP)
    return "ann.new@example.com"


@pytest.mark.parametrize(
    ("request_link", "purpose"),
    [
        (_reset, "password_reset"),
        (_verification, "email_verification"),
        (_email_change, "email_change"),
    ],
    ids=["reset", "verification", "email-change"],
)
async def test_the_clear_token_is_not_stored_only_its_sha256(
    api, make_user, mailbox, session_factory, request_link, purpose
):
    async with await api() as (_, http):
        recipient = await request_link(http, make_user)
    async with session_factory() as session:
        queued = await session.scalar(
            select(Notification.payload).where(Notification.recipient == recipient)
        )
    assert queued is not None
    [token] = parse_qs(urlsplit(queued["link"]).query)["token"]
    assert await mailbox.token(recipient) == token  # the link as the user receives it

    async with session_factory() as session:
        rows = (await session.execute(select(AccountToken.purpose, AccountToken.token_hash))).all()
        as_text = (
            await session.scalars(text("SELECT row_to_json(t)::text FROM account_tokens t"))
        ).all()

    assert rows == [(purpose, hashlib.sha256(token.encode()).digest())]
    assert len(as_text) == 1 and token not in as_text[0]
    assert token.encode() not in rows[0][1]
