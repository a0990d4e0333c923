"""A cursor's timestamp that no database can hold is an invalid cursor, not a 500."""

from __future__ import annotations

import base64

import orjson
import pytest

QUERY = """query($after: String) {
  products(first: 1, sortBy: NEWEST, after: $after) { edges { cursor node { name } } }
}"""


def _decode(cursor: str) -> dict:
    return orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


def _encode(data: dict) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).decode().rstrip("=")


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
async def test_a_timestamp_cursor_out_of_range_is_invalid(gql, make_product, moment):
    await make_product("Mug")
    await make_product("Jug")
    first = await gql.execute(QUERY)
    real = _decode(first["products"]["edges"][0]["cursor"])
    [when] = [key for key in real["k"] if isinstance(key, str) and "T" in key]
    forged = _encode({**real, "k": [moment if key == when else key for key in real["k"]]})

    body = await gql.raw(QUERY, after=forged)

    assert [e["extensions"] for e in body["errors"]] == [{"code": "INVALID", "field": "after"}]
    # The real cursor still pages on.
    assert (await gql.execute(QUERY, after=first["products"]["edges"][0]["cursor"]))["products"][
        "edges"
    ][0]["node"]["name"] in ("Mug", "Jug")
