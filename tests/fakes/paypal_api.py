"""A fake PayPal REST API (OAuth, Orders v2, Payments v2 captures/refunds, webhook signature
verification) in PayPal's wire format, with test-side knobs and a record of every request."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.local_server import LocalServer

CLIENT_ID = "AZfake-paypal-client-id-0123456789"
CLIENT_SECRET = "EFfake-paypal-client-secret-0123456789"
WEBHOOK_ID = "8PT597110X687430LKGECATA"
_UNPROCESSABLE = (
    "The requested action could not be performed, semantically incorrect, or failed business "
    "validation."
)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _paypal_id() -> str:
    return secrets.token_hex(9).upper()[:17]


def _link(href: str, rel: str, method: str = "GET") -> dict[str, str]:
    return {"href": href, "rel": rel, "method": method}


def error(
    status: int, name: str, message: str, issue: str = "", description: str = ""
) -> JSONResponse:
    """PayPal's REST error shape."""
    body: dict[str, Any] = {"name": name, "message": message, "debug_id": secrets.token_hex(7)}
    if issue:
        body["details"] = [{"issue": issue, "description": description}]
        body["links"] = [
            _link(
                f"https://developer.paypal.com/api/rest/reference/orders/v2/errors/#{issue}",
                "information_link",
            )
        ]
    return JSONResponse(body, status_code=status)


def _not_found(what: str) -> JSONResponse:
    return error(
        404,
        "RESOURCE_NOT_FOUND",
        "The specified resource does not exist.",
        "INVALID_RESOURCE_ID",
        f"Specified resource ID does not exist. Please check the resource ID ({what}).",
    )


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    json: Any
    body: bytes


@dataclass
class _Failure:
    prefix: str
    status: int
    delay: float
    body: bytes | None


@dataclass
class _Order:
    id: str
    status: str
    amount: dict[str, str]
    custom_id: str
    invoice_id: str
    experience: dict[str, Any]
    captures: list[str] = field(default_factory=list)
    create_time: str = field(default_factory=_now)


@dataclass
class _Money:
    """A capture or a refund."""

    id: str
    parent: str  # the order of a capture, the capture of a refund
    status: str
    amount: dict[str, str]
    custom_id: str
    invoice_id: str
    refunds: list[str] = field(default_factory=list)
    create_time: str = field(default_factory=_now)


class FakePayPal:
    def __init__(
        self,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        webhook_id: str = WEBHOOK_ID,
    ) -> None:
        self.client_id, self.client_secret, self.webhook_id = client_id, client_secret, webhook_id
        self.requests: list[Recorded] = []
        self.token_lifetime = 32400  # seconds, as PayPal answers
        self.force_verification_failure = False
        self.orders: dict[str, _Order] = {}
        self.captures: dict[str, _Money] = {}
        self.refunds: dict[str, _Money] = {}
        self._tokens: dict[str, float] = {}  # token -> expiry (time.time())
        self._replays: dict[tuple[str, str, str], tuple[int, Any]] = {}
        self._failures: list[_Failure] = []
        self._next_capture: list[str] = []
        self._next_refund: list[str] = []
        self._transmissions: dict[str, dict[str, Any]] = {}
        self._signing_key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        routes = [
            Route("/v1/oauth2/token", self._token, methods=["POST"]),
            Route("/v2/checkout/orders", self._create_order, methods=["POST"]),
            Route("/v2/checkout/orders/{id}", self._get_order, methods=["GET"]),
            Route("/v2/checkout/orders/{id}/capture", self._capture, methods=["POST"]),
            Route("/v2/payments/captures/{id}", self._get_capture, methods=["GET"]),
            Route("/v2/payments/captures/{id}/refund", self._refund, methods=["POST"]),
            Route("/v2/payments/refunds/{id}", self._get_refund, methods=["GET"]),
            Route("/v1/notifications/verify-webhook-signature", self._verify, methods=["POST"]),
        ]
        self.server = LocalServer(Starlette(routes=routes))
        self.url = self.server.url
        self.api = self.url  # links point here, as PayPal's point to api-m.paypal.com

    # -- test-side knobs -------------------------------------------------------------------

    def fail_next(
        self, path_prefix: str, status: int = 500, *, delay: float = 0.0, body: bytes | None = None
    ) -> None:
        """Answer the next request under `path_prefix` with `status` (after `delay` seconds;
        `body` replaces PayPal's error JSON, e.g. b"<html>" for an invalid answer)."""
        with self._lock:
            self._failures.append(_Failure(path_prefix, status, delay, body))

    def expire_tokens(self) -> None:
        """Every token issued so far is refused from now on (401 invalid_token)."""
        with self._lock:
            self._tokens.clear()

    def approve(self, order_id: str) -> None:
        """The buyer approves the order in PayPal's UI."""
        with self._lock:
            order = self.orders[order_id]
            assert order.status in ("CREATED", "PAYER_ACTION_REQUIRED"), order.status
            order.status = "APPROVED"

    def set_status(self, order_id: str, status: str) -> None:
        with self._lock:
            self.orders[order_id].status = status

    def decline_next_capture(self, *, as_capture_status: bool = False) -> None:
        """The next capture is declined: 422 INSTRUMENT_DECLINED (the order stays APPROVED),
        or with `as_capture_status` a COMPLETED order whose capture is DECLINED."""
        self._next_capture.append("DECLINED" if as_capture_status else "INSTRUMENT_DECLINED")

    def next_capture_status(self, status: str) -> None:
        """PENDING, FAILED, ...: the status the next capture gets."""
        self._next_capture.append(status)

    def next_refund_status(self, status: str) -> None:
        """PENDING, FAILED, CANCELLED: the status the next refund gets."""
        self._next_refund.append(status)

    def count(self, kind: str, order_id: str | None = None) -> int:
        """How many captures or refunds PayPal made (of one order, if given)."""
        if kind == "captures":
            return sum(1 for c in self.captures.values() if order_id in (None, c.parent))
        if kind == "refunds":
            return sum(
                1
                for r in self.refunds.values()
                if order_id in (None, self.captures[r.parent].parent)
            )
        raise ValueError(kind)

    def calls(self, method: str, path_prefix: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def event(
        self, event_type: str, order_id: str, *, webhook_id: str | None = None
    ) -> tuple[dict[str, str], bytes]:
        """The webhook call PayPal would make about `order_id`: (headers, body)."""
        order = self.orders[order_id]
        if event_type.startswith("CHECKOUT.ORDER."):
            resource_type, resource = "checkout-order", self._order_json(order)
        elif event_type in ("PAYMENT.CAPTURE.REFUNDED", "PAYMENT.CAPTURE.REVERSED"):
            refund = self.refunds[self.captures[order.captures[-1]].refunds[-1]]
            resource_type, resource = "refund", self._refund_json(refund)
        else:
            capture = self.captures[order.captures[-1]]
            resource_type, resource = "capture", self._capture_json(capture, related=True)
        event_id = f"WH-{_paypal_id()}-{_paypal_id()}"
        event = {
            "id": event_id,
            "event_version": "1.0",
            "create_time": _now(),
            "resource_type": resource_type,
            "resource_version": "2.0",
            "event_type": event_type,
            "summary": f"{event_type} for {order_id}",
            "resource": resource,
            "links": [
                _link(f"{self.api}/v1/notifications/webhooks-events/{event_id}", "self"),
                _link(
                    f"{self.api}/v1/notifications/webhooks-events/{event_id}/resend",
                    "resend",
                    "POST",
                ),
            ],
        }
        body = json.dumps(event).encode()
        transmission_id = str(uuid.uuid1())
        transmission_time = _now()
        hook = webhook_id or self.webhook_id
        # PayPal signs "<transmission id>|<time>|<webhook id>|<crc32 of the body>".
        signed = f"{transmission_id}|{transmission_time}|{hook}|{zlib.crc32(body)}"
        sig = base64.b64encode(
            hmac.new(self._signing_key, signed.encode(), hashlib.sha256).digest()
        ).decode()
        headers = {
            "Content-Type": "application/json",
            "PAYPAL-AUTH-ALGO": "SHA256withRSA",
            "PAYPAL-CERT-URL": f"{self.api}/v1/notifications/certs/CERT-360caa42-fca2a594-ad47cb8d",
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-SIG": sig,
            "PAYPAL-TRANSMISSION-TIME": transmission_time,
        }
        self._transmissions[transmission_id] = {
            "auth_algo": headers["PAYPAL-AUTH-ALGO"],
            "cert_url": headers["PAYPAL-CERT-URL"],
            "transmission_sig": sig,
            "transmission_time": transmission_time,
            "webhook_id": hook,
            "webhook_event": event,
        }
        return headers, body

    # -- the wire --------------------------------------------------------------------------

    async def _enter(self, request: Request, *, bearer: bool = True) -> Response | None:
        """Record the request; a scripted failure or a bad token answers it at once."""
        body = await request.body()
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        path = request.url.path
        with self._lock:
            self.requests.append(
                Recorded(request.method, path, dict(request.headers), parsed, body)
            )
            failure = next((f for f in self._failures if path.startswith(f.prefix)), None)
            if failure:
                self._failures.remove(failure)
        if failure:
            await asyncio.sleep(failure.delay)
            if failure.body is not None:
                return Response(failure.body, failure.status, media_type="application/json")
            return error(
                failure.status, "INTERNAL_SERVER_ERROR", "An internal server error occurred."
            )
        if bearer:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            expiry = self._tokens.get(token) if scheme == "Bearer" else None
            # A second of grace: a token of lifetime 0 still serves the call it was got for.
            if expiry is None or time.time() > expiry + 1:
                return JSONResponse(
                    {
                        "error": "invalid_token",
                        "error_description": "Access Token not found in cache",
                    },
                    status_code=401,
                )
        return None

    def _replayed(self, request: Request) -> tuple[tuple[str, str, str] | None, Response | None]:
        key_value = request.headers.get("paypal-request-id")
        if not key_value:
            return None, None
        key = (request.method, request.url.path, key_value)
        if key in self._replays:
            status, body = self._replays[key]
            return key, JSONResponse(body, status_code=status)
        return key, None

    def _remember(self, key: tuple[str, str, str] | None, response: JSONResponse) -> JSONResponse:
        if key is not None:
            self._replays[key] = (response.status_code, json.loads(bytes(response.body)))
        return response

    async def _token(self, request: Request) -> Response:
        if answer := await self._enter(request, bearer=False):
            return answer
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except ValueError:
            user = password = ""
        if scheme != "Basic" or (user, password) != (self.client_id, self.client_secret):
            return JSONResponse(
                {"error": "invalid_client", "error_description": "Client Authentication failed"},
                status_code=401,
            )
        form = parse_qs((await request.body()).decode())
        if form.get("grant_type") != ["client_credentials"]:
            return JSONResponse(
                {"error": "unsupported_grant_type", "error_description": "Grant Type is NULL"},
                status_code=400,
            )
        token = "A21AA" + secrets.token_urlsafe(40)
        with self._lock:
            self._tokens[token] = time.time() + self.token_lifetime
        return JSONResponse(
            {
                "scope": "https://uri.paypal.com/services/payments/payment https://uri.paypal.com/services/payments/refund",
                "access_token": token,
                "token_type": "Bearer",
                "app_id": "APP-80W284485P519543T",
                "expires_in": self.token_lifetime,
                "nonce": f"{_now()}{secrets.token_hex(8)}",
            }
        )

    # -- representations -------------------------------------------------------------------

    def _order_json(self, order: _Order) -> dict[str, Any]:
        href = f"{self.api}/v2/checkout/orders/{order.id}"
        links = [_link(href, "self")]
        if order.status == "PAYER_ACTION_REQUIRED":
            links.append(_link(f"{self.url}/checkoutnow?token={order.id}", "payer-action"))
        elif order.status == "CREATED":
            links.append(_link(f"{self.url}/checkoutnow?token={order.id}", "approve"))
        elif order.status == "APPROVED":
            links += [_link(href, "update", "PATCH"), _link(f"{href}/capture", "capture", "POST")]
        unit: dict[str, Any] = {
            "reference_id": "default",
            "amount": order.amount,
            "payee": {"email_address": "merchant@example.com", "merchant_id": "C7CYMKZDG8D6E"},
            "custom_id": order.custom_id,
            "invoice_id": order.invoice_id,
        }
        captures = [self.captures[c] for c in order.captures]
        if captures:
            refunds = [self.refunds[r] for c in captures for r in c.refunds]
            unit["payments"] = {"captures": [self._capture_json(c) for c in captures]}
            if refunds:
                unit["payments"]["refunds"] = [self._refund_json(r) for r in refunds]
        body: dict[str, Any] = {
            "id": order.id,
            "intent": "CAPTURE",
            "status": order.status,
            "payment_source": {"paypal": {"experience_context": order.experience}},
            "purchase_units": [unit],
            "create_time": order.create_time,
            "links": links,
        }
        if order.status not in ("CREATED", "PAYER_ACTION_REQUIRED"):
            payer = {
                "email_address": "buyer@example.com",
                "payer_id": "QYR5Z8XDVJNXQ",
                "name": {"given_name": "John", "surname": "Doe"},
            }
            body["payer"] = payer
            body["payment_source"] = {"paypal": {**payer, "account_status": "VERIFIED"}}
        return body

    def _capture_json(self, capture: _Money, *, related: bool = False) -> dict[str, Any]:
        href = f"{self.api}/v2/payments/captures/{capture.id}"
        body: dict[str, Any] = {
            "id": capture.id,
            "status": capture.status,
            "amount": capture.amount,
            "final_capture": True,
            "seller_protection": {"status": "ELIGIBLE"},
            "custom_id": capture.custom_id,
            "invoice_id": capture.invoice_id,
            "links": [
                _link(href, "self"),
                _link(f"{href}/refund", "refund", "POST"),
                _link(f"{self.api}/v2/checkout/orders/{capture.parent}", "up"),
            ],
            "create_time": capture.create_time,
            "update_time": capture.create_time,
        }
        if capture.status in ("PENDING", "DECLINED", "FAILED"):
            reason = "PENDING_REVIEW" if capture.status == "PENDING" else "DECLINED_BY_PROCESSOR"
            body["status_details"] = {"reason": reason}
        if related:  # webhook events and GET /v2/payments/captures/{id} carry it
            body["supplementary_data"] = {"related_ids": {"order_id": capture.parent}}
        return body

    def _refund_json(self, refund: _Money) -> dict[str, Any]:
        return {
            "id": refund.id,
            "status": refund.status,
            "amount": refund.amount,
            "custom_id": refund.custom_id,
            "invoice_id": refund.invoice_id,
            "seller_payable_breakdown": {
                "gross_amount": refund.amount,
                "net_amount": refund.amount,
            },
            "links": [
                _link(f"{self.api}/v2/payments/refunds/{refund.id}", "self"),
                _link(f"{self.api}/v2/payments/captures/{refund.parent}", "up"),
            ],
            "create_time": refund.create_time,
            "update_time": refund.create_time,
        }

    # -- endpoints -------------------------------------------------------------------------

    async def _create_order(self, request: Request) -> Response:
        if answer := await self._enter(request):
            return answer
        key, replay = self._replayed(request)
        if replay:
            return replay
        data = await request.json()
        try:
            assert data["intent"] in ("CAPTURE", "AUTHORIZE")
            unit = data["purchase_units"][0]
            amount = {
                "currency_code": unit["amount"]["currency_code"],
                "value": unit["amount"]["value"],
            }
            value = Decimal(amount["value"])
        except (KeyError, IndexError, TypeError, AssertionError, ArithmeticError):
            return error(
                400,
                "INVALID_REQUEST",
                "Request is not well-formed, syntactically incorrect, or violates schema.",
                "MISSING_REQUIRED_PARAMETER",
                "A required field / parameter is missing.",
            )
        if amount["currency_code"] in ("HUF", "JPY", "TWD") and value != int(value):
            return error(
                422,
                "UNPROCESSABLE_ENTITY",
                _UNPROCESSABLE,
                "DECIMALS_NOT_SUPPORTED",
                "Currency does not support decimals.",
            )
        experience = ((data.get("payment_source") or {}).get("paypal") or {}).get(
            "experience_context"
        )
        order = _Order(
            id=_paypal_id(),
            status="PAYER_ACTION_REQUIRED" if experience else "CREATED",
            amount=amount,
            custom_id=str(unit.get("custom_id") or ""),
            invoice_id=str(unit.get("invoice_id") or ""),
            experience=experience or {},
        )
        with self._lock:
            self.orders[order.id] = order
        minimal = request.headers.get("prefer") != "return=representation"
        body = self._order_json(order)
        if minimal:
            body = {k: body[k] for k in ("id", "status", "links")}
        return self._remember(key, JSONResponse(body, status_code=201))

    async def _get_order(self, request: Request) -> Response:
        if answer := await self._enter(request):
            return answer
        order = self.orders.get(request.path_params["id"])
        return JSONResponse(self._order_json(order)) if order else _not_found("order_id")

    async def _capture(self, request: Request) -> Response:
        if answer := await self._enter(request):
            return answer
        key, replay = self._replayed(request)
        if replay:
            return replay
        order = self.orders.get(request.path_params["id"])
        if order is None:
            return self._remember(key, _not_found("order_id"))
        if order.status == "COMPLETED":
            return self._remember(
                key,
                error(
                    422,
                    "UNPROCESSABLE_ENTITY",
                    _UNPROCESSABLE,
                    "ORDER_ALREADY_CAPTURED",
                    "Order already captured.If 'intent=CAPTURE' only one capture per order is "
                    "allowed.",
                ),
            )
        if order.status != "APPROVED":
            return self._remember(
                key,
                error(
                    422,
                    "UNPROCESSABLE_ENTITY",
                    _UNPROCESSABLE,
                    "ORDER_NOT_APPROVED",
                    "Payer has not yet approved the Order for payment.",
                ),
            )
        status = self._next_capture.pop(0) if self._next_capture else "COMPLETED"
        if status == "INSTRUMENT_DECLINED":
            return self._remember(
                key,
                error(
                    422,
                    "UNPROCESSABLE_ENTITY",
                    _UNPROCESSABLE,
                    "INSTRUMENT_DECLINED",
                    "The instrument presented  was either declined by the processor or bank, or it "
                    "can't be used for this payment.",
                ),
            )
        capture = _Money(
            _paypal_id(), order.id, status, dict(order.amount), order.custom_id, order.invoice_id
        )
        with self._lock:
            self.captures[capture.id] = capture
            order.captures.append(capture.id)
            order.status = "COMPLETED"
        return self._remember(key, JSONResponse(self._order_json(order), status_code=201))

    async def _get_capture(self, request: Request) -> Response:
        if answer := await self._enter(request):
            return answer
        capture = self.captures.get(request.path_params["id"])
        if capture is None:
            return _not_found("capture_id")
        return JSONResponse(self._capture_json(capture, related=True))

    async def _get_refund(self, request: Request) -> Response:
        if answer := await self._enter(request):
            return answer
        refund = self.refunds.get(request.path_params["id"])
        return JSONResponse(self._refund_json(refund)) if refund else _not_found("refund_id")

    async def _refund(self, request: Request) -> Response:
        if answer := await self._enter(request):
            return answer
        key, replay = self._replayed(request)
        if replay:
            return replay
        capture = self.captures.get(request.path_params["id"])
        if capture is None:
            return self._remember(key, _not_found("capture_id"))
        data = (await request.json()) if await request.body() else {}
        amount = data.get("amount") or capture.amount
        done = sum(
            Decimal(self.refunds[r].amount["value"])
            for r in capture.refunds
            if self.refunds[r].status in ("COMPLETED", "PENDING")
        )
        left = Decimal(capture.amount["value"]) - done
        if capture.status not in ("COMPLETED", "PARTIALLY_REFUNDED"):
            return self._remember(
                key,
                error(
                    422,
                    "UNPROCESSABLE_ENTITY",
                    _UNPROCESSABLE,
                    "CAPTURE_FULLY_REFUNDED",
                    "The capture has already been fully refunded",
                ),
            )
        if amount.get("currency_code") != capture.amount["currency_code"]:
            return self._remember(
                key,
                error(
                    422,
                    "UNPROCESSABLE_ENTITY",
                    _UNPROCESSABLE,
                    "REFUND_CURRENCY_MISMATCH",
                    "Refund must be in the same currency as the capture.",
                ),
            )
        if Decimal(amount["value"]) > left:
            return self._remember(
                key,
                error(
                    422,
                    "UNPROCESSABLE_ENTITY",
                    _UNPROCESSABLE,
                    "REFUND_AMOUNT_EXCEEDED",
                    "The refund amount must be less than or equal to the capture amount that has "
                    "not yet been refunded.",
                ),
            )
        status = self._next_refund.pop(0) if self._next_refund else "COMPLETED"
        refund = _Money(
            _paypal_id(),
            capture.id,
            status,
            dict(amount),
            str(data.get("custom_id") or ""),
            capture.invoice_id,
        )
        with self._lock:
            self.refunds[refund.id] = refund
            capture.refunds.append(refund.id)
            if status == "COMPLETED":
                full = Decimal(amount["value"]) == left
                capture.status = "REFUNDED" if full else "PARTIALLY_REFUNDED"
        return self._remember(key, JSONResponse(self._refund_json(refund), status_code=201))

    async def _verify(self, request: Request) -> Response:
        if answer := await self._enter(request):
            return answer
        data = await request.json()
        fields = (
            "auth_algo",
            "cert_url",
            "transmission_id",
            "transmission_sig",
            "transmission_time",
            "webhook_id",
            "webhook_event",
        )
        missing = [name for name in fields if not data.get(name)]
        if missing:
            return error(
                400,
                "VALIDATION_ERROR",
                "Invalid request - see details",
                "MISSING_REQUIRED_PARAMETER",
                f"{missing[0]} is required",
            )
        issued = self._transmissions.get(data["transmission_id"])
        genuine = issued is not None and all(data[name] == issued[name] for name in issued)
        verdict = "SUCCESS" if genuine and not self.force_verification_failure else "FAILURE"
        return JSONResponse({"verification_status": verdict})

    def __enter__(self) -> FakePayPal:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
