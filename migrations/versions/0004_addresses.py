"""addresses

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 17:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "addresses",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("first_name", sa.String(length=150), server_default="", nullable=False),
        sa.Column("last_name", sa.String(length=150), server_default="", nullable=False),
        sa.Column("company", sa.String(length=250), server_default="", nullable=False),
        sa.Column("street_address_1", sa.String(length=250), nullable=False),
        sa.Column("street_address_2", sa.String(length=250), server_default="", nullable=False),
        sa.Column("city", sa.String(length=150), nullable=False),
        sa.Column("postal_code", sa.String(length=20), server_default="", nullable=False),
        sa.Column("country_area", sa.String(length=150), server_default="", nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("phone", sa.String(length=16), server_default="", nullable=False),
        sa.Column("is_default_shipping", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("is_default_billing", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("country ~ '^[A-Z]{2}$'", name=op.f("ck_addresses_country_code")),
        sa.CheckConstraint(
            "phone = '' OR phone ~ '^\\+[1-9][0-9]{1,14}$'", name=op.f("ck_addresses_phone_e164")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_addresses_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_addresses")),
    )
    op.create_index(
        "ix_addresses_user_created", "addresses", ["user_id", "created_at", "id"], unique=False
    )
    # At most one default of each kind per user (see docs/decisions.md).
    op.create_index(
        "uq_addresses_default_shipping",
        "addresses",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("is_default_shipping"),
    )
    op.create_index(
        "uq_addresses_default_billing",
        "addresses",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("is_default_billing"),
    )


def downgrade() -> None:
    op.drop_table("addresses")
