"""Tax rates per country, and per region where one is set."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped


class TaxRate(Timestamped, Base):
    """A percentage charged on goods and shipping delivered to a country (or one region of it).

    A region's rate replaces its country's; a country without a rate is taxed at 0.
    """

    __tablename__ = "tax_rates"
    __table_args__ = (
        CheckConstraint("country ~ '^[A-Z]{2}$'", name="country_code"),
        CheckConstraint("rate >= 0 AND rate <= 100", name="rate_range"),
        Index("uq_tax_rates_country_region", "country", "region", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    # '' for the whole country; else upper-cased, matched with the address's `country_area`.
    region: Mapped[str] = mapped_column(String(150), nullable=False, server_default="")
    # Percent with up to three decimals: 19.000, 7.250.
    rate: Mapped[Decimal] = mapped_column(Numeric(6, 3), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False, server_default="")
