"""Account events reach pub/sub only after the change commits."""

from __future__ import annotations

from tests.accounts.events import listening
from tests.conftest import PASSWORD, TOKEN_CREATE

REFRESH = """mutation($t: String!) { tokenRefresh(refreshToken: $t) { userErrors { code } } }"""


async def test_sign_in_publishes_after_commit_and_failure_publishes_nothing(app, gql, make_user):
    user = await make_user(email="ann@example.com")

    async with listening(app, f"user:{user.id}") as received:
        failed = await gql.execute(TOKEN_CREATE, email="ann@example.com", password="wrong-pass-1")
        assert [(e["field"], e["code"]) for e in failed["tokenCreate"]["userErrors"]] == [
            (["email"], "INVALID_CREDENTIALS")
        ]
        await gql.execute(TOKEN_CREATE, email="ann@example.com", password=PASSWORD)

    assert received == [{"kind": "SIGNED_IN"}]


async def test_token_reuse_publishes_revocation_although_the_mutation_fails(
    app, gql, make_user, sign_in
):
    user = await make_user(email="ann@example.com")
    issued = await sign_in("ann@example.com")
    await gql.execute(REFRESH, t=issued["refreshToken"])

    async with listening(app, f"user:{user.id}") as received:
        replay = await gql.execute(REFRESH, t=issued["refreshToken"])

    assert replay["tokenRefresh"]["userErrors"] == [{"code": "TOKEN_REUSED"}]
    assert received == [{"kind": "TOKENS_REVOKED"}]
