"""The `commerce` CLI against the test database (sync tests: the CLI runs its own loop)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import delete, select
from typer.testing import CliRunner

from app.auth.passwords import verify_password
from app.cli import cli
from app.db import create_engine
from app.migrate import alembic_config
from app.seed import DEMO_ACCOUNTS
from app.seed_checkout import DEMO_COUPON, DEMO_TAX_RATES, DEMO_ZONE
from models.accounts import User
from models.promotions import Promotion
from models.shipping import ShippingMethod, ShippingZone
from models.taxes import TaxRate
from tests.conftest import make_settings
from tests.factories import demo_checkout_rows

STAFF_EMAIL = "cli-staff@example.com"


def _users(*emails: str) -> list[tuple[str, str, str | None]]:
    async def load() -> list[tuple[str, str, str | None]]:
        settings = make_settings()
        engine = create_engine(settings.database_url or "", settings)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(
                    select(User.email, User.role, User.password_hash)
                    .where(User.email.in_(emails))
                    .order_by(User.email)
                )
                return [tuple(row) for row in rows]  # type: ignore[misc]
        finally:
            await engine.dispose()

    return asyncio.run(load())


def _delete(*emails: str) -> None:
    async def run() -> None:
        settings = make_settings()
        engine = create_engine(settings.database_url or "", settings)
        async with engine.begin() as connection:
            await connection.execute(delete(User).where(User.email.in_(emails)))
            # The demo checkout rules `seed` writes (committed data other tests must not see).
            for statement in demo_checkout_rows():
                await connection.execute(statement)
        await engine.dispose()

    asyncio.run(run())


@pytest.fixture
def cli_env(monkeypatch, engine) -> Iterator[CliRunner]:
    settings = make_settings()
    monkeypatch.setenv("DATABASE_URL", settings.database_url or "")
    monkeypatch.setenv("JWT_SECRET", "cli-test-secret-cli-test-secret-cli-test-secret")
    emails = [STAFF_EMAIL, *(data.email for _, data in DEMO_ACCOUNTS)]
    _delete(*emails)
    yield CliRunner()
    _delete(*emails)


def test_create_staff_makes_an_admin_who_can_sign_in(cli_env):
    result = cli_env.invoke(
        cli,
        [
            "create-staff",
            "--email",
            "CLI-Staff@example.com",
            "--password",
            "cli-Strong-pass-42",
            "--role",
            "admin",
        ],
    )

    assert result.exit_code == 0, result.output
    [(email, role, password_hash)] = _users(STAFF_EMAIL)
    assert (email, role) == (STAFF_EMAIL, "admin")
    assert asyncio.run(verify_password(password_hash, "cli-Strong-pass-42"))


def test_create_staff_refuses_a_weak_password_and_writes_nothing(cli_env):
    result = cli_env.invoke(cli, ["create-staff", "--email", STAFF_EMAIL, "--password", "123"])

    assert result.exit_code == 1
    assert "PASSWORD_TOO_WEAK" in result.output
    assert _users(STAFF_EMAIL) == []


def test_create_staff_refuses_an_unknown_role(cli_env):
    result = cli_env.invoke(
        cli, ["create-staff", "--email", STAFF_EMAIL, "--password", "x", "--role", "customer"]
    )

    assert result.exit_code == 2
    assert _users(STAFF_EMAIL) == []


def test_seed_is_idempotent_and_prints_the_demo_accounts(cli_env):
    first = cli_env.invoke(cli, ["seed"])
    second = cli_env.invoke(cli, ["seed"])

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    emails = sorted(data.email for _, data in DEMO_ACCOUNTS)
    assert [(email, role) for email, role, _ in _users(*emails)] == [
        ("admin@example.com", "admin"),
        ("customer@example.com", "customer"),
    ]
    assert "admin@example.com" in second.output
    assert asyncio.run(_demo_checkout()) == (
        [("Express", 1500, "USD"), ("Standard", 500, "USD")],
        len(DEMO_TAX_RATES),
        [("WELCOME10", "percentage")],
    )


async def _demo_checkout() -> tuple[list[tuple[str, int, str]], int, list[tuple[str, str]]]:
    settings = make_settings()
    engine = create_engine(settings.database_url or "", settings)
    try:
        async with engine.connect() as connection:
            methods = await connection.execute(
                select(ShippingMethod.name, ShippingMethod.price_amount, ShippingMethod.currency)
                .join(ShippingZone, ShippingZone.id == ShippingMethod.zone_id)
                .where(ShippingZone.name == DEMO_ZONE, ShippingZone.is_worldwide)
                .order_by(ShippingMethod.name)
            )
            rates = await connection.execute(select(TaxRate.id))
            coupons = await connection.execute(
                select(Promotion.code, Promotion.kind).where(Promotion.code == DEMO_COUPON)
            )
            return (
                [tuple(row) for row in methods],  # type: ignore[misc]
                len(rates.all()),
                [tuple(row) for row in coupons],  # type: ignore[misc]
            )
    finally:
        await engine.dispose()


def test_migrate_reports_the_head_revision(cli_env):
    result = cli_env.invoke(cli, ["migrate"])

    assert result.exit_code == 0, result.output
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert f"database at revision {head}" in result.output
