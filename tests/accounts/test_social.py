"""Social sign-in through the API, against local fakes of Google's JWKS and Facebook's Graph API."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from pydantic import SecretStr
from sqlalchemy import func

from app.auth.social import SocialProvider, clear_jwks_cache, verify_social_token
from app.errors import UserError
from models.accounts import RefreshToken, User
from tests.accounts.events import listening
from tests.conftest import PASSWORD
from tests.fakes import facebook_graph, google_jwks
from tests.fakes.facebook_graph import FacebookUser, FakeFacebook
from tests.fakes.google_jwks import CLIENT_ID, FakeGoogle, new_key
from tests.fakes.local_server import unused_url
from tests.graphql_client import GraphQLClient

SOCIAL = """
mutation($provider: SocialProvider!, $token: String!) {
  socialTokenCreate(provider: $provider, token: $token) {
    accessToken refreshToken expiresIn
    user { id email firstName lastName }
    userErrors { field code message }
  }
}"""
ME = "{ me { id email firstName lastName } }"


@pytest.fixture(autouse=True)
def _fresh_jwks_cache() -> Iterator[None]:
    clear_jwks_cache()
    yield
    clear_jwks_cache()


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    with FakeGoogle() as fake:
        yield fake


@pytest.fixture
def facebook() -> Iterator[FakeFacebook]:
    with FakeFacebook() as fake:
        yield fake


@pytest.fixture
def social_api(start_app: Callable, google: FakeGoogle, facebook: FakeFacebook) -> Callable:
    """A started app whose provider settings point at the fakes; yields a GraphQLClient."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[GraphQLClient]:
        settings: dict[str, Any] = {
            "google_client_id": CLIENT_ID,
            "google_jwks_url": google.jwks_url,
            "facebook_app_id": facebook_graph.APP_ID,
            "facebook_app_secret": facebook_graph.APP_SECRET,
            "facebook_graph_url": facebook.graph_url,
        }
        settings.update(overrides)
        async with start_app(**settings) as (app, http):
            client = GraphQLClient(http)
            client.app = app  # type: ignore[attr-defined]  # for listening to its events
            yield client

    return start


async def _social(gql: GraphQLClient, provider: str, token: str) -> dict[str, Any]:
    data = await gql.execute(SOCIAL, provider=provider, token=token)
    return data["socialTokenCreate"]


def _errors(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    """(last segment of the field path, code) of each user error."""
    return [
        (error["field"][-1] if error["field"] else None, error["code"])
        for error in payload["userErrors"]
    ]


async def test_google_creates_an_account_then_signs_it_in_again(social_api, google, count):
    async with social_api() as gql:
        first = await _social(gql, "GOOGLE", google.id_token())
        assert first["userErrors"] == []
        assert first["user"]["email"] == "jane.doe@gmail.com"
        assert (first["user"]["firstName"], first["user"]["lastName"]) == ("Jane", "Doe")
        me = await gql.as_user(first["accessToken"]).execute(ME)
        assert me["me"]["id"] == first["user"]["id"]

        second = await _social(gql, "GOOGLE", google.id_token())

    assert second["userErrors"] == []
    assert second["user"]["id"] == first["user"]["id"]
    assert second["refreshToken"] != first["refreshToken"]
    assert await count(User, func.lower(User.email) == "jane.doe@gmail.com") == 1
    assert await count(User, User.email == "jane.doe@gmail.com", User.password_hash.is_(None)) == 1
    assert google.fetches == 1  # the JWKS is cached


async def test_google_links_an_existing_password_account_ignoring_case(
    social_api, google, make_user, sign_in
):
    user = await make_user(email="jane.doe@gmail.com", email_verified_at=datetime.now(UTC))
    async with social_api() as gql:
        payload = await _social(gql, "GOOGLE", google.id_token(email="Jane.Doe@Gmail.COM"))

    assert payload["userErrors"] == []
    assert payload["user"]["email"] == "jane.doe@gmail.com"
    password_session = await sign_in("jane.doe@gmail.com", PASSWORD)  # the password still works
    assert payload["user"]["id"] == password_session["user"]["id"]
    assert password_session["user"]["email"] == user.email


def _hs256(google: FakeGoogle) -> str:
    return jwt.encode(
        google.claims(),
        "a-shared-secret-that-is-32-bytes-or-longer",
        algorithm="HS256",
        headers={"kid": google.kid},
    )


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda g: g.id_token(aud="someone-else.apps.googleusercontent.com"), id="aud"),
        pytest.param(lambda g: g.id_token(iss="https://evil.example.com"), id="issuer"),
        pytest.param(
            lambda g: g.id_token(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
            id="expired",
        ),
        pytest.param(lambda g: g.id_token(key=new_key()), id="bad-signature"),
        pytest.param(
            lambda g: jwt.encode(g.claims(), None, algorithm="none", headers={"kid": g.kid}),
            id="alg-none",
        ),
        pytest.param(_hs256, id="alg-hs256"),
        pytest.param(lambda g: "not.a.jwt", id="garbage"),
        pytest.param(lambda g: "", id="empty"),
    ],
)
async def test_google_rejects_bad_tokens(social_api, google, count, make_token):
    async with social_api() as gql:
        payload = await _social(gql, "GOOGLE", make_token(google))

    assert _errors(payload) == [("token", "INVALID_TOKEN")]
    assert payload["accessToken"] is None
    assert await count(User) == 0


async def test_google_issuer_without_scheme_is_accepted(social_api, google):
    async with social_api() as gql:
        payload = await _social(gql, "GOOGLE", google.id_token(iss="accounts.google.com"))
    assert payload["userErrors"] == []


async def test_google_unverified_email_is_refused(social_api, google, count):
    async with social_api() as gql:
        unverified = await _social(gql, "GOOGLE", google.id_token(email_verified=False))
        no_email = await _social(gql, "GOOGLE", google.id_token(email=None, email_verified=None))

    for payload in (unverified, no_email):
        assert payload["userErrors"] == [
            {
                "field": ["token"],
                "code": "INVALID",
                "message": "The Google account has no verified email address.",
            }
        ]
    assert await count(User) == 0


async def test_google_unknown_kid_refetches_the_jwks_once(social_api, google):
    async with social_api() as gql:
        assert (await _social(gql, "GOOGLE", google.id_token()))["userErrors"] == []
        assert google.fetches == 1

        payload = await _social(gql, "GOOGLE", google.id_token(key=new_key(), kid="unknown"))
        assert _errors(payload) == [("token", "INVALID_TOKEN")]
        assert google.fetches == 2

        # A key rotated in since the last fetch is found by the refetch.
        google.keys["rotated"] = new_key()
        rotated = await _social(
            gql, "GOOGLE", google.id_token(key=google.keys["rotated"], kid="rotated")
        )
        assert rotated["userErrors"] == []
        assert google.fetches == 3


async def test_google_jwks_down_is_provider_unavailable(social_api, google):
    async with social_api(google_jwks_url=f"{unused_url()}/oauth2/v3/certs") as gql:
        payload = await _social(gql, "GOOGLE", google.id_token())

    assert _errors(payload) == [("token", "PROVIDER_UNAVAILABLE")]


async def test_facebook_creates_an_account_and_signs_it_in(social_api, facebook, count):
    token = facebook.add_user("EAAB-good", FacebookUser(id="101", email="Fb.User@Example.com"))
    async with social_api() as gql:
        first = await _social(gql, "FACEBOOK", token)
        second = await _social(gql, "FACEBOOK", token)

    assert first["userErrors"] == []
    assert first["user"]["email"] == "fb.user@example.com"
    assert (first["user"]["firstName"], first["user"]["lastName"]) == ("Fay", "Book")
    assert second["user"]["id"] == first["user"]["id"]
    assert facebook.app_token_uses == 2  # debug_token was called with our app access token
    assert await count(User) == 1


async def test_facebook_rejects_invalid_tokens_and_other_apps(social_api, facebook, count):
    other_app = facebook.add_user("EAAB-other", FacebookUser(id="102", app_id="999"))
    async with social_api() as gql:
        invalid = await _social(gql, "FACEBOOK", "EAAB-unknown")
        foreign = await _social(gql, "FACEBOOK", other_app)

    assert _errors(invalid) == [("token", "INVALID_TOKEN")]
    assert _errors(foreign) == [("token", "INVALID_TOKEN")]
    assert await count(User) == 0


async def test_facebook_without_email_is_refused(social_api, facebook, count):
    token = facebook.add_user("EAAB-noemail", FacebookUser(id="103", email=None))
    async with social_api() as gql:
        payload = await _social(gql, "FACEBOOK", token)

    assert payload["userErrors"] == [
        {
            "field": ["token"],
            "code": "INVALID",
            "message": "Your Facebook account did not share a verified email address; sign up "
            "with email and password instead.",
        }
    ]
    assert await count(User) == 0


async def test_facebook_graph_down_is_provider_unavailable(social_api, facebook):
    token = facebook.add_user("EAAB-good", FacebookUser(id="104"))
    async with social_api(facebook_graph_url=f"{unused_url()}/v19.0") as gql:
        payload = await _social(gql, "FACEBOOK", token)

    assert _errors(payload) == [("token", "PROVIDER_UNAVAILABLE")]


@pytest.mark.parametrize(
    ("provider", "setting"), [("GOOGLE", "google_client_id"), ("FACEBOOK", "facebook_app_id")]
)
async def test_disabled_provider_is_refused(social_api, google, provider, setting):
    async with social_api(**{setting: None}) as gql:
        payload = await _social(gql, provider, google.id_token())

    assert _errors(payload) == [("provider", "INVALID")]
    assert google.fetches == 0


@pytest.mark.parametrize("provider", list(SocialProvider))
@pytest.mark.parametrize("token", ["a\ud800b", "EAAB\x00good"], ids=["surrogate", "nul"])
async def test_unencodable_tokens_are_invalid_before_the_provider_is_asked(
    google, facebook, settings, provider, token
):
    # Called directly: the GraphQL layer may refuse such text before resolvers run.
    facebook.add_user(token, FacebookUser(id="107"))
    configured = settings.model_copy(
        update={
            "google_client_id": CLIENT_ID,
            "google_jwks_url": google.jwks_url,
            "facebook_app_id": facebook_graph.APP_ID,
            "facebook_app_secret": SecretStr(facebook_graph.APP_SECRET),
            "facebook_graph_url": facebook.graph_url,
        }
    )

    with pytest.raises(UserError) as caught:
        await verify_social_token(configured, provider, token)

    assert (caught.value.code.value, caught.value.field) == ("INVALID_TOKEN", "token")
    assert google.fetches == 0 and facebook.app_token_uses == 0


async def test_inactive_linked_account_is_refused(social_api, google, make_user):
    await make_user(email="jane.doe@gmail.com", is_active=False)
    async with social_api() as gql:
        payload = await _social(gql, "GOOGLE", google.id_token())

    assert _errors(payload) == [("token", "INVALID_CREDENTIALS")]
    assert payload["accessToken"] is None


def test_fake_issuer_matches_the_default_setting():
    from app.settings import Settings

    assert google_jwks.ISSUER in Settings.model_fields["google_issuers"].default


def _provider_token(provider: str, google: FakeGoogle, facebook: FakeFacebook, email: str) -> str:
    if provider == "GOOGLE":
        return google.id_token(email=email)
    return facebook.add_user("EAAB-takeover", FacebookUser(id="105", email=email))


@pytest.mark.parametrize("provider", ["GOOGLE", "FACEBOOK"])
async def test_unconfirmed_password_account_is_not_taken_over(
    social_api, google, facebook, make_user, session_factory, count, provider
):
    # Someone registered the address with a password of their own and never confirmed it.
    squatter = await make_user(email="victim@example.com")
    token = _provider_token(provider, google, facebook, "Victim@Example.com")
    async with social_api() as gql:
        async with listening(gql.app, f"user:{squatter.id}") as events:
            payload = await _social(gql, provider, token)

        assert _errors(payload) == [("token", "EMAIL_NOT_VERIFIED")]
        assert payload["accessToken"] is None and payload["refreshToken"] is None
        assert events == []
        assert await count(RefreshToken) == 0
        assert await count(User) == 1
        async with session_factory() as session:
            row = await session.get_one(User, squatter.id)
            assert (row.last_login_at, row.email_verified_at) == (None, None)
            assert row.password_hash == squatter.password_hash

        # Once the owner of the password confirms the address, the provider may link it.
        async with session_factory() as session, session.begin():
            (await session.get_one(User, squatter.id)).email_verified_at = datetime.now(UTC)
        linked = await _social(gql, provider, token)

    assert linked["userErrors"] == []
    assert linked["user"]["email"] == "victim@example.com"
    assert await count(RefreshToken) == 1


@pytest.mark.parametrize("provider", ["GOOGLE", "FACEBOOK"])
async def test_account_without_password_is_signed_in(
    social_api, google, facebook, make_user, session_factory, provider
):
    user = await make_user(email="nopass@example.com", password_hash=None)
    token = _provider_token(provider, google, facebook, "nopass@example.com")
    async with social_api() as gql:
        payload = await _social(gql, provider, token)

    assert payload["userErrors"] == []
    assert payload["user"]["email"] == "nopass@example.com"
    async with session_factory() as session:
        assert (await session.get_one(User, user.id)).last_login_at is not None


@pytest.mark.parametrize("provider", ["GOOGLE", "FACEBOOK"])
@pytest.mark.parametrize(
    "token", ["EAAB\x01good", "EAAB-gööd", "x" * 5000], ids=["control", "non-ascii", "huge"]
)
async def test_tokens_that_cannot_be_provider_tokens_are_invalid(
    social_api, google, facebook, count, provider, token
):
    facebook.add_user(token, FacebookUser(id="106"))  # even one the fake would accept
    async with social_api() as gql:
        payload = await _social(gql, provider, token)

    assert _errors(payload) == [("token", "INVALID_TOKEN")]
    assert await count(User) == 0
    assert google.fetches == 0 and facebook.app_token_uses == 0  # refused before any call
