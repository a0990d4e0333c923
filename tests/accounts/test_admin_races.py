"""Admins removing each other at the same moment, through the API on committed data: the
shop always keeps one active admin, and nobody acts on rights they lost a moment ago."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.relay import to_base64

from app.auth.permissions import Perm, Role
from app.services.accounts.tokens import RegistrationData, register_account
from models.accounts import User
from tests.accounts.flows import sign_in
from tests.conftest import PASSWORD

PREFIX = "race-admin-"
ROUNDS = 5
DEACTIVATE = "mutation($id: ID!) { userDeactivate(id: $id) { userErrors { code } } }"
DEMOTE = """mutation($id: ID!) {
  userUpdateAccess(id: $id, input: {role: STAFF}) { userErrors { code } } }"""
MUTATIONS = {"deactivate": (DEACTIVATE, "userDeactivate"), "demote": (DEMOTE, "userUpdateAccess")}


@pytest.fixture
def factory(committed_sessions) -> async_sessionmaker[AsyncSession]:
    """Committed sessions; the test's accounts go after."""
    return committed_sessions.remove_after(delete(User).where(User.email.startswith(PREFIX)))


async def _accounts(factory, settings, **roles: tuple[Role, list[str]]) -> dict[str, User]:
    users = {}
    async with factory() as session, session.begin():
        for name, (role, grants) in roles.items():
            user = await register_account(
                session,
                data=RegistrationData(f"{PREFIX}{name}@example.com", PASSWORD),
                settings=settings,
                role=role,
            )
            user.permissions = grants
            users[name] = user
    return users


async def _active_admins(factory) -> int:
    async with factory() as session:
        return int(
            await session.scalar(
                select(func.count()).where(User.role == Role.ADMIN.value, User.is_active)
            )
            or 0
        )


async def _warm_pool(http, *tokens: str) -> None:
    """Open one pooled connection per racer, so neither waits for a connect the other skips."""
    me = [
        http.post(
            "/graphql", json={"query": "{ me { id } }"}, headers={"Authorization": f"Bearer {t}"}
        )
        for t in tokens
    ]
    await asyncio.gather(*me)


async def _outcome(http, token: str, kind: str, target: User) -> str:
    query, field = MUTATIONS[kind]
    response = await http.post(
        "/graphql",
        json={"query": query, "variables": {"id": to_base64("User", target.id)}},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    assert response.status_code == 200, body
    if "errors" in body:  # refused before the mutation ran: the other one had committed
        return str(body["errors"][0]["extensions"]["code"])
    errors = body["data"][field]["userErrors"]
    return errors[0]["code"] if errors else "ok"


@pytest.mark.parametrize(
    ("first", "second"),
    [("deactivate", "deactivate"), ("demote", "demote"), ("deactivate", "demote")],
)
async def test_two_admins_removing_each_other_leave_one(
    start_app, factory, settings, first, second
):
    for round_ in range(ROUNDS):
        users = await _accounts(
            factory, settings, **{f"a{round_}": (Role.ADMIN, []), f"b{round_}": (Role.ADMIN, [])}
        )
        a, b = users[f"a{round_}"], users[f"b{round_}"]
        assert await _active_admins(factory) == 2  # nobody else's admin makes this pass
        async with start_app(bind=False) as (_, http):
            token_a = (await sign_in(http, a.email))["accessToken"]
            token_b = (await sign_in(http, b.email))["accessToken"]
            await _warm_pool(http, token_a, token_b)

            results = await asyncio.gather(
                _outcome(http, token_a, first, b), _outcome(http, token_b, second, a)
            )

        # The loser is refused for the rights the winner just took away from them: INVALID
        # when both ran at once (re-read under the lock); at sign-in check when it came late.
        [loser] = [code for code in results if code != "ok"]
        assert loser in {"INVALID", "UNAUTHENTICATED", "FORBIDDEN"}, results
        assert await _active_admins(factory) == 1
        async with factory() as session, session.begin():
            await session.execute(delete(User).where(User.email.startswith(PREFIX)))


@pytest.mark.parametrize(
    ("first", "second"), [("deactivate", "deactivate"), ("demote", "deactivate")]
)
async def test_two_managers_removing_the_two_admins_leave_one(
    start_app, factory, settings, first, second
):
    manager = (Role.STAFF, [Perm.MANAGE_USERS.value, Perm.MANAGE_STAFF.value])
    for round_ in range(ROUNDS):
        users = await _accounts(
            factory,
            settings,
            **{
                f"a{round_}": (Role.ADMIN, []),
                f"b{round_}": (Role.ADMIN, []),
                f"m{round_}": manager,
                f"n{round_}": manager,
            },
        )
        assert await _active_admins(factory) == 2
        async with start_app(bind=False) as (_, http):
            token_m = (await sign_in(http, users[f"m{round_}"].email))["accessToken"]
            token_n = (await sign_in(http, users[f"n{round_}"].email))["accessToken"]
            await _warm_pool(http, token_m, token_n)

            results = await asyncio.gather(
                _outcome(http, token_m, first, users[f"a{round_}"]),
                _outcome(http, token_n, second, users[f"b{round_}"]),
            )

        assert sorted(results) == ["LAST_ADMIN", "ok"], results
        assert await _active_admins(factory) == 1
        async with factory() as session, session.begin():
            await session.execute(delete(User).where(User.email.startswith(PREFIX)))
