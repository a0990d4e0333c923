"""GraphQL types of inventory: warehouses, stock levels, and recorded stock changes (staff)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import relay

from app.services.catalog.inventory import StockChange
from models import catalog as models
from resolvers.base import Info, node_keys
from resolvers.catalog.types import Variant, can_see_unpublished


@strawberry.type(description="A place that holds stock; one of them is the default.")
class Warehouse(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Display name.")
    slug: str = strawberry.field(description="URL-safe unique name.")
    is_default: bool = strawberry.field(
        description="Where stock goes when a stock mutation names no warehouse."
    )

    @classmethod
    def from_row(cls, row: models.Warehouse) -> Warehouse:
        return cls(id=row.id, name=row.name, slug=row.slug, is_default=row.is_default)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # never `required`: see resolvers.node
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Warehouse | None]:
        keys = node_keys(node_ids)
        if not can_see_unpublished(info):  # warehouses are staff information
            return [None for _ in keys]
        rows = await info.context.loaders.warehouse.load_many(keys)
        return [cls.from_row(row) if row else None for row in rows]


@strawberry.type(description="One recorded change of stock: how much, the result, and why.")
class StockAdjustment:
    delta: int = strawberry.field(description="Units added (positive) or removed (negative).")
    quantity_after: int = strawberry.field(description="Quantity on hand after the change.")
    reason: str = strawberry.field(description="Why the stock changed.")
    created_at: datetime = strawberry.field(description="When it changed.")
    row: strawberry.Private[models.StockAdjustment]

    @classmethod
    def from_row(cls, row: models.StockAdjustment) -> StockAdjustment:
        return cls(
            delta=row.delta,
            quantity_after=row.quantity_after,
            reason=row.reason,
            created_at=row.created_at,
            row=row,
        )

    @strawberry.field(description="Where it changed; null once that warehouse was deleted.")
    async def warehouse(self, info: Info) -> Warehouse | None:
        if self.row.warehouse_id is None:
            return None
        row = await info.context.loaders.warehouse.load(self.row.warehouse_id)
        return Warehouse.from_row(row) if row else None


@strawberry.type(description="Quantity on hand of one variant in one warehouse.")
class Stock:
    variant: Variant = strawberry.field(description="The variant.")
    warehouse: Warehouse = strawberry.field(description="The warehouse.")
    quantity: int = strawberry.field(description="Units on hand.")
    adjustment: StockAdjustment = strawberry.field(description="The change that led here.")

    @classmethod
    def of(cls, change: StockChange) -> Stock:
        return cls(
            variant=Variant.from_row(change.variant),
            warehouse=Warehouse.from_row(change.warehouse),
            quantity=change.quantity,
            adjustment=StockAdjustment.from_row(change.adjustment),
        )


@strawberry.type(description="Units of a variant in one warehouse.")
class VariantStock:
    warehouse: Warehouse = strawberry.field(description="The warehouse.")
    quantity: int = strawberry.field(description="Units on hand.")
