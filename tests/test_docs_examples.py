"""The GraphQL examples of the docs are true of the code.

- Every ```graphql block of README.md and docs/*.md parses and validates against the schema
  built from the code (`app.schema.export_sdl`). A block may spread a fragment that another
  block of the same file defines (docs/checkout-guide.md's `CartFields`); it is appended.
- A ```json block right after a ```graphql block holds that operation's variables: it parses
  and its keys are exactly the variables the operation declares.
- In docs/admin-manual.md every example is one named operation followed by its variables.
- A few of the admin manual's examples run end to end against the real API as staff, with
  the manual's own variables (only the IDs swapped for those of the test's rows), and answer
  no errors and no userErrors.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    OperationDefinitionNode,
    build_schema,
    parse,
    validate,
    visit,
)
from graphql.language import Visitor

from app.auth.permissions import Role
from app.schema import export_sdl
from tests.catalog.staff_fixtures import gid
from tests.checkout.checkout_fixtures import Shop
from tests.conftest import PASSWORD
from tests.graphql_client import GraphQLClient
from tests.orders.after_sale_fixtures import paid_order

ROOT = Path(__file__).resolve().parent.parent
DOCS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
MANUAL = ROOT / "docs" / "admin-manual.md"
SCHEMA = build_schema(export_sdl())


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    lang: str
    text: str
    end: int  # line of the closing fence

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def fenced_blocks(path: Path) -> list[Block]:
    """Every fenced code block of a Markdown file, in order."""
    blocks: list[Block] = []
    lines = path.read_text().splitlines()
    start: int | None = None
    lang = ""
    body: list[str] = []
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if start is None:
            if stripped.startswith("```"):
                start, lang, body = number, stripped[3:].strip(), []
        elif stripped == "```":
            blocks.append(Block(path, start, lang, "\n".join(body) + "\n", number))
            start = None
        else:
            body.append(line)
    assert start is None, f"{path.relative_to(ROOT)}:{start}: unclosed code block"
    return blocks


def variables_block(blocks: list[Block], index: int) -> Block | None:
    """The ```json block that comes right after blocks[index] (only blank lines between)."""
    if index + 1 >= len(blocks):
        return None
    following = blocks[index + 1]
    between = blocks[index].path.read_text().splitlines()[blocks[index].end : following.line - 1]
    if following.lang == "json" and all(not line.strip() for line in between):
        return following
    return None


def _spreads(document: DocumentNode) -> set[str]:
    names: set[str] = set()

    class Spreads(Visitor):
        def enter_fragment_spread(self, node: FragmentSpreadNode, *_: Any) -> None:
            names.add(node.name.value)

    visit(document, Spreads())
    return names


def _fragment_library(blocks: list[Block]) -> dict[str, str]:
    """Fragments defined by blocks made of fragments only, by name, as source text."""
    library: dict[str, str] = {}
    for block in blocks:
        document = parse(block.text)
        if all(isinstance(d, FragmentDefinitionNode) for d in document.definitions):
            for definition in document.definitions:
                assert isinstance(definition, FragmentDefinitionNode) and definition.loc
                library[definition.name.value] = block.text[
                    definition.loc.start : definition.loc.end
                ]
    return library


def with_fragments(text: str, library: dict[str, str]) -> str:
    """`text` with the library's fragments it spreads (and those they spread) appended."""
    document = parse(text)
    defined = {d.name.value for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    while missing := sorted((_spreads(document) - defined) & library.keys()):
        text += "".join("\n" + library[name] + "\n" for name in missing)
        defined |= set(missing)
        document = parse(text)
    return text


def graphql_blocks() -> list[Block]:
    return [block for path in DOCS for block in fenced_blocks(path) if block.lang == "graphql"]


def _operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


def _is_fragment_library(block: Block) -> bool:
    return not _operations(parse(block.text))


@pytest.mark.parametrize("block", graphql_blocks(), ids=lambda block: block.where)
def test_graphql_example_validates_against_the_schema(block: Block):
    try:
        document = parse(block.text)
    except GraphQLError as error:
        pytest.fail(f"{block.where}: does not parse: {error.message}")
    library = _fragment_library([b for b in fenced_blocks(block.path) if b.lang == "graphql"])
    if not _operations(document):  # a fragment library: checked with the blocks that use it
        users = [
            b
            for b in fenced_blocks(block.path)
            if b.lang == "graphql" and not _is_fragment_library(b)
            and _spreads(parse(b.text)) & library.keys()
        ]  # fmt: skip
        assert users, f"{block.where}: defines fragments no example of the file spreads"
        return
    full = parse(with_fragments(block.text, library))

    errors = validate(SCHEMA, full)

    assert not errors, f"{block.where}: " + "; ".join(
        f"{error.message} ({_location(block, error)})" for error in errors
    )


def _location(block: Block, error: GraphQLError) -> str:
    """Where in the Markdown file an error is: its line, or the appended fragment's."""
    if not error.locations:
        return "no location"
    line = error.locations[0].line
    if line > block.text.count("\n"):
        return "in a fragment defined in another block of the file"
    return f"line {block.line + line} of {block.path.name}"


def _examples_with_variables() -> list[tuple[Block, Block]]:
    pairs = []
    for path in DOCS:
        blocks = fenced_blocks(path)
        for index, block in enumerate(blocks):
            following = variables_block(blocks, index)
            if block.lang == "graphql" and following is not None:
                pairs.append((block, following))
    return pairs


@pytest.mark.parametrize(
    ("block", "variables"), _examples_with_variables(), ids=lambda b: getattr(b, "where", "")
)
def test_variables_after_an_example_are_exactly_the_ones_it_declares(block, variables):
    try:
        values = json.loads(variables.text)
    except json.JSONDecodeError as error:
        pytest.fail(f"{variables.where}: the variables are not JSON: {error}")
    assert isinstance(values, dict), f"{variables.where}: variables must be a JSON object"
    declared = {
        definition.variable.name.value
        for operation in _operations(parse(block.text))
        for definition in operation.variable_definitions or ()
    }

    assert set(values) == declared, (
        f"{variables.where}: variables {sorted(values)} but {block.where} declares "
        f"{sorted(declared)}"
    )


def test_every_admin_manual_example_is_one_named_operation_with_its_variables():
    blocks = fenced_blocks(MANUAL)
    problems = []
    names: list[str] = []
    for index, block in enumerate(blocks):
        if block.lang != "graphql":
            continue
        operations = _operations(parse(block.text))
        if len(operations) != 1 or operations[0].name is None:
            problems.append(f"{block.where}: not exactly one named operation")
        else:
            names.append(operations[0].name.value)
        if variables_block(blocks, index) is None:
            problems.append(f"{block.where}: no ```json block of variables right after it")
    duplicates = sorted({name for name in names if names.count(name) > 1})

    assert problems == [], "\n".join(problems)
    assert duplicates == [], f"operation names used twice: {duplicates}"
    assert len(names) >= 30, "the manual lost its examples"


# End to end: the manual's examples against the real API.


def manual_examples() -> dict[str, tuple[str, dict[str, Any]]]:
    """Operation name -> (document, the manual's variables)."""
    blocks = fenced_blocks(MANUAL)
    examples = {}
    for index, block in enumerate(blocks):
        following = variables_block(blocks, index)
        if block.lang == "graphql" and following is not None:
            [operation] = _operations(parse(block.text))
            assert operation.name is not None
            examples[operation.name.value] = (block.text, json.loads(following.text))
    return examples


@pytest.fixture
def run_example() -> Callable:
    """Run a manual example as written; `ids` replaces some of its variables (IDs of the
    test's rows, which the manual cannot know). No errors, no userErrors; returns the value
    of its (only) root field."""
    examples = manual_examples()

    async def run(client: GraphQLClient, name: str, **ids: Any) -> Any:
        document, variables = examples[name]
        unknown = set(ids) - set(variables)
        assert not unknown, f"{name} declares no variables {sorted(unknown)}"
        data = await client.execute(document, **{**variables, **ids})
        [(field, value)] = data.items()
        if isinstance(value, dict) and "userErrors" in value:
            assert value["userErrors"] == [], (name, field, value["userErrors"])
        return value

    return run


async def _signed_in(gql: GraphQLClient, run_example: Callable, email: str) -> GraphQLClient:
    """A client signed in through the manual's own SignIn example."""
    token = await run_example(gql, "SignIn", email=email, password=PASSWORD)
    return gql.as_user(token["accessToken"])


async def test_the_catalog_examples_run(gql, make_user, make_tag, run_example):
    await make_user(email="staff@example.com", role=Role.STAFF)
    staff = await _signed_in(gql, run_example, "staff@example.com")
    tag = await make_tag("Gift ideas")

    me = await run_example(staff, "WhoAmI")
    category = (await run_example(staff, "CreateCategory"))["category"]
    tag_ids = [gid("Tag", tag.id)]
    product = await run_example(staff, "CreateProduct", categoryId=category["id"], tagIds=tag_ids)
    product = product["product"]
    variant = (await run_example(staff, "CreateVariant", productId=product["id"]))["variant"]
    stock = (await run_example(staff, "SetStock", variantId=variant["id"]))["stock"]
    adjusted = (await run_example(staff, "AdjustStock", variantId=variant["id"]))["stock"]
    history = await run_example(staff, "StockHistory", variantId=variant["id"])
    published = (await run_example(staff, "PublishProduct", id=product["id"]))["product"]

    assert (me["role"], "MANAGE_PRODUCTS" in me["permissions"]) == ("STAFF", True)
    assert (product["isPublished"], product["category"], product["tags"]) == (
        False, {"id": category["id"], "name": "Kitchen"}, [{"name": "Gift ideas"}],
    )  # fmt: skip
    assert variant["price"] == {"amount": "12.50", "currency": "USD"}
    assert (stock["quantity"], adjusted["quantity"]) == (40, 38)
    assert [(e["node"]["delta"], e["node"]["reason"]) for e in history["edges"]] == [
        (-2, "Two arrived broken"), (40, "Stocktake"),
    ]  # fmt: skip
    assert published["isPublished"] is True


@pytest.fixture
def shop(session_factory) -> Shop:
    return Shop(session_factory)


async def test_the_order_examples_run(gql, shop, make_user, run_example):
    order = await paid_order(gql, shop, quantities=(2,))
    await make_user(email="staff@example.com", role=Role.STAFF)
    staff = await _signed_in(gql, run_example, "staff@example.com")

    listed = await run_example(staff, "PaidOrders")
    line_id = (await run_example(staff, "OrderDetails", id=order["id"]))["lines"][0]["id"]
    await run_example(staff, "AddOrderNote", id=order["id"])
    refund = (await run_example(staff, "RefundAmount", orderId=order["id"]))["refund"]
    shipped = await run_example(staff, "FulfilOrder", orderId=order["id"], lineId=line_id)
    delivered = await run_example(staff, "MarkShipmentDelivered", id=shipped["shipment"]["id"])
    details = await run_example(staff, "OrderDetails", id=order["id"])

    assert [edge["node"]["id"] for edge in listed["edges"]] == [order["id"]]
    assert (refund["status"], refund["amount"]["amount"]) == ("SUCCEEDED", "5.00")
    assert shipped["shipment"]["trackingNumber"] == "JD014600006281230704"
    assert delivered["order"]["status"] == "DELIVERED"
    assert [event["toStatus"] for event in details["events"]] == [
        "PENDING_PAYMENT", "PAID", "PARTIALLY_REFUNDED", "FULFILLED", "DELIVERED",
    ]  # fmt: skip
    assert [note["body"] for note in details["notes"]] == [
        "Customer asked for a call before delivery"
    ]
    assert [entry["action"] for entry in details["auditTrail"]] == [
        "note.add", "refund.request", "shipment.create", "shipment.deliver",
    ]  # fmt: skip


RETURN_REQUEST = """
mutation($token: String!, $lineId: ID!) {
  orderReturnRequest(token: $token, input: {lines: [{lineId: $lineId, quantity: 1}]}) {
    orderReturn { id } userErrors { field code message }
  }
}"""


async def test_the_return_examples_run(gql, shop, make_user, run_example):
    order = await paid_order(gql, shop, quantities=(2,))
    await make_user(email="staff@example.com", role=Role.STAFF)
    staff = await _signed_in(gql, run_example, "staff@example.com")
    line_id = (await run_example(staff, "OrderDetails", id=order["id"]))["lines"][0]["id"]
    shipped = await run_example(staff, "FulfilOrder", orderId=order["id"], lineId=line_id)
    await run_example(staff, "MarkShipmentDelivered", id=shipped["shipment"]["id"])
    asked = (await gql.execute(RETURN_REQUEST, token=order["token"], lineId=line_id))[
        "orderReturnRequest"
    ]
    assert asked["userErrors"] == []
    return_id = asked["orderReturn"]["id"]

    waiting = await run_example(staff, "ReturnsToAnswer")
    approved = await run_example(staff, "ApproveReturn", id=return_id)
    received = await run_example(staff, "ReceiveReturn", id=return_id)
    refunded = await run_example(staff, "RefundReturn", id=return_id)

    assert [edge["node"]["id"] for edge in waiting["edges"]] == [return_id]
    assert approved["orderReturn"]["status"] == "APPROVED"
    assert received["orderReturn"]["status"] == "RECEIVED"
    assert received["orderReturn"]["restocked"] is True
    assert refunded["orderReturn"]["status"] == "REFUNDED"
    assert refunded["orderReturn"]["refund"]["status"] == "SUCCEEDED"


async def test_the_user_examples_run(gql, make_user, run_example):
    await make_user(email="admin@example.com", role=Role.ADMIN)
    customer = await make_user(email="ada@example.com")
    admin = await _signed_in(gql, run_example, "admin@example.com")
    user_id = gid("User", customer.id)

    found = await run_example(admin, "FindUsers")
    granted = (await run_example(admin, "GrantAccess", id=user_id))["user"]
    deactivated = (await run_example(admin, "DeactivateUser", id=user_id))["user"]
    dead = await run_example(admin, "DeadNotifications")

    assert [edge["node"]["email"] for edge in found["edges"]] == ["ada@example.com"]
    assert (granted["role"], granted["permissions"]) == (
        "STAFF", ["MANAGE_CHECKOUT", "MANAGE_DISCOUNTS", "MANAGE_ORDERS", "MANAGE_PRODUCTS"],
    )  # fmt: skip
    assert deactivated == {"email": "ada@example.com", "isActive": False}
    assert dead["edges"] == []
