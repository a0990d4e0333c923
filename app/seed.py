"""Demo data for the one-command run: idempotent, deterministic."""

from __future__ import annotations

from rich.console import Console
from rich.progress import Progress
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Role
from app.seed_checkout import seed_checkout
from app.services.accounts.tokens import RegistrationData, register_account
from app.settings import Settings
from models.accounts import User

# Local demo credentials, printed on start; never used outside the embedded defaults.
DEMO_ACCOUNTS = (
    (Role.ADMIN, RegistrationData("admin@example.com", "Staff-demo-2026", "Ada", "Admin")),
    (
        Role.CUSTOMER,
        RegistrationData("customer@example.com", "Shop-demo-2026", "Chloé", "Client"),
    ),
)


async def seed_demo(
    session: AsyncSession, *, settings: Settings, progress_console: Console | None = None
) -> list[tuple[str, str]]:
    """Create the demo staff and customer accounts and the demo checkout rules (shipping,
    tax, the WELCOME10 coupon) unless they exist; return the accounts' credentials."""
    with Progress(console=progress_console, transient=True) as progress:
        task = progress.add_task("seeding demo accounts", total=len(DEMO_ACCOUNTS))
        for role, data in DEMO_ACCOUNTS:
            if await session.scalar(select(User.id).where(User.email == data.email)) is None:
                await register_account(session, data=data, settings=settings, role=role)
            progress.advance(task)
    await seed_checkout(session, currency=settings.default_currency)
    return [(data.email, data.password) for _, data in DEMO_ACCOUNTS]
