"""Shared factories: rows written straight into the test transaction (search index built),
for every domain's tests. Loaded by tests/conftest.py as a plugin."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from slugify import slugify
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.permissions import Role
from app.services.accounts.tokens import RegistrationData, register_account
from app.services.catalog.search import refresh_min_price, refresh_search
from app.settings import Settings
from models.accounts import User
from models.catalog import (
    Category,
    Product,
    ProductImage,
    Stock,
    Tag,
    Variant,
    Warehouse,
    product_tags,
)

PASSWORD = "correct-Horse-battery-9"


@pytest.fixture
def make_user(session_factory: async_sessionmaker[AsyncSession], settings: Settings) -> Callable:
    """Create an account committed into the test transaction."""

    async def make(
        email: str = "shopper@example.com",
        password: str = PASSWORD,
        role: Role = Role.CUSTOMER,
        **fields: Any,
    ) -> User:
        async with session_factory() as session, session.begin():
            user = await register_account(
                session,
                data=RegistrationData(email=email, password=password),
                settings=settings,
                role=role,
            )
            for name, value in fields.items():
                setattr(user, name, value)
        return user

    return make


@pytest.fixture
def make_category(session_factory: async_sessionmaker[AsyncSession]) -> Callable:
    async def make(name: str, *, parent: Category | None = None, slug: str | None = None):
        async with session_factory() as session, session.begin():
            row = Category(
                name=name, slug=slug or slugify(name), parent_id=parent.id if parent else None
            )
            session.add(row)
        return row

    return make


@pytest.fixture
def make_tag(session_factory: async_sessionmaker[AsyncSession]) -> Callable:
    async def make(name: str) -> Tag:
        async with session_factory() as session, session.begin():
            row = Tag(name=name, slug=slugify(name))
            session.add(row)
        return row

    return make


@pytest.fixture
def default_warehouse(session_factory: async_sessionmaker[AsyncSession]) -> Callable:
    async def get() -> Warehouse:
        async with session_factory() as session:
            return (await session.scalars(select(Warehouse).where(Warehouse.is_default))).one()

    return get


@pytest.fixture
def make_product(session_factory: async_sessionmaker[AsyncSession]) -> Callable:
    """A product with variants given as (price minor units, stock) pairs, default USD."""

    async def make(
        name: str,
        *,
        slug: str | None = None,
        description: str = "",
        category: Category | None = None,
        tags: Sequence[Tag] = (),
        variants: Sequence[tuple[int, int]] = ((1000, 5),),
        currency: str = "USD",
        published: bool = True,
        attributes: dict[str, Any] | None = None,
        images: int = 1,
        created_at: datetime | None = None,
        rating: tuple[int, int] = (0, 0),
    ) -> Product:
        async with session_factory() as session, session.begin():
            product = Product(
                name=name,
                slug=slug or slugify(name),
                description=description,
                category_id=category.id if category else None,
                attributes=attributes or {},
                is_published=published,
                published_at=datetime.now(UTC) if published else None,
                rating_sum=rating[0],
                rating_count=rating[1],
            )
            if created_at is not None:
                product.created_at = created_at
            session.add(product)
            await session.flush()
            warehouse_id = await session.scalar(select(Warehouse.id).where(Warehouse.is_default))
            for index, (price, quantity) in enumerate(variants):
                variant = Variant(
                    product_id=product.id,
                    sku=f"{product.slug}-{index}",
                    name=f"Variant {index}",
                    price_amount=price,
                    currency=currency,
                )
                session.add(variant)
                await session.flush()
                session.add(
                    Stock(variant_id=variant.id, warehouse_id=warehouse_id, quantity=quantity)
                )
            for index in range(images):
                session.add(
                    ProductImage(
                        product_id=product.id,
                        url=f"https://img.example/{product.slug}/{index}.jpg",
                        alt=f"{name} {index}",
                        sort_order=index,
                    )
                )
            if tags:
                await session.execute(
                    insert(product_tags),
                    [{"product_id": product.id, "tag_id": tag.id} for tag in tags],
                )
            await session.flush()
            await refresh_search(session, product_ids=[product.id])
            await refresh_min_price(session, product_ids=[product.id])
        async with session_factory() as session:
            return await session.get_one(Product, product.id)

    return make


def demo_checkout_rows() -> list[Any]:
    """DELETE statements for the demo checkout rules `commerce seed` commits (app/seed_checkout)."""
    from app.seed_checkout import DEMO_COUPON, DEMO_TAX_RATES, DEMO_ZONE
    from models.promotions import Promotion
    from models.shipping import ShippingZone
    from models.taxes import TaxRate

    return [
        delete(ShippingZone).where(ShippingZone.name == DEMO_ZONE),
        delete(Promotion).where(Promotion.code == DEMO_COUPON),
        *(
            delete(TaxRate).where(TaxRate.country == country, TaxRate.region == region)
            for country, region, _, _ in DEMO_TAX_RATES
        ),
    ]
