"""Customers, plus the platform tables (outbox, inbox, idempotency keys).

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from crm_shared.migration_ops import create_platform_tables_v1, drop_platform_tables_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_platform_tables_v1()
    op.create_table(
        "customers",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("tier", sa.String(20), nullable=False),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index(
        "uq_customers_email", "customers", ["email"], unique=True, postgresql_where=sa.text("email IS NOT NULL")
    )
    op.create_index(
        "uq_customers_phone", "customers", ["phone"], unique=True, postgresql_where=sa.text("phone IS NOT NULL")
    )
    op.create_index("ix_customers_created", "customers", ["created_at", "id"])
    op.create_index("ix_customers_owner", "customers", ["owner"])
    op.create_index("ix_customers_tier", "customers", ["tier"])


def downgrade() -> None:
    op.drop_table("customers")
    drop_platform_tables_v1()
