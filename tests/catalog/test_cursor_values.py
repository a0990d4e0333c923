"""Cursors of the right shape (our tag, the right number of keys) with values of the wrong
type are INVALID on `after` / `before` of every connection, never a database error."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime
from typing import Any

import orjson

from tests import api_world
from tests.api_world import ConnectionSpec, World, every_connection

world, make_category, make_product, make_tag = (
    api_world.world,
    api_world.make_category,
    api_world.make_product,
    api_world.make_tag,
)

_DECIMAL = re.compile(r"[0-9]+\.[0-9]+")


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor(tag: str, keys: list[Any]) -> str:
    # The standard json module: it writes integers of any size (orjson stops at 64 bits).
    return _encode(json.dumps({"t": tag, "k": keys}).encode())


def _decode(cursor: str) -> dict[str, Any]:
    return orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


def _is_timestamp(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _bad_values(value: Any) -> list[Any]:
    """Values of the wrong type or range for the key kind `value` (from a real cursor) has."""
    if isinstance(value, bool) or value is None:
        raise AssertionError(f"unexpected key value {value!r}")
    if isinstance(value, int):
        return ["1", 1.5, 2**63, -(2**63) - 1, None, [1], True, {}, ""]
    if isinstance(value, float):
        return ["0.5", None, True, [0.5], {}, ""]
    if _is_timestamp(value):
        naive = "2026-01-01T00:00:00"
        return ["yesterday", naive, "2026-01-01", 5, 1.5, None, [value], "", value + "x" * 50]
    if _DECIMAL.fullmatch(value):
        return ["NaN", "Infinity", "1e999999999", "1E+2", 4.5, None, "", " 1", "1" * 30, "-"]
    return [5, None, ["a"], True, {}, "a\u0000b", "x" * 1001]


def _bad_cursors(spec: ConnectionSpec, real: str) -> list[str]:
    data = _decode(real)
    tag, keys = data["t"], data["k"]
    cursors = []
    for index, value in enumerate(keys):
        bad = _bad_values(value)
        if spec.name == "products:RATING" and index == 1:  # an `integer` column (the count)
            bad.append(2**31)
        cursors += [_cursor(tag, [*keys[:index], item, *keys[index + 1 :]]) for item in bad]
    text = orjson.dumps(keys).decode()
    cursors += [
        _cursor(tag, keys[:-1]),
        _cursor(tag, [*keys, 1]),
        _encode(orjson.dumps({"t": tag, "k": "x" * len(keys)})),
        _encode(orjson.dumps({"t": tag, "k": {"0": keys[0]}})),
        _encode(orjson.dumps({"t": tag})),
        _encode(orjson.dumps([tag, keys])),
        _encode(orjson.dumps(7)),
        _cursor("another:list", keys),
        _encode(f'{{"t": "{tag}", "k": [NaN{text[1:]}'.encode()),
        _encode(f'{{"t": "{tag}", "k": [1e400{text[1:]}'.encode()),
        _encode(b"\xff\xfe\x00"),
        "%%%",
        "\u00fc" * 20,
        real + "A" * 5000,
    ]
    return cursors


async def _codes(world: World, spec: ConnectionSpec, **arguments: Any) -> list[Any]:
    body = await world.client(spec.client).raw(spec.document(), **arguments)
    return [error.get("extensions") for error in body.get("errors", [])]


async def test_a_real_cursor_round_trips_on_every_connection(world):
    for spec in every_connection(world):
        page = spec.page(await world.client(spec.client).execute(spec.document(), first=1))
        data = _decode(page["pageInfo"]["endCursor"])

        again = _cursor(data["t"], data["k"])

        assert await _codes(world, spec, first=1, after=again) == [], spec.name
        assert all(not isinstance(value, bool) for value in data["k"]), spec.name


async def test_wrong_values_in_a_cursor_are_invalid_on_every_connection(world):
    for spec in every_connection(world):
        page = spec.page(await world.client(spec.client).execute(spec.document(), first=1))
        real = page["pageInfo"]["endCursor"]

        for bad in _bad_cursors(spec, real):
            after = await _codes(world, spec, first=1, after=bad)
            assert after == [{"code": "INVALID", "field": "after"}], (spec.name, bad)
            if spec.backward:
                before = await _codes(world, spec, last=1, before=bad)
                assert before == [{"code": "INVALID", "field": "before"}], (spec.name, bad)
