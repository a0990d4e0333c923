"""Stripe's wire format for FakeStripe: form decoding, parameter checks, JSON answers."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from starlette.responses import Response

from tests.fakes.stripe_objects import StripeApiError, new_id

# errors of requests rejected before they ran: Stripe saves no idempotent result for them
VALIDATION_CODES = {
    "parameter_missing",
    "parameter_unknown",
    "parameter_invalid_integer",
    "parameter_invalid",
}
_KEY_PART = re.compile(r"\[([^\]]*)\]")


def decode_form(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding: `metadata[order_id]=7` is {"metadata": {"order_id": "7"}}."""
    params: dict[str, Any] = {}
    for key, value in pairs:
        head, _, rest = key.partition("[")
        parts = [head, *_KEY_PART.findall("[" + rest)] if rest else [head]
        target = params
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return params


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body).encode(),
        status_code=status,
        media_type="application/json",
        headers={"Request-Id": new_id("req"), **(headers or {})},
    )


def integer_param(params: dict[str, Any], name: str, *, required: bool = False) -> int | None:
    value = params.get(name)
    if value is None:
        if required:
            raise StripeApiError(
                400, f"Missing required param: {name}.", code="parameter_missing", param=name
            )
        return None
    if not str(value).isdigit():
        raise StripeApiError(
            400, f"Invalid integer: {value}", code="parameter_invalid_integer", param=name
        )
    return int(value)


def only_params(params: dict[str, Any], allowed: set[str]) -> None:
    for name in params:
        if name not in allowed:
            raise StripeApiError(
                400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name
            )
