"""Which gateways a shop takes follows from settings; an enabled one needs its keys."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.payments.paypal_gateway import PayPalGateway
from app.payments.registry import Gateways
from app.payments.stripe_gateway import StripeGateway
from app.settings import Settings

KEYS = {
    "stripe_secret_key": "sk_test_x", "stripe_webhook_secret": "whsec_x",
    "paypal_client_id": "id", "paypal_client_secret": "secret", "paypal_webhook_id": "WH",
}  # fmt: skip


@pytest.mark.parametrize(
    ("gateways", "missing", "message"),
    [
        ("STRIPE", "stripe_webhook_secret", "STRIPE needs"),
        ("DUMMY,PAYPAL", "paypal_webhook_id", "PAYPAL needs"),
        ("DUMMY,BITCOIN", None, "unknown payment gateways: BITCOIN"),
    ],
)
def test_a_gateway_without_its_keys_or_unknown_fails_at_start(gateways, missing, message):
    values = {k: v for k, v in KEYS.items() if k != missing}
    with pytest.raises(ValidationError, match=message):
        Settings(_env_file=None, payment_gateways=gateways, **values)


async def test_the_registry_builds_the_enabled_gateways_only():
    settings = Settings(_env_file=None, payment_gateways="dummy, stripe,PAYPAL", **KEYS)
    gateways = Gateways.from_settings(settings)
    try:
        assert list(gateways) == ["DUMMY", "STRIPE", "PAYPAL"]
        assert isinstance(gateways["STRIPE"], StripeGateway)
        assert isinstance(gateways["PAYPAL"], PayPalGateway)
        assert gateways.enabled(" stripe ") is gateways["STRIPE"]
    finally:
        await gateways.aclose()
    only_dummy = Gateways.from_settings(Settings(_env_file=None))
    assert list(only_dummy) == ["DUMMY"] and only_dummy.enabled("STRIPE") is None
