"""Every credential change ends what was issued before it: access and refresh tokens and every
pending mailed link (reset, verification, email change), each refused with its exact code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from strawberry.relay import from_base64, to_base64

from app.auth.permissions import Role
from models.account_tokens import AccountToken
from models.accounts import RefreshToken, User
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
    Mailbox,
    codes,
    execute,
    sign_in,
)
from tests.conftest import PASSWORD
from tests.graphql_client import GraphQLClient

EMAIL = "ann@example.com"
NEW_EMAIL = "ann.new@example.com"
PASSWORD_CHANGE = """
mutation($old: String!, $new: String!) {
  passwordChange(oldPassword: $old, newPassword: $new) {
    accessToken refreshToken userErrors { field code }
  }
}"""
DELETE = "mutation($p: String!) { accountDelete(password: $p) { deleted userErrors { code } } }"
DEACTIVATE = "mutation($id: ID!) { userDeactivate(id: $id) { userErrors { field code } } }"
ACTIVATE = "mutation($id: ID!) { userActivate(id: $id) { userErrors { field code } } }"


@dataclass
class Issued:
    """What the account holds before the event: a session and three pending links."""

    user_id: int
    access: str
    refresh: str
    verify: str
    change: str
    reset: str


async def _issue_everything(http: Any, mailbox: Mailbox) -> Issued:
    registered = await execute(
        http, REGISTER, input={"email": EMAIL, "password": PASSWORD, "redirectUrl": SHOP}
    )
    assert registered["accountRegister"]["userErrors"] == []
    verify = await mailbox.token(EMAIL)
    session = await sign_in(http, EMAIL)
    client = GraphQLClient(http).as_user(session["accessToken"])
    changed = await client.execute(REQUEST_CHANGE, email=NEW_EMAIL, password=PASSWORD, url=SHOP)
    assert changed["requestEmailChange"]["userErrors"] == []
    change = await mailbox.token(NEW_EMAIL)
    requested = await execute(http, REQUEST_RESET, email=EMAIL, url=RESET_URL)
    assert requested["requestPasswordReset"]["userErrors"] == []
    reset = await mailbox.token(EMAIL)
    me = await client.execute("{ me { id } }")
    user_id = int(from_base64(me["me"]["id"])[1])
    return Issued(user_id, session["accessToken"], session["refreshToken"], verify, change, reset)


async def _reset_with_the_link(http: Any, issued: Issued, admin: GraphQLClient) -> dict:
    data = await execute(http, SET_PASSWORD, token=issued.reset, password=NEW_PASSWORD)
    assert data["setPassword"]["userErrors"] == []
    return {}


async def _change_password(http: Any, issued: Issued, admin: GraphQLClient) -> dict:
    client = GraphQLClient(http).as_user(issued.access)
    data = await client.execute(PASSWORD_CHANGE, old=PASSWORD, new=NEW_PASSWORD)
    assert data["passwordChange"]["userErrors"] == []
    return data["passwordChange"]


async def _deactivate_then_activate(http: Any, issued: Issued, admin: GraphQLClient) -> dict:
    node = to_base64("User", issued.user_id)
    off = await admin.execute(DEACTIVATE, id=node)
    on = await admin.execute(ACTIVATE, id=node)
    # Active again, so only the voiding (not the inactive account) can refuse the old links.
    assert off["userDeactivate"]["userErrors"] == on["userActivate"]["userErrors"] == []
    return {}


async def _confirm_email_change(http: Any, issued: Issued, admin: GraphQLClient) -> dict:
    data = await execute(http, CONFIRM_CHANGE, token=issued.change)
    assert data["confirmEmailChange"]["userErrors"] == []
    return {}


async def _delete_account(http: Any, issued: Issued, admin: GraphQLClient) -> dict:
    data = await GraphQLClient(http).as_user(issued.access).execute(DELETE, p=PASSWORD)
    assert data["accountDelete"] == {"deleted": True, "userErrors": []}
    return {}


EVENTS = {
    "password-reset": (_reset_with_the_link, "reset"),
    "password-change": (_change_password, None),
    "deactivation": (_deactivate_then_activate, None),
    "email-change": (_confirm_email_change, "change"),
    "deletion": (_delete_account, None),
}


@pytest.mark.parametrize("event", list(EVENTS))
async def test_a_credential_change_ends_every_session_and_link_issued_before(
    api, make_user, mailbox, session_factory, event
):
    await make_user(email="boss@example.com", role=Role.ADMIN)
    run_event, spent_link = EVENTS[event]
    async with await api() as (_, http):
        boss = await sign_in(http, "boss@example.com")
        admin = GraphQLClient(http).as_user(boss["accessToken"])
        issued = await _issue_everything(http, mailbox)

        fresh = await run_event(http, issued, admin)

        refreshed = await execute(http, REFRESH, token=issued.refresh)
        assert codes(refreshed["tokenRefresh"]) == [("refreshToken", "INVALID_TOKEN")]
        assert await GraphQLClient(http).as_user(issued.access).error_codes(ME) == [
            "UNAUTHENTICATED"
        ]
        links = {
            "verify": (CONFIRM_EMAIL, {}, "confirmEmail"),
            "change": (CONFIRM_CHANGE, {}, "confirmEmailChange"),
            "reset": (SET_PASSWORD, {"password": "third-Staple-horse-9"}, "setPassword"),
        }
        for name, (mutation, extra, field) in links.items():
            if name == spent_link:
                continue
            data = await execute(http, mutation, token=getattr(issued, name), **extra)
            assert codes(data[field]) == [("token", "INVALID_TOKEN")], name

        if fresh:  # a password change hands this client a pair issued after it
            me = await GraphQLClient(http).as_user(fresh["accessToken"]).execute(ME)
            assert me["me"] is not None
            rotated = await execute(http, REFRESH, token=fresh["refreshToken"])
            assert rotated["tokenRefresh"]["userErrors"] == []

    async with session_factory() as session:
        pending = await session.scalar(
            select(func.count()).where(
                AccountToken.user_id == issued.user_id, AccountToken.used_at.is_(None)
            )
        )
        live = await session.scalar(
            select(func.count()).where(
                RefreshToken.user_id == issued.user_id,
                RefreshToken.revoked_at.is_(None),
                RefreshToken.used_at.is_(None),
            )
        )
        version = await session.scalar(select(User.token_version).where(User.id == issued.user_id))
    assert pending == 0
    # Alive: only the rotation of the pair the password change issued.
    assert live == (1 if fresh else 0)
    assert version == 1  # bumped once, by the event


async def test_links_requested_after_the_change_still_work(api, make_user, mailbox):
    await make_user(email=EMAIL)
    async with await api() as (_, http):
        session = await sign_in(http, EMAIL)
        client = GraphQLClient(http).as_user(session["accessToken"])
        changed = await client.execute(PASSWORD_CHANGE, old=PASSWORD, new=NEW_PASSWORD)
        assert changed["passwordChange"]["userErrors"] == []

        await execute(http, REQUEST_RESET, email=EMAIL, url=RESET_URL)
        reset = await mailbox.token(EMAIL)
        data = await execute(http, SET_PASSWORD, token=reset, password=PASSWORD)

    assert data["setPassword"]["userErrors"] == []
