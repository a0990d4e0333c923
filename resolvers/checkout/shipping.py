"""Staff API of shipping zones and their methods (permission MANAGE_CHECKOUT)."""

from __future__ import annotations

from decimal import Decimal
from typing import Self

import strawberry
from strawberry import relay

from app.services.checkout import shipping, shipping_methods
from app.services.checkout.shipping import RegionData, ZoneData
from app.services.checkout.shipping_methods import MethodData
from app.services.checks import UNSET, Unset
from app.services.pagination import PageRequest
from models import shipping as models
from resolvers.base import (
    Info,
    UserErrorType,
    decode_id,
    global_id,
    payload_field,
    user_errors_field,
)
from resolvers.checkout.types import CHECKOUT, ShippingMethod, ShippingZone
from resolvers.connection import Connection, keyset_connection
from resolvers.inputs import given, given_not_null, run_parsed
from resolvers.money import MoneyInput


@strawberry.input(description="One region of a country.")
class ShippingRegionInput:
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 country code.")
    region: str = strawberry.field(
        description="Region as addresses name it in countryArea (any case), e.g. BY."
    )


def _regions(values: list[ShippingRegionInput] | None) -> list[RegionData] | None:
    return None if values is None else [RegionData(v.country, v.region) for v in values]


@strawberry.input(description="A new shipping zone.")
class ShippingZoneCreateInput:
    name: str = strawberry.field(description="Display name, at most 250 characters.")
    countries: list[str] | None = strawberry.field(
        default=None, description="Whole countries it covers (ISO 3166-1 alpha-2)."
    )
    regions: list[ShippingRegionInput] | None = strawberry.field(
        default=None, description="Single regions of countries it covers."
    )
    is_worldwide: bool = strawberry.field(
        default=False, description="Serve every country that no zone names."
    )

    def to_data(self) -> ZoneData:
        return ZoneData(
            name=self.name,
            countries=self.countries,
            regions=_regions(self.regions),
            is_worldwide=self.is_worldwide,
        )


@strawberry.input(description="Changes to a shipping zone; fields left out stay as they are.")
class ShippingZoneUpdateInput:
    name: strawberry.Maybe[str | None] = strawberry.field(description="Display name.")
    countries: strawberry.Maybe[list[str] | None] = strawberry.field(
        description="Replaces the whole countries; null or [] removes them."
    )
    regions: strawberry.Maybe[list[ShippingRegionInput] | None] = strawberry.field(
        description="Replaces the single regions; null or [] removes them."
    )
    is_worldwide: strawberry.Maybe[bool | None] = strawberry.field(
        description="Serve every country that no zone names."
    )

    def to_data(self) -> ZoneData:
        regions = given(self.regions)
        return ZoneData(
            name=given_not_null(self.name, field="name"),
            countries=given(self.countries),
            regions=regions if isinstance(regions, Unset) else _regions(regions),
            is_worldwide=given_not_null(self.is_worldwide, field="isWorldwide"),
        )


@strawberry.input(description="A new shipping method of a zone.")
class ShippingMethodCreateInput:
    zone_id: strawberry.ID = strawberry.field(description="The zone it delivers in.")
    name: str = strawberry.field(description="Display name, at most 250 characters.")
    price: MoneyInput = strawberry.field(description="What delivery costs.")
    free_above: Decimal | None = strawberry.field(
        default=None,
        description="Free from this amount of discounted goods, in the price's currency.",
    )
    min_weight_grams: int | None = strawberry.field(default=None, description="Lightest cart.")
    max_weight_grams: int | None = strawberry.field(default=None, description="Heaviest cart.")
    min_days: int | None = strawberry.field(default=None, description="Fewest days, 0 to 365.")
    max_days: int | None = strawberry.field(default=None, description="Most days, 0 to 365.")
    is_active: bool = strawberry.field(default=True, description="Offered to shoppers.")

    def to_data(self) -> MethodData:
        return MethodData(
            name=self.name,
            price=self.price.to_data(),
            free_above=self.free_above,
            min_weight_grams=self.min_weight_grams,
            max_weight_grams=self.max_weight_grams,
            min_days=self.min_days,
            max_days=self.max_days,
            is_active=self.is_active,
        )


@strawberry.input(description="Changes to a shipping method; fields left out stay as they are.")
class ShippingMethodUpdateInput:
    name: strawberry.Maybe[str | None] = strawberry.field(description="Display name.")
    price: strawberry.Maybe[MoneyInput | None] = strawberry.field(description="Price.")
    free_above: strawberry.Maybe[Decimal | None] = strawberry.field(
        description="Free-above amount in the price's currency; null: never free."
    )
    min_weight_grams: strawberry.Maybe[int | None] = strawberry.field(description="null: none.")
    max_weight_grams: strawberry.Maybe[int | None] = strawberry.field(description="null: none.")
    min_days: strawberry.Maybe[int | None] = strawberry.field(description="null: unknown.")
    max_days: strawberry.Maybe[int | None] = strawberry.field(description="null: unknown.")
    is_active: strawberry.Maybe[bool | None] = strawberry.field(description="Offered.")

    def to_data(self) -> MethodData:
        price = given_not_null(self.price, field="price")
        return MethodData(
            name=given_not_null(self.name, field="name"),
            price=UNSET if isinstance(price, Unset) else price.to_data(),
            free_above=given(self.free_above),
            min_weight_grams=given(self.min_weight_grams),
            max_weight_grams=given(self.max_weight_grams),
            min_days=given(self.min_days),
            max_days=given(self.max_days),
            is_active=given_not_null(self.is_active, field="isActive"),
        )


@strawberry.type
class ShippingZoneResult:
    shipping_zone: ShippingZone | None = payload_field("The zone.")
    user_errors: list[UserErrorType] = user_errors_field()

    @classmethod
    def of(cls, row: models.ShippingZone) -> Self:
        return cls(shipping_zone=ShippingZone.from_row(row))


@strawberry.type
class ShippingZoneCreatePayload(ShippingZoneResult):
    pass


@strawberry.type
class ShippingZoneUpdatePayload(ShippingZoneResult):
    pass


@strawberry.type
class ShippingMethodResult:
    shipping_method: ShippingMethod | None = payload_field("The method.")
    user_errors: list[UserErrorType] = user_errors_field()

    @classmethod
    def of(cls, row: models.ShippingMethod) -> Self:
        return cls(shipping_method=ShippingMethod.from_row(row))


@strawberry.type
class ShippingMethodCreatePayload(ShippingMethodResult):
    pass


@strawberry.type
class ShippingMethodUpdatePayload(ShippingMethodResult):
    pass


@strawberry.type
class ShippingZoneDeletePayload:
    deleted_id: relay.GlobalID | None = payload_field("ID of the deleted zone.")
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type
class ShippingMethodDeletePayload:
    deleted_id: relay.GlobalID | None = payload_field("ID of the deleted method.")
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type
class Query:
    @strawberry.field(description="Shipping zones by name (staff).", permission_classes=CHECKOUT)
    async def shipping_zones(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ShippingZone]:
        return await keyset_connection(
            info,
            shipping.zones_query(),
            page=PageRequest(first=first, after=after, last=last, before=before),
            node=ShippingZone.from_row,
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a shipping zone (staff).", permission_classes=CHECKOUT)
    async def shipping_zone_create(
        self, info: Info, input: ShippingZoneCreateInput
    ) -> ShippingZoneCreatePayload:
        return await run_parsed(
            info,
            ShippingZoneCreatePayload,
            shipping.create_zone,
            ShippingZoneCreatePayload.of,
            lambda: {"data": input.to_data()},
        )

    @strawberry.mutation(
        description="Rename a shipping zone or replace its countries or regions (staff).",
        permission_classes=CHECKOUT,
    )
    async def shipping_zone_update(
        self, info: Info, id: strawberry.ID, input: ShippingZoneUpdateInput
    ) -> ShippingZoneUpdatePayload:
        return await run_parsed(
            info,
            ShippingZoneUpdatePayload,
            shipping.update_zone,
            ShippingZoneUpdatePayload.of,
            lambda: {"zone_id": decode_id(id, "ShippingZone"), "data": input.to_data()},
        )

    @strawberry.mutation(
        description="Delete a shipping zone with its methods (staff).", permission_classes=CHECKOUT
    )
    async def shipping_zone_delete(
        self, info: Info, id: strawberry.ID
    ) -> ShippingZoneDeletePayload:
        return await run_parsed(
            info,
            ShippingZoneDeletePayload,
            shipping.delete_zone,
            lambda key: ShippingZoneDeletePayload(deleted_id=global_id("ShippingZone", key)),
            lambda: {"zone_id": decode_id(id, "ShippingZone")},
        )

    @strawberry.mutation(
        description="Add a shipping method to a zone (staff).", permission_classes=CHECKOUT
    )
    async def shipping_method_create(
        self, info: Info, input: ShippingMethodCreateInput
    ) -> ShippingMethodCreatePayload:
        return await run_parsed(
            info,
            ShippingMethodCreatePayload,
            shipping_methods.create_method,
            ShippingMethodCreatePayload.of,
            lambda: {"zone_id": decode_id(input.zone_id, "ShippingZone"), "data": input.to_data()},
        )

    @strawberry.mutation(
        description="Change a shipping method (staff).", permission_classes=CHECKOUT
    )
    async def shipping_method_update(
        self, info: Info, id: strawberry.ID, input: ShippingMethodUpdateInput
    ) -> ShippingMethodUpdatePayload:
        return await run_parsed(
            info,
            ShippingMethodUpdatePayload,
            shipping_methods.update_method,
            ShippingMethodUpdatePayload.of,
            lambda: {"method_id": decode_id(id, "ShippingMethod"), "data": input.to_data()},
        )

    @strawberry.mutation(
        description="Delete a shipping method (staff).", permission_classes=CHECKOUT
    )
    async def shipping_method_delete(
        self, info: Info, id: strawberry.ID
    ) -> ShippingMethodDeletePayload:
        return await run_parsed(
            info,
            ShippingMethodDeletePayload,
            shipping_methods.delete_method,
            lambda key: ShippingMethodDeletePayload(deleted_id=global_id("ShippingMethod", key)),
            lambda: {"method_id": decode_id(id, "ShippingMethod")},
        )
