"""Staff inventory queries: warehouses and the stock history of a variant."""

from __future__ import annotations

import strawberry
from sqlalchemy import select

from app.auth.permissions import Perm
from app.services.pagination import PageRequest, SortKey, load_text
from models import catalog as models
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
            select(models.Warehouse),
            keys=[SortKey(models.Warehouse.name, load=load_text), SortKey(models.Warehouse.id)],
            tag="warehouse:name",
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
        adjustment = models.StockAdjustment
        return await keyset_connection(
            info,
            select(adjustment).where(adjustment.variant_id == key),
            keys=[SortKey(adjustment.id, True)],
            tag="stock:newest",
            page=PageRequest(first=first, after=after, last=last, before=before),
            node=StockAdjustment.from_row,
        )
