"""The demo catalog: a deterministic plan, bulk seeding, idempotency, findable by search."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from slugify import slugify
from sqlalchemy import delete, func, select
from typer.testing import CliRunner

from app import seed_catalog_plan as plan
from app.cli import cli
from app.db import create_engine
from app.seed import DEMO_ACCOUNTS
from app.seed_catalog import seed_catalog
from models.accounts import User
from models.catalog import Category, Product, Stock, Tag, Variant, Warehouse
from tests.conftest import make_settings
from tests.factories import demo_checkout_rows

PRODUCTS = """
query($filter: ProductFilterInput) {
  products(first: 100, filter: $filter) { edges { node { slug } } }
}"""


def _is_cyrillic(text: str) -> bool:
    return any("\u0400" <= char <= "\u04ff" for char in text)


def test_the_plan_is_deterministic_and_the_same_for_any_n():
    first = [plan.product(index) for index in range(200)]

    assert first == [plan.product(index) for index in range(200)]
    skus = [variant.sku for product in first for variant in product.variants]
    assert len(set(skus)) == len(skus)
    assert len({product.slug for product in first}) == 200
    assert all(1 <= len(product.variants) <= 4 for product in first)
    assert all(1 <= len(product.images) <= 3 for product in first)


def test_the_plan_looks_like_a_real_shop():
    products = [plan.product(index) for index in range(2000)]
    categories = plan.categories()

    assert 35 <= len(categories) <= 45
    assert max(category.depth for category in categories) == 2  # three levels
    assert len(plan.tags()) == 30
    assert any(not name.isascii() and not _is_cyrillic(name) for name in (p.name for p in products))
    assert any(_is_cyrillic(product.name) for product in products)
    assert any("Fußball" in product.name for product in products)
    assert any(not product.is_published for product in products)
    assert any(variant.quantity == 0 for product in products for variant in product.variants)
    assert any(v.compare_at_amount for product in products for v in product.variants)
    assert all(
        0 <= product.rating_count <= product.rating_sum <= 5 * product.rating_count
        or product.rating_count == product.rating_sum == 0
        for product in products
    )
    assert products[0].images[0][0] == f"https://picsum.photos/seed/{products[0].slug}/800/800"


async def test_seeding_creates_n_products_each_with_variants_and_stock(session_factory, count):
    async with session_factory() as session, session.begin():
        result = await seed_catalog(session, products=40)

    assert (result.created, result.total) == (40, 40)
    assert await count(Product) == 40
    assert await count(Category) == len(plan.categories())
    assert await count(Tag) == 30
    assert await count(Product, ~Product.id.in_(select(Variant.product_id))) == 0
    async with session_factory() as session:
        default = await session.scalar(select(Warehouse.id).where(Warehouse.is_default))
        unstocked = await session.scalar(
            select(func.count())
            .select_from(Variant)
            .outerjoin(Stock, (Stock.variant_id == Variant.id) & (Stock.warehouse_id == default))
            .where(Stock.variant_id.is_(None))
        )
        indexed = await session.scalar(
            select(func.count()).where(
                Product.search_vector.is_not(None), Product.min_price_amount.is_not(None)
            )
        )
    assert unstocked == 0
    assert indexed == 40


async def test_seeding_twice_keeps_n_and_a_larger_n_adds_only_the_rest(session_factory, count):
    async with session_factory() as session, session.begin():
        await seed_catalog(session, products=40)
    async with session_factory() as session, session.begin():
        again = await seed_catalog(session, products=40)

    assert (again.created, again.total) == (0, 40)
    assert await count(Product) == 40
    variants = await count(Variant)

    async with session_factory() as session, session.begin():
        more = await seed_catalog(session, products=45)

    assert (more.created, more.total) == (5, 45)
    assert await count(Category) == len(plan.categories())
    added = sum(len(plan.product(index).variants) for index in range(40, 45))
    assert await count(Variant) == variants + added


async def test_search_finds_seeded_products_by_a_word_of_their_name(session_factory, gql):
    async with session_factory() as session, session.begin():
        await seed_catalog(session, products=40)
    published = [plan.product(index) for index in range(40)]
    published = [product for product in published if product.is_published]
    plain = published[0]
    accented = next(p for p in published if not p.name.isascii() and not _is_cyrillic(p.name))
    # Shoppers type the last word as it is, and accented words without accents.
    cases = [
        (plain, plain.name.split()[-1]),
        (accented, slugify(next(w for w in accented.name.split() if not w.isascii()))),
    ]

    for product, word in cases:
        data = await gql.execute(PRODUCTS, filter={"search": word})
        slugs = [edge["node"]["slug"] for edge in data["products"]["edges"]]
        assert product.slug in slugs, (word, slugs)


@pytest.fixture
def cli_env(monkeypatch, engine) -> Iterator[CliRunner]:
    """The CLI against the test database; it commits, so everything it made is removed after."""
    settings = make_settings()
    monkeypatch.setenv("DATABASE_URL", settings.database_url or "")
    monkeypatch.setenv("JWT_SECRET", "cli-test-secret-cli-test-secret-cli-test-secret")
    yield CliRunner()

    async def clean() -> None:
        engine = create_engine(settings.database_url or "", settings)
        slugs = [plan.product(index).slug for index in range(CLI_PRODUCTS)]
        deepest_first = sorted(plan.categories(), key=lambda category: -category.depth)
        async with engine.begin() as connection:
            await connection.execute(delete(Product).where(Product.slug.in_(slugs)))
            for category in deepest_first:
                await connection.execute(delete(Category).where(Category.slug == category.slug))
            await connection.execute(
                delete(Tag).where(Tag.slug.in_([slug for _, slug in plan.tags()]))
            )
            emails = [data.email for _, data in DEMO_ACCOUNTS]
            await connection.execute(delete(User).where(User.email.in_(emails)))
            for statement in demo_checkout_rows():
                await connection.execute(statement)
        await engine.dispose()

    asyncio.run(clean())


CLI_PRODUCTS = 12


def _product_count() -> int:
    async def load() -> int:
        settings = make_settings()
        engine = create_engine(settings.database_url or "", settings)
        try:
            async with engine.connect() as connection:
                return await connection.scalar(select(func.count()).select_from(Product)) or 0
        finally:
            await engine.dispose()

    return asyncio.run(load())


def test_seed_command_seeds_n_products_once(cli_env):
    first = cli_env.invoke(cli, ["seed", "--products", str(CLI_PRODUCTS)])
    second = cli_env.invoke(cli, ["seed", "--products", str(CLI_PRODUCTS)])

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert f"{CLI_PRODUCTS} products added" in first.output
    assert "0 products added" in second.output
    assert _product_count() == CLI_PRODUCTS


def test_seed_command_refuses_a_negative_count(cli_env):
    result = cli_env.invoke(cli, ["seed", "--products", "-1"])

    assert result.exit_code == 2
