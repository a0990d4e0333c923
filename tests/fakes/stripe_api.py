"""A fake Stripe API (PaymentIntents and Refunds) in Stripe's wire format: form-encoded
requests, Bearer auth, Idempotency-Key replays, JSON objects and errors, signed webhook
events, and scripted faults (5xx, garbled or late answers)."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.fakes.local_server import LocalServer
from tests.fakes.stripe_objects import StripeApiError, StripeObjects
from tests.fakes.stripe_wire import (
    VALIDATION_CODES,
    decode_form,
    integer_param,
    json_response,
    only_params,
)

SECRET_KEY = "sk_test_fake_0123456789abcdefghijklmnop"
WEBHOOK_SECRET = "whsec_fake_0123456789abcdefghijklmnop"


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    params: dict[str, Any]  # form or query, nested as Stripe's encoding means it


@dataclass
class _Fault:
    path_prefix: str
    status: int = 500
    body: bytes | None = None
    delay: float = 0.0  # > 0: carry the request out, answer after this many seconds


class FakeStripe:
    """Serve with `with FakeStripe() as fake:`; point the SDK at `fake.url`."""

    def __init__(self, secret_key: str = SECRET_KEY, webhook_secret: str = WEBHOOK_SECRET) -> None:
        self.secret_key = secret_key
        self.webhook_secret = webhook_secret
        self.objects = StripeObjects()
        # What refunds made through the API start as ("pending": a bank that settles later).
        self.refund_status = "succeeded"
        self.requests: list[RecordedRequest] = []
        self._faults: list[_Fault] = []
        self._replays: dict[str, tuple[str, str, dict[str, Any], int, Any]] = {}
        self._lock = threading.Lock()
        routes = [
            Route("/v1/payment_intents", self._create_intent, methods=["POST"]),
            Route("/v1/payment_intents/{id}", self._get_intent, methods=["GET"]),
            Route("/v1/payment_intents/{id}/capture", self._capture, methods=["POST"]),
            Route("/v1/payment_intents/{id}/cancel", self._cancel, methods=["POST"]),
            Route("/v1/refunds", self._create_refund, methods=["POST"]),
            Route("/v1/refunds", self._list_refunds, methods=["GET"]),
            Route("/v1/refunds/{id}", self._get_refund, methods=["GET"]),
        ]
        self.server = LocalServer(Starlette(routes=[self._wrapped(r) for r in routes]))
        self.url = self.server.url

    # -- test-side helpers -------------------------------------------------------------

    @property
    def events(self) -> list[dict[str, Any]]:
        return self.objects.events

    def count(self, kind: str) -> int:
        """How many state changes of `kind` were carried out ("capture", "refund", ...)."""
        return self.objects.performed[kind]

    def requests_to(self, path_prefix: str, method: str | None = None) -> list[RecordedRequest]:
        return [
            r
            for r in self.requests
            if r.path.startswith(path_prefix) and (method is None or r.method == method)
        ]

    def confirm(self, pi_id: str, card: str = "pm_card_visa") -> dict[str, Any]:
        """The customer's confirmation in Stripe.js with one of Stripe's test cards."""
        return copy.deepcopy(self.objects.confirm(pi_id, card))

    def refund_from_dashboard(
        self, pi_id: str, amount: int, *, status: str = "succeeded",
        metadata: dict[str, str] | None = None,
    ) -> str:  # fmt: skip
        """A refund made in the Dashboard (not through our API), with what metadata its
        user typed; its id."""
        return str(self.objects.refund(pi_id, amount, metadata or {}, status=status)["id"])

    def settle_refund(self, refund_id: str, status: str, failure_reason: str | None = None) -> None:
        """A pending refund's later fate at the bank (succeeded, failed, canceled)."""
        self.objects.settle_refund(refund_id, status, failure_reason)

    def fail_next(
        self, path_prefix: str, status: int = 500, *, body: bytes | None = None, times: int = 1
    ) -> None:
        """Answer the next `times` requests under `path_prefix` with `status` (and `body`,
        raw), without carrying them out."""
        with self._lock:
            self._faults.extend(_Fault(path_prefix, status, body) for _ in range(times))

    def clear_faults(self) -> None:
        """Forget the failures and delays not used yet."""
        with self._lock:
            self._faults.clear()

    def delay_next(self, path_prefix: str, seconds: float) -> None:
        """Carry out the next request under `path_prefix`, but answer it `seconds` late."""
        with self._lock:
            self._faults.append(_Fault(path_prefix, delay=seconds))

    def signature_header(
        self, body: bytes, *, timestamp: int | None = None, secrets: Sequence[str] = ()
    ) -> str:
        """`t=...,v1=...`: one v1 HMAC-SHA256 of "t.body" per secret (several while a
        webhook secret is being rolled); the fake's webhook secret when none is given."""
        t = int(time.time()) if timestamp is None else timestamp
        signatures = [
            "v1=" + hmac.new(s.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
            for s in (secrets or [self.webhook_secret])
        ]
        return ",".join([f"t={t}", *signatures])

    def signed(
        self,
        event: dict[str, Any],
        *,
        timestamp: int | None = None,
        secret: str | None = None,
        extra_secrets: Sequence[str] = (),
    ) -> tuple[dict[str, str], bytes]:
        """The headers and body Stripe sends `event` with."""
        body = json.dumps(event, indent=2).encode()
        header = self.signature_header(
            body, timestamp=timestamp, secrets=[secret or self.webhook_secret, *extra_secrets]
        )
        return {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": header,
        }, body

    # -- HTTP ------------------------------------------------------------------------------

    def _wrapped(self, route: Route) -> Route:
        handler = route.endpoint

        async def endpoint(request: Request) -> Response:
            return await self._serve(request, handler)

        return Route(route.path, endpoint, methods=route.methods)

    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            for index, fault in enumerate(self._faults):
                if path.startswith(fault.path_prefix):
                    return self._faults.pop(index)
        return None

    async def _serve(
        self, request: Request, handler: Callable[[Request, dict[str, Any]], Awaitable[Any]]
    ) -> Response:
        raw = (await request.body()).decode()
        pairs = parse_qsl(
            raw if request.method == "POST" else request.url.query, keep_blank_values=True
        )
        params = decode_form(pairs)
        path = request.url.path
        self.requests.append(
            RecordedRequest(
                request.method, path, {k.lower(): v for k, v in request.headers.items()}, params
            )
        )
        fault = self._take_fault(path)
        if fault is not None and not fault.delay:
            if fault.body is not None:
                return Response(fault.body, status_code=fault.status, media_type="application/json")
            return json_response(
                fault.status,
                StripeApiError(fault.status, "An unknown error occurred", type_="api_error").body,
            )
        if request.headers.get("authorization") != f"Bearer {self.secret_key}":
            return json_response(
                401,
                {
                    "error": {
                        "message": "Invalid API Key provided: sk_test_****",
                        "type": "invalid_request_error",
                    }
                },
            )
        key = request.headers.get("idempotency-key") if request.method == "POST" else None
        response = self._replay(key, request.method, path, params) if key else None
        if response is None:
            try:
                status, body = 200, await handler(request, params)
            except StripeApiError as exc:
                status, body = exc.status, exc.body
            with self.objects.lock:  # the answer as it was then, not the live object
                body = copy.deepcopy(body)
            # as at Stripe, a request rejected before it ran is not saved for replay
            if key and body.get("error", {}).get("code") not in VALIDATION_CODES:
                with self._lock:
                    self._replays[key] = (request.method, path, params, status, body)
            response = json_response(status, body, {"Idempotency-Key": key} if key else None)
        if fault is not None:
            await asyncio.sleep(fault.delay)  # carried out, answered late
        return response

    def _replay(self, key: str, method: str, path: str, params: dict[str, Any]) -> Response | None:
        with self._lock:
            first = self._replays.get(key)
        if first is None:
            return None
        if first[:3] != (method, path, params):
            return json_response(
                400,
                StripeApiError(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters they "
                    f"were first used with. Try using a key other than '{key}' if you meant to "
                    "execute a different request.",
                    type_="idempotency_error",
                ).body,
            )
        return json_response(
            first[3], first[4], {"Idempotency-Key": key, "Idempotent-Replayed": "true"}
        )

    async def _create_intent(self, request: Request, params: dict[str, Any]) -> Any:
        only_params(
            params,
            {
                "amount",
                "currency",
                "capture_method",
                "metadata",
                "automatic_payment_methods",
                "description",
            },
        )
        amount = integer_param(params, "amount", required=True)
        currency = str(params.get("currency") or "")
        if not re.fullmatch(r"[a-z]{3}", currency):
            raise StripeApiError(
                400, f"Invalid currency: {currency}.", code="parameter_invalid", param="currency"
            )
        capture_method = params.get("capture_method", "automatic_async")
        if capture_method not in ("automatic", "automatic_async", "manual"):
            raise StripeApiError(
                400, f"Invalid capture_method: {capture_method}", param="capture_method"
            )
        assert amount is not None
        return self.objects.create_intent(
            amount=amount,
            currency=currency,
            capture_method=capture_method,
            metadata=dict(params.get("metadata") or {}),
        )

    async def _get_intent(self, request: Request, params: dict[str, Any]) -> Any:
        return self.objects.intent(request.path_params["id"])

    async def _capture(self, request: Request, params: dict[str, Any]) -> Any:
        only_params(params, {"amount_to_capture"})
        return self.objects.capture(
            request.path_params["id"], integer_param(params, "amount_to_capture")
        )

    async def _cancel(self, request: Request, params: dict[str, Any]) -> Any:
        only_params(params, {"cancellation_reason"})
        return self.objects.cancel(request.path_params["id"], params.get("cancellation_reason"))

    async def _create_refund(self, request: Request, params: dict[str, Any]) -> Any:
        only_params(params, {"payment_intent", "amount", "metadata", "reason"})
        pi_id = params.get("payment_intent")
        if not pi_id:
            raise StripeApiError(
                400,
                "One of the following params should be provided for this "
                "request: payment_intent or charge.",
                code="parameter_missing",
            )
        return self.objects.refund(
            pi_id, integer_param(params, "amount"), dict(params.get("metadata") or {}),
            status=self.refund_status,
        )  # fmt: skip

    async def _list_refunds(self, request: Request, params: dict[str, Any]) -> Any:
        only_params(params, {"payment_intent", "limit", "starting_after"})
        limit = integer_param(params, "limit") or 10
        if limit > 100:
            raise StripeApiError(
                400,
                "This value must be less than or equal to 100.",
                code="parameter_invalid_integer",
                param="limit",
            )
        found = self.objects.refunds_of(str(params.get("payment_intent") or ""))
        after = params.get("starting_after")
        if after:
            ids = [r["id"] for r in found]
            found = found[ids.index(after) + 1 :] if after in ids else []
        return {
            "object": "list",
            "data": found[:limit],
            "has_more": len(found) > limit,
            "url": "/v1/refunds",
        }

    async def _get_refund(self, request: Request, params: dict[str, Any]) -> Any:
        return self.objects.refund_by_id(request.path_params["id"])

    def __enter__(self) -> FakeStripe:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
