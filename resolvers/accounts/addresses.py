"""The signed-in customer's address book: `me.addresses`, create, update, delete, defaults."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import Any, Self

import pycountry
import strawberry
from strawberry import relay

from app.services.accounts import addresses
from app.services.checks import Unset
from models import addresses as models
from resolvers.base import (
    ApiError,
    Info,
    IsAuthenticated,
    UserErrorType,
    current_user,
    decode_id,
    global_id,
    node_keys,
    payload_field,
    run_mutation,
    user_errors_field,
)
from resolvers.inputs import given, given_not_null, run_parsed


@strawberry.enum(description="Which default an address becomes.")
class AddressType(Enum):
    SHIPPING = "shipping"
    BILLING = "billing"


@strawberry.type(description="A postal address in the customer's address book.")
class Address(relay.Node):
    id: relay.NodeID[int]
    first_name: str = strawberry.field(description="Given name of the recipient.")
    last_name: str = strawberry.field(description="Family name of the recipient.")
    company: str = strawberry.field(description="Company name, or empty.")
    street_address_1: str = strawberry.field(description="First street line.")
    street_address_2: str = strawberry.field(description="Second street line, or empty.")
    city: str = strawberry.field(description="City or town.")
    postal_code: str = strawberry.field(description="Postal code, or empty.")
    country_area: str = strawberry.field(description="State, province or region, or empty.")
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 country code, upper case.")
    country_name: str = strawberry.field(description="English name of the country.")
    phone: str = strawberry.field(description="Phone number in E.164 format, or empty.")
    is_default_shipping: bool = strawberry.field(description="The default shipping address.")
    is_default_billing: bool = strawberry.field(description="The default billing address.")
    created_at: datetime = strawberry.field(description="When it was added.")
    updated_at: datetime = strawberry.field(description="When it was last changed.")
    row: strawberry.Private[models.Address]

    @classmethod
    def from_row(cls, row: models.Address) -> Address:
        country = pycountry.countries.get(alpha_2=row.country)
        return cls(
            id=row.id,
            first_name=row.first_name,
            last_name=row.last_name,
            company=row.company,
            street_address_1=row.street_address_1,
            street_address_2=row.street_address_2,
            city=row.city,
            postal_code=row.postal_code,
            country_area=row.country_area,
            country=row.country,
            country_name=country.name if country else row.country,
            phone=row.phone,
            is_default_shipping=row.is_default_shipping,
            is_default_billing=row.is_default_billing,
            created_at=row.created_at,
            updated_at=row.updated_at,
            row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # never `required`: see resolvers.node
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Address | None]:
        """Only the owner's own addresses."""
        viewer = info.context.user
        if viewer is None:
            return [None for _ in node_ids]
        rows = await info.context.loaders.address.load_many(node_keys(node_ids))
        return [
            cls.from_row(row) if row is not None and row.user_id == viewer.id else None
            for row in rows
        ]


async def _own_addresses(info: Info, user_id: int) -> list[models.Address]:
    viewer = info.context.user
    if viewer is None or viewer.id != user_id:
        raise ApiError("Only the account holder can see their addresses.", "FORBIDDEN")
    return await info.context.loaders.addresses_by_user.load(user_id)


async def resolve_addresses(info: Info, *, user_id: int) -> list[Address]:
    """The user's addresses, oldest first; User.addresses delegates here."""
    return [Address.from_row(row) for row in await _own_addresses(info, user_id)]


async def resolve_default_address(info: Info, *, user_id: int, kind: AddressType) -> Address | None:
    """The user's default address of `kind`; the User default fields delegate here."""
    for row in await _own_addresses(info, user_id):
        if row.is_default_shipping if kind is AddressType.SHIPPING else row.is_default_billing:
            return Address.from_row(row)
    return None


@strawberry.input(description="A new address.")
class AddressInput:
    street_address_1: str = strawberry.field(description="First street line (required).")
    city: str = strawberry.field(description="City or town (required).")
    country: str = strawberry.field(
        description='ISO 3166-1 alpha-2 country code, e.g. "DE"; lower case is accepted.'
    )
    first_name: str = strawberry.field(default="", description="Given name, up to 150.")
    last_name: str = strawberry.field(default="", description="Family name, up to 150.")
    company: str = strawberry.field(default="", description="Company name, up to 250.")
    street_address_2: str = strawberry.field(default="", description="Second line, up to 250.")
    postal_code: str = strawberry.field(default="", description="Postal code, up to 20.")
    country_area: str = strawberry.field(default="", description="State or region, up to 150.")
    phone: str = strawberry.field(
        default="",
        description="Phone number; national numbers are read in the address's country. "
        "Stored in E.164.",
    )

    def to_data(self) -> addresses.AddressData:
        return addresses.AddressData(
            **{name: getattr(self, name) for name in addresses.AddressData.__dataclass_fields__}
        )


@strawberry.input(
    description="Changes to an address; fields left out stay as they are, null clears "
    "an optional one."
)
class AddressUpdateInput:
    street_address_1: strawberry.Maybe[str | None] = strawberry.field(
        description="First street line."
    )
    city: strawberry.Maybe[str | None] = strawberry.field(description="City or town.")
    country: strawberry.Maybe[str | None] = strawberry.field(description="ISO 3166-1 alpha-2 code.")
    first_name: strawberry.Maybe[str | None] = strawberry.field(description="Given name.")
    last_name: strawberry.Maybe[str | None] = strawberry.field(description="Family name.")
    company: strawberry.Maybe[str | None] = strawberry.field(description="Company name.")
    street_address_2: strawberry.Maybe[str | None] = strawberry.field(description="Second line.")
    postal_code: strawberry.Maybe[str | None] = strawberry.field(description="Postal code.")
    country_area: strawberry.Maybe[str | None] = strawberry.field(description="State or region.")
    phone: strawberry.Maybe[str | None] = strawberry.field(description="Phone number.")

    def to_changes(self) -> addresses.AddressChanges:
        values: dict[str, Any] = {}
        for name in addresses.AddressChanges.__dataclass_fields__:
            field = getattr(self, name)
            if name in _REQUIRED:  # null is REQUIRED; other fields: null clears them
                values[name] = given_not_null(field, field=_REQUIRED[name])
            else:
                value = given(field)
                values[name] = value if isinstance(value, Unset) else value or ""
        return addresses.AddressChanges(**values)


_REQUIRED = {"street_address_1": "streetAddress1", "city": "city", "country": "country"}


@strawberry.type
class AddressResult:
    address: Address | None = payload_field("The address.")
    user_errors: list[UserErrorType] = user_errors_field()

    @classmethod
    def of(cls, row: models.Address) -> Self:
        return cls(address=Address.from_row(row))


@strawberry.type
class AddressCreatePayload(AddressResult):
    pass


@strawberry.type
class AddressUpdatePayload(AddressResult):
    pass


@strawberry.type
class AddressDeletePayload:
    deleted_id: relay.GlobalID | None = payload_field("ID of the deleted address.")
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type
class AddressSetDefaultPayload(AddressResult):
    pass


@strawberry.type
class Query:
    """No root fields: the address book is read through `me`."""


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Add an address to your address book (at most 50); your first address "
        "becomes the default for shipping and billing.",
        permission_classes=[IsAuthenticated],
    )
    async def address_create(self, info: Info, input: AddressInput) -> AddressCreatePayload:
        return await run_mutation(
            info,
            AddressCreatePayload,
            addresses.create_address,
            AddressCreatePayload.of,
            user_id=current_user(info).id,
            data=input.to_data(),
        )

    @strawberry.mutation(
        description="Change one of your addresses.", permission_classes=[IsAuthenticated]
    )
    async def address_update(
        self, info: Info, id: strawberry.ID, input: AddressUpdateInput
    ) -> AddressUpdatePayload:
        return await run_parsed(
            info,
            AddressUpdatePayload,
            addresses.update_address,
            AddressUpdatePayload.of,
            lambda: {
                "user_id": current_user(info).id,
                "address_id": decode_id(id, "Address"),
                "changes": input.to_changes(),
            },
        )

    @strawberry.mutation(
        description="Delete one of your addresses; deleting a default leaves no default "
        "of that kind.",
        permission_classes=[IsAuthenticated],
    )
    async def address_delete(self, info: Info, id: strawberry.ID) -> AddressDeletePayload:
        return await run_mutation(
            info,
            AddressDeletePayload,
            addresses.delete_address,
            lambda key: AddressDeletePayload(deleted_id=global_id("Address", key)),
            user_id=current_user(info).id,
            address_id=decode_id(id, "Address"),
        )

    @strawberry.mutation(
        description="Make one of your addresses the default for shipping or billing; "
        "the previous default of that kind stops being one.",
        permission_classes=[IsAuthenticated],
    )
    async def address_set_default(
        self, info: Info, id: strawberry.ID, type: AddressType
    ) -> AddressSetDefaultPayload:
        return await run_mutation(
            info,
            AddressSetDefaultPayload,
            addresses.set_default_address,
            AddressSetDefaultPayload.of,
            user_id=current_user(info).id,
            address_id=decode_id(id, "Address"),
            kind=addresses.AddressKind(type.value),
        )
