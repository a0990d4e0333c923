"""Staff inventory queries: warehouses and the stock history of a variant."""

from __future__ import annotations

import strawberry

from app.auth.permissions import Perm
from app.services.catalog import inventory, warehouses
from app.services.pagination import PageRequest
from resolvers.base import HasPermission, Info, decode_id
from resolvers.catalog.inventory_types import StockAdjustment, Warehouse
from resolvers.connection import Connection, keyset_connection

STAFF = [HasPermission(Perm.MANAGE_PRODUCTS)]


@strawberry.type
class Query:
    @strawberry.field(description="Warehouses by name (staff).", permission_classes=STAFF)
    async def warehouses(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Warehouse]:
        return await keyset_connection(
            info,
            warehouses.warehouses_query(),
            page=PageRequest(first=first, after=after, last=last, before=before),
            node=Warehouse.from_row,
        )

    @strawberry.field(
        description="Recorded stock changes of a variant, newest first (staff).",
        permission_classes=STAFF,
    )
    async def stock_history(
        self,
        info: Info,
        variant_id: strawberry.ID,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[StockAdjustment]:
        # A wrong ID names no variant: no history, as for a missing variant.
        key = decode_id(variant_id, "Variant")
        return await keyset_connection(
            info,
            inventory.stock_history_query(variant_id=key),
            page=PageRequest(first=first, after=after, last=last, before=before),
            node=StockAdjustment.from_row,
        )
