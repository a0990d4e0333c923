"""NUL bytes and lone surrogates (valid JSON, not storable in PostgreSQL or encodable as
UTF-8) in every account input: a coded answer, never a traceback, and nothing written."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.auth.permissions import Role
from models.account_tokens import AccountToken
from models.accounts import RefreshToken, User
from models.notifications import Notification
from tests.accounts.flows import REGISTER, REQUEST_RESET, RESET_URL, SHOP, sign_in
from tests.conftest import PASSWORD, TOKEN_CREATE

NUL = "ann\x00@example.com"
SURROGATE = "ann\ud800@example.com"
BAD = pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["nul", "lone-surrogate"])
PASSWORD_CHANGE = """mutation($old: String!, $new: String!) {
  passwordChange(oldPassword: $old, newPassword: $new) { userErrors { field code } } }"""
DELETE = "mutation($p: String!) { accountDelete(password: $p) { deleted userErrors { code } } }"
USERS = "query($s: String) { users(search: $s) { edges { node { email } } } }"


async def post(http, query: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
    """POST with json.dumps, which escapes a lone surrogate as JSON allows (httpx would not)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = await http.post(
        "/graphql", content=json.dumps({"query": query, "variables": variables}), headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


@BAD
async def test_sign_in_with_unstorable_email_or_password_is_invalid_credentials(
    http, make_user, count, bad
):
    await make_user(email="ann@example.com")

    by_email = await post(http, TOKEN_CREATE, email=bad, password=PASSWORD)
    by_password = await post(http, TOKEN_CREATE, email="ann@example.com", password=bad)

    for body in (by_email, by_password):
        assert [(e["field"], e["code"]) for e in body["data"]["tokenCreate"]["userErrors"]] == [
            (["email"], "INVALID_CREDENTIALS")
        ]
    assert await count(RefreshToken) == 0


@BAD
async def test_reset_for_an_unstorable_email_answers_as_for_an_unknown_one(
    api, make_user, count, bad
):
    await make_user(email="ann@example.com")
    async with await api() as (_, http):
        unknown = await post(http, REQUEST_RESET, email="nobody@example.com", url=RESET_URL)
        hostile = await post(http, REQUEST_RESET, email=bad, url=RESET_URL)

    assert hostile == unknown == {"data": {"requestPasswordReset": {"userErrors": []}}}
    assert await count(Notification) == 0


@pytest.mark.parametrize(
    "suffix", ["\x00", "\ud800", "\n"], ids=["nul", "lone-surrogate", "newline"]
)
async def test_redirect_urls_with_unstorable_characters_are_invalid(api, make_user, count, suffix):
    await make_user(email="ann@example.com")
    async with await api() as (_, http):
        reset = await post(http, REQUEST_RESET, email="ann@example.com", url=RESET_URL + suffix)
        registered = await post(
            http,
            REGISTER,
            input={"email": "new@example.com", "password": PASSWORD, "redirectUrl": SHOP + suffix},
        )

    assert reset["data"]["requestPasswordReset"]["userErrors"] == [
        {"field": ["redirectUrl"], "code": "INVALID"}
    ]
    assert registered["data"]["accountRegister"] == {
        "user": None,
        "userErrors": [{"field": ["redirectUrl"], "code": "INVALID"}],
    }
    assert await count(Notification) == 0
    assert await count(AccountToken) == 0
    assert await count(User) == 1


async def test_wrong_passwords_with_a_lone_surrogate_change_nothing(
    http, make_user, session_factory, count
):
    user = await make_user(email="ann@example.com")
    token = (await sign_in(http, "ann@example.com"))["accessToken"]

    changed = await post(http, PASSWORD_CHANGE, token, old="x\ud800", new="another-Staple-horse-7")
    deleted = await post(http, DELETE, token, p="x\ud800")

    assert changed["data"]["passwordChange"]["userErrors"] == [
        {"field": ["oldPassword"], "code": "INVALID_CREDENTIALS"}
    ]
    assert deleted["data"]["accountDelete"] == {
        "deleted": False,
        "userErrors": [{"code": "INVALID_CREDENTIALS"}],
    }
    async with session_factory() as session:
        row = await session.get_one(User, user.id)
        assert (row.password_hash, row.is_active, row.token_version) == (
            user.password_hash,
            True,
            0,
        )
    assert await count(RefreshToken, RefreshToken.revoked_at.is_(None)) == 1


async def test_a_password_with_a_lone_surrogate_round_trips(http, count):
    odd = "Lone-\ud800-surrogate-9"
    registered = await post(http, REGISTER, input={"email": "odd@example.com", "password": odd})
    signed = await post(http, TOKEN_CREATE, email="odd@example.com", password=odd)
    wrong = await post(http, TOKEN_CREATE, email="odd@example.com", password="Lone--surrogate-9")

    assert registered["data"]["accountRegister"]["userErrors"] == []
    assert signed["data"]["tokenCreate"]["userErrors"] == []
    assert [e["code"] for e in wrong["data"]["tokenCreate"]["userErrors"]] == [
        "INVALID_CREDENTIALS"
    ]
    assert await count(RefreshToken) == 1


@pytest.mark.parametrize("search", ["a\x00b", "a\ud800b"], ids=["nul", "lone-surrogate"])
async def test_user_search_with_unstorable_characters_is_invalid(http, make_user, search):
    await make_user(email="boss@example.com", role=Role.ADMIN)
    token = (await sign_in(http, "boss@example.com"))["accessToken"]

    body = await post(http, USERS, token, s=search)

    assert body["data"] is None
    assert [(e["message"], e["extensions"]) for e in body["errors"]] == [
        ("Search must not contain control characters.", {"code": "INVALID", "field": "search"})
    ]
