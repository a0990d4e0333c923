"""Staff mutations of warehouses and stock (permission MANAGE_PRODUCTS)."""

from __future__ import annotations

from typing import Any, Self

import strawberry
from strawberry import relay

from app.services.catalog import inventory, warehouses
from app.services.catalog.inventory import StockChange, StockLine
from app.services.catalog.warehouses import WarehouseData
from models import catalog as models
from resolvers.base import (
    Info,
    UserErrorType,
    current_user,
    decode_id,
    decode_optional_id,
    global_id,
    user_errors_field,
)
from resolvers.catalog.inputs import STAFF
from resolvers.catalog.inventory_types import Stock, Warehouse
from resolvers.inputs import given, given_not_null, run_parsed


@strawberry.input(description="A new warehouse.")
class WarehouseCreateInput:
    name: str = strawberry.field(description="Display name, at most 250 characters.")
    slug: str | None = strawberry.field(
        default=None, description="URL name; generated from the name when left out."
    )
    is_default: bool = strawberry.field(
        default=False, description="Make it the default warehouse (replacing the current one)."
    )

    def to_data(self) -> WarehouseData:
        return WarehouseData(name=self.name, slug=self.slug, is_default=self.is_default)


@strawberry.input(description="Changes to a warehouse; fields left out stay as they are.")
class WarehouseUpdateInput:
    name: strawberry.Maybe[str | None] = strawberry.field(description="Display name.")
    slug: strawberry.Maybe[str | None] = strawberry.field(
        description="URL name; null generates one from the name."
    )
    is_default: strawberry.Maybe[bool | None] = strawberry.field(
        description="true makes it the default; the default cannot be unset, only replaced."
    )

    def to_data(self) -> WarehouseData:
        return WarehouseData(
            name=given_not_null(self.name, field="name"),
            slug=given(self.slug),
            is_default=given_not_null(self.is_default, field="isDefault"),
        )


@strawberry.input(description="One line of a bulk stock update.")
class StockQuantityInput:
    variant_id: strawberry.ID = strawberry.field(description="The variant.")
    warehouse_id: strawberry.ID | None = strawberry.field(
        default=None, description="The warehouse; the default one when left out."
    )
    quantity: int = strawberry.field(description="New quantity on hand, 0 to 10,000,000.")

    def to_line(self) -> StockLine:
        return StockLine(
            variant_id=decode_id(self.variant_id, "Variant"),
            warehouse_id=decode_optional_id(self.warehouse_id, "Warehouse"),
            quantity=self.quantity,
        )


@strawberry.type
class WarehouseResult:
    warehouse: Warehouse | None = strawberry.field(default=None, description="The warehouse.")
    user_errors: list[UserErrorType] = user_errors_field()

    @classmethod
    def of(cls, row: models.Warehouse) -> Self:
        return cls(warehouse=Warehouse.from_row(row))


@strawberry.type
class WarehouseCreatePayload(WarehouseResult):
    pass


@strawberry.type
class WarehouseUpdatePayload(WarehouseResult):
    pass


@strawberry.type
class WarehouseDeletePayload:
    deleted_id: relay.GlobalID | None = strawberry.field(
        default=None, description="ID of the deleted warehouse."
    )
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type
class StockResult:
    stock: Stock | None = strawberry.field(
        default=None, description="The stock level after the change, with the recorded change."
    )
    user_errors: list[UserErrorType] = user_errors_field()

    @classmethod
    def of(cls, change: StockChange) -> Self:
        return cls(stock=Stock.of(change))


@strawberry.type
class StockSetPayload(StockResult):
    pass


@strawberry.type
class StockAdjustPayload(StockResult):
    pass


@strawberry.type
class StockBulkUpdatePayload:
    stocks: list[Stock] = strawberry.field(
        default_factory=list, description="The new stock levels, in the order of the input."
    )
    user_errors: list[UserErrorType] = user_errors_field()


def _stock_target(variant_id: strawberry.ID, warehouse_id: strawberry.ID | None) -> dict[str, Any]:
    return {
        "variant_id": decode_id(variant_id, "Variant"),
        "warehouse_id": decode_optional_id(warehouse_id, "Warehouse"),
    }


@strawberry.type
class InventoryMutation:
    @strawberry.mutation(description="Create a warehouse (staff).", permission_classes=STAFF)
    async def warehouse_create(
        self, info: Info, input: WarehouseCreateInput
    ) -> WarehouseCreatePayload:
        return await run_parsed(
            info,
            WarehouseCreatePayload,
            warehouses.create_warehouse,
            WarehouseCreatePayload.of,
            lambda: {"data": input.to_data()},
        )

    @strawberry.mutation(
        description="Rename a warehouse or make it the default (staff).",
        permission_classes=STAFF,
    )
    async def warehouse_update(
        self, info: Info, id: strawberry.ID, input: WarehouseUpdateInput
    ) -> WarehouseUpdatePayload:
        return await run_parsed(
            info,
            WarehouseUpdatePayload,
            warehouses.update_warehouse,
            WarehouseUpdatePayload.of,
            lambda: {
                "warehouse_id": decode_id(id, "Warehouse"),
                "data": input.to_data(),
            },
        )

    @strawberry.mutation(
        description="Delete a warehouse that holds no stock and is not the default (staff).",
        permission_classes=STAFF,
    )
    async def warehouse_delete(self, info: Info, id: strawberry.ID) -> WarehouseDeletePayload:
        return await run_parsed(
            info,
            WarehouseDeletePayload,
            warehouses.delete_warehouse,
            lambda key: WarehouseDeletePayload(deleted_id=global_id("Warehouse", key)),
            lambda: {"warehouse_id": decode_id(id, "Warehouse")},
        )

    @strawberry.mutation(
        description="Set the quantity on hand of a variant in a warehouse, e.g. after a count "
        "(staff). Recorded with the delta and the reason.",
        permission_classes=STAFF,
    )
    async def stock_set(
        self,
        info: Info,
        variant_id: strawberry.ID,
        quantity: int,
        reason: str,
        warehouse_id: strawberry.ID | None = None,
    ) -> StockSetPayload:
        return await run_parsed(
            info,
            StockSetPayload,
            inventory.set_stock,
            StockSetPayload.of,
            lambda: (
                _stock_target(variant_id, warehouse_id)
                | {"quantity": quantity, "reason": reason, "user_id": current_user(info).id}
            ),
        )

    @strawberry.mutation(
        description="Add (positive delta) or remove (negative) units atomically; never below "
        "zero (staff).",
        permission_classes=STAFF,
    )
    async def stock_adjust(
        self,
        info: Info,
        variant_id: strawberry.ID,
        delta: int,
        reason: str,
        warehouse_id: strawberry.ID | None = None,
    ) -> StockAdjustPayload:
        return await run_parsed(
            info,
            StockAdjustPayload,
            inventory.adjust_stock,
            StockAdjustPayload.of,
            lambda: (
                _stock_target(variant_id, warehouse_id)
                | {"delta": delta, "reason": reason, "user_id": current_user(info).id}
            ),
        )

    @strawberry.mutation(
        description="Set many quantities at once: all of them or, on any error, none (staff).",
        permission_classes=STAFF,
    )
    async def stock_bulk_update(
        self, info: Info, items: list[StockQuantityInput], reason: str
    ) -> StockBulkUpdatePayload:
        return await run_parsed(
            info,
            StockBulkUpdatePayload,
            inventory.set_stocks,
            lambda changes: StockBulkUpdatePayload(stocks=[Stock.of(c) for c in changes]),
            lambda: {
                "items": [item.to_line() for item in items],
                "reason": reason,
                "user_id": current_user(info).id,
            },
        )
