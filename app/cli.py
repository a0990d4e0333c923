"""The `commerce` command: serve, migrate, seed, worker, export-schema, create-staff."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app import migrate as migrations
from app.auth.permissions import Role
from app.db import create_engine, create_session_factory, database_url
from app.errors import UserError, ValidationErrors
from app.logs import configure_logging
from app.seed import seed_demo
from app.seed_catalog import DEMO_PRODUCTS, CatalogSeedResult, catalog_is_empty, seed_catalog
from app.services.accounts.tokens import RegistrationData, register_account
from app.settings import Settings

cli = typer.Typer(help="GraphQL commerce backend.", no_args_is_help=True, add_completion=False)
console = Console(stderr=True)
T = TypeVar("T")


def _run_with_session(
    settings: Settings, work: Callable[[AsyncEngine, AsyncSession], Awaitable[T]]
) -> T:
    async def main() -> T:
        engine = create_engine(database_url(settings), settings)
        try:
            async with create_session_factory(engine)() as session:
                return await work(engine, session)
        finally:
            await engine.dispose()

    return asyncio.run(main())


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address [env HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port [env PORT].")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes [env WORKERS].")] = None,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
    demo: Annotated[bool, typer.Option(help="Migrate and load demo data first.")] = False,
) -> None:
    """Serve the API (GraphiQL at /graphql outside production)."""
    import uvicorn

    settings = Settings()
    configure_logging(settings.log_level, json=settings.json_logs)
    if demo:
        _migrate_and_seed(settings, products=DEMO_PRODUCTS, only_into_empty_catalog=True)
    host, port = host or settings.host, port or settings.port
    console.print(f"[bold green]GraphQL API[/] on http://{host}:{port}/graphql")
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=None if reload else (workers or settings.workers),
        reload=reload,
        log_config=None,
        # TRUSTED_PROXIES is applied by the app itself (app/client_address.py), the same
        # under any ASGI server; uvicorn's own header rewriting would trust 127.0.0.1.
        proxy_headers=False,
        # A WebSocket frame is never read whole past the request-size limit (16 MiB else).
        ws_max_size=settings.max_request_bytes,
    )


def _migrate_and_seed(
    settings: Settings, *, products: int = 0, only_into_empty_catalog: bool = False
) -> None:
    async def work(
        engine: AsyncEngine, session: AsyncSession
    ) -> tuple[list[tuple[str, str]], CatalogSeedResult | None]:
        await migrations.upgrade(engine)
        async with session.begin():
            accounts = await seed_demo(session, settings=settings, progress_console=console)
        catalog = None
        if products > 0:
            async with session.begin():
                if not only_into_empty_catalog or await catalog_is_empty(session):
                    catalog = await seed_catalog(
                        session, products=products, progress_console=console
                    )
        return accounts, catalog

    accounts, catalog = _run_with_session(settings, work)
    for email, password in accounts:
        console.print(f"demo account: [bold]{email}[/] / {password}")
    if catalog is not None:
        console.print(
            f"demo catalog: {catalog.created} products added "
            f"({catalog.requested} requested, {catalog.total} in the catalog)"
        )


@cli.command()
def migrate(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply database migrations."""
    settings = Settings()

    async def work(engine: AsyncEngine, session: AsyncSession) -> str | None:
        with console.status(f"migrating to {revision}"):
            await migrations.upgrade(engine, revision)
        return await migrations.current_revision(engine)

    console.print(f"database at revision {_run_with_session(settings, work)}")


@cli.command()
def seed(
    products: Annotated[
        int, typer.Option(min=0, help="Also seed this many demo products (0: accounts only).")
    ] = 0,
) -> None:
    """Migrate and load demo data: accounts, and a catalog of N products (idempotent)."""
    _migrate_and_seed(Settings(), products=products)


@cli.command()
def worker(
    once: Annotated[bool, typer.Option(help="Run one batch and exit.")] = False,
    batch: Annotated[
        int | None, typer.Option(min=1, help="Rows per batch [env WORKER_BATCH_SIZE].")
    ] = None,
) -> None:
    """Deliver notifications from the outbox (until Ctrl-C, or one batch with --once); every
    minute, purge abandoned carts and reservations, retry failed webhook events and pending
    refunds, and cancel orders unpaid for PAYMENT_TIMEOUT_MINUTES."""
    import dataclasses
    import signal

    from app.housekeeping import HOUSEKEEPING_SECONDS, housekeeping
    from app.metrics import observe
    from app.notifications.channels import Router
    from app.notifications.worker import WorkerConfig, run_forever, run_once
    from app.observability import start_error_tracking, tracer_provider
    from app.payments.registry import Gateways
    from app.pubsub import PubSub

    settings = Settings()
    configure_logging(settings.log_level, json=settings.json_logs)
    start_error_tracking(settings)
    tracer_provider(settings)  # SQL, Redis and provider calls traced when an endpoint is set
    config = WorkerConfig.from_settings(settings)
    if batch:
        config = dataclasses.replace(config, batch_size=batch)

    async def work(engine: AsyncEngine, session: AsyncSession) -> int:
        factory = create_session_factory(engine)
        # The push channel reads the user's subscriptions (and drops gone ones) itself.
        router = Router(settings, session_factory=factory)
        if once:
            return await run_once(factory, channel=router, config=config)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        gateways = Gateways.from_settings(settings)
        # Order status changes the worker makes reach subscribers of other processes only
        # through Redis; without it there is no one to tell.
        pubsub = PubSub(settings.redis_url, prefix=settings.pubsub_prefix)
        if settings.redis_url:
            await pubsub.connect()
        try:
            async with observe(settings, engine):
                await run_forever(
                    factory,
                    channel=router,
                    stop=stop,
                    config=config,
                    periodic=housekeeping(
                        factory, settings, gateways, pubsub if settings.redis_url else None
                    ),
                    periodic_seconds=HOUSEKEEPING_SECONDS,
                )
        finally:
            await gateways.aclose()
            if settings.redis_url:
                await pubsub.disconnect()
        return 0

    claimed = _run_with_session(settings, work)
    if once:
        console.print(f"processed {claimed} notifications")


@cli.command("export-schema")
def export_schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here.")] = None,
) -> None:
    """Print the GraphQL SDL (or write it to a file)."""
    from app.schema import export_sdl

    sdl = export_sdl()
    if output:
        output.write_text(sdl)
    else:
        sys.stdout.write(sdl)


@cli.command("create-staff")
def create_staff(
    email: Annotated[str, typer.Option(help="Sign-in email.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, help="Password.")],
    role: Annotated[str, typer.Option(help="staff or admin.")] = "staff",
    first_name: str = "",
    last_name: str = "",
) -> None:
    """Create a staff or admin account."""
    if role not in (Role.STAFF.value, Role.ADMIN.value):
        console.print("[red]role must be staff or admin[/]")
        raise typer.Exit(2)
    settings = Settings()
    data = RegistrationData(email, password, first_name, last_name)

    async def work(engine: AsyncEngine, session: AsyncSession) -> str:
        async with session.begin():
            user = await register_account(session, data=data, settings=settings, role=Role(role))
        return user.email

    try:
        created = _run_with_session(settings, work)
    except UserError as exc:
        errors = exc.errors if isinstance(exc, ValidationErrors) else [exc]
        for error in errors:
            console.print(f"[red]{error.field}: {error.message} ({error.code.value})[/]")
        raise typer.Exit(1) from None
    console.print(f"created {role} account {created}")


def main() -> None:
    cli()
