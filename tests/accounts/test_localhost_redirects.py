"""Reset and verification links to a front end on the developer's machine: localhost and
127.0.0.1 on any port are allowed on the development defaults, nowhere else unless configured."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from models.notifications import Notification
from tests.accounts.flows import NEW_PASSWORD, REGISTER, REQUEST_RESET, SET_PASSWORD, codes
from tests.accounts.flows import execute as _execute
from tests.accounts.flows import sign_in as _sign_in
from tests.conftest import PASSWORD

DEVELOPMENT = {"environment": "development"}  # no ACCOUNT_REDIRECT_ORIGINS, no CORS_ORIGINS
PRODUCTION = {"environment": "production", "debug": False}


@pytest.fixture
def app_with(start_app, tmp_path):
    """An app on these settings, its outbox in tmp_path (read by the `mailbox` fixture)."""

    def start(**overrides):
        return start_app(data_dir=tmp_path, pubsub_prefix=f"lh-{uuid.uuid4()}", **overrides)

    return start


@pytest.mark.parametrize("url", ["http://localhost:5173/reset", "http://127.0.0.1:3000/x"])
async def test_development_default_mails_a_reset_link_to_localhost(
    app_with, make_user, mailbox, url
):
    await make_user(email="ann@example.com")
    async with app_with(**DEVELOPMENT) as (_, http):
        data = await _execute(http, REQUEST_RESET, email="ann@example.com", url=url)
        assert data["requestPasswordReset"]["userErrors"] == []
        [message] = await mailbox.fetch()
        body = message.get_body(("plain",)).get_content()
        assert f"{url}?token=" in body
        token = _token_in(body)

        data = await _execute(http, SET_PASSWORD, token=token, password=NEW_PASSWORD)
        assert data["setPassword"]["userErrors"] == []
        assert (await _sign_in(http, "ann@example.com", NEW_PASSWORD))["accessToken"]


async def test_development_default_mails_a_verification_link_to_localhost(app_with, mailbox):
    async with app_with(**DEVELOPMENT) as (_, http):
        data = await _execute(
            http,
            REGISTER,
            input={
                "email": "new@example.com",
                "password": PASSWORD,
                "redirectUrl": "http://127.0.0.1:3000/x",
            },
        )
    assert data["accountRegister"] == {"user": {"email": "new@example.com"}, "userErrors": []}
    [message] = await mailbox.fetch()
    assert "http://127.0.0.1:3000/x?token=" in message.get_body(("plain",)).get_content()


@pytest.mark.parametrize(
    "url",
    [
        "http://evil.example/",
        "http://localhost.evil.example/",
        "https://localhost@evil.example/",
        "http://127.0.0.1.evil.example/",
        "http://localhost:5173/reset?next=https://evil.example/",
        "http://localhost:99999/",
    ],
)
async def test_development_default_still_refuses_other_hosts(app_with, make_user, count, url):
    await make_user(email="ann@example.com")
    async with app_with(**DEVELOPMENT) as (_, http):
        reset = await _execute(http, REQUEST_RESET, email="ann@example.com", url=url)
        register = await _execute(
            http,
            REGISTER,
            input={"email": "new@example.com", "password": PASSWORD, "redirectUrl": url},
        )
    assert codes(reset["requestPasswordReset"]) == [("redirectUrl", "INVALID")]
    assert codes(register["accountRegister"]) == [("redirectUrl", "INVALID")]
    assert await count(Notification) == 0


@pytest.mark.parametrize(
    "overrides",
    [PRODUCTION, {"environment": "test"}, {**DEVELOPMENT, "account_redirect_localhost": False}],
    ids=["production", "test", "development-turned-off"],
)
async def test_localhost_is_refused_unless_allowed(app_with, make_user, count, overrides):
    await make_user(email="ann@example.com")
    async with app_with(**overrides) as (_, http):
        data = await _execute(
            http, REQUEST_RESET, email="ann@example.com", url="http://localhost:5173/"
        )
    assert codes(data["requestPasswordReset"]) == [("redirectUrl", "INVALID")]
    assert await count(Notification) == 0


async def test_production_takes_localhost_when_configured(app_with, make_user, mailbox):
    await make_user(email="ann@example.com")
    production = {**PRODUCTION, "account_redirect_origins": ["http://localhost:5173"]}
    async with app_with(**production) as (_, http):
        allowed = await _execute(
            http, REQUEST_RESET, email="ann@example.com", url="http://localhost:5173/"
        )
        other_port = await _execute(
            http, REQUEST_RESET, email="ann@example.com", url="http://localhost:3000/"
        )
    assert allowed["requestPasswordReset"]["userErrors"] == []
    assert codes(other_port["requestPasswordReset"]) == [("redirectUrl", "INVALID")]
    [message] = await mailbox.fetch()
    assert "http://localhost:5173/?token=" in message.get_body(("plain",)).get_content()


def _token_in(body: str) -> str:
    [link] = [word for word in body.split() if "?token=" in word]
    return parse_qs(urlsplit(link).query)["token"][0]
