"""The floor: each bench scenario's answer from hand-written SQL over asyncpg and orjson.

For every scenario in bench/scenarios.py this serves, at POST /graphql, the same JSON the
API answers (its `data`; the API's per-client `extensions.cost` is left out), built the
cheapest way we know: one asyncpg pool, prepared statements selecting only the columns the
answer shows, dicts, `orjson.dumps`. No GraphQL, no ORM, no cost checks, no cache. Its
statements follow the API's plan (one per relation, batched by product; the facets in
one statement over one full-text match) at their leanest, so the ratio API / floor is
what our Python, and any SQL we could still trim, costs: the number issue 13 tracks.
`check` proves, request by request, that both answer the same after parsing.

    python -m bench.floor serve --database-url postgresql://postgres@127.0.0.1:5432/bench
    python -m bench.floor check --api http://127.0.0.1:8765/graphql \\
        --floor http://127.0.0.1:8766/graphql --products 10000
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import re
import sys
from collections.abc import Awaitable, Callable
from decimal import Decimal
from itertools import pairwise
from typing import Any

import asyncpg
import httpx
import orjson

from bench.scenarios import FIRST_PAGE, PRODUCT_PAGE, SEARCH, build

PAGE = 20
# Price facet edges in major units (app/services/catalog/facets.py PRICE_EDGES), USD cents.
PRICE_EDGES = [edge * 100 for edge in (0, 10, 25, 50, 100, 250, 500, 1000)]
MAX_VALUES_PER_ATTRIBUTE = 50
_WORD = re.compile(r"\w+", re.UNICODE)

Row = asyncpg.Record
Handler = Callable[[asyncpg.Connection, dict[str, Any]], Awaitable[dict[str, Any]]]


def global_id(kind: str, key: int) -> str:
    return base64.b64encode(f"{kind}:{key}".encode()).decode()


def local_id(value: str) -> int:
    kind, _, key = base64.b64decode(value).decode().partition(":")
    if kind != "Category" or not key.isdigit():
        raise ValueError(f"not a category id: {value!r}")
    return int(key)


def money(minor: int, currency: str) -> dict[str, str]:
    # Every demo price is in USD (two decimals); the check would catch another currency.
    whole, cents = divmod(minor, 100)
    return {"amount": f"{whole}.{cents:02d}", "currency": currency}


def cursor(tag: str, keys: list[Any]) -> str:
    raw = orjson.dumps({"t": tag, "k": keys})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def ts_prefix(search: str) -> str:
    return " & ".join(f"{word}:*" for word in _WORD.findall(search.lower())[:20])


def grouped(rows: list[Row]) -> dict[int, list[Row]]:
    found: dict[int, list[Row]] = {}
    for row in rows:
        found.setdefault(row[0], []).append(row)
    return found


async def card_relations(
    connection: asyncpg.Connection, ids: list[int]
) -> tuple[dict[int, list[Row]], dict[int, list[Row]]]:
    """Images and variants of the listed products, one statement each."""
    images = await connection.fetch(
        "SELECT product_id, url, alt FROM product_images WHERE product_id = ANY($1::bigint[])"
        " ORDER BY product_id, sort_order, id",
        ids,
    )
    variants = await connection.fetch(
        "SELECT product_id, sku, price_amount, currency FROM variants"
        " WHERE product_id = ANY($1::bigint[]) ORDER BY product_id, id",
        ids,
    )
    return grouped(images), grouped(variants)


def card(row: Row, images: dict[int, list[Row]], variants: dict[int, list[Row]]) -> dict:
    key = row["id"]
    return {
        "id": global_id("Product", key),
        "name": row["name"],
        "slug": row["slug"],
        "images": [{"url": image["url"], "alt": image["alt"]} for image in images.get(key, ())],
        "variants": [
            {"sku": v["sku"], "price": money(v["price_amount"], v["currency"])}
            for v in variants.get(key, ())
        ],
    }


def page_info(rows: list[Row], tag: str, last_keys: Callable[[Row], list[Any]]) -> dict:
    shown = rows[:PAGE]
    return {
        "hasNextPage": len(rows) > PAGE,
        "endCursor": cursor(tag, last_keys(shown[-1])) if shown else None,
    }


async def first_page(connection: asyncpg.Connection, variables: dict[str, Any]) -> dict:
    rows = await connection.fetch(
        "SELECT id, name, slug, category_id, created_at FROM products WHERE is_published"
        " ORDER BY created_at DESC, id DESC LIMIT $1",
        PAGE + 1,
    )
    shown = rows[:PAGE]
    ids = [row["id"] for row in shown]
    category_ids = sorted({row["category_id"] for row in shown if row["category_id"]})
    categories = {
        row["id"]: row["name"]
        for row in await connection.fetch(
            "SELECT id, name FROM categories WHERE id = ANY($1::bigint[])", category_ids
        )
    }
    images, variants = await card_relations(connection, ids)
    edges = []
    for row in shown:
        node = card(row, images, variants)
        category = row["category_id"]
        node["category"] = {"name": categories[category]} if category in categories else None
        edges.append({"node": node})
    info = page_info(rows, "NEWEST:e", lambda r: [r["created_at"].isoformat(), r["id"]])
    return {"products": {"edges": edges, "pageInfo": info}}


async def product_page(connection: asyncpg.Connection, variables: dict[str, Any]) -> dict:
    product = await connection.fetchrow(
        "SELECT id, name, slug, description, category_id, attributes::text AS attributes,"
        " rating_sum, rating_count FROM products WHERE slug = $1 AND is_published",
        variables["slug"],
    )
    if product is None:
        return {"product": None}
    key = product["id"]
    category = await connection.fetchrow(
        "SELECT name, slug FROM categories WHERE id = $1", product["category_id"]
    )
    images = await connection.fetch(
        "SELECT url, alt FROM product_images WHERE product_id = $1 ORDER BY sort_order, id", key
    )
    variants = await connection.fetch(
        "SELECT id, sku, name, price_amount, currency, compare_at_amount,"
        " attributes::text AS attributes FROM variants WHERE product_id = $1 ORDER BY id",
        key,
    )
    tags = await connection.fetch(
        "SELECT t.name, t.slug FROM product_tags pt JOIN tags t ON t.id = pt.tag_id"
        " WHERE pt.product_id = $1 ORDER BY t.name",
        key,
    )
    available = {
        row["variant_id"]: max(row["stock"] - row["held"], 0)
        for row in await connection.fetch(
            "SELECT s.variant_id, sum(s.quantity)::bigint AS stock,"
            " (SELECT coalesce(sum(r.quantity), 0) FROM stock_reservations r"
            "  WHERE r.variant_id = s.variant_id AND r.expires_at > now())::bigint AS held"
            " FROM stocks s WHERE s.variant_id = ANY($1::bigint[]) GROUP BY s.variant_id",
            [v["id"] for v in variants],
        )
    }
    count = product["rating_count"]
    average = (Decimal(product["rating_sum"]) / count).quantize(Decimal("0.01")) if count else None
    return {
        "product": {
            "id": global_id("Product", key),
            "name": product["name"],
            "slug": product["slug"],
            "description": product["description"],
            "attributes": orjson.loads(product["attributes"]),
            "ratingAverage": str(average) if average is not None else None,
            "ratingCount": count,
            "category": dict(category) if category else None,
            "images": [dict(image) for image in images],
            "variants": [
                {
                    "sku": v["sku"],
                    "name": v["name"],
                    "attributes": orjson.loads(v["attributes"]),
                    "quantityAvailable": available.get(v["id"], 0),
                    "price": money(v["price_amount"], v["currency"]),
                    "compareAtPrice": (
                        money(v["compare_at_amount"], v["currency"])
                        if v["compare_at_amount"] is not None
                        else None
                    ),
                }
                for v in variants
            ],
            "tags": [dict(tag) for tag in tags],
        }
    }


# The categories a filter names and all below them ($2), and the full-text match ($1).
_IN_CATEGORIES = (
    "WITH RECURSIVE below(id) AS (SELECT id FROM categories WHERE id = ANY($2::bigint[])"
    " UNION SELECT c.id FROM categories c JOIN below ON c.parent_id = below.id) "
)
_MATCH = "p.is_published AND p.search_vector @@ to_tsquery('simple', unaccent($1))"
_IN_BELOW = " AND p.category_id IN (SELECT id FROM below)"
# Every facet in one statement over the match, found once (the API's plan, without its
# re-reading of each matched product by key: the CTE carries the columns counted).
_FACETS = (
    _IN_CATEGORIES + ", matched AS MATERIALIZED (SELECT id, category_id, attributes,"
    " min_price_amount, is_published FROM products"
    " WHERE search_vector @@ to_tsquery('simple', unaccent($1))),"
    " shown AS (SELECT * FROM matched WHERE is_published),"
    " inside AS (SELECT * FROM shown WHERE category_id IN (SELECT id FROM below))"
    " SELECT 'category' AS kind, c.name AS a, c.slug AS b, f.n,"
    "  row_number() OVER (ORDER BY f.n DESC, f.category_id) AS position"
    " FROM (SELECT category_id, count(*) AS n FROM shown WHERE category_id IS NOT NULL"
    "  GROUP BY 1) f JOIN categories c ON c.id = f.category_id"
    " UNION ALL SELECT 'tag', t.name, t.slug, f.n,"
    "  row_number() OVER (ORDER BY f.n DESC, f.tag_id)"
    " FROM (SELECT pt.tag_id, count(*) AS n FROM product_tags pt"
    "  JOIN inside m ON m.id = pt.product_id GROUP BY 1) f JOIN tags t ON t.id = f.tag_id"
    " UNION ALL SELECT 'attribute', f.key, f.value, f.n,"
    "  row_number() OVER (ORDER BY f.key, f.n DESC, f.value)"
    " FROM (SELECT kv.key, e.value, count(DISTINCT m.id) AS n FROM inside m"
    "  CROSS JOIN jsonb_each(m.attributes) kv CROSS JOIN jsonb_array_elements_text("
    "  CASE WHEN jsonb_typeof(kv.value) = 'array' THEN kv.value"
    "  ELSE jsonb_build_array(kv.value) END) e(value) GROUP BY 1, 2) f"
    " UNION ALL SELECT 'price', f.bucket::text, NULL, f.n, f.bucket"
    " FROM (SELECT width_bucket(min_price_amount, $3::bigint[]) AS bucket, count(*) AS n"
    "  FROM inside WHERE min_price_amount IS NOT NULL GROUP BY 1) f"
    " UNION ALL SELECT 'exact', NULL, NULL, (SELECT count(*) FROM matched), 0"
    " ORDER BY 1, 5"
)


async def search(connection: asyncpg.Connection, variables: dict[str, Any]) -> dict:
    flt = variables["filter"]
    words = ts_prefix(flt["search"])
    below = [local_id(value) for value in flt["categories"]]
    rows = await connection.fetch(
        _IN_CATEGORIES + "SELECT p.id, p.name, p.slug,"
        " ts_rank_cd(p.search_vector, to_tsquery('simple', unaccent($1))) AS rank"
        f" FROM products p WHERE {_MATCH}{_IN_BELOW} ORDER BY rank DESC, p.id DESC LIMIT $3",
        words,
        below,
        PAGE + 1,
    )
    shown = rows[:PAGE]
    images, variants = await card_relations(connection, [row["id"] for row in shown])
    products = {
        "edges": [{"node": card(row, images, variants)} for row in shown],
        "pageInfo": page_info(rows, "RELEVANCE:e", lambda r: [r["rank"], r["id"]]),
    }
    return {"products": products, "productFacets": await facets(connection, words, below)}


async def facets(connection: asyncpg.Connection, words: str, below: list[int]) -> dict:
    """Each dimension without its own filter (the category filter is the only one here)."""
    found: dict[str, list[Row]] = {}
    for row in await connection.fetch(_FACETS, words, below, PRICE_EDGES):
        found.setdefault(row["kind"], []).append(row)
    if not found["exact"][0]["n"]:  # the API falls back to trigram similarity
        raise ValueError(f"{words!r} has no exact match: not a floor scenario")
    attributes: dict[str, list[dict[str, Any]]] = {}
    for row in found.get("attribute", ()):
        values = attributes.setdefault(row["a"], [])
        if len(values) < MAX_VALUES_PER_ATTRIBUTE:
            values.append({"value": row["b"], "count": row["n"]})
    buckets = {int(row["a"]): row["n"] for row in found.get("price", ())}
    bounds = [*PRICE_EDGES, None]  # the last bucket is open-ended
    return {
        "categories": [
            {"category": {"name": r["a"], "slug": r["b"]}, "count": r["n"]}
            for r in found.get("category", ())
        ],
        "tags": [
            {"tag": {"name": r["a"], "slug": r["b"]}, "count": r["n"]} for r in found.get("tag", ())
        ],
        "attributes": [{"name": name, "values": values} for name, values in attributes.items()],
        "priceRanges": [
            {
                "gte": {"amount": money(low, "USD")["amount"]},
                "lt": {"amount": money(high, "USD")["amount"]} if high is not None else None,
                "count": buckets.get(index, 0),
            }
            for index, (low, high) in enumerate(pairwise(bounds), start=1)
        ],
    }


HANDLERS: dict[str, Handler] = {
    FIRST_PAGE: first_page,
    PRODUCT_PAGE: product_page,
    SEARCH: search,
}


class FloorApp:
    """A bare ASGI app: POST /graphql with a scenario's body; 404 for anything else."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url.replace("postgresql+asyncpg://", "postgresql://")
        self.pool: asyncpg.Pool | None = None

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http" or scope["path"] != "/graphql" or scope["method"] != "POST":
            await self._send(send, 404, b'{"error":"not found"}')
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = orjson.loads(body)
        handler = HANDLERS.get(request.get("query"))
        if handler is None or self.pool is None:
            await self._send(send, 400, b'{"error":"not a bench scenario"}')
            return
        async with self.pool.acquire() as connection:
            data = await handler(connection, request.get("variables") or {})
        await self._send(send, 200, orjson.dumps({"data": data}))

    async def _lifespan(self, receive: Callable, send: Callable) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # The API's pool size (DATABASE_POOL_SIZE default); JIT off as the API has it.
                self.pool = await asyncpg.create_pool(
                    self.database_url, min_size=2, max_size=10, server_settings={"jit": "off"}
                )
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.pool is not None:
                    await self.pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    @staticmethod
    async def _send(send: Callable, status: int, body: bytes) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def serve(database_url: str, host: str, port: int) -> None:
    import uvicorn

    # The same server, loop and HTTP parser `commerce serve` gets (uvicorn's defaults).
    uvicorn.run(FloorApp(database_url), host=host, port=port, log_level="warning")


async def check(api: str, floor: str, *, products: int, requests: int = 200) -> int:
    """Compare the answers of `requests` bodies per scenario; return how many differ."""
    differ = 0
    async with httpx.AsyncClient(timeout=30) as client:
        for scenario in await build(client, api, products=products):
            for number in range(requests):
                body = scenario.body(number)
                ours = (await client.post(api, json=body)).json()
                ours.pop("extensions", None)
                theirs = (await client.post(floor, json=body)).json()
                if ours != theirs:
                    differ += 1
                    if differ <= 3:
                        print(f"{scenario.name} #{number} differs:", file=sys.stderr)
                        print(" api:  ", orjson.dumps(ours)[:600], file=sys.stderr)
                        print(" floor:", orjson.dumps(theirs)[:600], file=sys.stderr)
            print(f"{scenario.name}: {requests} answers compared", flush=True)
    return differ


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serving = commands.add_parser("serve", help="Serve the floor at POST /graphql.")
    serving.add_argument("--database-url", required=True)
    serving.add_argument("--host", default="127.0.0.1")
    serving.add_argument("--port", type=int, default=8766)
    checking = commands.add_parser("check", help="Compare the floor's answers with the API's.")
    checking.add_argument("--api", required=True)
    checking.add_argument("--floor", required=True)
    checking.add_argument("--products", type=int, default=10_000)
    checking.add_argument("--requests", type=int, default=200)
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.database_url, args.host, args.port)
        return
    differ = asyncio.run(
        check(args.api, args.floor, products=args.products, requests=args.requests)
    )
    if differ:
        raise SystemExit(f"{differ} answers differ between the API and the floor")
    print("the floor answers exactly what the API answers")


if __name__ == "__main__":
    main()
