"""Staff API of tax rates (permission MANAGE_CHECKOUT)."""

from __future__ import annotations

from decimal import Decimal
from typing import Self

import strawberry
from strawberry import relay

from app.services.checkout import taxes
from app.services.checkout.taxes import TaxRateData
from app.services.pagination import PageRequest
from models import taxes as models
from resolvers.base import (
    Info,
    UserErrorType,
    decode_id,
    global_id,
    payload_field,
    query_errors,
    user_errors_field,
)
from resolvers.checkout.types import CHECKOUT, TaxRate
from resolvers.connection import Connection, keyset_connection
from resolvers.inputs import given, given_not_null, run_parsed


@strawberry.input(description="A new tax rate of a country, or of one region of it.")
class TaxRateCreateInput:
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 country code.")
    region: str | None = strawberry.field(
        default=None,
        description="Region (as addresses name it in countryArea) whose rate replaces the "
        "country's; left out: the whole country.",
    )
    rate: Decimal = strawberry.field(description="Percent, 0 to 100, at most 3 decimal places.")
    name: str | None = strawberry.field(
        default=None, description="Label, e.g. VAT; at most 100 characters."
    )

    def to_data(self) -> TaxRateData:
        return TaxRateData(country=self.country, region=self.region, rate=self.rate, name=self.name)


@strawberry.input(description="Changes to a tax rate; fields left out stay as they are.")
class TaxRateUpdateInput:
    country: strawberry.Maybe[str | None] = strawberry.field(description="Country code.")
    region: strawberry.Maybe[str | None] = strawberry.field(
        description="Region; null or empty: the whole country."
    )
    rate: strawberry.Maybe[Decimal | None] = strawberry.field(description="Percent.")
    name: strawberry.Maybe[str | None] = strawberry.field(description="Label; null: none.")

    def to_data(self) -> TaxRateData:
        return TaxRateData(
            country=given_not_null(self.country, field="country"),
            region=given(self.region),
            rate=given_not_null(self.rate, field="rate"),
            name=given(self.name),
        )


@strawberry.type
class TaxRateResult:
    tax_rate: TaxRate | None = payload_field("The tax rate.")
    user_errors: list[UserErrorType] = user_errors_field()

    @classmethod
    def of(cls, row: models.TaxRate) -> Self:
        return cls(tax_rate=TaxRate.from_row(row))


@strawberry.type
class TaxRateCreatePayload(TaxRateResult):
    pass


@strawberry.type
class TaxRateUpdatePayload(TaxRateResult):
    pass


@strawberry.type
class TaxRateDeletePayload:
    deleted_id: relay.GlobalID | None = payload_field("ID of the deleted tax rate.")
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type
class Query:
    @strawberry.field(
        description="Tax rates by country, then region (staff).", permission_classes=CHECKOUT
    )
    async def tax_rates(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        country: str | None = None,
    ) -> Connection[TaxRate]:
        with query_errors():  # a country filter that is no ISO code: INVALID
            query = taxes.tax_rates_query(country=country)
        return await keyset_connection(
            info,
            query,
            page=PageRequest(first=first, after=after, last=last, before=before),
            node=TaxRate.from_row,
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a tax rate (staff).", permission_classes=CHECKOUT)
    async def tax_rate_create(self, info: Info, input: TaxRateCreateInput) -> TaxRateCreatePayload:
        return await run_parsed(
            info,
            TaxRateCreatePayload,
            taxes.create_tax_rate,
            TaxRateCreatePayload.of,
            lambda: {"data": input.to_data()},
        )

    @strawberry.mutation(description="Change a tax rate (staff).", permission_classes=CHECKOUT)
    async def tax_rate_update(
        self, info: Info, id: strawberry.ID, input: TaxRateUpdateInput
    ) -> TaxRateUpdatePayload:
        return await run_parsed(
            info,
            TaxRateUpdatePayload,
            taxes.update_tax_rate,
            TaxRateUpdatePayload.of,
            lambda: {"tax_rate_id": decode_id(id, "TaxRate"), "data": input.to_data()},
        )

    @strawberry.mutation(description="Delete a tax rate (staff).", permission_classes=CHECKOUT)
    async def tax_rate_delete(self, info: Info, id: strawberry.ID) -> TaxRateDeletePayload:
        return await run_parsed(
            info,
            TaxRateDeletePayload,
            taxes.delete_tax_rate,
            lambda key: TaxRateDeletePayload(deleted_id=global_id("TaxRate", key)),
            lambda: {"tax_rate_id": decode_id(id, "TaxRate")},
        )
