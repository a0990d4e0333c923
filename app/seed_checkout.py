"""Demo checkout rules for the one-command run: a worldwide shipping zone with two methods,
tax rates, and the WELCOME10 coupon. Idempotent: rows are found by name or code first."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.promotions import Promotion
from models.shipping import ShippingMethod, ShippingZone
from models.taxes import TaxRate

DEMO_ZONE = "Worldwide"
DEMO_COUPON = "WELCOME10"
# (name, price, free above, min days, max days) in minor units of the store currency.
DEMO_METHODS = (
    ("Standard", 500, 5_000, 3, 7),
    ("Express", 1_500, None, 1, 2),
)
# (country, region, rate, name): a country rate, and a region that overrides it.
DEMO_TAX_RATES = (
    ("US", "", Decimal("7.250"), "Sales tax"),
    ("US", "NY", Decimal("8.875"), "NY sales tax"),
    ("DE", "", Decimal("19.000"), "MwSt"),
    ("GB", "", Decimal("20.000"), "VAT"),
    ("FR", "", Decimal("20.000"), "TVA"),
)


async def seed_checkout(session: AsyncSession, *, currency: str) -> None:
    """Create the demo zone, methods, tax rates and coupon unless they exist."""
    zone = await session.scalar(select(ShippingZone).where(ShippingZone.name == DEMO_ZONE))
    if zone is None:
        zone = ShippingZone(name=DEMO_ZONE, is_worldwide=True)
        session.add(zone)
        await session.flush()
    existing = set(
        await session.scalars(select(ShippingMethod.name).where(ShippingMethod.zone_id == zone.id))
    )
    for name, amount, free_above, min_days, max_days in DEMO_METHODS:
        if name not in existing:
            session.add(
                ShippingMethod(
                    zone_id=zone.id,
                    name=name,
                    price_amount=amount,
                    currency=currency,
                    free_above_amount=free_above,
                    min_days=min_days,
                    max_days=max_days,
                )
            )
    rates = {(c, r) for c, r in await session.execute(select(TaxRate.country, TaxRate.region))}
    for country, region, rate, name in DEMO_TAX_RATES:
        if (country, region) not in rates:
            session.add(TaxRate(country=country, region=region, rate=rate, name=name))
    if await session.scalar(select(Promotion.id).where(Promotion.code == DEMO_COUPON)) is None:
        session.add(
            Promotion(
                name="10% off your first order",
                code=DEMO_COUPON,
                kind="percentage",
                percentage=Decimal(10),
                per_customer_limit=1,
            )
        )
    await session.flush()
