"""Races in real, committed transactions: stock never lost or negative, names never doubled,
no category cycle."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.errors import UserError
from app.services.catalog.categories import CategoryData, update_category
from app.services.catalog.inventory import adjust_stock, set_stock
from app.services.catalog.products import ProductData, create_product
from app.services.catalog.variants import MoneyData, VariantData, create_variant
from models.catalog import Category, Product, Stock, StockAdjustment, Variant, Warehouse

SLUG = "race-stock-product"
RACE = "Race Slug Test"  # products named so get slugs "race-slug-test(-N)"


@pytest.fixture
def factory(committed_sessions) -> async_sessionmaker[AsyncSession]:
    """Committed sessions; the test's products and categories are removed after."""
    return committed_sessions.remove_after(
        delete(Product).where((Product.slug == SLUG) | Product.slug.startswith("race-slug-test")),
        delete(Category).where(Category.slug.startswith("race-")),
    )


async def _variant_with_stock(factory, quantity: int) -> tuple[int, int]:
    async with factory() as session, session.begin():
        product = Product(name="Race", slug=SLUG)
        session.add(product)
        await session.flush()
        variant = Variant(product_id=product.id, sku="RACE-1", price_amount=100, currency="USD")
        session.add(variant)
        await session.flush()
        warehouse_id = await session.scalar(select(Warehouse.id).where(Warehouse.is_default))
        session.add(Stock(variant_id=variant.id, warehouse_id=warehouse_id, quantity=quantity))
    return variant.id, warehouse_id


async def test_concurrent_adjustments_never_oversell(factory):
    """20 transactions each take one of 10 units: exactly 10 win, stock ends at 0."""
    variant_id, warehouse_id = await _variant_with_stock(factory, 10)

    async def take_one() -> str:
        async with factory() as session, session.begin():
            try:
                await adjust_stock(
                    session,
                    variant_id=variant_id,
                    warehouse_id=None,
                    delta=-1,
                    reason="Sold",
                    user_id=None,
                )
            except UserError as exc:
                return exc.code.value
            return "ok"

    results = await asyncio.gather(*(take_one() for _ in range(20)))

    assert sorted(results) == ["INSUFFICIENT_STOCK"] * 10 + ["ok"] * 10
    async with factory() as session:
        quantity = await session.scalar(
            select(Stock.quantity).where(
                Stock.variant_id == variant_id, Stock.warehouse_id == warehouse_id
            )
        )
        after = (
            await session.scalars(
                select(StockAdjustment.quantity_after)
                .where(StockAdjustment.variant_id == variant_id)
                .order_by(StockAdjustment.quantity_after)
            )
        ).all()
    assert quantity == 0
    assert after == list(range(10))  # each success saw its own distinct quantity


async def test_concurrent_sets_and_adjustments_record_exact_deltas(factory):
    """Racing counts and adjustments: the recorded deltas add up to the final quantity."""
    variant_id, warehouse_id = await _variant_with_stock(factory, 50)

    async def change(index: int) -> None:
        async with factory() as session, session.begin():
            if index % 2:
                await set_stock(
                    session,
                    variant_id=variant_id,
                    warehouse_id=warehouse_id,
                    quantity=index * 3,
                    reason="Count",
                    user_id=None,
                )
            else:
                await adjust_stock(
                    session,
                    variant_id=variant_id,
                    warehouse_id=warehouse_id,
                    delta=index + 1,
                    reason="Delivery",
                    user_id=None,
                )

    await asyncio.gather(*(change(index) for index in range(20)))

    async with factory() as session:
        quantity = await session.scalar(
            select(Stock.quantity).where(Stock.variant_id == variant_id)
        )
        total, rows = (
            await session.execute(
                select(func.sum(StockAdjustment.delta), func.count()).where(
                    StockAdjustment.variant_id == variant_id
                )
            )
        ).one()
    assert rows == 20
    assert 50 + total == quantity


async def _outcome(factory, service, **kwargs) -> str:
    async with factory() as session, session.begin():
        try:
            await service(session, **kwargs)
        except UserError as exc:
            return exc.code.value
        return "ok"


async def test_concurrent_creates_of_one_name_get_distinct_slugs(factory):
    results = await asyncio.gather(
        *(_outcome(factory, create_product, data=ProductData(name=RACE)) for _ in range(6))
    )

    assert results == ["ok"] * 6
    async with factory() as session:
        slugs = (await session.scalars(select(Product.slug).where(Product.name == RACE))).all()
    assert sorted(slugs) == ["race-slug-test"] + [f"race-slug-test-{n}" for n in range(2, 7)]


async def test_concurrent_claims_of_one_explicit_slug_and_sku_give_one_winner(factory):
    explicit = ProductData(name=RACE, slug="race-slug-test-explicit")
    slug_results = await asyncio.gather(
        *(_outcome(factory, create_product, data=explicit) for _ in range(5))
    )
    async with factory() as session:
        product_id = await session.scalar(select(Product.id).where(Product.name == RACE))
    variant = VariantData(sku="RACE-SKU", price=MoneyData(Decimal("1.00"), "USD"))
    sku_results = await asyncio.gather(
        *(_outcome(factory, create_variant, product_id=product_id, data=variant) for _ in range(5))
    )

    assert sorted(slug_results) == ["UNIQUE"] * 4 + ["ok"]
    assert sorted(sku_results) == ["UNIQUE"] * 4 + ["ok"]


async def test_concurrent_crossed_category_moves_cannot_make_a_cycle(factory):
    async with factory() as session, session.begin():
        first = Category(name="Race A", slug="race-a")
        second = Category(name="Race B", slug="race-b")
        session.add_all([first, second])

    results = await asyncio.gather(
        _outcome(
            factory, update_category, category_id=first.id, data=CategoryData(parent_id=second.id)
        ),
        _outcome(
            factory, update_category, category_id=second.id, data=CategoryData(parent_id=first.id)
        ),
    )

    assert sorted(results) == ["CYCLE", "ok"]
    async with factory() as session:
        parents = dict(
            (
                await session.execute(
                    select(Category.slug, Category.parent_id).where(
                        Category.slug.in_(["race-a", "race-b"])
                    )
                )
            ).all()
        )
    if results[0] == "ok":  # A went under B; B's move was refused
        assert parents == {"race-a": second.id, "race-b": None}
    else:
        assert parents == {"race-a": None, "race-b": first.id}
