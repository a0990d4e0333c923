"""The gateways this deployment accepts, built from PAYMENT_GATEWAYS."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache

from app.payments.dummy import DummyGateway
from app.payments.gateway import PaymentGateway

_BUILDERS: dict[str, Callable[[], PaymentGateway]] = {"DUMMY": DummyGateway}


@cache
def _gateway(name: str) -> PaymentGateway:
    return _BUILDERS[name]()


def gateway_for(name: str, enabled: Iterable[str]) -> PaymentGateway | None:
    """The gateway called `name` (any case) if it is enabled, else None."""
    key = name.strip().upper()
    if key not in _BUILDERS or key not in {item.upper() for item in enabled}:
        return None
    return _gateway(key)
