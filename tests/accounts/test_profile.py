"""Profile updates and password change through the public API.

Phones must be international ("+49 30 1234567"), stored in E.164; locales are
supported BCP 47 primary language tags, stored lower-case. A password change ends
every session and hands the client a new token pair.
"""

from __future__ import annotations

from unittest.mock import ANY

import pytest

from app.auth.passwords import verify_password
from models.accounts import RefreshToken, User
from tests.conftest import PASSWORD, TOKEN_CREATE

PROFILE = "id email firstName lastName phone locale"
UPDATE = f"""
mutation($input: AccountUpdateInput!) {{
  accountUpdate(input: $input) {{
    user {{ {PROFILE} }}
    userErrors {{ field message code }}
  }}
}}"""
PASSWORD_CHANGE = """
mutation($old: String!, $new: String!) {
  passwordChange(oldPassword: $old, newPassword: $new) {
    accessToken refreshToken expiresIn
    user { email }
    userErrors { field message code }
  }
}"""
ME = f"{{ me {{ {PROFILE} }} }}"
REFRESH = """
mutation($token: String!) {
  tokenRefresh(refreshToken: $token) { accessToken userErrors { field code } }
}"""
NEW_PASSWORD = "another-Staple-horse-7"


@pytest.fixture
def customer(make_user, sign_in, gql):
    async def make(email: str = "ann@example.com", **fields):
        user = await make_user(email=email, **fields)
        tokens = await sign_in(email)
        client = gql.as_user(tokens["accessToken"])
        client.user = user
        client.tokens = tokens
        return client

    return make


async def update(client, **fields) -> dict:
    data = await client.execute(UPDATE, input=fields)
    assert data["accountUpdate"]["userErrors"] == [], data
    return data["accountUpdate"]["user"]


async def update_errors(client, **fields) -> list[dict]:
    data = await client.execute(UPDATE, input=fields)
    assert data["accountUpdate"]["user"] is None
    return [{"field": e["field"], "code": e["code"]} for e in data["accountUpdate"]["userErrors"]]


async def stored(session_factory, user_id: int) -> dict:
    async with session_factory() as session:
        user = await session.get_one(User, user_id)
        return {
            "first_name": user.first_name,
            "last_name": user.last_name,
            "phone": user.phone,
            "locale": user.locale,
            "token_version": user.token_version,
            "password_hash": user.password_hash,
        }


async def test_new_accounts_have_no_phone_and_english(customer):
    ann = await customer()

    me = (await ann.execute(ME))["me"]

    assert (me["phone"], me["locale"]) == ("", "en")


async def test_update_changes_every_field_cleaned(customer):
    ann = await customer()

    user = await update(
        ann, firstName="  Zoë ", lastName="Müller", phone="+49 30 1234567", locale="DE"
    )

    assert user == {
        "id": ANY,
        "email": "ann@example.com",
        "firstName": "Zoë",
        "lastName": "Müller",
        "phone": "+49301234567",
        "locale": "de",
    }
    assert (await ann.execute(ME))["me"] == user


async def test_update_changes_only_the_given_fields(customer):
    ann = await customer(first_name="Ann", last_name="Lee")
    await update(ann, phone="+44 20 7946 0018")

    user = await update(ann, locale="fr")

    assert (user["firstName"], user["lastName"], user["phone"], user["locale"]) == (
        "Ann",
        "Lee",
        "+442079460018",
        "fr",
    )


@pytest.mark.parametrize("cleared", ["", "   ", None])
async def test_empty_or_null_clears_the_phone(customer, cleared):
    ann = await customer(phone="+49301234567")

    user = await update(ann, phone=cleared)

    assert user["phone"] == ""


async def test_null_clears_a_name(customer):
    ann = await customer(first_name="Ann")

    user = await update(ann, firstName=None)

    assert user["firstName"] == ""


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"phone": "030 1234567"}, [{"field": ["phone"], "code": "INVALID"}]),
        ({"phone": "+49 12"}, [{"field": ["phone"], "code": "INVALID"}]),
        ({"phone": "+not a number"}, [{"field": ["phone"], "code": "INVALID"}]),
        ({"phone": "+49 30 1234567\x07"}, [{"field": ["phone"], "code": "INVALID"}]),
        ({"phone": "+49" + "1" * 40}, [{"field": ["phone"], "code": "INVALID"}]),
        ({"locale": "xx"}, [{"field": ["locale"], "code": "INVALID"}]),
        ({"locale": "de-DE"}, [{"field": ["locale"], "code": "INVALID"}]),
        ({"locale": ""}, [{"field": ["locale"], "code": "INVALID"}]),
        ({"firstName": "x" * 151}, [{"field": ["firstName"], "code": "TOO_LONG"}]),
        ({"lastName": "Lee\u0007"}, [{"field": ["lastName"], "code": "INVALID"}]),
        (
            {"firstName": "a\nb", "lastName": "y" * 151, "phone": "12", "locale": "klingon"},
            [
                {"field": ["firstName"], "code": "INVALID"},
                {"field": ["lastName"], "code": "TOO_LONG"},
                {"field": ["phone"], "code": "INVALID"},
                {"field": ["locale"], "code": "INVALID"},
            ],
        ),
        (
            # One bad field: the good ones are not written either.
            {"firstName": "Zoë", "locale": "de", "phone": "+1"},
            [{"field": ["phone"], "code": "INVALID"}],
        ),
    ],
)
async def test_invalid_input_is_refused_and_nothing_is_written(
    customer, session_factory, fields, errors
):
    ann = await customer(first_name="Ann", last_name="Lee", phone="+49301234567")
    before = await stored(session_factory, ann.user.id)

    assert await update_errors(ann, **fields) == errors

    assert await stored(session_factory, ann.user.id) == before


async def test_error_messages_say_what_to_do(customer):
    ann = await customer()

    data = await ann.execute(UPDATE, input={"phone": "030 1234567", "locale": "xx"})

    assert data["accountUpdate"]["userErrors"] == [
        {
            "field": ["phone"],
            "code": "INVALID",
            "message": "Enter an international phone number starting with + and the country code.",
        },
        {
            "field": ["locale"],
            "code": "INVALID",
            "message": "Choose one of the supported locales: "
            "en, de, fr, es, it, nl, pl, pt, sv, uk.",
        },
    ]


async def test_maximum_name_length_is_accepted(customer):
    ann = await customer()

    user = await update(ann, firstName="x" * 150, lastName="y" * 150)

    assert (len(user["firstName"]), len(user["lastName"])) == (150, 150)


async def test_locale_null_is_required(customer):
    ann = await customer()

    data = await ann.execute(UPDATE, input={"locale": None, "firstName": "Eve"})

    assert data["accountUpdate"] == {
        "user": None,
        "userErrors": [
            {"field": ["locale"], "code": "REQUIRED", "message": "This field cannot be null."}
        ],
    }
    me = (await ann.execute(ME))["me"]
    assert (me["locale"], me["firstName"]) == ("en", "")


async def test_anonymous_cannot_update_or_change_password(gql, customer, session_factory):
    ann = await customer(first_name="Ann")
    before = await stored(session_factory, ann.user.id)

    assert await gql.error_codes(UPDATE, input={"firstName": "Eve"}) == ["UNAUTHENTICATED"]
    assert await gql.error_codes(PASSWORD_CHANGE, old=PASSWORD, new=NEW_PASSWORD) == [
        "UNAUTHENTICATED"
    ]
    assert await stored(session_factory, ann.user.id) == before


async def test_password_change_ends_every_session_and_returns_a_new_pair(
    gql, customer, sign_in, count, session_factory
):
    ann = await customer()
    other_device = await sign_in("ann@example.com")

    data = await ann.execute(PASSWORD_CHANGE, old=PASSWORD, new=NEW_PASSWORD)

    payload = data["passwordChange"]
    assert payload == {
        "accessToken": ANY,
        "refreshToken": ANY,
        "expiresIn": 900,
        "user": {"email": "ann@example.com"},
        "userErrors": [],
    }
    # Every access token issued before is dead, on this device and the other ...
    for old in (ann.tokens, other_device):
        assert await gql.as_user(old["accessToken"]).error_codes(ME) == ["UNAUTHENTICATED"]
        refreshed = await gql.execute(REFRESH, token=old["refreshToken"])
        assert refreshed["tokenRefresh"]["userErrors"] == [
            {"field": ["refreshToken"], "code": "INVALID_TOKEN"}
        ]
    assert await count(RefreshToken, RefreshToken.revoked_at.is_(None)) == 1
    # ... while the new pair works.
    me = await gql.as_user(payload["accessToken"]).execute(ME)
    assert me["me"]["email"] == "ann@example.com"
    refreshed = await gql.execute(REFRESH, token=payload["refreshToken"])
    assert refreshed["tokenRefresh"]["userErrors"] == []
    # The new password signs in, the old one no longer does.
    assert await sign_in("ann@example.com", NEW_PASSWORD)
    old_sign_in = await gql.execute(TOKEN_CREATE, email="ann@example.com", password=PASSWORD)
    assert old_sign_in["tokenCreate"]["userErrors"] == [
        {"field": ["email"], "code": "INVALID_CREDENTIALS", "message": ANY}
    ]
    after = await stored(session_factory, ann.user.id)
    assert after["token_version"] == 1
    assert await verify_password(after["password_hash"], NEW_PASSWORD)


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        (
            "wrong-Password-1",
            NEW_PASSWORD,
            {
                "field": ["oldPassword"],
                "code": "INVALID_CREDENTIALS",
                "message": "The current password is wrong.",
            },
        ),
        (
            "x" * 5000,
            NEW_PASSWORD,
            {"field": ["oldPassword"], "code": "INVALID_CREDENTIALS", "message": ANY},
        ),
        (
            PASSWORD,
            "short1",
            {
                "field": ["newPassword"],
                "code": "PASSWORD_TOO_WEAK",
                "message": "Use at least 8 characters.",
            },
        ),
        (
            PASSWORD,
            "password123",
            {"field": ["newPassword"], "code": "PASSWORD_TOO_WEAK", "message": ANY},
        ),
        (PASSWORD, "", {"field": ["newPassword"], "code": "REQUIRED", "message": ANY}),
        (PASSWORD, "p" * 257, {"field": ["newPassword"], "code": "TOO_LONG", "message": ANY}),
        (
            PASSWORD,
            PASSWORD,
            {
                "field": ["newPassword"],
                "code": "INVALID",
                "message": "The new password must differ from the current one.",
            },
        ),
    ],
)
async def test_refused_password_change_changes_nothing(
    gql, customer, count, session_factory, old, new, error
):
    ann = await customer()
    before = await stored(session_factory, ann.user.id)

    data = await ann.execute(PASSWORD_CHANGE, old=old, new=new)

    assert data["passwordChange"] == {
        "accessToken": None,
        "refreshToken": None,
        "expiresIn": None,
        "user": None,
        "userErrors": [error],
    }
    assert await stored(session_factory, ann.user.id) == before
    assert await count(RefreshToken) == 1
    assert await count(RefreshToken, RefreshToken.revoked_at.is_not(None)) == 0
    assert (await ann.execute(ME))["me"]["email"] == "ann@example.com"
    refreshed = await gql.execute(REFRESH, token=ann.tokens["refreshToken"])
    assert refreshed["tokenRefresh"]["userErrors"] == []


async def test_wrong_old_password_is_checked_before_the_new_one(customer):
    ann = await customer()

    data = await ann.execute(PASSWORD_CHANGE, old="wrong-Password-1", new="short")

    assert data["passwordChange"]["userErrors"] == [
        {"field": ["oldPassword"], "code": "INVALID_CREDENTIALS", "message": ANY}
    ]


async def test_database_refuses_a_phone_that_is_not_e164(customer, session_factory):
    from sqlalchemy.exc import IntegrityError

    ann = await customer()

    with pytest.raises(IntegrityError):
        async with session_factory() as session, session.begin():
            user = await session.get_one(User, ann.user.id)
            user.phone = "030 1234567"
