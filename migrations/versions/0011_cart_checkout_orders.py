"""Cart, checkout and orders: shipping zones and methods, tax rates, promotions, carts,
stock reservations, orders with lines, allocations, events and payments

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 02:42:12.830597
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(sa.schema.CreateSequence(sa.Sequence("order_number_seq", start=1000)))
    op.create_table(
        "promotions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("percentage", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("min_subtotal_amount", sa.BigInteger(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("usage_limit", sa.Integer(), nullable=True),
        sa.Column("used_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("per_customer_limit", sa.Integer(), nullable=True),
        sa.Column("stackable", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default="true", nullable=False),
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
        sa.CheckConstraint(
            "currency IS NULL OR currency ~ '^[A-Z]{3}$'", name=op.f("ck_promotions_currency_code")
        ),
        sa.CheckConstraint(
            "kind <> 'fixed' OR (amount > 0 AND currency IS NOT NULL)",
            name=op.f("ck_promotions_fixed_amount"),
        ),
        sa.CheckConstraint(
            "kind <> 'percentage' OR (percentage > 0 AND percentage <= 100)",
            name=op.f("ck_promotions_percentage"),
        ),
        sa.CheckConstraint(
            "kind IN ('percentage', 'fixed', 'free_shipping')", name=op.f("ck_promotions_kind")
        ),
        sa.CheckConstraint(
            "ends_at IS NULL OR starts_at IS NULL OR starts_at < ends_at",
            name=op.f("ck_promotions_window"),
        ),
        sa.CheckConstraint(
            "min_subtotal_amount IS NULL OR min_subtotal_amount >= 0",
            name=op.f("ck_promotions_min"),
        ),
        sa.CheckConstraint(
            "per_customer_limit IS NULL OR per_customer_limit > 0",
            name=op.f("ck_promotions_per_customer"),
        ),
        sa.CheckConstraint(
            "usage_limit IS NULL OR usage_limit >= 0", name=op.f("ck_promotions_usage_limit")
        ),
        sa.CheckConstraint(
            "used_count >= 0 AND (usage_limit IS NULL OR used_count <= usage_limit)",
            name=op.f("ck_promotions_used_within_limit"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotions")),
    )
    op.create_index(
        "ix_promotions_automatic",
        "promotions",
        ["is_active"],
        unique=False,
        postgresql_where=sa.text("code IS NULL"),
    )
    op.create_index(
        "uq_promotions_code",
        "promotions",
        ["code"],
        unique=True,
        postgresql_where=sa.text("code IS NOT NULL"),
    )
    op.create_table(
        "shipping_zones",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("is_worldwide", sa.Boolean(), server_default="false", nullable=False),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipping_zones")),
    )
    op.create_table(
        "tax_rates",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("region", sa.String(length=150), server_default="", nullable=False),
        sa.Column("rate", sa.Numeric(precision=6, scale=3), nullable=False),
        sa.Column("name", sa.String(length=100), server_default="", nullable=False),
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
        sa.CheckConstraint("country ~ '^[A-Z]{2}$'", name=op.f("ck_tax_rates_country_code")),
        sa.CheckConstraint("rate >= 0 AND rate <= 100", name=op.f("ck_tax_rates_rate_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tax_rates")),
    )
    op.create_index("uq_tax_rates_country_region", "tax_rates", ["country", "region"], unique=True)
    op.create_table(
        "promotion_categories",
        sa.Column("promotion_id", sa.BigInteger(), nullable=False),
        sa.Column("category_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["categories.id"],
            name=op.f("fk_promotion_categories_category_id_categories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["promotion_id"],
            ["promotions.id"],
            name=op.f("fk_promotion_categories_promotion_id_promotions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "promotion_id", "category_id", name=op.f("pk_promotion_categories")
        ),
    )
    op.create_index(
        op.f("ix_promotion_categories_category_id"),
        "promotion_categories",
        ["category_id"],
        unique=False,
    )
    op.create_table(
        "shipping_methods",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("zone_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("price_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("free_above_amount", sa.BigInteger(), nullable=True),
        sa.Column("min_weight_grams", sa.Integer(), nullable=True),
        sa.Column("max_weight_grams", sa.Integer(), nullable=True),
        sa.Column("min_days", sa.Integer(), nullable=True),
        sa.Column("max_days", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default="true", nullable=False),
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
        sa.CheckConstraint(
            "currency ~ '^[A-Z]{3}$'", name=op.f("ck_shipping_methods_currency_code")
        ),
        sa.CheckConstraint(
            "free_above_amount IS NULL OR free_above_amount >= 0",
            name=op.f("ck_shipping_methods_free_above"),
        ),
        sa.CheckConstraint(
            "min_days IS NULL OR max_days IS NULL OR min_days <= max_days",
            name=op.f("ck_shipping_methods_days_range"),
        ),
        sa.CheckConstraint(
            "min_weight_grams IS NULL OR max_weight_grams IS NULL OR min_weight_grams <= max_weight_grams",
            name=op.f("ck_shipping_methods_weight_range"),
        ),
        sa.CheckConstraint(
            "price_amount >= 0", name=op.f("ck_shipping_methods_price_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["shipping_zones.id"],
            name=op.f("fk_shipping_methods_zone_id_shipping_zones"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipping_methods")),
    )
    op.create_index(
        "ix_shipping_methods_zone_id", "shipping_methods", ["zone_id", "id"], unique=False
    )
    op.create_table(
        "shipping_zone_areas",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("zone_id", sa.BigInteger(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("region", sa.String(length=150), server_default="", nullable=False),
        sa.CheckConstraint(
            "country ~ '^[A-Z]{2}$'", name=op.f("ck_shipping_zone_areas_country_code")
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["shipping_zones.id"],
            name=op.f("fk_shipping_zone_areas_zone_id_shipping_zones"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipping_zone_areas")),
    )
    op.create_index(
        "ix_shipping_zone_areas_country", "shipping_zone_areas", ["country"], unique=False
    )
    op.create_index(
        "uq_shipping_zone_areas_zone_country_region",
        "shipping_zone_areas",
        ["zone_id", "country", "region"],
        unique=True,
    )
    op.create_table(
        "carts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("email", sa.String(length=254), server_default="", nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("shipping_address", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("billing_address", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("shipping_method_id", sa.BigInteger(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_carts_currency_code")),
        sa.ForeignKeyConstraint(
            ["shipping_method_id"],
            ["shipping_methods.id"],
            name=op.f("fk_carts_shipping_method_id_shipping_methods"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_carts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carts")),
    )
    op.create_index(
        "ix_carts_anonymous_updated",
        "carts",
        ["updated_at"],
        unique=False,
        postgresql_where=sa.text("user_id IS NULL AND completed_at IS NULL"),
    )
    op.create_index(
        "uq_carts_open_user",
        "carts",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("completed_at IS NULL AND user_id IS NOT NULL"),
    )
    op.create_index("uq_carts_token", "carts", ["token"], unique=True)
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column(
            "number",
            sa.BigInteger(),
            server_default=sa.text("nextval('order_number_seq')"),
            nullable=False,
        ),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("cart_id", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("prices_include_tax", sa.Boolean(), nullable=False),
        sa.Column("subtotal_amount", sa.BigInteger(), nullable=False),
        sa.Column("shipping_amount", sa.BigInteger(), nullable=False),
        sa.Column("shipping_tax_amount", sa.BigInteger(), nullable=False),
        sa.Column("discount_amount", sa.BigInteger(), nullable=False),
        sa.Column("tax_amount", sa.BigInteger(), nullable=False),
        sa.Column("total_amount", sa.BigInteger(), nullable=False),
        sa.Column("shipping_address", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("billing_address", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("shipping_method_id", sa.BigInteger(), nullable=True),
        sa.Column("shipping_method_name", sa.String(length=250), nullable=False),
        sa.Column(
            "discounts",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("event_sequence", sa.Integer(), server_default="0", nullable=False),
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
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_orders_currency_code")),
        sa.CheckConstraint(
            "status IN ('pending_payment', 'paid', 'cancelled')", name=op.f("ck_orders_status")
        ),
        sa.CheckConstraint(
            "subtotal_amount >= 0 AND shipping_amount >= 0 AND discount_amount >= 0 AND tax_amount >= 0 AND total_amount >= 0",
            name=op.f("ck_orders_amounts_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["shipping_method_id"],
            ["shipping_methods.id"],
            name=op.f("fk_orders_shipping_method_id_shipping_methods"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_orders_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
    )
    op.create_index("ix_orders_created", "orders", ["created_at", "id"], unique=False)
    op.create_index(
        "ix_orders_user_created", "orders", ["user_id", "created_at", "id"], unique=False
    )
    op.create_index("uq_orders_cart_id", "orders", ["cart_id"], unique=True)
    op.create_index("uq_orders_number", "orders", ["number"], unique=True)
    op.create_index("uq_orders_token", "orders", ["token"], unique=True)
    op.create_table(
        "promotion_products",
        sa.Column("promotion_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_promotion_products_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["promotion_id"],
            ["promotions.id"],
            name=op.f("fk_promotion_products_promotion_id_promotions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("promotion_id", "product_id", name=op.f("pk_promotion_products")),
    )
    op.create_index(
        op.f("ix_promotion_products_product_id"), "promotion_products", ["product_id"], unique=False
    )
    op.create_table(
        "cart_lines",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("cart_id", sa.BigInteger(), nullable=False),
        sa.Column("variant_id", sa.BigInteger(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("seen_unit_price_amount", sa.BigInteger(), nullable=False),
        sa.Column("product_name", sa.String(length=250), server_default="", nullable=False),
        sa.Column("variant_name", sa.String(length=250), server_default="", nullable=False),
        sa.Column("sku", sa.String(length=64), server_default="", nullable=False),
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
        sa.CheckConstraint("quantity > 0", name=op.f("ck_cart_lines_quantity_positive")),
        sa.CheckConstraint(
            "seen_unit_price_amount >= 0", name=op.f("ck_cart_lines_seen_price_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["cart_id"], ["carts.id"], name=op.f("fk_cart_lines_cart_id_carts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["variants.id"],
            name=op.f("fk_cart_lines_variant_id_variants"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cart_lines")),
    )
    op.create_index("ix_cart_lines_cart_id", "cart_lines", ["cart_id", "id"], unique=False)
    op.create_index("ix_cart_lines_variant_id", "cart_lines", ["variant_id"], unique=False)
    op.create_index(
        "uq_cart_lines_cart_variant",
        "cart_lines",
        ["cart_id", "variant_id"],
        unique=True,
        postgresql_where=sa.text("variant_id IS NOT NULL"),
    )
    op.create_table(
        "cart_promotions",
        sa.Column("cart_id", sa.BigInteger(), nullable=False),
        sa.Column("promotion_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["cart_id"],
            ["carts.id"],
            name=op.f("fk_cart_promotions_cart_id_carts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["promotion_id"],
            ["promotions.id"],
            name=op.f("fk_cart_promotions_promotion_id_promotions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("cart_id", "promotion_id", name=op.f("pk_cart_promotions")),
    )
    op.create_index(
        op.f("ix_cart_promotions_promotion_id"), "cart_promotions", ["promotion_id"], unique=False
    )
    op.create_table(
        "order_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.String(length=500), server_default="", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_events_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_order_events_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_events")),
    )
    op.create_index(
        "uq_order_events_order_sequence", "order_events", ["order_id", "sequence"], unique=True
    )
    op.create_table(
        "order_lines",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("variant_id", sa.BigInteger(), nullable=True),
        sa.Column("product_id", sa.BigInteger(), nullable=True),
        sa.Column("product_name", sa.String(length=250), nullable=False),
        sa.Column("variant_name", sa.String(length=250), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_amount", sa.BigInteger(), nullable=False),
        sa.Column("discount_amount", sa.BigInteger(), nullable=False),
        sa.Column("tax_rate", sa.Numeric(precision=6, scale=3), nullable=False),
        sa.Column("tax_amount", sa.BigInteger(), nullable=False),
        sa.Column("total_amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_order_lines_quantity_positive")),
        sa.CheckConstraint(
            "unit_price_amount >= 0 AND discount_amount >= 0 AND tax_amount >= 0 AND total_amount >= 0",
            name=op.f("ck_order_lines_amounts_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_lines_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_order_lines_product_id_products"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["variants.id"],
            name=op.f("fk_order_lines_variant_id_variants"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_lines")),
    )
    op.create_index("ix_order_lines_order_id", "order_lines", ["order_id", "id"], unique=False)
    op.create_index("ix_order_lines_variant_id", "order_lines", ["variant_id"], unique=False)
    op.create_table(
        "payments",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("gateway", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("psp_reference", sa.String(length=255), server_default="", nullable=False),
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
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'declined', 'failed')",
            name=op.f("ck_payments_status"),
        ),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_payments_amount_non_negative")),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_payments_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    op.create_index("ix_payments_order_id", "payments", ["order_id"], unique=False)
    op.create_table(
        "promotion_redemptions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("promotion_id", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_promotion_redemptions_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["promotion_id"],
            ["promotions.id"],
            name=op.f("fk_promotion_redemptions_promotion_id_promotions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_promotion_redemptions_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotion_redemptions")),
    )
    op.create_index(
        "ix_promotion_redemptions_promotion_email",
        "promotion_redemptions",
        ["promotion_id", "email"],
        unique=False,
    )
    op.create_index(
        "ix_promotion_redemptions_promotion_user",
        "promotion_redemptions",
        ["promotion_id", "user_id"],
        unique=False,
    )
    op.create_index(
        "uq_promotion_redemptions_promotion_order",
        "promotion_redemptions",
        ["promotion_id", "order_id"],
        unique=True,
    )
    op.create_table(
        "stock_reservations",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("cart_id", sa.BigInteger(), nullable=False),
        sa.Column("variant_id", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_stock_reservations_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["cart_id"],
            ["carts.id"],
            name=op.f("fk_stock_reservations_cart_id_carts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["variants.id"],
            name=op.f("fk_stock_reservations_variant_id_variants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_reservations")),
    )
    op.create_index(
        "ix_stock_reservations_variant_expires",
        "stock_reservations",
        ["variant_id", "expires_at"],
        unique=False,
    )
    op.create_index(
        "uq_stock_reservations_cart_variant",
        "stock_reservations",
        ["cart_id", "variant_id"],
        unique=True,
    )
    op.create_table(
        "order_allocations",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("order_line_id", sa.BigInteger(), nullable=False),
        sa.Column("variant_id", sa.BigInteger(), nullable=True),
        sa.Column("warehouse_id", sa.BigInteger(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_order_allocations_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_lines.id"],
            name=op.f("fk_order_allocations_order_line_id_order_lines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["variants.id"],
            name=op.f("fk_order_allocations_variant_id_variants"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_order_allocations_warehouse_id_warehouses"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_allocations")),
    )
    op.create_index(
        "ix_order_allocations_order_line_id", "order_allocations", ["order_line_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_order_allocations_order_line_id", table_name="order_allocations")
    op.drop_table("order_allocations")
    op.drop_index("uq_stock_reservations_cart_variant", table_name="stock_reservations")
    op.drop_index("ix_stock_reservations_variant_expires", table_name="stock_reservations")
    op.drop_table("stock_reservations")
    op.drop_index("uq_promotion_redemptions_promotion_order", table_name="promotion_redemptions")
    op.drop_index("ix_promotion_redemptions_promotion_user", table_name="promotion_redemptions")
    op.drop_index("ix_promotion_redemptions_promotion_email", table_name="promotion_redemptions")
    op.drop_table("promotion_redemptions")
    op.drop_index("ix_payments_order_id", table_name="payments")
    op.drop_table("payments")
    op.drop_index("ix_order_lines_variant_id", table_name="order_lines")
    op.drop_index("ix_order_lines_order_id", table_name="order_lines")
    op.drop_table("order_lines")
    op.drop_index("uq_order_events_order_sequence", table_name="order_events")
    op.drop_table("order_events")
    op.drop_index(op.f("ix_cart_promotions_promotion_id"), table_name="cart_promotions")
    op.drop_table("cart_promotions")
    op.drop_index(
        "uq_cart_lines_cart_variant",
        table_name="cart_lines",
        postgresql_where=sa.text("variant_id IS NOT NULL"),
    )
    op.drop_index("ix_cart_lines_variant_id", table_name="cart_lines")
    op.drop_index("ix_cart_lines_cart_id", table_name="cart_lines")
    op.drop_table("cart_lines")
    op.drop_index(op.f("ix_promotion_products_product_id"), table_name="promotion_products")
    op.drop_table("promotion_products")
    op.drop_index("uq_orders_token", table_name="orders")
    op.drop_index("uq_orders_number", table_name="orders")
    op.drop_index("uq_orders_cart_id", table_name="orders")
    op.drop_index("ix_orders_user_created", table_name="orders")
    op.drop_index("ix_orders_created", table_name="orders")
    op.drop_table("orders")
    op.drop_index("uq_carts_token", table_name="carts")
    op.drop_index(
        "uq_carts_open_user",
        table_name="carts",
        postgresql_where=sa.text("completed_at IS NULL AND user_id IS NOT NULL"),
    )
    op.drop_index(
        "ix_carts_anonymous_updated",
        table_name="carts",
        postgresql_where=sa.text("user_id IS NULL AND completed_at IS NULL"),
    )
    op.drop_table("carts")
    op.drop_index("uq_shipping_zone_areas_zone_country_region", table_name="shipping_zone_areas")
    op.drop_index("ix_shipping_zone_areas_country", table_name="shipping_zone_areas")
    op.drop_table("shipping_zone_areas")
    op.drop_index("ix_shipping_methods_zone_id", table_name="shipping_methods")
    op.drop_table("shipping_methods")
    op.drop_index(op.f("ix_promotion_categories_category_id"), table_name="promotion_categories")
    op.drop_table("promotion_categories")
    op.drop_index("uq_tax_rates_country_region", table_name="tax_rates")
    op.drop_table("tax_rates")
    op.drop_table("shipping_zones")
    op.drop_index(
        "uq_promotions_code", table_name="promotions", postgresql_where=sa.text("code IS NOT NULL")
    )
    op.drop_index(
        "ix_promotions_automatic", table_name="promotions", postgresql_where=sa.text("code IS NULL")
    )
    op.drop_table("promotions")
    op.execute(sa.schema.DropSequence(sa.Sequence("order_number_seq")))
