"""Tax rates (staff): a percentage per country, or per region of a country.

One rate per (country, region): the unique index decides between concurrent writes, and
its refusal is UNIQUE on `country`. A rate is a percent from 0 to 100 with at most three
decimal places (7.25, 19, 8.875).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode
from app.services.checkout.staff_checks import clean_region, flush_unique, mark_rules_changed
from app.services.checks import (
    UNSET,
    Cleaner,
    Lock,
    Unset,
    clean_country,
    clean_decimal,
    clean_text,
    locked_or_not_found,
)
from app.services.pagination import KeysetQuery, SortKey, load_text
from models.taxes import TaxRate

MAX_NAME_LENGTH = 100
RATE_PLACES = 3
MAX_RATE = Decimal(100)
_UNIQUE_INDEX = "uq_tax_rates_country_region"


@dataclass(frozen=True)
class TaxRateData:
    """Fields of a tax rate; UNSET leaves a field as it is, a None region or name is blank."""

    country: str | Unset = UNSET
    region: str | Unset | None = UNSET
    rate: Decimal | Unset = UNSET
    name: str | Unset | None = UNSET


def clean_rate(value: Decimal, *, field: str = "rate") -> Decimal:
    """A percent from 0 to 100 with at most three decimal places."""
    return clean_decimal(value, field=field, places=RATE_PLACES, maximum=MAX_RATE)


def _values(data: TaxRateData) -> dict[str, object]:
    clean = Cleaner()
    if data.country is not UNSET:
        clean.put("country", clean_country, data.country)
    if data.region is not UNSET:
        clean.put("region", clean_region, data.region, field="region")
    if data.rate is not UNSET:
        clean.put("rate", clean_rate, data.rate)
    if data.name is not UNSET:
        clean.put("name", clean_text, data.name, field="name", max_length=MAX_NAME_LENGTH)
    return clean.done()


async def _save(session: AsyncSession, rate: TaxRate) -> TaxRate:
    where = f"{rate.country} {rate.region}" if rate.region else rate.country
    await flush_unique(
        session,
        constraint=_UNIQUE_INDEX,
        field="country",
        message=f"{where} already has a tax rate.",
    )
    await session.refresh(rate)
    mark_rules_changed(session)
    return rate


async def create_tax_rate(session: AsyncSession, *, data: TaxRateData) -> TaxRate:
    """Create the rate of a country (or of one region of it); UNIQUE when it has one."""
    clean = Cleaner()
    for field, given in (("country", data.country), ("rate", data.rate)):
        if given is UNSET:
            clean.fail(ErrorCode.REQUIRED, "This field is required.", field=field)
    with clean.collect():
        values = _values(data)
    clean.done()
    rate = TaxRate(region="", name="")
    for column, value in values.items():
        setattr(rate, column, value)
    session.add(rate)
    return await _save(session, rate)


async def update_tax_rate(session: AsyncSession, *, tax_rate_id: int, data: TaxRateData) -> TaxRate:
    """Change the given fields; moving it onto a country and region with a rate is UNIQUE."""
    rate = await _locked(session, tax_rate_id, lock="no key update")
    for column, value in _values(data).items():
        setattr(rate, column, value)
    rate.updated_at = func.now()
    return await _save(session, rate)


async def delete_tax_rate(session: AsyncSession, *, tax_rate_id: int) -> int:
    """Delete a rate; its country (or region) is then taxed at its country's rate, or 0."""
    rate = await _locked(session, tax_rate_id, lock="update")
    await session.execute(delete(TaxRate).where(TaxRate.id == tax_rate_id))
    session.expunge(rate)
    mark_rules_changed(session)
    return tax_rate_id


async def _locked(session: AsyncSession, tax_rate_id: int, *, lock: Lock) -> TaxRate:
    return await locked_or_not_found(
        session, TaxRate, tax_rate_id, field="id", message="Tax rate not found.", lock=lock
    )


def tax_rates_query(*, country: str | None = None) -> KeysetQuery:
    """Rates by country, then region (the country's own rate first); INVALID for a country
    filter that is no ISO code."""
    statement = select(TaxRate)
    if country is not None:
        statement = statement.where(TaxRate.country == clean_country(country))
    return KeysetQuery(
        statement,
        keys=[
            SortKey(TaxRate.country, load=load_text),
            SortKey(TaxRate.region, load=load_text),
            SortKey(TaxRate.id),
        ],
        tag="tax_rate:country",
    )
