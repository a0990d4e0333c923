"""accountRegister through the public API."""

from __future__ import annotations

import asyncio
from unittest.mock import ANY

import pytest

from models.accounts import User

REGISTER = """
mutation($input: AccountRegisterInput!) {
  accountRegister(input: $input) {
    user { id email firstName lastName role isActive permissions }
    userErrors { field message code }
  }
}"""


def _input(**overrides: object) -> dict[str, object]:
    return {
        "email": "new@example.com",
        "password": "a-Good-passphrase-7",
        "firstName": "New",
        "lastName": "Shopper",
    } | overrides


async def test_register_creates_a_customer(gql, count):
    data = await gql.execute(REGISTER, input=_input(email="  New@Example.COM "))

    payload = data["accountRegister"]
    assert payload["userErrors"] == []
    assert payload["user"] == {
        "id": ANY,
        "email": "new@example.com",
        "firstName": "New",
        "lastName": "Shopper",
        "role": "CUSTOMER",
        "isActive": True,
        "permissions": [],
    }
    assert await count(User, User.email == "new@example.com") == 1


async def test_register_hashes_the_password_with_argon2id(gql, session):
    await gql.execute(REGISTER, input=_input())

    stored = await session.scalar(User.__table__.select().with_only_columns(User.password_hash))
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert "a-Good-passphrase-7" not in stored


@pytest.mark.parametrize("email", ["new@example.com", "NEW@EXAMPLE.COM", "New@Example.Com"])
async def test_register_refuses_a_taken_email_in_any_case(gql, make_user, count, email):
    await make_user(email="new@example.com")

    data = await gql.execute(REGISTER, input=_input(email=email))

    assert data["accountRegister"] == {
        "user": None,
        "userErrors": [{"field": ["email"], "code": "UNIQUE", "message": ANY}],
    }
    assert await count(User) == 1


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1!", "Use at least 8 characters."),
        ("password123", "This password is too common."),
        ("1234567890123", "Use more than digits."),
        ("aaaaaaaaabbbb", "Use more different characters."),
        ("xx-shopper99-xx", "Do not build the password from your email address."),
    ],
)
async def test_register_refuses_weak_passwords(gql, count, password, message):
    data = await gql.execute(
        REGISTER, input=_input(email="shopper99@example.com", password=password)
    )

    assert data["accountRegister"] == {
        "user": None,
        "userErrors": [{"field": ["password"], "code": "PASSWORD_TOO_WEAK", "message": message}],
    }
    assert await count(User) == 0


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"email": "not-an-email"}, "email", "INVALID"),
        ({"email": "a@b"}, "email", "INVALID"),
        ({"email": ""}, "email", "REQUIRED"),
        ({"email": "x" * 250 + "@example.com"}, "email", "TOO_LONG"),
        ({"password": ""}, "password", "REQUIRED"),
        ({"password": "Aa1-" * 100}, "password", "TOO_LONG"),
        ({"firstName": "N" * 151}, "firstName", "TOO_LONG"),
        ({"lastName": "bad\u0001name"}, "lastName", "INVALID"),
        ({"lastName": "line\nbreak"}, "lastName", "INVALID"),
    ],
)
async def test_register_rejects_bad_input_without_writing(gql, count, overrides, field, code):
    data = await gql.execute(REGISTER, input=_input(**overrides))

    assert data["accountRegister"]["user"] is None
    assert [(e["field"], e["code"]) for e in data["accountRegister"]["userErrors"]] == [
        ([field], code)
    ]
    assert await count(User) == 0


async def test_register_reports_every_bad_field_at_once(gql, count):
    data = await gql.execute(
        REGISTER, input=_input(email="nope", password="123", firstName="F" * 200)
    )

    codes = {e["field"][0]: e["code"] for e in data["accountRegister"]["userErrors"]}
    assert codes == {"email": "INVALID", "firstName": "TOO_LONG", "password": "PASSWORD_TOO_WEAK"}
    assert await count(User) == 0


async def test_register_keeps_unicode_names(gql):
    data = await gql.execute(
        REGISTER,
        input=_input(email="zoe@example.com", firstName="  Zoë 张伟 ", lastName="Ñandú-Øster"),
    )

    user = data["accountRegister"]["user"]
    assert (user["firstName"], user["lastName"]) == ("Zoë 张伟", "Ñandú-Øster")


async def test_register_accepts_an_internationalised_email(gql):
    data = await gql.execute(REGISTER, input=_input(email="Jürgen@Bücher.de"))

    assert data["accountRegister"]["userErrors"] == []
    assert data["accountRegister"]["user"]["email"] == "jürgen@bücher.de"


async def test_register_with_wrong_types_is_a_graphql_error(gql, count):
    body = await gql.raw(REGISTER, input={"email": 42, "password": ["x"]})

    assert "data" not in body  # a request error: nothing ran
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        (
            "Variable '$input' has invalid value at .email: "
            "String cannot represent a non string value: 42",
            "BAD_USER_INPUT",
        ),
        (
            "Variable '$input' has invalid value at .password: "
            "String cannot represent a non string value: ['x']",
            "BAD_USER_INPUT",
        ),
    ]
    assert await count(User) == 0


async def test_register_missing_required_field_is_a_graphql_error(gql, count):
    body = await gql.raw(REGISTER, input={"email": "a@example.com"})

    assert "data" not in body
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        (
            "Variable '$input' has invalid value: Expected value of type "
            "'AccountRegisterInput' to include required field 'password', found: "
            "{'email': 'a@example.com'}.",
            "BAD_USER_INPUT",
        )
    ]
    assert await count(User) == 0


async def test_concurrent_registrations_of_one_email_create_one_account(engine, settings):
    """Two transactions race on the same email: one account, one UNIQUE error."""
    from sqlalchemy import delete

    from app.db import create_session_factory
    from app.errors import UserError
    from app.services.accounts.tokens import RegistrationData, register_account

    factory = create_session_factory(engine)
    email = "race-register@example.com"

    async def register() -> str:
        async with factory() as session, session.begin():
            try:
                await register_account(
                    session,
                    data=RegistrationData(email=email, password="race-Password-42"),
                    settings=settings,
                )
            except UserError as exc:
                return exc.code.value
            return "ok"

    try:
        results = await asyncio.gather(*(register() for _ in range(6)))
        assert sorted(results) == ["UNIQUE"] * 5 + ["ok"]
    finally:
        async with factory() as session, session.begin():
            await session.execute(delete(User).where(User.email == email))
