"""Feedback, the customer projection, and the platform tables.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from crm_shared.migration_ops import (
    create_customer_projection_v1,
    create_platform_tables_v1,
    drop_customer_projection_v1,
    drop_platform_tables_v1,
)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_platform_tables_v1()
    create_customer_projection_v1()
    op.create_table(
        "feedback",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("customer_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("category", sa.String(60), nullable=True),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("external_ref", sa.String(200), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("customer_tier", sa.String(20), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_feedback_customer_received", "feedback", ["customer_id", "received_at", "id"])


def downgrade() -> None:
    op.drop_table("feedback")
    drop_customer_projection_v1()
    drop_platform_tables_v1()
