"""GraphQL types of the checkout rules staff configure: shipping zones and methods, tax rates,
promotions. Each is a Node only its managers can fetch by ID."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from app.auth.permissions import Perm, has_permission
from app.services.checkout.promotion_rules import PromotionKind
from models import promotions as promotion_models
from models import shipping as shipping_models
from models import taxes as tax_models
from resolvers.base import HasPermission, Info, node_keys
from resolvers.money import Money

if TYPE_CHECKING:
    from resolvers.catalog.types import Category, Product

CHECKOUT = [HasPermission(Perm.MANAGE_CHECKOUT)]
DISCOUNTS = [HasPermission(Perm.MANAGE_DISCOUNTS)]

strawberry.enum(PromotionKind, description="What a promotion takes off.")


async def _nodes(info: Info, node_ids: Iterable[str], perm: Perm, loader: Any, node: Any) -> Any:
    """`resolve_nodes` of a staff type: nothing without `perm`, else the rows of `loader`."""
    keys = node_keys(node_ids)
    if not has_permission(info.context.user, perm):
        return [None for _ in keys]
    rows = await loader.load_many(keys)
    return [node(row) if row else None for row in rows]


def _money(amount: int | None, currency: str | None) -> Money | None:
    return None if amount is None or currency is None else Money.of(amount, currency)


@strawberry.type(description="One region of a country that a shipping zone covers.")
class ShippingRegion:
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 country code.")
    region: str = strawberry.field(
        description="Upper-cased region, matched with an address's countryArea."
    )


@strawberry.type(description="Countries and regions served by the same shipping methods.")
class ShippingZone(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Display name, for staff.")
    is_worldwide: bool = strawberry.field(
        description="Serves addresses in every country that no zone names."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    row: strawberry.Private[shipping_models.ShippingZone]

    @classmethod
    def from_row(cls, row: shipping_models.ShippingZone) -> ShippingZone:
        return cls(
            id=row.id,
            name=row.name,
            is_worldwide=row.is_worldwide,
            created_at=row.created_at,
            updated_at=row.updated_at,
            row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # never `required`: see resolvers.node
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[ShippingZone | None]:
        loader = info.context.loaders.shipping_zone
        found: list[ShippingZone | None] = await _nodes(
            info, node_ids, Perm.MANAGE_CHECKOUT, loader, cls.from_row
        )
        return found

    @strawberry.field(description="Whole countries the zone covers, A-Z.")
    async def countries(self, info: Info) -> list[str]:
        areas = await info.context.loaders.areas_by_zone.load(self.id)
        return [area.country for area in areas if not area.region]

    @strawberry.field(description="Single regions of countries the zone covers.")
    async def regions(self, info: Info) -> list[ShippingRegion]:
        areas = await info.context.loaders.areas_by_zone.load(self.id)
        return [ShippingRegion(country=a.country, region=a.region) for a in areas if a.region]

    @strawberry.field(description="Its delivery methods, active or not, oldest first.")
    async def methods(self, info: Info) -> list[ShippingMethod]:
        rows = await info.context.loaders.methods_by_zone.load(self.id)
        return [ShippingMethod.from_row(row) for row in rows]


@strawberry.type(description="A way to deliver in a zone: its price and what it takes.")
class ShippingMethod(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Display name, shown to shoppers.")
    price: Money = strawberry.field(description="What delivery costs.")
    free_above: Money | None = strawberry.field(
        description="Delivery is free when the discounted goods reach this amount."
    )
    min_weight_grams: int | None = strawberry.field(description="Lightest cart it takes.")
    max_weight_grams: int | None = strawberry.field(description="Heaviest cart it takes.")
    min_days: int | None = strawberry.field(description="Fewest days delivery takes.")
    max_days: int | None = strawberry.field(description="Most days delivery takes.")
    is_active: bool = strawberry.field(description="Offered to shoppers.")
    row: strawberry.Private[shipping_models.ShippingMethod]

    @classmethod
    def from_row(cls, row: shipping_models.ShippingMethod) -> ShippingMethod:
        return cls(
            id=row.id,
            name=row.name,
            price=Money.of(row.price_amount, row.currency),
            free_above=_money(row.free_above_amount, row.currency),
            min_weight_grams=row.min_weight_grams,
            max_weight_grams=row.max_weight_grams,
            min_days=row.min_days,
            max_days=row.max_days,
            is_active=row.is_active,
            row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # never `required`: see resolvers.node
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[ShippingMethod | None]:
        loader = info.context.loaders.shipping_method
        found: list[ShippingMethod | None] = await _nodes(
            info, node_ids, Perm.MANAGE_CHECKOUT, loader, cls.from_row
        )
        return found

    @strawberry.field(description="The zone it delivers in.")
    async def zone(self, info: Info) -> ShippingZone:
        row = await info.context.loaders.shipping_zone.load(self.row.zone_id)
        assert row is not None  # a method is deleted with its zone
        return ShippingZone.from_row(row)


@strawberry.type(description="The tax charged on deliveries to a country or one region of it.")
class TaxRate(relay.Node):
    id: relay.NodeID[int]
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 country code.")
    region: str = strawberry.field(
        description="Upper-cased region it replaces the country's rate in; empty for the country."
    )
    rate: Decimal = strawberry.field(description="Percent, with three decimal places: 19.000.")
    name: str = strawberry.field(description="Label, e.g. VAT; may be empty.")

    @classmethod
    def from_row(cls, row: tax_models.TaxRate) -> TaxRate:
        return cls(id=row.id, country=row.country, region=row.region, rate=row.rate, name=row.name)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # never `required`: see resolvers.node
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[TaxRate | None]:
        loader = info.context.loaders.tax_rate
        found: list[TaxRate | None] = await _nodes(
            info, node_ids, Perm.MANAGE_CHECKOUT, loader, cls.from_row
        )
        return found


@strawberry.type(description="A discount: a coupon with a code, or automatic without one.")
class Promotion(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Shown to shoppers where it applies.")
    code: str | None = strawberry.field(description="Coupon code, upper-case; null: automatic.")
    kind: PromotionKind = strawberry.field(description="What it takes off.")
    percentage: Decimal | None = strawberry.field(
        description="PERCENTAGE: percent of the eligible goods, two decimal places."
    )
    amount: Money | None = strawberry.field(description="FIXED: the amount off.")
    min_subtotal: Money | None = strawberry.field(
        description="Applies only from this cart subtotal (and only in its currency)."
    )
    starts_at: datetime | None = strawberry.field(description="Usable from; null: at once.")
    ends_at: datetime | None = strawberry.field(description="Usable until; null: no end.")
    usage_limit: int | None = strawberry.field(description="Orders it may be used in at most.")
    used_count: int = strawberry.field(description="Orders it was used in.")
    per_customer_limit: int | None = strawberry.field(
        description="Orders one customer (account or email) may use it in."
    )
    stackable: bool = strawberry.field(description="Combines with other promotions.")
    is_active: bool = strawberry.field(description="Switched on; see also the dates and limits.")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    row: strawberry.Private[promotion_models.Promotion]

    @classmethod
    def from_row(cls, row: promotion_models.Promotion) -> Promotion:
        return cls(
            id=row.id,
            name=row.name,
            code=row.code,
            kind=PromotionKind(row.kind),
            percentage=row.percentage,
            amount=_money(row.amount, row.currency),
            min_subtotal=_money(row.min_subtotal_amount, row.currency),
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            usage_limit=row.usage_limit,
            used_count=row.used_count,
            per_customer_limit=row.per_customer_limit,
            stackable=row.stackable,
            is_active=row.is_active,
            created_at=row.created_at,
            updated_at=row.updated_at,
            row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # never `required`: see resolvers.node
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Promotion | None]:
        loader = info.context.loaders.promotion
        found: list[Promotion | None] = await _nodes(
            info, node_ids, Perm.MANAGE_DISCOUNTS, loader, cls.from_row
        )
        return found

    @strawberry.field(description="Products it is limited to, by name; with categories, either.")
    async def products(
        self, info: Info
    ) -> list[Annotated[Product, strawberry.lazy("resolvers.catalog.types")]]:
        from resolvers.catalog.types import Product

        rows = await info.context.loaders.products_by_promotion.load(self.id)
        return [Product.from_row(row) for row in rows]

    @strawberry.field(description="Categories (with their subcategories) it is limited to.")
    async def categories(
        self, info: Info
    ) -> list[Annotated[Category, strawberry.lazy("resolvers.catalog.types")]]:
        from resolvers.catalog.types import Category

        rows = await info.context.loaders.categories_by_promotion.load(self.id)
        return [Category.from_row(row) for row in rows]
