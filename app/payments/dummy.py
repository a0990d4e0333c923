"""DUMMY: a gateway that never leaves the process, for development, demos and tests.

Tokens (docs/payments-dummy.md): `tok_success` is charged at once (or only authorised when
the payment is captured manually), `tok_authorize` is authorised for a later capture,
`tok_pending` stays pending (as a bank transfer would), `tok_decline` is declined; any other
token is declined with a message naming the test tokens. It keeps what it did in memory, so
`fetch`, `capture`, `refund` and `void` answer as a provider would, for this process's life.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from app.payments.gateway import (
    GatewayRefused,
    Movement,
    MovementKind,
    MovementStatus,
    PaymentStatus,
    Snapshot,
    Started,
    StartRequest,
    WebhookEvent,
    WebhookRejected,
)

SUCCESS = "tok_success"
AUTHORIZE = "tok_authorize"
PENDING = "tok_pending"
DECLINE = "tok_decline"


def _reference(kind: str, key: str) -> str:
    # The same request gives the same reference, as a real provider's idempotency does.
    return f"dummy_{kind}_" + hashlib.sha256(key.encode()).hexdigest()[:24]


@dataclass
class _Payment:
    snapshot: Snapshot
    refunds: dict[str, Movement] = field(default_factory=dict)


class DummyGateway:
    """Decides by the token alone, at once; capture, refund and void always succeed."""

    name = "DUMMY"
    # Answers without leaving the process: checkout calls it inside its transaction.
    in_process = True

    def __init__(self) -> None:
        self._payments: dict[str, _Payment] = {}

    async def start(self, request: StartRequest) -> Started:
        reference = _reference("pay", request.idempotency_key)
        if reference in self._payments:
            return Started(self._payments[reference].snapshot)
        amount, currency = request.amount, request.currency
        status, authorized, captured, message = PaymentStatus.DECLINED, 0, 0, ""
        if request.token == SUCCESS and request.capture:
            status, captured = PaymentStatus.SUCCEEDED, amount
        elif request.token in (SUCCESS, AUTHORIZE):
            status, authorized = PaymentStatus.AUTHORIZED, amount
        elif request.token == PENDING:
            status = PaymentStatus.PENDING
        elif request.token == DECLINE:
            message = "The card was declined."
        else:
            message = (
                f"Unknown test token; the DUMMY gateway takes {SUCCESS}, {AUTHORIZE}, "
                f"{PENDING} or {DECLINE}."
            )
        movements: list[Movement] = []
        if authorized:
            movements.append(
                self._movement(MovementKind.AUTHORIZATION, reference, amount, currency)
            )
        if captured:
            movements.append(self._movement(MovementKind.CAPTURE, reference, amount, currency))
        if status is PaymentStatus.DECLINED:
            movements.append(
                Movement(MovementKind.FAILURE, MovementStatus.FAILED, reference, amount, currency,
                         message=message)
            )  # fmt: skip
        snapshot = Snapshot(
            reference, status, amount, currency, authorized, captured, tuple(movements), message
        )
        self._payments[reference] = _Payment(snapshot)
        return Started(snapshot)

    @staticmethod
    def _movement(kind: MovementKind, reference: str, amount: int, currency: str) -> Movement:
        return Movement(
            kind, MovementStatus.SUCCEEDED, f"{reference}_{kind.value}", amount, currency
        )

    def _known(self, psp_reference: str) -> _Payment:
        if psp_reference not in self._payments:
            raise GatewayRefused("No such DUMMY payment (DUMMY forgets on restart).")
        return self._payments[psp_reference]

    def _snapshot(self, payment: _Payment) -> Snapshot:
        base = payment.snapshot
        movements = tuple(m for m in base.movements if m.kind is not MovementKind.REFUND)
        return replace(base, movements=movements + tuple(payment.refunds.values()))

    async def fetch(self, psp_reference: str) -> Snapshot:
        return self._snapshot(self._known(psp_reference))

    async def capture(
        self, psp_reference: str, *, amount: int, currency: str, idempotency_key: str
    ) -> Snapshot:
        payment = self._known(psp_reference)
        base = payment.snapshot
        if base.status is PaymentStatus.AUTHORIZED:
            amount = min(amount, base.authorized)
            capture = self._movement(MovementKind.CAPTURE, psp_reference, amount, currency)
            payment.snapshot = replace(
                base,
                status=PaymentStatus.SUCCEEDED,
                authorized=0,
                captured=amount,
                movements=(*base.movements, capture),
            )
        elif base.status is not PaymentStatus.SUCCEEDED:
            raise GatewayRefused("This DUMMY payment holds nothing to capture.")
        return self._snapshot(payment)

    async def refund(
        self,
        psp_reference: str,
        *,
        amount: int,
        currency: str,
        idempotency_key: str,
        our_reference: str,
    ) -> Movement:
        payment = self._known(psp_reference)
        reference = _reference("refund", idempotency_key)
        if reference in payment.refunds:
            return payment.refunds[reference]
        given = sum(m.amount for m in payment.refunds.values())
        if amount > payment.snapshot.captured - given:
            raise GatewayRefused("The refund is larger than what is left of the payment.")
        movement = Movement(
            MovementKind.REFUND, MovementStatus.SUCCEEDED, reference, amount, currency,
            our_reference=our_reference,
        )  # fmt: skip
        payment.refunds[reference] = movement
        return movement

    async def void(self, psp_reference: str, *, idempotency_key: str) -> Snapshot:
        payment = self._known(psp_reference)
        base = payment.snapshot
        if base.status is PaymentStatus.SUCCEEDED:
            raise GatewayRefused("A captured DUMMY payment cannot be voided; refund it.")
        if base.status is not PaymentStatus.CANCELLED:
            # Only a hold is a movement of money; stopping a pending payment moves nothing.
            voids = (
                (self._movement(MovementKind.VOID, psp_reference, base.authorized, base.currency),)
                if base.authorized
                else ()
            )
            payment.snapshot = replace(
                base,
                status=PaymentStatus.CANCELLED,
                authorized=0,
                movements=(*base.movements, *voids),
            )
        return self._snapshot(payment)

    def settle(self, psp_reference: str) -> None:
        """Let a pending payment succeed, as a bank transfer arriving late would (demos and
        tests: DUMMY has no webhook; orderPaymentConfirm or the worker then learns of it)."""
        payment = self._known(psp_reference)
        base = payment.snapshot
        if base.status is PaymentStatus.PENDING:
            capture = self._movement(
                MovementKind.CAPTURE, psp_reference, base.amount, base.currency
            )
            payment.snapshot = replace(
                base,
                status=PaymentStatus.SUCCEEDED,
                captured=base.amount,
                movements=(*base.movements, capture),
            )

    async def verify_webhook(self, *, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        raise WebhookRejected("DUMMY never calls back")

    async def aclose(self) -> None:
        return None
