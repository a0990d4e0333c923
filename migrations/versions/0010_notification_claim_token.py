"""notifications.claim_token: the worker that holds a `sending` row's lease

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: instant on PostgreSQL 15, no table rewrite. Rows already
    # `sending` have no token; their lease expires and the next claim gives them one.
    op.add_column("notifications", sa.Column("claim_token", sa.Uuid(), nullable=True))


def downgrade() -> None:
    op.drop_column("notifications", "claim_token")
