"""The customer address book: at most 50 addresses, one default shipping and one billing.

Every write first locks the owner's user row (FOR NO KEY UPDATE), so the cap and the
default flags stay exact under concurrent requests; the partial unique indexes are the
last line of defence. Country codes are ISO 3166-1 alpha-2, upper-cased ("de" -> "DE");
phones are stored in E.164, parsed with the address's country as the default region.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from enum import Enum
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import AddressError, ErrorCode
from app.services.checks import UNSET, Cleaner, Unset, clean_country, clean_phone, clean_text
from models.accounts import User
from models.addresses import MAX_ADDRESSES_PER_USER, Address


class AddressKind(Enum):
    SHIPPING = "shipping"
    BILLING = "billing"


# Column -> (input field name, maximum length, required).
_TEXT_FIELDS: dict[str, tuple[str, int, bool]] = {
    "first_name": ("firstName", 150, False),
    "last_name": ("lastName", 150, False),
    "company": ("company", 250, False),
    "street_address_1": ("streetAddress1", 250, True),
    "street_address_2": ("streetAddress2", 250, False),
    "city": ("city", 150, True),
    "postal_code": ("postalCode", 20, False),
    "country_area": ("countryArea", 150, False),
}


@dataclass(frozen=True)
class AddressData:
    street_address_1: str
    city: str
    country: str
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    street_address_2: str = ""
    postal_code: str = ""
    country_area: str = ""
    phone: str = ""


@dataclass(frozen=True)
class AddressChanges:
    """A partial update: UNSET leaves the field as it is."""

    street_address_1: str | Unset = UNSET
    city: str | Unset = UNSET
    country: str | Unset = UNSET
    first_name: str | Unset = UNSET
    last_name: str | Unset = UNSET
    company: str | Unset = UNSET
    street_address_2: str | Unset = UNSET
    postal_code: str | Unset = UNSET
    country_area: str | Unset = UNSET
    phone: str | Unset = UNSET


def clean_address(data: AddressData) -> dict[str, Any]:
    """Column values of a valid address; every field error at once in ValidationErrors."""
    clean = Cleaner()
    for column, (field, max_length, required) in _TEXT_FIELDS.items():
        clean.put(
            column,
            clean_text,
            getattr(data, column),
            field=field,
            max_length=max_length,
            required=required,
        )
    clean.put("country", clean_country, data.country)
    # A national number is read in the address's country (when that one is valid).
    clean.put("phone", clean_phone, data.phone, region=clean.values.get("country"))
    return clean.done()


async def _lock_address_book(session: AsyncSession, user_id: int) -> None:
    # Serialises this user's address writes: the cap and the default flags stay exact.
    await session.execute(select(User.id).where(User.id == user_id).with_for_update(key_share=True))


async def _owned(session: AsyncSession, user_id: int, address_id: int) -> Address:
    address = await session.scalar(
        select(Address)
        .where(Address.id == address_id, Address.user_id == user_id)
        .execution_options(populate_existing=True)
    )
    if address is None:
        raise AddressError(ErrorCode.NOT_FOUND, "Address not found.", field="id")
    return address


async def create_address(session: AsyncSession, *, user_id: int, data: AddressData) -> Address:
    """Add an address; the first one becomes the default for shipping and billing."""
    values = clean_address(data)
    await _lock_address_book(session, user_id)
    existing = await session.scalar(
        select(func.count()).select_from(Address).where(Address.user_id == user_id)
    )
    if existing and existing >= MAX_ADDRESSES_PER_USER:
        raise AddressError(
            ErrorCode.INVALID, f"You can keep at most {MAX_ADDRESSES_PER_USER} addresses."
        )
    first = not existing
    address = Address(
        user_id=user_id, is_default_shipping=first, is_default_billing=first, **values
    )
    session.add(address)
    await session.flush()
    await session.refresh(address)  # timestamps are set by the database
    return address


async def update_address(
    session: AsyncSession, *, user_id: int, address_id: int, changes: AddressChanges
) -> Address:
    """Change one's own address; NOT_FOUND for anyone else's."""
    await _lock_address_book(session, user_id)
    address = await _owned(session, user_id, address_id)
    current = AddressData(**{f.name: getattr(address, f.name) for f in fields(AddressData)})
    given = {
        f.name: getattr(changes, f.name)
        for f in fields(AddressChanges)
        if getattr(changes, f.name) is not UNSET
    }
    for column, value in clean_address(replace(current, **given)).items():
        setattr(address, column, value)
    await session.flush()
    await session.refresh(address)
    return address


async def delete_address(session: AsyncSession, *, user_id: int, address_id: int) -> int:
    """Delete one's own address (a default leaves no default of its kind); returns its id."""
    await _lock_address_book(session, user_id)
    deleted: int | None = await session.scalar(
        delete(Address)
        .where(Address.id == address_id, Address.user_id == user_id)
        .returning(Address.id)
    )
    if deleted is None:
        raise AddressError(ErrorCode.NOT_FOUND, "Address not found.", field="id")
    return deleted


async def set_default_address(
    session: AsyncSession, *, user_id: int, address_id: int, kind: AddressKind
) -> Address:
    """Make one's own address the default of `kind`, unsetting the previous one."""
    await _lock_address_book(session, user_id)
    await _owned(session, user_id, address_id)
    flag = (
        Address.is_default_shipping if kind is AddressKind.SHIPPING else Address.is_default_billing
    )
    # Unset first: the partial unique index is checked row by row.
    await session.execute(
        update(Address)
        .where(Address.user_id == user_id, flag, Address.id != address_id)
        .values({flag: False})
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Address)
        .where(Address.id == address_id)
        .values({flag: True})
        .execution_options(synchronize_session=False)
    )
    return await _owned(session, user_id, address_id)
