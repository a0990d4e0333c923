"""profile: phone and locale on users

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users", sa.Column("phone", sa.String(length=32), server_default="", nullable=False)
    )
    op.add_column(
        "users", sa.Column("locale", sa.String(length=16), server_default="en", nullable=False)
    )
    op.create_check_constraint(
        op.f("ck_users_phone_e164"), "users", "phone = '' OR phone ~ '^\\+[1-9][0-9]{1,14}$'"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_users_phone_e164"), "users", type_="check")
    op.drop_column("users", "locale")
    op.drop_column("users", "phone")
