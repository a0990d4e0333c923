"""One text rule in every domain: the same string gets the same answer wherever it is sent.

People's names, addresses, product, category, tag and warehouse text and reviews all go
through `app/services/checks.py::clean_text` (the rule is in its docstring). These tests
send the same strings through each domain's public mutation and check the exact code and
message, and that nothing was written; and that text the rule accepts is stored the same
way everywhere.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from strawberry.relay import to_base64

from app.auth.permissions import Role
from models.accounts import User
from models.addresses import Address
from models.catalog import Category, Product, Review, Tag, Warehouse
from tests.graphql_client import GraphQLClient

EMAIL = "staff@example.com"

# Characters the rule refuses anywhere, each sent between two letters ("a\u202eb").
REFUSED = {
    "right-to-left override": "\u202e",
    "left-to-right embedding": "\u202a",
    "first-strong isolate": "\u2068",
    "right-to-left mark": "\u200f",
    "zero-width space": "\u200b",
    "word joiner": "\u2060",
    "byte order mark": "\ufeff",
    "soft hyphen": "\u00ad",
    "tag character": "\U000e0041",
    "bell (C0)": "\x07",
    "escape (C0)": "\x1b",
    "delete": "\x7f",
    "next line (C1)": "\x85",
    "line separator": "\u2028",
    "paragraph separator": "\u2029",
    "private use": "\ue000",
    "noncharacter": "\ufdd0",
}
# Refused in one-line text only; multi-line text keeps them (a CR as LF).
LINE_BREAKS = {"line feed": "\n", "carriage return": "\r", "tab": "\t"}
# Trimmed, NFC ("Cafe" + combining acute is "Café"), any script, joiners kept: emoji
# sequences (ZWJ) and Persian spelling (ZWNJ) need them.
ACCEPTED = "  Cafe\u0301 👩\u200d💻 \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 Пирог 张伟  "
STORED = "Café 👩\u200d💻 \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 Пирог 张伟"


def refusal(field: str, char: str) -> list[dict[str, Any]]:
    """The rule's one answer to a text with `char` in it."""
    message = f"Must not contain control or invisible formatting characters (U+{ord(char):04X})."
    return [{"field": [field], "code": "INVALID", "message": message}]


@dataclass(frozen=True)
class World:
    staff: GraphQLClient
    product_id: str
    count: Callable[..., Awaitable[int]]
    first_name: Callable[[], Awaitable[str]]


@dataclass(frozen=True)
class Field:
    """A text field of one domain, set through its create (or update) mutation."""

    mutation: str
    root: str
    field: str
    inputs: Callable[[World, str], dict[str, Any]]
    written: Callable[[World], Awaitable[Any]]
    result: str  # the payload field that holds the object

    async def send(self, world: World, text: str) -> dict[str, Any]:
        data = await world.staff.execute(self.mutation, input=self.inputs(world, text))
        return data[self.root]


def _create(root: str, input_type: str, result: str, fields: str) -> str:
    return f"""
mutation($input: {input_type}!) {{
  {root}(input: $input) {{ {result} {{ {fields} }} userErrors {{ field message code }} }}
}}"""


PRODUCT = _create("productCreate", "ProductCreateInput", "product", "name description")
CATEGORY = _create("categoryCreate", "CategoryCreateInput", "category", "name description")
TAG = _create("tagCreate", "TagCreateInput", "tag", "name")
WAREHOUSE = _create("warehouseCreate", "WarehouseCreateInput", "warehouse", "name")
ADDRESS = _create("addressCreate", "AddressInput", "address", "streetAddress1")
REVIEW = _create("reviewCreate", "ReviewCreateInput", "review", "title body")
PROFILE = _create("accountUpdate", "AccountUpdateInput", "user", "firstName")
BERLIN = {"city": "Berlin", "country": "DE"}


def _rows(model: type) -> Callable[[World], Awaitable[int]]:
    return lambda world: world.count(model)


ONE_LINE = {
    "product name": Field(
        PRODUCT, "productCreate", "name", lambda w, t: {"name": t}, _rows(Product), "product"
    ),
    "category name": Field(
        CATEGORY, "categoryCreate", "name", lambda w, t: {"name": t}, _rows(Category), "category"
    ),
    "tag name": Field(TAG, "tagCreate", "name", lambda w, t: {"name": t}, _rows(Tag), "tag"),
    "warehouse name": Field(
        WAREHOUSE,
        "warehouseCreate",
        "name",
        lambda w, t: {"name": t},
        _rows(Warehouse),
        "warehouse",
    ),
    "address line": Field(
        ADDRESS,
        "addressCreate",
        "streetAddress1",
        lambda w, t: {"streetAddress1": t} | BERLIN,
        _rows(Address),
        "address",
    ),
    "review title": Field(
        REVIEW,
        "reviewCreate",
        "title",
        lambda w, t: {"productId": w.product_id, "rating": 5, "title": t},
        _rows(Review),
        "review",
    ),
    "profile first name": Field(
        PROFILE,
        "accountUpdate",
        "firstName",
        lambda w, t: {"firstName": t},
        lambda world: world.first_name(),
        "user",
    ),
}
MULTI_LINE = {
    "product description": Field(
        PRODUCT,
        "productCreate",
        "description",
        lambda w, t: {"name": "Mug", "description": t},
        _rows(Product),
        "product",
    ),
    "category description": Field(
        CATEGORY,
        "categoryCreate",
        "description",
        lambda w, t: {"name": "Mugs", "description": t},
        _rows(Category),
        "category",
    ),
    "review body": Field(
        REVIEW,
        "reviewCreate",
        "body",
        lambda w, t: {"productId": w.product_id, "rating": 5, "body": t},
        _rows(Review),
        "review",
    ),
}


@pytest.fixture
async def world(make_user, make_product, sign_in, gql, count, session_factory) -> World:
    """A staff member (staff write the catalog and, like anyone, their own profile,
    addresses and reviews) and a published product to review."""
    await make_user(email=EMAIL, role=Role.STAFF, first_name="Ann")
    staff = gql.as_user((await sign_in(EMAIL))["accessToken"])
    product = await make_product("Reviewed mug")

    async def first_name() -> str:
        async with session_factory() as session:
            return (await session.scalars(select(User.first_name))).one()

    return World(staff, to_base64("Product", product.id), count, first_name)


@pytest.mark.parametrize("name", list(ONE_LINE))
async def test_one_line_text_refuses_the_same_characters_in_every_domain(world, name):
    field = ONE_LINE[name]
    before = await field.written(world)

    answers = {
        label: (await field.send(world, f"a{char}b"))["userErrors"]
        for label, char in (REFUSED | LINE_BREAKS).items()
    }

    assert answers == {
        label: refusal(field.field, char) for label, char in (REFUSED | LINE_BREAKS).items()
    }
    assert await field.written(world) == before  # nothing was written


@pytest.mark.parametrize("name", list(MULTI_LINE))
async def test_multi_line_text_refuses_the_same_characters_but_keeps_line_breaks(world, name):
    field = MULTI_LINE[name]
    before = await field.written(world)

    refused = {
        label: (await field.send(world, f"a{char}b"))["userErrors"]
        for label, char in REFUSED.items()
    }
    kept = await field.send(world, "line1\r\nline2\rline3\n\tindented")

    assert refused == {label: refusal(field.field, char) for label, char in REFUSED.items()}
    assert kept["userErrors"] == []
    assert kept[field.result][field.field] == "line1\nline2\nline3\n\tindented"
    assert await field.written(world) == before + 1  # only the text with line breaks


@pytest.mark.parametrize("name", list(ONE_LINE) + list(MULTI_LINE))
async def test_text_the_rule_accepts_is_stored_alike_in_every_domain(world, name):
    field = (ONE_LINE | MULTI_LINE)[name]

    payload = await field.send(world, ACCEPTED)

    assert payload["userErrors"] == []
    assert payload[field.result][field.field] == STORED
