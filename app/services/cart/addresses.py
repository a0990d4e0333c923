"""The cart's shipping and billing addresses: typed in, or copied from the address book."""

from __future__ import annotations

from dataclasses import fields
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import CartError, ErrorCode, UserError, ValidationErrors
from app.services.accounts.addresses import AddressData, clean_address
from app.services.cart.common import Caller, finish, locked_cart, utcnow
from app.services.cart.view import CartView
from app.settings import Settings
from models.addresses import Address


class CartAddressKind(Enum):
    SHIPPING = "shipping"
    BILLING = "billing"


def _cleaned(data: AddressData) -> dict[str, Any]:
    try:
        return clean_address(data)
    except ValidationErrors as exc:  # name the fields inside the `address` argument
        raise ValidationErrors(
            [CartError(e.code, e.message, field=f"address.{e.field}") for e in exc.errors]
        ) from None
    except UserError as exc:
        raise CartError(exc.code, exc.message, field=f"address.{exc.field}") from None


async def _from_book(
    session: AsyncSession, *, user_id: int | None, address_id: int
) -> dict[str, Any]:
    row = None
    if user_id is not None:
        row = await session.scalar(
            select(Address).where(Address.id == address_id, Address.user_id == user_id)
        )
    if row is None:
        raise CartError(ErrorCode.NOT_FOUND, "Address not found.", field="addressId")
    return {f.name: getattr(row, f.name) for f in fields(AddressData)}


async def set_address(
    session: AsyncSession,
    *,
    caller: Caller,
    kind: CartAddressKind,
    address: AddressData | None,
    address_id: int | None,
    settings: Settings,
) -> CartView:
    """Set the cart's address of `kind` from exactly one of `address` and `address_id`
    (the caller's own address book entry); the cart keeps a copy."""
    now = utcnow()
    cart = await locked_cart(session, caller)
    if (address is None) == (address_id is None):
        raise CartError(
            ErrorCode.INVALID, "Give either an address or an addressId.", field="address"
        )
    if address is not None:
        values = _cleaned(address)
    else:
        assert address_id is not None
        values = await _from_book(session, user_id=caller.user_id, address_id=address_id)
    if kind is CartAddressKind.SHIPPING:
        cart.shipping_address = values
    else:
        cart.billing_address = values
    return await finish(session, cart=cart, settings=settings, now=now)
