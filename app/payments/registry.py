"""The gateways this deployment accepts, built once per process from PAYMENT_GATEWAYS."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from app.payments.dummy import DummyGateway
from app.payments.gateway import PaymentGateway
from app.settings import Settings


def _build(name: str, settings: Settings) -> PaymentGateway:
    # Imported here: a shop without Stripe or PayPal never loads their client code.
    if name == "STRIPE":
        from app.payments.stripe_gateway import StripeGateway

        return StripeGateway.from_settings(settings)
    if name == "PAYPAL":
        from app.payments.paypal_gateway import PayPalGateway

        return PayPalGateway.from_settings(settings)
    return DummyGateway()


class Gateways(Mapping[str, PaymentGateway]):
    """Name -> gateway, for the enabled ones; their HTTP clients close with `aclose`."""

    def __init__(self, gateways: Mapping[str, PaymentGateway]) -> None:
        self._gateways = dict(gateways)

    @classmethod
    def from_settings(cls, settings: Settings) -> Gateways:
        return cls({name: _build(name, settings) for name in settings.payment_gateways})

    def __getitem__(self, name: str) -> PaymentGateway:
        return self._gateways[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._gateways)

    def __len__(self) -> int:
        return len(self._gateways)

    def enabled(self, name: str) -> PaymentGateway | None:
        """The gateway called `name` (any case, surrounding blanks ignored), if enabled."""
        return self._gateways.get(name.strip().upper())

    async def aclose(self) -> None:
        for gateway in self._gateways.values():
            await gateway.aclose()
