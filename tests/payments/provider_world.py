"""An app that takes STRIPE and PAYPAL, pointed at the local fakes, and helpers to drive a
payment through it: checkout, the customer's confirmation at the provider, webhook calls."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from httpx import AsyncClient
from sqlalchemy import delete
from starlette.applications import Starlette

from models.payments import WebhookEvent
from tests.checkout.checkout_fixtures import Shop
from tests.fakes.paypal_api import CLIENT_ID, CLIENT_SECRET, WEBHOOK_ID, FakePayPal
from tests.fakes.stripe_api import SECRET_KEY, WEBHOOK_SECRET, FakeStripe
from tests.graphql_client import GraphQLClient

# The SDK's HTTPX client posts its form as `data=<str>`, which httpx 0.28 deprecates.
SDK_WARNING = "ignore:Use 'content=<...>' to upload raw bytes/text content.:DeprecationWarning"


def provider_settings(stripe: FakeStripe, paypal: FakePayPal, **overrides: Any) -> dict[str, Any]:
    return {
        "payment_gateways": ["DUMMY", "STRIPE", "PAYPAL"],
        "stripe_secret_key": SECRET_KEY,
        "stripe_webhook_secret": WEBHOOK_SECRET,
        "stripe_api_base": stripe.url,
        "paypal_client_id": CLIENT_ID,
        "paypal_client_secret": CLIENT_SECRET,
        "paypal_webhook_id": WEBHOOK_ID,
        "paypal_api_base": paypal.url,
        "payment_timeout_seconds": 2.0,
        **overrides,
    }


@dataclass
class World:
    app: Starlette
    http: AsyncClient
    stripe: FakeStripe
    paypal: FakePayPal

    @property
    def gql(self) -> GraphQLClient:
        return GraphQLClient(self.http)

    async def stripe_event(self, event: dict[str, Any], **signing: Any) -> tuple[int, Any]:
        headers, body = self.stripe.signed(event, **signing)
        response = await self.http.post("/webhooks/stripe", content=body, headers=headers)
        return response.status_code, response.json()

    async def paypal_event(self, event_type: str, order_id: str) -> tuple[int, Any]:
        headers, body = self.paypal.event(event_type, order_id)
        response = await self.http.post("/webhooks/paypal", content=body, headers=headers)
        return response.status_code, response.json()

    def stripe_events(self, pi_id: str, *types: str) -> list[dict[str, Any]]:
        """The events the fake emitted about a PaymentIntent (of these types, if given)."""
        found = []
        for event in self.stripe.events:
            obj = event["data"]["object"]
            about = (
                obj["id"] if obj.get("object") == "payment_intent" else obj.get("payment_intent")
            )
            if about == pi_id and (not types or event["type"] in types):
                found.append(event)
        return found


@asynccontextmanager
async def provider_world(start_app: Callable, *, bind: bool = True, **overrides: Any
                         ) -> AsyncIterator[World]:  # fmt: skip
    with FakeStripe() as stripe, FakePayPal() as paypal:
        settings = provider_settings(stripe, paypal, **overrides)
        async with start_app(bind=bind, **settings) as (app, http):
            yield World(app, http, stripe, paypal)


def committed_shop(committed_sessions: Any, prefix: str) -> Shop:
    """A Shop on committed sessions whose rows, and the Stripe webhook events of the test,
    are removed after it."""
    shop = Shop(committed_sessions.factory, prefix=prefix)
    committed_sessions.remove_after(
        delete(WebhookEvent).where(WebhookEvent.psp_reference.like("pi_%")),
        *shop.cleanup(),
    )
    return shop


def body_of(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()
