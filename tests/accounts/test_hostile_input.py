"""NUL bytes and lone surrogates (valid in JSON; PostgreSQL stores neither, UTF-8 cannot
encode the second) reaching the account services: a coded error, nothing written.

The services are called directly: the GraphQL layer may refuse such text before any
resolver runs (another branch does), and these checks must hold for every caller anyway.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from app.errors import UserError
from app.ratelimit import RateLimited, RateLimiter
from app.services.accounts import admin as account_admin
from app.services.accounts import flows as account_flows
from app.services.accounts import privacy, profile
from app.services.accounts import tokens as accounts
from models.account_tokens import AccountToken
from models.accounts import RefreshToken, User
from models.notifications import Notification
from tests.accounts.flows import NEW_PASSWORD, RESET_URL, SHOP
from tests.conftest import PASSWORD

NUL = "ann\x00@example.com"
SURROGATE = "ann\ud800@example.com"
UNSTORABLE = pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["nul", "lone-surrogate"])


@pytest.fixture
def refused(session_factory):
    """Run a service in its own transaction; the (code, field) of the UserError it raised."""

    async def run(service, **kwargs: Any) -> tuple[str, str | None]:
        with pytest.raises(UserError) as caught:
            async with session_factory() as session, session.begin():
                await service(session, **kwargs)
        return caught.value.code.value, caught.value.field

    return run


@UNSTORABLE
async def test_sign_in_with_an_unstorable_email_or_password(
    refused, make_user, settings, count, bad
):
    await make_user(email="ann@example.com")

    for email, password in ((bad, PASSWORD), ("ann@example.com", bad)):
        assert await refused(
            accounts.create_tokens, email=email, password=password, settings=settings
        ) == ("INVALID_CREDENTIALS", "email")
    assert await count(RefreshToken) == 0


@UNSTORABLE
async def test_reset_for_an_unstorable_email_is_the_answer_for_nobody(
    session_factory, make_user, settings, count, bad
):
    await make_user(email="ann@example.com")
    settings = settings.model_copy(update={"account_redirect_origins": [SHOP]})

    async with session_factory() as session, session.begin():
        answer = await account_flows.request_password_reset(
            session, email=bad, redirect_url=RESET_URL, settings=settings
        )

    assert answer is None
    assert await count(Notification) == 0
    assert await count(AccountToken) == 0


@pytest.mark.parametrize(
    "suffix", ["\x00", "\ud800", "\n"], ids=["nul", "lone-surrogate", "newline"]
)
async def test_redirect_urls_with_unstorable_characters_are_invalid(
    refused, make_user, settings, count, suffix
):
    await make_user(email="ann@example.com")
    settings = settings.model_copy(update={"account_redirect_origins": [SHOP]})

    reset = await refused(
        account_flows.request_password_reset,
        email="ann@example.com",
        redirect_url=RESET_URL + suffix,
        settings=settings,
    )
    registered = await refused(
        accounts.register_account,
        data=accounts.RegistrationData("new@example.com", PASSWORD),
        settings=settings,
        redirect_url=SHOP + suffix,
    )

    assert reset == registered == ("INVALID", "redirectUrl")
    assert await count(Notification) == 0
    assert await count(AccountToken) == 0
    assert await count(User) == 1


async def test_wrong_passwords_with_a_lone_surrogate_change_nothing(
    refused, make_user, settings, session_factory
):
    user = await make_user(email="ann@example.com")

    changed = await refused(
        profile.change_password,
        user_id=user.id,
        old_password="x\ud800",
        new_password=NEW_PASSWORD,
        settings=settings,
    )
    deleted = await refused(privacy.delete_account, user=user, password="x\ud800")

    assert changed == ("INVALID_CREDENTIALS", "oldPassword")
    assert deleted == ("INVALID_CREDENTIALS", "password")
    async with session_factory() as session:
        row = await session.get_one(User, user.id)
        assert (row.password_hash, row.is_active, row.token_version) == (
            user.password_hash,
            True,
            0,
        )


async def test_a_password_with_a_lone_surrogate_round_trips(session_factory, settings, count):
    odd = "Lone-\ud800-surrogate-9"
    async with session_factory() as session, session.begin():
        await accounts.register_account(
            session, data=accounts.RegistrationData("odd@example.com", odd), settings=settings
        )
    async with session_factory() as session, session.begin():
        issued = await accounts.create_tokens(
            session, email="odd@example.com", password=odd, settings=settings
        )

    assert issued.user.email == "odd@example.com"
    assert await count(RefreshToken) == 1


@pytest.mark.parametrize("search", ["a\x00b", "a\ud800b"], ids=["nul", "lone-surrogate"])
def test_user_search_with_unstorable_characters_is_invalid(search):
    with pytest.raises(UserError) as caught:
        account_admin.users_statement(search=search, role=None)

    assert (caught.value.code.value, caught.value.field) == ("INVALID", "search")


@UNSTORABLE
async def test_rate_limit_keys_of_unstorable_addresses_are_one_bucket(redis_url, bad):
    limiter = RateLimiter(redis_url, prefix=f"rl-{uuid.uuid4()}")
    key = account_flows.rate_limit_key(bad)

    await limiter.hit("1/minute", "sign-in:account", key)  # encodable into a Redis key
    with pytest.raises(RateLimited):
        await limiter.hit("1/minute", "sign-in:account", account_flows.rate_limit_key("x" * 300))
    assert account_flows.rate_limit_key(" Ann@Example.COM ") == "ann@example.com"
