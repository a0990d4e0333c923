"""/metrics: the named series move with the requests that cause them, and the endpoint can
live on its own port so the public one does not show it."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete, func, select

from app.metrics import OPERATION_NAMES, _OperationNames, sample_outbox
from models.notifications import Notification
from models.orders import Order
from tests.checkout.checkout_fixtures import Shop
from tests.payments.payment_fixtures import CHECKOUT, checkout, checkout_variables, codes
from tests.payments.provider_world import SDK_WARNING

pytestmark = pytest.mark.filterwarnings(SDK_WARNING)

NAMED = "query ShopName { products(first: 2) { edges { node { name } } } }"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(scraped: dict, name: str, **labels: str) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)


async def scrape(http: Any) -> dict:
    response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return samples(response.text)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_requests_operations_errors_and_cost_are_counted(http, gql) -> None:
    before = await scrape(http)

    await gql.execute(NAMED)
    await gql.execute(NAMED)
    wrong = await gql.post("query Broken { noSuchField }")
    assert wrong.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert (await http.get("/healthz")).status_code == 200
    assert (await http.get("/no/such/page")).status_code == 404
    after = await scrape(http)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    graphql = {"route": "/graphql", "method": "POST"}
    assert delta("commerce_http_requests_total", **graphql, status="200") == 3
    assert delta("commerce_http_requests_total", route="/healthz", method="GET", status="200") == 1
    assert delta("commerce_http_requests_total", route="unmatched", method="GET", status="404") == 1
    assert delta("commerce_http_request_duration_seconds_count", **graphql) == 3
    assert delta("commerce_http_request_duration_seconds_sum", **graphql) > 0
    ok = {"operation_name": "ShopName", "operation_type": "query", "outcome": "ok"}
    assert delta("commerce_graphql_operations_total", **ok) == 2
    broken = {"operation_name": "Broken", "operation_type": "query", "outcome": "error"}
    assert delta("commerce_graphql_operations_total", **broken) == 1
    assert delta("commerce_graphql_operation_duration_seconds_count", operation_type="query") == 3
    assert delta("commerce_graphql_errors_total", code="GRAPHQL_VALIDATION_FAILED") == 1
    # All three: the cost is measured before validation (a refused document pays too).
    assert delta("commerce_graphql_query_cost_count", operation_type="query") == 3
    assert delta("commerce_graphql_query_cost_sum", operation_type="query") >= 2


async def test_the_pool_and_the_outbox_are_read_as_they_stand(
    http, settings, engine, committed_sessions
) -> None:
    factory = committed_sessions.remove_after(
        delete(Notification).where(Notification.recipient == "metrics@example.com")
    )
    async with factory() as session, session.begin():
        session.add(
            Notification(
                kind="account_security", channel="email", recipient="metrics@example.com",
                template="welcome", idempotency_key="metrics-test-1",
                created_at=func.now() - func.make_interval(0, 0, 0, 0, 0, 5),
            )
        )  # fmt: skip

    await sample_outbox(engine)
    scraped = await scrape(http)

    async with factory() as session:
        pending = await session.scalar(
            select(func.count()).where(Notification.status.in_(("pending", "sending")))
        )
    assert pending >= 1
    assert value(scraped, "commerce_outbox_pending_messages") == pending
    assert value(scraped, "commerce_outbox_oldest_pending_age_seconds") >= 300
    assert value(scraped, "commerce_db_pool_size") >= settings.database_pool_size
    assert (("commerce_db_pool_connections", frozenset({("state", "checked_out")}))) in scraped


async def test_orders_and_revenue_count_what_committed(http, gql, session_factory) -> None:
    shop = Shop(session_factory)
    variant = await shop.variant(price=1000, stock=5)
    cart = await shop.cart([(variant, 2)], method=await shop.method(price=500))
    before = await scrape(http)

    order = await checkout(gql, cart, token="tok_success")  # 2 x 10.00 + 5.00 shipping
    after = await scrape(http)

    assert order["status"] == "PAID"
    placed = "commerce_orders_placed_total"
    revenue = "commerce_order_revenue_minor_units_total"
    assert value(after, placed, currency="USD") - value(before, placed, currency="USD") == 1
    assert value(after, revenue, currency="USD") - value(before, revenue, currency="USD") == 2500


async def test_a_declined_checkout_rolls_back_and_counts_nothing(
    http, gql, session_factory
) -> None:
    shop = Shop(session_factory)
    variant = await shop.variant(price=1000, stock=5)
    cart = await shop.cart([(variant, 1)], method=await shop.method(price=500))
    before = await scrape(http)

    payload = (await gql.execute(CHECKOUT, **checkout_variables(cart, token="tok_decline")))[
        "checkoutComplete"
    ]
    after = await scrape(http)

    # The order was recorded as placed inside the transaction, which then rolled back.
    assert codes(payload) == [(["payment.token"], "PAYMENT_DECLINED")]
    assert payload["order"] is None
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Order)) == 0
    for name in ("commerce_orders_placed_total", "commerce_order_revenue_minor_units_total"):
        assert value(after, name, currency="USD") == value(before, name, currency="USD")


async def test_webhook_calls_are_counted_by_provider_and_result(http) -> None:
    before = await scrape(http)

    response = await http.post("/webhooks/paypal", content=b"{}")
    after = await scrape(http)

    assert response.status_code == 404  # the test settings take DUMMY only
    labels = {"provider": "PAYPAL", "result": "gateway_disabled"}
    name = "commerce_webhook_events_total"
    assert value(after, name, **labels) - value(before, name, **labels) == 1


async def test_the_public_cache_counts_hits_and_misses(start_app) -> None:
    async with start_app(public_cache_seconds=30) as (_, http):
        before = await scrape(http)
        for _ in range(3):
            answer = await http.post("/graphql", json={"query": NAMED})
            assert answer.status_code == 200
        after = await scrape(http)

    name = "commerce_response_cache_requests_total"
    assert value(after, name, result="miss") - value(before, name, result="miss") == 1
    assert value(after, name, result="hit") - value(before, name, result="hit") == 2


async def test_with_a_metrics_port_the_public_port_hides_them(start_app) -> None:
    port = free_port()
    async with start_app(metrics_port=port) as (_, http):
        public = await http.get("/metrics")
        await http.post("/graphql", json={"query": NAMED})
        apart = await asyncio.to_thread(httpx.get, f"http://127.0.0.1:{port}/metrics")

    assert public.status_code == 404
    assert apart.status_code == 200
    scraped = samples(apart.text)
    assert any(name == "commerce_graphql_operations_total" for name, _ in scraped)
    # Closed with the app: nothing listens there any more.
    with pytest.raises(httpx.ConnectError):
        await asyncio.to_thread(httpx.get, f"http://127.0.0.1:{port}/metrics", timeout=2)


async def test_with_metrics_off_there_is_no_endpoint(start_app) -> None:
    async with start_app(metrics_enabled=False) as (_, http):
        assert (await http.get("/metrics")).status_code == 404


def test_operation_names_cannot_grow_the_series_without_bound() -> None:
    names = _OperationNames()
    names.limit = 2

    assert [names.label(n) for n in ("A", "B", "C", "A", None, "")] == [
        "A", "B", "other", "A", "anonymous", "anonymous",
    ]  # fmt: skip
    assert names.label("x" * 65) == "other"
    assert names.label("bad\x00name") == "other"
    assert names.seen == {"A", "B"}


async def test_past_the_setting_a_new_operation_name_counts_as_other(start_app) -> None:
    full, limit = len(OPERATION_NAMES.seen), OPERATION_NAMES.limit  # earlier tests' names
    try:
        async with start_app(metrics_max_operation_names=full) as (_, http):
            before = await scrape(http)
            for _ in range(2):
                await http.post("/graphql", json={"query": NAMED.replace("ShopName", "Unseen")})
            after = await scrape(http)
    finally:
        OPERATION_NAMES.limit = limit

    other = {"operation_name": "other", "operation_type": "query", "outcome": "ok"}
    name = "commerce_graphql_operations_total"
    assert value(after, name, **other) - value(before, name, **other) == 2
    assert not any(dict(labels).get("operation_name") == "Unseen" for _, labels in after)


def test_settings_refuse_a_metrics_port_shared_by_processes() -> None:
    from pydantic import ValidationError

    from app.settings import Settings

    with pytest.raises(ValidationError, match="METRICS_PORT needs WORKERS=1"):
        Settings(_env_file=None, metrics_port=9100, workers=2)
    with pytest.raises(ValidationError, match="METRICS_PORT must differ from PORT"):
        Settings(_env_file=None, metrics_port=8000, port=8000)
