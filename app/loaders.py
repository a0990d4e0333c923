"""Per-request dataloaders: one per (entity, key), built fresh for every request.

Each batch records what it read for the public response cache (app/services/public_changes):
the tag of every key asked for, and of rows found through a relation (a product's tags).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.services.catalog import rows as plain
from app.services.catalog.rows import (
    CategoryRow,
    ImageRow,
    ProductRow,
    TagRow,
    VariantRow,
    category_row,
    image_row,
    product_row,
    tag_row,
    variant_row,
)
from app.services.public_changes import LISTING, note_public_read, reading
from models.accounts import User
from models.addresses import Address
from models.carts import StockReservation
from models.catalog import (
    Category,
    Product,
    Review,
    Stock,
    Tag,
    Variant,
    Warehouse,
    WishlistItem,
)
from models.fulfilment import (
    RETURN_HOLDING_STATUSES,
    OrderReturn,
    ReturnLine,
    Shipment,
    ShipmentLine,
)
from models.orders import (
    Order,
    OrderAudit,
    OrderEvent,
    OrderLine,
    OrderNote,
)
from models.payments import Invoice, Payment, PaymentTransaction, Refund
from models.promotions import Promotion
from models.shipping import ShippingMethod, ShippingZone, ShippingZoneArea
from models.taxes import TaxRate

T = TypeVar("T")
Batch = Callable[[list[Any]], Coroutine[Any, Any, list[Any]]]
Make = Callable[[Sequence[Any]], Any]


@dataclass(frozen=True)
class Plain:
    """Read plain rows (app/services/catalog/rows.py) instead of entities: `statement`
    takes the list of keys as `keys`, `make` builds a row of each result row."""

    statement: Select[Any]
    make: Make


async def _select_rows(
    session: AsyncSession, model: Any, plain: Plain | None, column: Any, keys: list[Any]
) -> Any:
    if plain is None:
        return (await session.scalars(select(model).where(column.in_(keys)))).all()
    make = plain.make
    return [make(values) for values in await session.execute(plain.statement, {"keys": keys})]


def _tags(kind: str, keys: list[int]) -> list[str]:
    return [f"{kind}:{key}" for key in keys]


def _rows_by_id(
    session: AsyncSession, lock: asyncio.Lock, model: Any, kind: str, plain: Plain | None = None
) -> Batch:
    """Batch function: rows of `model` in key order, None for misses."""

    async def load(ids: list[int]) -> list[Any]:
        # One AsyncSession cannot run two statements at once, and loaders of
        # sibling fields dispatch concurrently: the lock serialises them.
        async with lock:
            with reading(session, *_tags(kind, ids)):
                rows = await _select_rows(session, model, plain, model.id, ids)
        found = {row.id: row for row in rows}
        return [found.get(key) for key in ids]

    return load


def _rows_by_slug(
    session: AsyncSession, lock: asyncio.Lock, model: Any, kind: str, plain: Plain | None = None
) -> Batch:
    """Batch function: rows of `model` by slug, None for misses."""

    async def load(slugs: list[str]) -> list[Any]:
        async with lock:
            with reading(session):
                rows = await _select_rows(session, model, plain, model.slug, slugs)
        found = {row.slug: row for row in rows}
        note_public_read(session, *_tags(kind, [row.id for row in rows]))
        if len(found) < len(slugs):  # a new row, or a renamed one, can take a missing slug
            note_public_read(session, LISTING)
        return [found.get(slug) for slug in slugs]

    return load


def _grouped(
    session: AsyncSession,
    lock: asyncio.Lock,
    statement: Callable[[list[int]], Select[Any, Any]] | Plain,
    kind: str,
    value_kind: str | None = None,
    key_index: int = 0,
) -> Batch:
    """Batch function: for each key, the list of (key, value) rows the statement yields,
    or with a `Plain` statement, of `make(row)` for the rows whose column `key_index` is
    the key.

    Reads are tagged `kind:<key>`, and `value_kind:<value id>` for each value when the
    values are rows of their own that change apart from the key (a product's tags).
    """

    async def load(keys: list[int]) -> list[Any]:
        pairs: Sequence[Any]
        async with lock:
            with reading(session, *_tags(kind, keys)):
                if isinstance(statement, Plain):
                    make = statement.make
                    result = await session.execute(statement.statement, {"keys": keys})
                    pairs = [(row[key_index], make(row)) for row in result]
                else:
                    pairs = (await session.execute(statement(keys))).all()
        groups: dict[int, list[Any]] = defaultdict(list)
        for key, value in pairs:
            groups[key].append(value)
        if value_kind is not None:
            note_public_read(session, *_tags(value_kind, [value.id for _, value in pairs]))
        return [groups.get(key, []) for key in keys]

    return load


def _children(model: Any, key: Any, *order_by: Any) -> Callable[[list[int]], Select[Any, Any]]:
    """Statement for `_grouped`: the `model` rows whose `key` column is among the keys,
    as (key, row), in `order_by` order within a key."""
    return lambda ids: select(key, model).where(key.in_(ids)).order_by(key, *order_by)


def _after_key(make: Make) -> Make:
    """`make` for rows whose first column is the grouping key and not the row's own."""
    return lambda values: make(values[1:])


def _quantities(session: AsyncSession, lock: asyncio.Lock) -> Batch:
    """Units each variant can sell now: stock minus every cart's active reservations."""

    async def load(variant_ids: list[int]) -> list[Any]:
        now = datetime.now(UTC)
        held = (
            select(func.coalesce(func.sum(StockReservation.quantity), 0))
            .where(
                StockReservation.variant_id == Stock.variant_id, StockReservation.expires_at > now
            )
            .scalar_subquery()
        )
        async with lock:
            with reading(session, *_tags("variant", variant_ids)):
                rows = (
                    await session.execute(
                        select(Stock.variant_id, func.sum(Stock.quantity), held)
                        .where(Stock.variant_id.in_(variant_ids))
                        .group_by(Stock.variant_id)
                    )
                ).all()
        totals = {
            variant_id: max(int(total) - int(reserved), 0) for variant_id, total, reserved in rows
        }
        return [totals.get(key, 0) for key in variant_ids]

    return load


@dataclass(frozen=True)
class LineQuantities:
    """Units of one order line: shipped, delivered, and held by returns not rejected."""

    fulfilled: int = 0
    delivered: int = 0
    returned: int = 0


def _line_quantities(session: AsyncSession, lock: asyncio.Lock) -> Batch:
    """Per order line: three grouped sums, one statement each, whatever the number of lines."""

    async def load(line_ids: list[int]) -> list[Any]:
        async with lock:
            shipped = dict(
                (
                    await session.execute(
                        select(ShipmentLine.order_line_id, func.sum(ShipmentLine.quantity))
                        .where(ShipmentLine.order_line_id.in_(line_ids))
                        .group_by(ShipmentLine.order_line_id)
                    )
                ).all()
            )
            delivered = dict(
                (
                    await session.execute(
                        select(ShipmentLine.order_line_id, func.sum(ShipmentLine.quantity))
                        .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
                        .where(
                            ShipmentLine.order_line_id.in_(line_ids),
                            Shipment.status == "delivered",
                        )
                        .group_by(ShipmentLine.order_line_id)
                    )
                ).all()
            )
            returned = dict(
                (
                    await session.execute(
                        select(ReturnLine.order_line_id, func.sum(ReturnLine.quantity))
                        .join(OrderReturn, OrderReturn.id == ReturnLine.return_id)
                        .where(
                            ReturnLine.order_line_id.in_(line_ids),
                            OrderReturn.status.in_(RETURN_HOLDING_STATUSES),
                        )
                        .group_by(ReturnLine.order_line_id)
                    )
                ).all()
            )
        return [
            LineQuantities(
                int(shipped.get(key) or 0),
                int(delivered.get(key) or 0),
                int(returned.get(key) or 0),
            )
            for key in line_ids
        ]

    return load


@dataclass
class Loaders:
    user: DataLoader[int, User | None]
    address: DataLoader[int, Address | None]
    addresses_by_user: DataLoader[int, list[Address]]
    product: DataLoader[int, ProductRow | None]
    product_by_slug: DataLoader[str, ProductRow | None]
    variant: DataLoader[int, VariantRow | None]
    category: DataLoader[int, CategoryRow | None]
    category_by_slug: DataLoader[str, CategoryRow | None]
    tag: DataLoader[int, TagRow | None]
    review: DataLoader[int, Review | None]
    wishlist_item: DataLoader[int, WishlistItem | None]
    warehouse: DataLoader[int, Warehouse | None]
    stocks_by_variant: DataLoader[int, list[Stock]]
    variants_by_product: DataLoader[int, list[VariantRow]]
    images_by_product: DataLoader[int, list[ImageRow]]
    tags_by_product: DataLoader[int, list[TagRow]]
    children_by_category: DataLoader[int, list[CategoryRow]]
    quantity_by_variant: DataLoader[int, int]
    # Checkout rules (staff).
    shipping_zone: DataLoader[int, ShippingZone | None]
    shipping_method: DataLoader[int, ShippingMethod | None]
    tax_rate: DataLoader[int, TaxRate | None]
    promotion: DataLoader[int, Promotion | None]
    areas_by_zone: DataLoader[int, list[ShippingZoneArea]]
    methods_by_zone: DataLoader[int, list[ShippingMethod]]
    products_by_promotion: DataLoader[int, list[ProductRow]]
    categories_by_promotion: DataLoader[int, list[CategoryRow]]
    order: DataLoader[int, Order | None]
    lines_by_order: DataLoader[int, list[OrderLine]]
    events_by_order: DataLoader[int, list[OrderEvent]]
    payments_by_order: DataLoader[int, list[Payment]]
    transactions_by_payment: DataLoader[int, list[PaymentTransaction]]
    refunds_by_order: DataLoader[int, list[Refund]]
    invoices_by_order: DataLoader[int, list[Invoice]]
    quantities_by_order_line: DataLoader[int, LineQuantities]
    shipments_by_order: DataLoader[int, list[Shipment]]
    lines_by_shipment: DataLoader[int, list[ShipmentLine]]
    returns_by_order: DataLoader[int, list[OrderReturn]]
    lines_by_return: DataLoader[int, list[ReturnLine]]
    notes_by_order: DataLoader[int, list[OrderNote]]
    audit_by_order: DataLoader[int, list[OrderAudit]]
    order_line: DataLoader[int, OrderLine | None]
    refund: DataLoader[int, Refund | None]
    shipment: DataLoader[int, Shipment | None]
    order_return: DataLoader[int, OrderReturn | None]

    @classmethod
    def for_session(cls, session: AsyncSession, lock: asyncio.Lock) -> Loaders:
        def by_id(model: Any, kind: str, plain: Plain | None = None) -> DataLoader[int, Any]:
            return DataLoader(_rows_by_id(session, lock, model, kind, plain))

        def by_slug(model: Any, kind: str, plain: Plain | None = None) -> DataLoader[str, Any]:
            return DataLoader(_rows_by_slug(session, lock, model, kind, plain))

        def grouped(
            statement: Callable[[list[int]], Select[Any, Any]] | Plain,
            kind: str,
            value_kind: str | None = None,
            key_index: int = 0,
        ) -> DataLoader[int, Any]:
            return DataLoader(_grouped(session, lock, statement, kind, value_kind, key_index))

        return cls(
            user=by_id(User, "user"),
            address=by_id(Address, "address"),
            addresses_by_user=grouped(
                _children(Address, Address.user_id, Address.created_at, Address.id),
                "user",
            ),
            product=by_id(Product, "product", Plain(plain.PRODUCTS_BY_ID, product_row)),
            product_by_slug=by_slug(Product, "product", Plain(plain.PRODUCTS_BY_SLUG, product_row)),
            variant=by_id(Variant, "variant", Plain(plain.VARIANTS_BY_ID, variant_row)),
            category=by_id(Category, "category", Plain(plain.CATEGORIES_BY_ID, category_row)),
            category_by_slug=by_slug(
                Category, "category", Plain(plain.CATEGORIES_BY_SLUG, category_row)
            ),
            tag=by_id(Tag, "tag", Plain(plain.TAGS_BY_ID, tag_row)),
            review=by_id(Review, "review"),
            wishlist_item=by_id(WishlistItem, "wishlist_item"),
            warehouse=by_id(Warehouse, "warehouse"),
            stocks_by_variant=grouped(
                _children(Stock, Stock.variant_id, Stock.warehouse_id),
                "variant",
            ),
            variants_by_product=grouped(
                Plain(plain.VARIANTS_BY_PRODUCT, variant_row),
                "product",
                key_index=1,  # VariantRow.product_id
            ),
            images_by_product=grouped(
                Plain(plain.IMAGES_BY_PRODUCT, image_row),
                "product",
                key_index=1,  # ImageRow.product_id
            ),
            tags_by_product=grouped(
                Plain(plain.TAGS_BY_PRODUCT, _after_key(tag_row)),
                "product",
                "tag",  # a renamed or deleted tag changes the list
            ),
            children_by_category=grouped(
                Plain(plain.CHILDREN_BY_CATEGORY, category_row),
                "category",
                "category",  # a renamed child changes its parent's list
                key_index=1,  # CategoryRow.parent_id
            ),
            quantity_by_variant=DataLoader(_quantities(session, lock)),
            shipping_zone=by_id(ShippingZone, "shipping_zone"),
            shipping_method=by_id(ShippingMethod, "shipping_method"),
            tax_rate=by_id(TaxRate, "tax_rate"),
            promotion=by_id(Promotion, "promotion"),
            areas_by_zone=grouped(
                _children(
                    ShippingZoneArea,
                    ShippingZoneArea.zone_id,
                    ShippingZoneArea.country,
                    ShippingZoneArea.region,
                ),
                "shipping_zone",
            ),
            methods_by_zone=grouped(
                _children(ShippingMethod, ShippingMethod.zone_id, ShippingMethod.id),
                "shipping_zone",
            ),
            products_by_promotion=grouped(
                Plain(plain.PRODUCTS_BY_PROMOTION, _after_key(product_row)),
                "promotion",
                "product",
            ),
            categories_by_promotion=grouped(
                Plain(plain.CATEGORIES_BY_PROMOTION, _after_key(category_row)),
                "promotion",
                "category",
            ),
            order=by_id(Order, "order"),
            lines_by_order=grouped(_children(OrderLine, OrderLine.order_id, OrderLine.id), "order"),
            events_by_order=grouped(
                _children(OrderEvent, OrderEvent.order_id, OrderEvent.sequence), "order"
            ),
            payments_by_order=grouped(_children(Payment, Payment.order_id, Payment.id), "order"),
            transactions_by_payment=grouped(
                _children(PaymentTransaction, PaymentTransaction.payment_id, PaymentTransaction.id),
                "payment",
            ),
            refunds_by_order=grouped(_children(Refund, Refund.order_id, Refund.id), "order"),
            invoices_by_order=grouped(_children(Invoice, Invoice.order_id, Invoice.id), "order"),
            quantities_by_order_line=DataLoader(_line_quantities(session, lock)),
            shipments_by_order=grouped(
                _children(Shipment, Shipment.order_id, Shipment.id), "order"
            ),
            lines_by_shipment=grouped(
                _children(ShipmentLine, ShipmentLine.shipment_id, ShipmentLine.id), "shipment"
            ),
            returns_by_order=grouped(
                _children(OrderReturn, OrderReturn.order_id, OrderReturn.id), "order"
            ),
            lines_by_return=grouped(
                _children(ReturnLine, ReturnLine.return_id, ReturnLine.id), "return"
            ),
            notes_by_order=grouped(_children(OrderNote, OrderNote.order_id, OrderNote.id), "order"),
            audit_by_order=grouped(
                _children(OrderAudit, OrderAudit.order_id, OrderAudit.id), "order"
            ),
            order_line=by_id(OrderLine, "order_line"),
            refund=by_id(Refund, "refund"),
            shipment=by_id(Shipment, "shipment"),
            order_return=by_id(OrderReturn, "return"),
        )
