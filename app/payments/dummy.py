"""DUMMY: a gateway that never leaves the process, for development and tests.

Tokens (docs/payments-dummy.md): `tok_success` succeeds, `tok_decline` is declined,
`tok_pending` stays pending (as a bank transfer or a 3-D Secure challenge would); any other
token is declined with a message naming the test tokens.
"""

from __future__ import annotations

import hashlib

from app.payments.gateway import PaymentOutcome, PaymentStatus, WebhookEvent

SUCCESS = "tok_success"
DECLINE = "tok_decline"
PENDING = "tok_pending"


def _reference(kind: str, idempotency_key: str) -> str:
    # The same request gives the same reference, as a real provider's idempotency does.
    return f"dummy_{kind}_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]


class DummyGateway:
    """Decides by the token alone; `capture`, `refund` and `void` always succeed."""

    name = "DUMMY"

    async def start(
        self, *, amount: int, currency: str, token: str, idempotency_key: str, reference: str
    ) -> PaymentOutcome:
        if token == SUCCESS:
            return PaymentOutcome(PaymentStatus.SUCCEEDED, _reference("pay", idempotency_key))
        if token == PENDING:
            return PaymentOutcome(PaymentStatus.PENDING, _reference("pay", idempotency_key))
        if token == DECLINE:
            return PaymentOutcome(PaymentStatus.DECLINED, "", "The card was declined.")
        return PaymentOutcome(
            PaymentStatus.DECLINED,
            "",
            f"Unknown test token; the DUMMY gateway takes {SUCCESS}, {PENDING} or {DECLINE}.",
        )

    async def capture(
        self, *, psp_reference: str, amount: int, currency: str, idempotency_key: str
    ) -> PaymentOutcome:
        return PaymentOutcome(PaymentStatus.SUCCEEDED, psp_reference)

    async def refund(
        self, *, psp_reference: str, amount: int, currency: str, idempotency_key: str
    ) -> PaymentOutcome:
        return PaymentOutcome(PaymentStatus.SUCCEEDED, _reference("refund", idempotency_key))

    async def void(self, *, psp_reference: str, idempotency_key: str) -> PaymentOutcome:
        return PaymentOutcome(PaymentStatus.SUCCEEDED, psp_reference)

    def parse_webhook(self, *, headers: dict[str, str], body: bytes) -> WebhookEvent | None:
        return None  # DUMMY decides at once: it never calls back
