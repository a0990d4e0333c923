"""Password reset, email verification and email change through the public API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from models.account_tokens import AccountToken
from models.accounts import User
from models.notifications import Notification
from tests.accounts.flows import (
    CONFIRM_CHANGE,
    CONFIRM_EMAIL,
    ME,
    NEW_PASSWORD,
    REFRESH,
    REGISTER,
    REQUEST_CHANGE,
    REQUEST_RESET,
    RESET_URL,
    SET_PASSWORD,
    SHOP,
)
from tests.accounts.flows import codes as _codes
from tests.accounts.flows import execute as _execute
from tests.accounts.flows import sign_in as _sign_in
from tests.conftest import PASSWORD
from tests.graphql_client import GraphQLClient


async def test_password_reset_happy_path(api, make_user, mailbox):
    await make_user(email="ann@example.com")
    async with await api() as (_, http):
        old = await _sign_in(http, "ann@example.com")
        data = await _execute(http, REQUEST_RESET, email="Ann@Example.com", url=RESET_URL)
        assert data["requestPasswordReset"]["userErrors"] == []
        token = await mailbox.token("ann@example.com")

        data = await _execute(http, SET_PASSWORD, token=token, password=NEW_PASSWORD)
        assert data["setPassword"]["userErrors"] == []

        refreshed = await _execute(http, REFRESH, token=old["refreshToken"])
        assert _codes(refreshed["tokenRefresh"]) == [("refreshToken", "INVALID_TOKEN")]
        old_client = GraphQLClient(http).as_user(old["accessToken"])
        assert await old_client.error_codes(ME) == ["UNAUTHENTICATED"]
        assert _codes(await _sign_in(http, "ann@example.com")) == [("email", "INVALID_CREDENTIALS")]
        assert (await _sign_in(http, "ann@example.com", NEW_PASSWORD))["accessToken"]

        again = await _execute(http, SET_PASSWORD, token=token, password="yet-Another-pass-8")
        assert _codes(again["setPassword"]) == [("token", "INVALID_TOKEN")]


async def test_unknown_or_inactive_email_gets_the_same_answer_and_no_mail(
    api, make_user, mailbox, count
):
    await make_user(email="ann@example.com")
    await make_user(email="gone@example.com", is_active=False)
    async with await api() as (_, http):
        bodies = [
            (
                await http.post(
                    "/graphql",
                    json={"query": REQUEST_RESET, "variables": {"email": who, "url": RESET_URL}},
                )
            ).json()
            for who in ("ann@example.com", "nobody@example.com", "gone@example.com")
        ]
    assert bodies[0] == bodies[1] == bodies[2]
    assert await count(Notification) == 1
    [message] = await mailbox.fetch()
    assert message["To"] == "ann@example.com"


async def test_expired_forged_and_wrong_purpose_tokens_are_invalid(
    api, make_user, mailbox, session_factory
):
    await make_user(email="ann@example.com")
    async with await api() as (_, http):
        await _execute(http, REQUEST_RESET, email="ann@example.com", url=RESET_URL)
        token = await mailbox.token("ann@example.com")
        async with session_factory() as session, session.begin():
            await session.execute(
                update(AccountToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        for bad in (token, "forged-" + token[7:], "", "x" * 5000):
            data = await _execute(http, SET_PASSWORD, token=bad, password=NEW_PASSWORD)
            assert _codes(data["setPassword"]) == [("token", "INVALID_TOKEN")]
        async with session_factory() as session, session.begin():
            await session.execute(
                update(AccountToken).values(expires_at=datetime.now(UTC) + timedelta(hours=1))
            )
        # A reset token cannot confirm an email, nor the other way round.
        data = await _execute(http, CONFIRM_EMAIL, token=token)
        assert _codes(data["confirmEmail"]) == [("token", "INVALID_TOKEN")]
        data = await _execute(http, SET_PASSWORD, token=token, password="short")
        assert _codes(data["setPassword"]) == [("password", "PASSWORD_TOO_WEAK")]
        assert (await _sign_in(http, "ann@example.com"))["accessToken"]
        # The refused attempt did not spend the token.
        async with session_factory() as session:
            assert await session.scalar(select(AccountToken.used_at)) is None


async def test_a_second_request_kills_the_first_token(api, make_user, mailbox):
    await make_user(email="ann@example.com")
    async with await api() as (_, http):
        await _execute(http, REQUEST_RESET, email="ann@example.com", url=RESET_URL)
        first = await mailbox.token("ann@example.com")
        await _execute(http, REQUEST_RESET, email="ann@example.com", url=RESET_URL)
        second = await mailbox.token("ann@example.com")
        data = await _execute(http, SET_PASSWORD, token=first, password=NEW_PASSWORD)
        assert _codes(data["setPassword"]) == [("token", "INVALID_TOKEN")]
        data = await _execute(http, SET_PASSWORD, token=second, password=NEW_PASSWORD)
        assert data["setPassword"]["userErrors"] == []


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com/reset",
        "javascript:alert(1)",
        "ftp://shop.example.com/reset",
        "https://shop.example.com.evil.com/reset",
        "http://shop.example.com/reset",
        "/reset",
    ],
)
async def test_bad_redirect_url_is_invalid(api, make_user, url, count):
    await make_user(email="ann@example.com")
    async with await api() as (_, http):
        data = await _execute(http, REQUEST_RESET, email="nobody@example.com", url=url)
    assert _codes(data["requestPasswordReset"]) == [("redirectUrl", "INVALID")]
    assert await count(Notification) == 0


async def test_cors_origins_are_allowed_redirects(start_app, make_user, mailbox, tmp_path):
    await make_user(email="ann@example.com")
    async with start_app(cors_origins=["https://app.example.org"], data_dir=tmp_path) as (_, h):
        url = "https://app.example.org/reset"
        data = await _execute(h, REQUEST_RESET, email="ann@example.com", url=url)
    assert data["requestPasswordReset"]["userErrors"] == []
    assert await mailbox.token("ann@example.com")


async def test_registration_with_redirect_sends_verification(api, mailbox, session_factory):
    async with await api() as (_, http):
        data = await _execute(
            http,
            REGISTER,
            input={"email": "new@example.com", "password": PASSWORD, "redirectUrl": SHOP},
        )
        assert data["accountRegister"]["userErrors"] == []
        token = await mailbox.token("new@example.com")
        data = await _execute(http, CONFIRM_EMAIL, token=token)
        assert data["confirmEmail"]["userErrors"] == []
        data = await _execute(http, CONFIRM_EMAIL, token=token)
        assert _codes(data["confirmEmail"]) == [("token", "INVALID_TOKEN")]
        bad = await _execute(
            http,
            REGISTER,
            input={"email": "x@example.com", "password": PASSWORD, "redirectUrl": "https://e.vil"},
        )
        assert _codes(bad["accountRegister"]) == [("redirectUrl", "INVALID")]
    async with session_factory() as session:
        verified = await session.scalar(
            select(User.email_verified_at).where(User.email == "new@example.com")
        )
    assert verified is not None


async def test_required_verification_blocks_sign_in_until_confirmed(api, mailbox):
    async with await api(email_verification_required=True) as (_, http):
        await _execute(
            http,
            REGISTER,
            input={"email": "new@example.com", "password": PASSWORD, "redirectUrl": SHOP},
        )
        assert _codes(await _sign_in(http, "new@example.com")) == [("email", "EMAIL_NOT_VERIFIED")]
        # A wrong password still says only INVALID_CREDENTIALS.
        assert _codes(await _sign_in(http, "new@example.com", "wrong-Password-1")) == [
            ("email", "INVALID_CREDENTIALS")
        ]
        token = await mailbox.token("new@example.com")
        await _execute(http, CONFIRM_EMAIL, token=token)
        assert (await _sign_in(http, "new@example.com"))["accessToken"]


async def test_email_change(api, make_user, mailbox, session_factory):
    await make_user(email="ann@example.com")
    await make_user(email="taken@example.com")
    async with await api() as (_, http):
        tokens = await _sign_in(http, "ann@example.com")
        client = GraphQLClient(http).as_user(tokens["accessToken"])

        async def request(address, password=PASSWORD, url=SHOP):
            data = await client.execute(REQUEST_CHANGE, email=address, password=password, url=url)
            return _codes(data["requestEmailChange"])

        assert await request("Taken@example.com") == [("newEmail", "UNIQUE")]
        assert await request("ann2@example.com", "wrong-Password-1") == [
            ("password", "INVALID_CREDENTIALS")
        ]
        assert await request("ann2@example.com", url="https://evil.example.com") == [
            ("redirectUrl", "INVALID")
        ]
        assert await request("ann2@example.com") == []
        token = await mailbox.token("ann2@example.com")
        data = await _execute(http, CONFIRM_CHANGE, token=token)
        assert data["confirmEmailChange"]["userErrors"] == []
        # The change ended the session it was asked from; the new address signs in.
        assert await client.error_codes(ME) == ["UNAUTHENTICATED"]
        tokens = await _sign_in(http, "ann2@example.com")
        client = GraphQLClient(http).as_user(tokens["accessToken"])
        assert _codes(await _sign_in(http, "ann@example.com")) == [("email", "INVALID_CREDENTIALS")]

        # The new address was taken between request and confirmation.
        assert await request("late@example.com") == []
        late = await mailbox.token("late@example.com")
        await make_user(email="late@example.com")
        data = await _execute(http, CONFIRM_CHANGE, token=late)
        assert _codes(data["confirmEmailChange"]) == [("token", "UNIQUE")]

        anonymous = await GraphQLClient(http).error_codes(
            REQUEST_CHANGE, email="x@example.com", password=PASSWORD, url=SHOP
        )
        assert anonymous == ["UNAUTHENTICATED"]
    async with session_factory() as session:
        user = await session.scalar(select(User).where(User.email == "ann2@example.com"))
        pending = await session.scalar(
            select(func.count()).where(AccountToken.new_email == "x@example.com")
        )
    assert user is not None and user.email_verified_at is not None
    assert pending == 0
