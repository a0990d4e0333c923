"""STRIPE: PaymentIntents through the official SDK's async client.

The customer confirms in Stripe.js (3-D Secure included) with the client secret `start`
returns; card data never reaches us. Every call carries our idempotency key, and the SDK
retries network failures, 409 and 5xx with that same key, so a retry is a replay at Stripe.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import stripe
from stripe.params import RefundListParams

from app.payments.gateway import (
    GatewayRefused,
    GatewayUnavailable,
    Movement,
    PaymentStatus,
    Snapshot,
    Started,
    StartRequest,
    WebhookEvent,
)
from app.payments.stripe_mapping import refund_movement, snapshot_from
from app.payments.stripe_signature import verify_stripe_webhook

if TYPE_CHECKING:
    from app.settings import Settings

MAX_NETWORK_RETRIES = 2
REFUNDS_PAGE = 100  # Stripe's largest page


def _refused_or_unavailable(exc: stripe.StripeError) -> Exception:
    status = exc.http_status
    # 409: a request with the same key is still running at Stripe; it is worth retrying.
    # A 2xx lands here only when its body was not JSON: the call may have happened, so the
    # caller retries with the same key rather than records a refusal.
    if isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError) or not (
        status is not None and 400 <= status < 500 and status not in (409, 429)
    ):
        return GatewayUnavailable(f"Stripe did not answer: {exc.user_message or exc!r}")
    body = exc.json_body if isinstance(exc.json_body, dict) else {"body": exc.http_body or ""}
    return GatewayRefused(exc.user_message or f"Stripe refused (HTTP {status})", raw=body)


@contextmanager
def _stripe_answers() -> Iterator[None]:
    """Turn whatever the SDK or a broken answer raises into the gateway's two errors."""
    try:
        yield
    except stripe.StripeError as exc:
        raise _refused_or_unavailable(exc) from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # an answer without what Stripe always sends (a field, a known status)
        raise GatewayUnavailable(f"Stripe sent an answer we cannot read: {exc!r}") from exc


def _error_code(exc: GatewayRefused) -> str:
    error = exc.raw.get("error")
    return str(error.get("code") or "") if isinstance(error, dict) else ""


class StripeGateway:
    """A PaymentGateway over Stripe PaymentIntents and Refunds."""

    name = "STRIPE"
    # Calls a remote provider: never from inside a transaction.
    in_process = False

    def __init__(
        self, *, secret_key: str, webhook_secret: str, api_base: str, timeout: float
    ) -> None:
        self._webhook_secret = webhook_secret
        # one HTTPX client per gateway: its connection pool is reused across calls
        self._http = stripe.HTTPXClient(timeout=timeout)
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base.rstrip("/")},
            http_client=self._http,
            max_network_retries=MAX_NETWORK_RETRIES,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> StripeGateway:
        """The gateway configured by STRIPE_* and PAYMENT_TIMEOUT_SECONDS."""
        if settings.stripe_secret_key is None or settings.stripe_webhook_secret is None:
            raise ValueError("STRIPE needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET")
        return cls(
            secret_key=settings.stripe_secret_key.get_secret_value(),
            webhook_secret=settings.stripe_webhook_secret.get_secret_value(),
            api_base=settings.stripe_api_base,
            timeout=settings.payment_timeout_seconds,
        )

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._http.close_async()  # type: ignore[no-untyped-call]

    async def start(self, request: StartRequest) -> Started:
        """Create the PaymentIntent the customer confirms in Stripe.js."""
        with _stripe_answers():
            intent = await self._client.v1.payment_intents.create_async(
                {
                    "amount": request.amount,
                    "currency": request.currency.lower(),
                    "capture_method": "automatic" if request.capture else "manual",
                    "automatic_payment_methods": {"enabled": True},
                    "metadata": {
                        "order_id": str(request.order_id),
                        "order_number": str(request.order_number),
                    },
                },
                {"idempotency_key": request.idempotency_key},
            )
            pi = intent.to_dict()
            client_secret = pi["client_secret"]
            if not isinstance(client_secret, str) or not client_secret:
                raise ValueError("PaymentIntent without a client secret")
            # a new PaymentIntent has no refunds: no need to list them
            return Started(snapshot_from(pi, ()), client_secret=client_secret)

    async def _refunds(self, pi_id: str) -> list[dict[str, Any]]:
        refunds: list[dict[str, Any]] = []
        starting_after = ""
        while True:
            params: RefundListParams = {"payment_intent": pi_id, "limit": REFUNDS_PAGE}
            if starting_after:
                params["starting_after"] = starting_after
            page = (await self._client.v1.refunds.list_async(params)).to_dict()
            data = page["data"]
            if not isinstance(data, list):
                raise TypeError("refund list without data")
            refunds.extend(data)
            if not page.get("has_more") or not data:
                return refunds
            starting_after = data[-1]["id"]

    async def fetch(self, psp_reference: str) -> Snapshot:
        """The PaymentIntent with its capture, refunds and last failure."""
        with _stripe_answers():
            intent = await self._client.v1.payment_intents.retrieve_async(psp_reference)
            pi = intent.to_dict()
            return snapshot_from(pi, await self._refunds(psp_reference))

    async def capture(
        self, psp_reference: str, *, amount: int, currency: str, idempotency_key: str
    ) -> Snapshot:
        """Capture `amount` of a held PaymentIntent; an already captured one answers its state."""
        try:
            with _stripe_answers():
                await self._client.v1.payment_intents.capture_async(
                    psp_reference,
                    {"amount_to_capture": amount},
                    {"idempotency_key": idempotency_key},
                )
        except GatewayRefused as exc:
            if _error_code(exc) != "payment_intent_unexpected_state":
                raise
            snapshot = await self.fetch(psp_reference)
            if snapshot.status is not PaymentStatus.SUCCEEDED:
                raise
            return snapshot
        # fetched again, so the snapshot lists refunds as fetch does
        return await self.fetch(psp_reference)

    async def refund(
        self,
        psp_reference: str,
        *,
        amount: int,
        currency: str,
        idempotency_key: str,
        our_reference: str,
    ) -> Movement:
        """Refund `amount` of the PaymentIntent's charge; our refund id rides in metadata."""
        with _stripe_answers():
            refund = await self._client.v1.refunds.create_async(
                {
                    "payment_intent": psp_reference,
                    "amount": amount,
                    "metadata": {"refund_id": our_reference},
                },
                {"idempotency_key": idempotency_key},
            )
            return refund_movement(refund.to_dict())

    async def void(self, psp_reference: str, *, idempotency_key: str) -> Snapshot:
        """Cancel the PaymentIntent; already cancelled answers its state, captured refuses."""
        try:
            with _stripe_answers():
                intent = await self._client.v1.payment_intents.cancel_async(
                    psp_reference, options={"idempotency_key": idempotency_key}
                )
                # a cancelled PaymentIntent was never captured, so it has no refunds to list
                return snapshot_from(intent.to_dict(), ())
        except GatewayRefused as exc:
            if _error_code(exc) != "payment_intent_unexpected_state":
                raise
            snapshot = await self.fetch(psp_reference)
            if snapshot.status is not PaymentStatus.CANCELLED:
                raise GatewayRefused(
                    f"Stripe cannot cancel a PaymentIntent that is {snapshot.status.value}",
                    raw=exc.raw,
                ) from exc
            return snapshot

    async def verify_webhook(self, *, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """The event of a Stripe webhook call signed with our webhook secret."""
        return verify_stripe_webhook(headers, body, secret=self._webhook_secret)
