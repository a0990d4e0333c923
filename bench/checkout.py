"""Checkout benchmark: orders/s of checkoutComplete at concurrency 8 and 32, a contention
case, and SQL statements per checkout; results appended to bench/RESULTS.md.

One worker: by default the ASGI app in this process (httpx.ASGITransport, the closed-loop
load generator on the same event loop, so the client's cost is in the numbers); `--server
uvicorn` runs `commerce serve --workers 1` in its own process, driven over loopback (on
these 2 shared cores its loopback HTTP costs more than it frees: see bench/RESULTS.md). SQL
statements are counted in-process on the app's engine. The catalog is the seeded
10,000-product one (`commerce seed`); carts are written as rows before each run (the cart
API is not measured), each with one or two lines of random seeded variants, a US address,
a delivery method and an email; every cart completes once with the DUMMY token tok_success.
The floor, measured in the same run at the same concurrency, is checkoutComplete refused at
its first input check (an empty idempotency key): a mutation through the same stack that
sends no SQL of its own.

    python -m bench.checkout                               # seed, then measure (~5 minutes)
    python -m bench.checkout --skip-seed --orders 200 --repeat 1
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, insert, select, text
from strawberry.relay import to_base64

from app.main import create_app
from app.services.cart.access import new_token
from bench import run
from bench.sql_count import bench_settings
from models.carts import Cart, CartLine
from models.catalog import Product, Stock, Variant, Warehouse
from models.shipping import ShippingMethod, ShippingZone, ShippingZoneArea

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
ADDRESS = {
    "first_name": "Bench", "last_name": "Buyer", "company": "", "street_address_1": "1 Main St",
    "street_address_2": "", "city": "Springfield", "postal_code": "12345", "country_area": "",
    "country": "US", "phone": "",
}  # fmt: skip
COMPLETE = """mutation($cartId: ID!, $key: String!) {
  checkoutComplete(cartId: $cartId, idempotencyKey: $key,
                   payment: {gateway: "DUMMY", token: "tok_success"}) {
    order { number status total { amount } } userErrors { code } } }"""


SERVERS = {
    "uvicorn": "`commerce serve --workers 1` (uvicorn) in its own process, the load generator "
    "(httpx over loopback) in this one",
    "inprocess": "the ASGI app in this process (httpx.ASGITransport), the load generator on "
    "the same event loop",
}


@dataclass
class Run:
    concurrency: int
    orders: int
    seconds: float
    codes: Counter[str]

    @property
    def rate(self) -> float:
        return self.orders / self.seconds


class Bench:
    def __init__(self, factory: Any, http: httpx.AsyncClient, rng: random.Random) -> None:
        self.http = http
        self.rng = rng
        self.factory = factory
        self.variants: list[tuple[int, int]] = []
        self.method_id = 0
        self.serial = 0

    async def prepare(self, *, variants: int) -> None:
        """Pick seeded variants, give them plenty of stock, add a US delivery method."""
        async with self.factory() as session, session.begin():
            rows = await session.execute(
                select(Variant.id, Variant.price_amount)
                .join(Product, Product.id == Variant.product_id)
                .where(Product.is_published, Variant.currency == "USD")
                .order_by(Variant.id)
            )
            pool = rows.all()
            self.variants = [(v, p) for v, p in self.rng.sample(pool, min(variants, len(pool)))]
            warehouse = await session.scalar(select(Warehouse.id).where(Warehouse.is_default))
            ids = [v for v, _ in self.variants]
            await session.execute(text("DELETE FROM stocks WHERE variant_id = ANY(:ids)"),
                                  {"ids": ids})  # fmt: skip
            await session.execute(
                insert(Stock),
                [{"variant_id": v, "warehouse_id": warehouse, "quantity": 1_000_000} for v in ids],
            )
            await session.execute(
                text("UPDATE variants SET track_inventory = true WHERE id = ANY(:ids)"),
                {"ids": ids},
            )
            zone = ShippingZone(name="bench-checkout-us")
            session.add(zone)
            await session.flush()
            session.add(ShippingZoneArea(zone_id=zone.id, country="US", region=""))
            method = ShippingMethod(zone_id=zone.id, name="Bench post", price_amount=500,
                                    currency="USD")  # fmt: skip
            session.add(method)
            await session.flush()
            self.method_id = method.id

    async def carts(self, count: int, lines: list[tuple[int, int]] | None = None) -> list[str]:
        """`count` ready carts (random lines, or exactly `lines`); their global IDs."""
        carts, tokens = [], []
        for _ in range(count):
            self.serial += 1
            token = new_token()
            tokens.append(token)
            carts.append({
                "token": token, "currency": "USD", "email": f"bench-{self.serial}@example.com",
                "shipping_address": ADDRESS, "billing_address": ADDRESS,
                "shipping_method_id": self.method_id,
            })  # fmt: skip
        async with self.factory() as session, session.begin():
            ids = (await session.scalars(insert(Cart).returning(Cart.id), carts)).all()
            rows = []
            for cart_id in ids:
                chosen = lines or self.rng.sample(self.variants, self.rng.choice((1, 2)))
                rows += [
                    {"cart_id": cart_id, "variant_id": v, "quantity": 1,
                     "seen_unit_price_amount": price}
                    for v, price in chosen
                ]  # fmt: skip
            await session.execute(insert(CartLine), rows)
        return [to_base64("Cart", token) for token in tokens]

    async def one(self, cart_id: str, key: str = "bench") -> str:
        response = await self.http.post(
            "/graphql", json={"query": COMPLETE, "variables": {"cartId": cart_id, "key": key}}
        )
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            return f"ERROR {response.status_code}: {str(body)[:200]}"
        payload = body["data"]["checkoutComplete"]
        return payload["userErrors"][0]["code"] if payload["userErrors"] else "order"

    async def drive(self, cart_ids: list[str], concurrency: int, key: str = "bench") -> Run:
        queue = list(reversed(cart_ids))
        codes: Counter[str] = Counter()

        async def worker() -> None:
            while queue:
                codes[await self.one(queue.pop(), key)] += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - start
        return Run(concurrency, codes["order"], seconds, codes)

    async def floor(self, concurrency: int, requests: int) -> float:
        carts = await self.carts(1)
        run = await self.drive(carts * requests, concurrency, key="")
        assert set(run.codes) == {"INVALID"}, run.codes
        return requests / run.seconds

    async def statements(self, engine: Any, lines: int) -> list[str]:
        """What one checkout sends to PostgreSQL (`engine`: the in-process app's)."""
        [cart] = await self.carts(1, lines=self.variants[:lines])
        seen: list[str] = []

        def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            seen.append(statement)

        event.listen(engine.sync_engine, "before_cursor_execute", record)
        try:
            assert await self.one(cart) == "order"
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", record)
        return seen

    async def contention(self, *, buyers: int, stock: int, concurrency: int) -> Run:
        """Many buyers, one variant with `stock` units: only INSUFFICIENT_STOCK may fail."""
        variant_id, price = self.variants[-1]
        async with self.factory() as session, session.begin():
            await session.execute(
                text("UPDATE stocks SET quantity = :n WHERE variant_id = :v"),
                {"n": stock, "v": variant_id},
            )
        carts = await self.carts(buyers, lines=[(variant_id, price)])
        run = await self.drive(carts, concurrency)
        async with self.factory() as session:
            left = await session.scalar(
                text("SELECT sum(quantity) FROM stocks WHERE variant_id = :v"), {"v": variant_id}
            )
        assert left == 0 and run.orders == stock, (left, run.codes)
        assert set(run.codes) <= {"order", "INSUFFICIENT_STOCK"}, run.codes
        return run


def seed(url: str, products: int) -> None:
    env = dict(os.environ, DATABASE_URL=url, ENVIRONMENT="production", DEBUG="false",
               JWT_SECRET="bench-only-secret-" + "0" * 32, MIGRATE_ON_START="false")  # fmt: skip
    env.pop("REDIS_URL", None)
    command = [str(Path(sys.executable).parent / "commerce"), "seed", "--products", str(products)]
    subprocess.run(command, env=env, check=True, timeout=1200)


def server_options(options: argparse.Namespace) -> run.Options:
    return run.Options(
        database=options.database, products=options.products, port=options.port, duration=0,
        warmup=0, repeat=options.repeat, concurrency=options.concurrency, cache=False,
        validation=False, reuse_database=True, output=RESULTS,
    )  # fmt: skip


async def load(
    options: argparse.Namespace, bench: Bench
) -> list[tuple[int, list[float], list[float]]]:
    await bench.prepare(variants=options.variants)
    await bench.drive(await bench.carts(50), 8)  # warm-up: connections, caches
    rows = []
    for concurrency in options.concurrency:
        runs, floors = [], []
        for _ in range(options.repeat):
            carts = await bench.carts(options.orders)
            result = await bench.drive(carts, concurrency)
            assert result.codes == {"order": options.orders}, result.codes
            runs.append(result.rate)
            floors.append(await bench.floor(concurrency, options.orders))
        rows.append((concurrency, runs, floors))
    return rows


async def measure(options: argparse.Namespace) -> str:
    url = f"postgresql://postgres@127.0.0.1:5432/{options.database}"
    # The notification worker runs as its own process in production (`commerce worker`).
    settings = bench_settings(url).model_copy(
        # One load generator is one client: its cost budget would throttle the run, as it
        # would throttle one real shopper sending hundreds of checkouts a second.
        update={
            "database_pool_size": options.pool,
            "worker_in_process": False,
            "cost_budget_enabled": False,
        }
    )
    app = create_app(settings)
    rng = random.Random(9)
    async with app.router.lifespan_context(app):
        factory = app.state.resources.session_factory
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench.local") as http:
            bench = Bench(factory, http, rng)
            if options.server == "uvicorn":
                env = run.server_env(server_options(options))
                env.update(WORKER_IN_PROCESS="false", DATABASE_POOL_SIZE=str(options.pool),
                           LOG_LEVEL="WARNING", COST_BUDGET_ENABLED="false")  # fmt: skip
                with run.running_server(server_options(options), env):
                    async with httpx.AsyncClient(
                        base_url=f"http://127.0.0.1:{options.port}", timeout=60
                    ) as remote:
                        served = Bench(factory, remote, rng)
                        rows = await load(options, served)
                        hot = await served.contention(
                            buyers=options.buyers, stock=options.stock, concurrency=32
                        )
                bench.variants, bench.method_id, bench.serial = (
                    served.variants,
                    served.method_id,
                    served.serial,
                )
            else:
                rows = await load(options, bench)
                hot = await bench.contention(
                    buyers=options.buyers, stock=options.stock, concurrency=32
                )
            engine = app.state.resources.engine
            one = await bench.statements(engine, 1)
            two = await bench.statements(engine, 2)
    return report(options, rows, len(one), len(two), hot)


def report(
    options: argparse.Namespace, rows: list[tuple[int, list[float], list[float]]],
    one: int, two: int, hot: Run,
) -> str:  # fmt: skip
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    lines = [
        f"\n## Checkout: checkoutComplete orders/s ({day})\n",
        "Command: `python -m bench.checkout "
        f"--server {options.server} --orders {options.orders} --repeat {options.repeat}` on the "
        "seeded "
        f"{options.products:,}-product catalog (database `{options.database}`). One worker: "
        f"{SERVERS[options.server]}, pool {options.pool}, production settings (notification "
        "worker not in process), DUMMY gateway (tok_success), guest carts of 1-2 random lines "
        "with a delivery method, written as rows before each run. "
        f"Median of {options.repeat} runs of {options.orders} orders each. Floor: "
        "checkoutComplete refused at its first input check (no SQL of its own), same run, "
        "same concurrency. 2 shared cores.\n",
        "| concurrency | orders/s (median) | runs | floor: refused mutation/s | orders/s / floor |",
        "| --- | --- | --- | --- | --- |",
    ]
    for concurrency, runs, floors in rows:
        rate, floor = statistics.median(runs), statistics.median(floors)
        lines.append(
            f"| {concurrency} | {rate:.1f} | {', '.join(f'{r:.1f}' for r in runs)} | "
            f"{floor:.1f} | {rate / floor:.2f} |"
        )
    lines += [
        "",
        f"SQL statements per checkoutComplete (guest, counted on the engine, BEGIN/COMMIT "
        f"included): {one} with one line, {two} with two lines.",
        "",
        f"Contention: {options.buyers} buyers of one variant with {options.stock} units at "
        f"concurrency 32: {hot.orders} orders, {hot.codes['INSUFFICIENT_STOCK']} "
        f"INSUFFICIENT_STOCK, no other outcome, stock 0 after; {hot.seconds:.2f} s in all "
        f"({(hot.orders + hot.codes['INSUFFICIENT_STOCK']) / hot.seconds:.1f} answers/s).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="bench_checkout")
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--skip-seed", action="store_true", help="Reuse a seeded database.")
    parser.add_argument("--orders", type=int, default=400, help="Orders per measured run.")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--variants", type=int, default=500)
    parser.add_argument("--pool", type=int, default=20)
    parser.add_argument("--buyers", type=int, default=300)
    parser.add_argument("--stock", type=int, default=50)
    parser.add_argument("--no-write", action="store_true", help="Print, do not append.")
    parser.add_argument(
        "--server", choices=["uvicorn", "inprocess"], default="inprocess",
        help="uvicorn: `commerce serve --workers 1` in its own process; inprocess: ASGI app here.",
    )  # fmt: skip
    parser.add_argument("--port", type=int, default=8765)
    options = parser.parse_args(argv)
    if options.database in {"test", "postgres", "bench", "template0", "template1"}:
        parser.error(f"refusing to use the shared database {options.database!r}")
    if not options.skip_seed:
        seed(f"postgresql://postgres@127.0.0.1:5432/{options.database}", options.products)
    section = asyncio.run(measure(options))
    print(section)
    if not options.no_write:
        with RESULTS.open("a") as results:
            results.write(section)


if __name__ == "__main__":
    main()
