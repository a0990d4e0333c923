"""Strings PostgreSQL cannot store are refused for the whole request; production answers
give no schema hints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from httpx import AsyncClient

from app.document_scan import scan_variables
from models.accounts import User

SEARCH = "query($f: ProductFilterInput) { products(filter: $f) { totalCount } }"
REGISTER = """mutation($input: AccountRegisterInput!) {
  accountRegister(input: $input) { user { id } userErrors { code } }
}"""
PRODUCTION = {"environment": "production", "debug": False}


@pytest.mark.parametrize(
    ("variables", "where"),
    [
        ({"f": {"search": "mug\u0000"}}, "$.f.search"),
        (
            {"f": {"attributes": [{"name": "colour", "values": ["red", "\u0000"]}]}},
            "$.f.attributes.0.values.1",
        ),
        ({"f": {"search": "ok", "\u0000": 1}}, "$.f"),  # a key is text too
    ],
)
async def test_nul_in_a_variable_is_refused_before_anything_runs(
    http: AsyncClient, variables: dict[str, Any], where: str
) -> None:
    response = await http.post("/graphql", json={"query": SEARCH, "variables": variables})

    assert response.json()["errors"] == [
        {
            "message": "Text must not contain NUL characters or unpaired surrogates.",
            "extensions": {"code": "INVALID", "variable": where},
        }
    ]
    assert "data" not in response.json()


async def test_nul_in_a_literal_is_refused_with_its_location(http: AsyncClient) -> None:
    response = await http.post(
        "/graphql", json={"query": '{ products(filter: {search: "a\\u0000b"}) { totalCount } }'}
    )

    assert response.json()["errors"] == [
        {
            "message": "Text must not contain NUL characters or unpaired surrogates.",
            "locations": [{"line": 1, "column": 29}],
            "extensions": {"code": "INVALID"},
        }
    ]


@pytest.mark.parametrize("escaped", ["\\ud800", "a\\udfffb"])
async def test_a_lone_surrogate_never_reaches_the_database(http: AsyncClient, escaped: str) -> None:
    literal_query = '{ products(filter: {search: "' + escaped + '"}) { totalCount } }'
    in_literal = await http.post("/graphql", json={"query": literal_query})
    in_get = await http.get(
        "/graphql", params={"query": SEARCH, "variables": '{"f": {"search": "' + escaped + '"}}'}
    )

    # graphql-core's lexer refuses an unpaired escape; our JSON parser refuses it too.
    codes = [e["extensions"]["code"] for e in in_literal.json()["errors"]]
    assert codes == ["GRAPHQL_PARSE_FAILED"]
    assert in_get.status_code == 400
    assert in_get.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_the_guard_finds_a_lone_surrogate_in_variables() -> None:
    """WebSocket payloads are parsed by the stdlib, which keeps lone surrogates."""
    found = scan_variables({"a": ["ok", {"b": "x\udc00"}]}, max_values=100)
    assert found.bad_text == "$.a.1.b"
    assert scan_variables({"a": ["ok", {"b": "ok"}]}, max_values=100).bad_text is None


async def test_nul_in_a_mutation_input_writes_nothing(
    http: AsyncClient, count: Callable[..., Any]
) -> None:
    response = await http.post(
        "/graphql",
        json={
            "query": REGISTER,
            "variables": {
                "input": {
                    "email": "nul@example.com",
                    "password": "a-Good-pass-4",
                    "firstName": "A\u0000",
                }
            },
        },
    )

    assert [e["extensions"] for e in response.json()["errors"]] == [
        {"code": "INVALID", "variable": "$.input.firstName"}
    ]
    assert await count(User) == 0


@pytest.mark.parametrize(
    ("query", "variables", "refusal"),
    [
        ("{ prodcts { totalCount } }", None, "Cannot query field 'prodcts' on type 'Query'."),
        (
            "{ products(frist: 1) { totalCount } }",
            None,
            "Unknown argument 'frist' on field 'Query.products'.",
        ),
        (
            "{ products(sortBy: NEWES) { totalCount } }",
            None,
            "Value 'NEWES' does not exist in 'ProductSort' enum.",
        ),
        (
            "query($s: ProductSort) { products(sortBy: $s) { totalCount } }",
            {"s": "NEWES"},
            "Variable '$s' has invalid value: Value 'NEWES' does not exist in 'ProductSort' enum.",
        ),
        (
            "query($f: ProductFilterInput) { products(filter: $f) { totalCount } }",
            {"f": {"serch": "mug"}},
            "Variable '$f' has invalid value: Expected value of type 'ProductFilterInput' not "
            "to include unknown field 'serch', found: {'serch': 'mug'}.",
        ),
    ],
)
async def test_production_gives_no_schema_hints(
    start_app: Callable[..., Any], query: str, variables: dict[str, Any] | None, refusal: str
) -> None:
    body = {"query": query, "variables": variables}
    async with start_app(environment="development") as (_, http):
        development = (await http.post("/graphql", json=body)).json()
    async with start_app(**PRODUCTION) as (_, http):
        production = (await http.post("/graphql", json=body)).json()

    assert ["Did you mean" in e["message"] for e in development["errors"]] == [True]
    assert [e["message"] for e in production["errors"]] == [refusal]
