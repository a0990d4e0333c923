"""The customer address book through the public API: CRUD, defaults, validation, ownership.

Country codes are upper-cased ("de" is stored as "DE"); alpha-3 codes ("usa") and unknown
codes ("XX") are INVALID. Phones are stored in E.164, national numbers read in the
address's country.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import delete, select
from strawberry.relay import to_base64

from app.db import create_session_factory
from app.services.accounts.addresses import AddressData, create_address
from models.accounts import User
from models.addresses import Address

FIELDS = """id firstName lastName company streetAddress1 streetAddress2 city postalCode
countryArea country countryName phone isDefaultShipping isDefaultBilling"""
CREATE = f"""
mutation($input: AddressInput!) {{
  addressCreate(input: $input) {{
    address {{ {FIELDS} }}
    userErrors {{ field message code }}
  }}
}}"""
UPDATE = f"""
mutation($id: ID!, $input: AddressUpdateInput!) {{
  addressUpdate(id: $id, input: $input) {{
    address {{ {FIELDS} }}
    userErrors {{ field message code }}
  }}
}}"""
DELETE = """
mutation($id: ID!) { addressDelete(id: $id) { deletedId userErrors { field code } } }"""
SET_DEFAULT = """
mutation($id: ID!, $type: AddressType!) {
  addressSetDefault(id: $id, type: $type) {
    address { id isDefaultShipping isDefaultBilling }
    userErrors { field code }
  }
}"""
BOOK = """
query {
  me {
    addresses { id city }
    defaultShippingAddress { id city }
    defaultBillingAddress { id city }
  }
}"""
NODE = "query($id: ID!) { node(id: $id) { ... on Address { id city } } }"
USER_ADDRESSES = "query($id: ID!) { user(id: $id) { addresses { id } } }"

BERLIN = {"streetAddress1": "Unter den Linden 1", "city": "Berlin", "country": "DE"}


def gid(type_name: str, key: int) -> str:
    return to_base64(type_name, key)


@pytest.fixture
def customer(make_user, sign_in, gql):
    async def make(n: int = 1, **fields):
        email = f"customer{n}@example.com"
        user = await make_user(email=email, **fields)
        client = gql.as_user((await sign_in(email))["accessToken"])
        client.user = user
        return client

    return make


async def create(client, **fields) -> dict:
    data = await client.execute(CREATE, input={**BERLIN, **fields})
    assert data["addressCreate"]["userErrors"] == [], data
    return data["addressCreate"]["address"]


async def create_errors(client, **fields) -> list[dict]:
    data = await client.execute(CREATE, input={**BERLIN, **fields})
    assert data["addressCreate"]["address"] is None
    return [{"field": e["field"], "code": e["code"]} for e in data["addressCreate"]["userErrors"]]


async def book(client) -> dict:
    me = (await client.execute(BOOK))["me"]
    return {
        "cities": [a["city"] for a in me["addresses"]],
        "shipping": me["defaultShippingAddress"] and me["defaultShippingAddress"]["city"],
        "billing": me["defaultBillingAddress"] and me["defaultBillingAddress"]["city"],
    }


async def test_first_address_is_created_cleaned_and_both_defaults(customer):
    ann = await customer()

    address = await create(
        ann,
        firstName="  Zoë ",
        lastName="Müller",
        company="ACME GmbH",
        streetAddress1=" Unter den Linden 1 ",
        streetAddress2="Hinterhaus",
        postalCode="10117",
        countryArea="Berlin",
        country="de",
        phone="030 1234567",
    )

    assert address == {
        "id": address["id"],
        "firstName": "Zoë",
        "lastName": "Müller",
        "company": "ACME GmbH",
        "streetAddress1": "Unter den Linden 1",
        "streetAddress2": "Hinterhaus",
        "city": "Berlin",
        "postalCode": "10117",
        "countryArea": "Berlin",
        "country": "DE",
        "countryName": "Germany",
        "phone": "+49301234567",
        "isDefaultShipping": True,
        "isDefaultBilling": True,
    }
    assert await book(ann) == {"cities": ["Berlin"], "shipping": "Berlin", "billing": "Berlin"}


async def test_later_addresses_do_not_take_the_defaults(customer):
    ann = await customer()
    await create(ann)

    second = await create(ann, city="Zürich", country="CH")

    assert (second["isDefaultShipping"], second["isDefaultBilling"]) == (False, False)
    assert await book(ann) == {
        "cities": ["Berlin", "Zürich"],
        "shipping": "Berlin",
        "billing": "Berlin",
    }


async def test_setting_a_default_moves_it_from_the_old_one(customer, count):
    ann = await customer()
    await create(ann)
    krakow = await create(ann, city="Kraków", country="PL")

    shipping = await ann.execute(SET_DEFAULT, id=krakow["id"], type="SHIPPING")

    assert shipping["addressSetDefault"] == {
        "address": {"id": krakow["id"], "isDefaultShipping": True, "isDefaultBilling": False},
        "userErrors": [],
    }
    assert await book(ann) == {
        "cities": ["Berlin", "Kraków"],
        "shipping": "Kraków",
        "billing": "Berlin",
    }
    await ann.execute(SET_DEFAULT, id=krakow["id"], type="BILLING")
    again = await ann.execute(SET_DEFAULT, id=krakow["id"], type="BILLING")  # idempotent
    assert again["addressSetDefault"]["userErrors"] == []
    assert await book(ann) == {
        "cities": ["Berlin", "Kraków"],
        "shipping": "Kraków",
        "billing": "Kraków",
    }
    assert await count(Address, Address.is_default_shipping) == 1
    assert await count(Address, Address.is_default_billing) == 1


async def test_deleting_a_default_leaves_no_default_of_that_kind(customer, count):
    ann = await customer()
    berlin = await create(ann)
    await create(ann, city="Kraków", country="PL")

    data = await ann.execute(DELETE, id=berlin["id"])

    assert data["addressDelete"] == {"deletedId": berlin["id"], "userErrors": []}
    assert await book(ann) == {"cities": ["Kraków"], "shipping": None, "billing": None}
    assert await count(Address) == 1


async def test_update_changes_only_the_given_fields(customer):
    ann = await customer()
    address = await create(ann, firstName="Ann", company="ACME", phone="+49 30 1234567")

    data = await ann.execute(
        UPDATE, id=address["id"], input={"city": "Kraków", "country": "pl", "company": None}
    )

    updated = data["addressUpdate"]["address"]
    assert data["addressUpdate"]["userErrors"] == []
    assert updated == {
        **address,
        "city": "Kraków",
        "country": "PL",
        "countryName": "Poland",
        "company": "",
    }


async def test_update_reads_a_national_phone_in_the_new_country(customer):
    ann = await customer()
    address = await create(ann)

    data = await ann.execute(
        UPDATE, id=address["id"], input={"country": "CH", "phone": "044 668 18 00"}
    )

    assert data["addressUpdate"]["address"]["phone"] == "+41446681800"


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"country": "XX"}, [(["country"], "INVALID")]),
        ({"country": "usa"}, [(["country"], "INVALID")]),
        ({"country": "D"}, [(["country"], "INVALID")]),
        ({"country": "ÄÖ"}, [(["country"], "INVALID")]),
        ({"country": "  "}, [(["country"], "REQUIRED")]),
        ({"streetAddress1": "   "}, [(["streetAddress1"], "REQUIRED")]),
        ({"city": ""}, [(["city"], "REQUIRED")]),
        ({"firstName": "x" * 151}, [(["firstName"], "TOO_LONG")]),
        ({"lastName": "x" * 151}, [(["lastName"], "TOO_LONG")]),
        ({"company": "x" * 251}, [(["company"], "TOO_LONG")]),
        ({"streetAddress1": "x" * 251}, [(["streetAddress1"], "TOO_LONG")]),
        ({"streetAddress2": "x" * 251}, [(["streetAddress2"], "TOO_LONG")]),
        ({"city": "x" * 151}, [(["city"], "TOO_LONG")]),
        ({"postalCode": "1" * 21}, [(["postalCode"], "TOO_LONG")]),
        ({"countryArea": "x" * 151}, [(["countryArea"], "TOO_LONG")]),
        ({"firstName": "Ann\x1b"}, [(["firstName"], "INVALID")]),
        ({"streetAddress1": "Line\nbreak"}, [(["streetAddress1"], "INVALID")]),
        ({"city": "Ber\u200blin"}, [(["city"], "INVALID")]),
        ({"phone": "12"}, [(["phone"], "INVALID")]),
        ({"phone": "not a phone"}, [(["phone"], "INVALID")]),
        ({"phone": "+49 30"}, [(["phone"], "INVALID")]),
        ({"phone": "+1" + "2" * 40}, [(["phone"], "INVALID")]),
        ({"phone": "030 1234567\x07"}, [(["phone"], "INVALID")]),  # as in a profile
        (
            {"city": "", "country": "XX", "phone": "12"},
            [(["city"], "REQUIRED"), (["country"], "INVALID"), (["phone"], "INVALID")],
        ),
    ],
)
async def test_invalid_input_is_refused_and_nothing_is_written(customer, count, fields, errors):
    ann = await customer()

    assert await create_errors(ann, **fields) == [
        {"field": field, "code": code} for field, code in errors
    ]
    assert await count(Address) == 0


@pytest.mark.parametrize(
    ("country", "phone", "stored"),
    [
        ("DE", "030 1234567", "+49301234567"),
        ("DE", "+49 (0)30 1234567", "+49301234567"),
        ("US", "(201) 555-0123", "+12015550123"),
        ("GB", "020 7946 0018", "+442079460018"),
        ("PL", "+48 12 345 67 89", "+48123456789"),
        ("DE", "", ""),
    ],
)
async def test_phones_are_stored_in_e164(customer, country, phone, stored):
    ann = await customer()

    address = await create(ann, country=country, phone=phone)

    assert address["phone"] == stored


async def test_unicode_is_kept_and_normalised_to_nfc(customer):
    ann = await customer()

    address = await create(
        ann, firstName="Zoe\u0301", lastName="Łukasiewicz", city="Krako\u0301w", country="PL"
    )

    assert (address["firstName"], address["lastName"], address["city"]) == (
        "Zoé",
        "Łukasiewicz",
        "Kraków",
    )


async def test_maximum_lengths_are_accepted(customer):
    ann = await customer()

    address = await create(
        ann,
        firstName="x" * 150,
        company="x" * 250,
        streetAddress1="x" * 250,
        city="x" * 150,
        postalCode="1" * 20,
    )

    assert len(address["streetAddress1"]) == 250


async def test_update_validates_and_writes_nothing_on_error(customer):
    ann = await customer()
    address = await create(ann)

    data = await ann.execute(
        UPDATE, id=address["id"], input={"city": "Kraków", "country": "XX", "streetAddress1": " "}
    )

    assert [(e["field"], e["code"]) for e in data["addressUpdate"]["userErrors"]] == [
        (["streetAddress1"], "REQUIRED"),
        (["country"], "INVALID"),
    ]
    assert await book(ann) == {"cities": ["Berlin"], "shipping": "Berlin", "billing": "Berlin"}


async def test_someone_elses_address_is_not_found(customer, count):
    ann = await customer()
    bob = await customer(2)
    anns = await create(ann)

    update = await bob.execute(UPDATE, id=anns["id"], input={"city": "Kraków"})
    deletion = await bob.execute(DELETE, id=anns["id"])
    default = await bob.execute(SET_DEFAULT, id=anns["id"], type="SHIPPING")

    assert update["addressUpdate"]["userErrors"] == [
        {"field": ["id"], "code": "NOT_FOUND", "message": "Address not found."}
    ]
    assert deletion["addressDelete"] == {
        "deletedId": None,
        "userErrors": [{"field": ["id"], "code": "NOT_FOUND"}],
    }
    assert default["addressSetDefault"]["userErrors"] == [{"field": ["id"], "code": "NOT_FOUND"}]
    assert await bob.execute(NODE, id=anns["id"]) == {"node": None}
    assert await ann.execute(NODE, id=anns["id"]) == {"node": {"id": anns["id"], "city": "Berlin"}}
    assert await book(bob) == {"cities": [], "shipping": None, "billing": None}
    assert await book(ann) == {"cities": ["Berlin"], "shipping": "Berlin", "billing": "Berlin"}
    assert await count(Address) == 1


@pytest.mark.parametrize("bad_id", [gid("User", 1), gid("Address", 987_654), gid("Address", 2**70)])
async def test_wrong_type_or_unknown_ids_are_not_found(customer, bad_id):
    ann = await customer()
    await create(ann)

    data = await ann.execute(DELETE, id=bad_id)

    assert data["addressDelete"]["userErrors"] == [{"field": ["id"], "code": "NOT_FOUND"}]


async def test_anonymous_has_no_address_book(gql, customer, count):
    ann = await customer()
    anns = await create(ann)

    assert await gql.error_codes(CREATE, input=BERLIN) == ["UNAUTHENTICATED"]
    assert await gql.error_codes(UPDATE, id=anns["id"], input={"city": "X"}) == ["UNAUTHENTICATED"]
    assert await gql.error_codes(DELETE, id=anns["id"]) == ["UNAUTHENTICATED"]
    assert await gql.error_codes(SET_DEFAULT, id=anns["id"], type="BILLING") == ["UNAUTHENTICATED"]
    assert await gql.execute(NODE, id=anns["id"]) == {"node": None}
    assert await gql.execute(BOOK) == {"me": None}
    assert await count(Address) == 1


async def test_staff_cannot_read_a_customers_address_book(customer, make_user, sign_in, gql):
    from app.auth.permissions import Role

    ann = await customer()
    await create(ann)
    await make_user(email="boss@example.com", role=Role.ADMIN)
    boss = gql.as_user((await sign_in("boss@example.com"))["accessToken"])

    assert await boss.error_codes(USER_ADDRESSES, id=gid("User", ann.user.id)) == ["FORBIDDEN"]


async def test_at_most_50_addresses(customer, count, session_factory):
    ann = await customer()
    async with session_factory() as session, session.begin():
        for i in range(49):
            await create_address(
                session,
                user_id=ann.user.id,
                data=AddressData(street_address_1=f"Street {i}", city="Berlin", country="DE"),
            )
    await create(ann, city="Fiftieth")

    errors = await create_errors(ann, city="Fifty-first")

    assert errors == [{"field": None, "code": "INVALID"}]
    assert await count(Address) == 50
    assert len((await book(ann))["cities"]) == 50


async def test_address_book_reads_in_one_statement(customer, connection):
    from tests.sql_counter import count_statements

    ann = await customer()
    for city in ("Berlin", "Kraków", "Zürich"):
        await create(ann, city=city)

    with count_statements(connection) as statements:
        result = await book(ann)

    assert result == {
        "cities": ["Berlin", "Kraków", "Zürich"],
        "shipping": "Berlin",
        "billing": "Berlin",
    }
    assert len(statements) == 2  # the viewer (token check), the addresses


async def test_deleting_the_user_deletes_their_addresses(customer, count, session_factory):
    ann = await customer()
    await create(ann)

    async with session_factory() as session, session.begin():
        await session.delete(await session.get_one(User, ann.user.id))

    assert await count(Address) == 0


async def test_database_allows_one_default_of_each_kind(engine):
    """The partial unique index stands behind the service."""
    from sqlalchemy.exc import IntegrityError

    factory = create_session_factory(engine)
    async with factory() as session, session.begin():
        user = User(email="two-defaults@example.com")
        session.add(user)
    try:
        with pytest.raises(IntegrityError):
            async with factory() as session, session.begin():
                for city in ("A", "B"):
                    session.add(
                        Address(
                            user_id=user.id,
                            street_address_1="1",
                            city=city,
                            country="DE",
                            is_default_shipping=True,
                        )
                    )
    finally:
        async with factory() as session, session.begin():
            await session.execute(delete(User).where(User.id == user.id))


async def test_concurrent_first_addresses_make_exactly_one_default_each(engine):
    """Several tabs add a first address at once: the user-row lock keeps one default of each."""
    factory = create_session_factory(engine)
    async with factory() as session, session.begin():
        user = User(email="race-address@example.com")
        session.add(user)

    async def add(i: int) -> None:
        async with factory() as session, session.begin():
            await create_address(
                session,
                user_id=user.id,
                data=AddressData(street_address_1=f"Street {i}", city="Berlin", country="DE"),
            )

    try:
        await asyncio.gather(*(add(i) for i in range(8)))
        async with factory() as session:
            rows = (await session.scalars(select(Address).where(Address.user_id == user.id))).all()
        assert len(rows) == 8
        assert sum(row.is_default_shipping for row in rows) == 1
        assert sum(row.is_default_billing for row in rows) == 1
    finally:
        async with factory() as session, session.begin():
            await session.execute(delete(User).where(User.id == user.id))
