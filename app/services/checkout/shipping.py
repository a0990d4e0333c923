"""Shipping zones (staff): a name, the countries and regions it covers, and whether it is the
worldwide fallback. Methods of a zone: app/services/checkout/shipping_methods.py.

A zone's areas are two lists a client replaces one at a time: whole countries (`countries`,
stored with region '') and regions of a country (`regions`). One area appears once in a zone
(UNIQUE); the same area may belong to several zones, whose methods are then all offered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import CheckoutError, ErrorCode
from app.services.checkout.staff_checks import check_count, clean_region, mark_rules_changed
from app.services.checks import (
    UNSET,
    Cleaner,
    Lock,
    Unset,
    clean_country,
    clean_text,
    locked_or_not_found,
)
from app.services.pagination import KeysetQuery, SortKey, load_text
from models.shipping import ShippingZone, ShippingZoneArea

MAX_NAME_LENGTH = 250
# There are 249 ISO countries; a zone listing more regions than that is a mistake.
MAX_AREAS = 500


@dataclass(frozen=True)
class RegionData:
    """One region of a country, as the client gave them."""

    country: str
    region: str


@dataclass(frozen=True)
class ZoneData:
    """Fields of a zone; UNSET leaves a field as it is, None empties an area list."""

    name: str | Unset = UNSET
    countries: Sequence[str] | Unset | None = UNSET
    regions: Sequence[RegionData] | Unset | None = UNSET
    is_worldwide: bool | Unset = UNSET


Area = tuple[str, str]  # (country, region); region '' is the whole country


def _no_repeats(areas: list[Area], *, field: str) -> list[Area]:
    seen: set[Area] = set()
    for area in areas:
        if area in seen:
            where = f"{area[0]} {area[1]}" if area[1] else area[0]
            raise CheckoutError(ErrorCode.UNIQUE, f"{where} is listed twice.", field=field)
        seen.add(area)
    return areas


def clean_countries(values: Sequence[str] | None) -> list[Area]:
    """Whole-country areas; INVALID / REQUIRED for a bad code, UNIQUE for a repeated one."""
    codes = check_count(values or [], field="countries", limit=MAX_AREAS)
    areas = [(clean_country(code, field="countries"), "") for code in codes]
    return _no_repeats(areas, field="countries")


def clean_regions(values: Sequence[RegionData] | None) -> list[Area]:
    """Region areas: a valid country and a named region each, none repeated."""
    items = check_count(values or [], field="regions", limit=MAX_AREAS)
    areas = [
        (
            clean_country(item.country, field="regions"),
            clean_region(item.region, field="regions", required=True),
        )
        for item in items
    ]
    return _no_repeats(areas, field="regions")


def _cleaned(data: ZoneData) -> Cleaner:
    clean = Cleaner()
    if data.name is not UNSET:
        clean.put(
            "name", clean_text, data.name, field="name", max_length=MAX_NAME_LENGTH, required=True
        )
    if data.countries is not UNSET:
        clean.put("countries", clean_countries, data.countries)
    if data.regions is not UNSET:
        clean.put("regions", clean_regions, data.regions)
    return clean


def _add_areas(session: AsyncSession, zone_id: int, areas: list[Area]) -> None:
    session.add_all(
        ShippingZoneArea(zone_id=zone_id, country=country, region=region)
        for country, region in areas
    )


async def create_zone(session: AsyncSession, *, data: ZoneData) -> ShippingZone:
    """Create a zone with its areas."""
    clean = _cleaned(data)
    if data.name is UNSET:
        clean.fail(ErrorCode.REQUIRED, "This field is required.", field="name")
    values = clean.done()
    zone = ShippingZone(name=values["name"], is_worldwide=data.is_worldwide is True)
    session.add(zone)
    await session.flush()
    _add_areas(session, zone.id, values.get("countries", []) + values.get("regions", []))
    await session.flush()
    await session.refresh(zone)
    mark_rules_changed(session)
    return zone


async def update_zone(session: AsyncSession, *, zone_id: int, data: ZoneData) -> ShippingZone:
    """Rename a zone, switch its worldwide flag, or replace its country or region list."""
    zone = await locked_zone(session, zone_id, lock="no key update")
    values = _cleaned(data).done()
    if "name" in values:
        zone.name = values["name"]
    if isinstance(data.is_worldwide, bool):
        zone.is_worldwide = data.is_worldwide
    for key, whole_country in (("countries", True), ("regions", False)):
        if key in values:
            is_whole = ShippingZoneArea.region == ""
            await session.execute(
                delete(ShippingZoneArea).where(
                    ShippingZoneArea.zone_id == zone.id, is_whole if whole_country else ~is_whole
                )
            )
            _add_areas(session, zone.id, values[key])
    zone.updated_at = func.now()
    await session.flush()
    await session.refresh(zone)
    mark_rules_changed(session)
    return zone


async def delete_zone(session: AsyncSession, *, zone_id: int) -> int:
    """Delete a zone with its areas and methods; carts that chose one of them choose again."""
    zone = await locked_zone(session, zone_id, lock="update")
    await session.execute(delete(ShippingZone).where(ShippingZone.id == zone_id))
    session.expunge(zone)
    mark_rules_changed(session)
    return zone_id


async def locked_zone(
    session: AsyncSession, zone_id: int, *, lock: Lock, field: str = "id"
) -> ShippingZone:
    """The zone, row-locked (FOR UPDATE to delete it, weaker to change it or add to it)."""
    return await locked_or_not_found(
        session, ShippingZone, zone_id, field=field, message="Shipping zone not found.", lock=lock
    )


def zones_query() -> KeysetQuery:
    """Every shipping zone, by name."""
    return KeysetQuery(
        select(ShippingZone),
        keys=[SortKey(ShippingZone.name, load=load_text), SortKey(ShippingZone.id)],
        tag="shipping_zone:name",
    )
