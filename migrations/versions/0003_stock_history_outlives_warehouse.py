"""stock history outlives its warehouse

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 17:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK = "fk_stock_adjustments_warehouse_id_warehouses"


def upgrade() -> None:
    op.drop_constraint(FK, "stock_adjustments", type_="foreignkey")
    op.alter_column(
        "stock_adjustments", "warehouse_id", existing_type=sa.BigInteger(), nullable=True
    )
    op.create_foreign_key(
        FK, "stock_adjustments", "warehouses", ["warehouse_id"], ["id"], ondelete="SET NULL"
    )


def downgrade() -> None:
    op.drop_constraint(FK, "stock_adjustments", type_="foreignkey")
    op.execute("DELETE FROM stock_adjustments WHERE warehouse_id IS NULL")
    op.alter_column(
        "stock_adjustments", "warehouse_id", existing_type=sa.BigInteger(), nullable=False
    )
    op.create_foreign_key(
        FK, "stock_adjustments", "warehouses", ["warehouse_id"], ["id"], ondelete="RESTRICT"
    )
