"""Every connection of the schema at the edges of paging: `first: 0`, empty cursors,
out-of-range sizes and mixed directions."""

from __future__ import annotations

from typing import Any

import pytest

from tests import api_world
from tests.api_world import ConnectionSpec, World, every_connection

world, make_category, make_product, make_tag = (
    api_world.world,
    api_world.make_category,
    api_world.make_product,
    api_world.make_tag,
)


async def _page(world: World, spec: ConnectionSpec, **arguments: Any) -> dict[str, Any]:
    data = await world.client(spec.client).execute(spec.document(), **arguments)
    return spec.page(data)


async def _error(world: World, spec: ConnectionSpec, **arguments: Any) -> dict[str, Any]:
    body = await world.client(spec.client).raw(spec.document(), **arguments)
    (error,) = body["errors"]
    return error["extensions"]


async def test_first_zero_gives_the_total_and_no_edges_on_every_connection(world):
    for spec in every_connection(world):
        everything = await _page(world, spec, first=100)
        size = len(everything["edges"])

        empty = await _page(world, spec, first=0)

        assert size >= 1, spec.name
        assert everything["totalCount"] == size, spec.name
        assert empty == {
            "totalCount": size,
            "pageInfo": {
                "hasNextPage": True,
                "hasPreviousPage": False,
                "startCursor": None,
                "endCursor": None,
            },
            "edges": [],
        }, spec.name


async def test_last_zero_gives_the_total_and_no_edges_on_every_connection(world):
    for spec in every_connection(world):
        if not spec.backward:
            continue
        size = len((await _page(world, spec, first=100))["edges"])

        empty = await _page(world, spec, last=0)

        assert empty == {
            "totalCount": size,
            "pageInfo": {
                "hasNextPage": False,
                "hasPreviousPage": True,
                "startCursor": None,
                "endCursor": None,
            },
            "edges": [],
        }, spec.name


async def test_an_empty_cursor_is_no_cursor_on_every_connection(world):
    for spec in every_connection(world):
        first_page = await _page(world, spec, first=1)

        assert await _page(world, spec, first=1, after="") == first_page, spec.name
        if spec.backward:
            last_page = await _page(world, spec, last=1)
            assert await _page(world, spec, last=1, before="") == last_page, spec.name
            assert await _page(world, spec, before="") == await _page(world, spec), spec.name
        assert first_page["pageInfo"]["hasPreviousPage"] is False, spec.name


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"first": -1}, "first"),
        ({"first": 101}, "first"),
        ({"first": -(2**31)}, "first"),
        ({"first": 2**31 - 1}, "first"),
        ({"last": -1}, "last"),
        ({"last": 101}, "last"),
        ({"last": 101, "before": ""}, "last"),
    ],
)
async def test_page_sizes_out_of_range_are_invalid_on_every_connection(world, arguments, field):
    for spec in every_connection(world):
        if "last" in arguments and not spec.backward:
            continue

        assert await _error(world, spec, **arguments) == {"code": "INVALID", "field": field}, (
            spec.name
        )


async def test_mixing_directions_is_invalid_on_every_connection(world):
    for spec in every_connection(world):
        if not spec.backward:
            continue
        cursor = (await _page(world, spec, first=1))["pageInfo"]["endCursor"]

        cases = [
            ({"first": 1, "last": 1}, "first"),
            ({"after": cursor, "before": cursor}, "before"),
            ({"first": 1, "before": cursor}, "first"),
            ({"last": 1, "after": cursor}, "last"),
        ]
        for arguments, field in cases:
            assert await _error(world, spec, **arguments) == {
                "code": "INVALID",
                "field": field,
            }, (spec.name, arguments)
