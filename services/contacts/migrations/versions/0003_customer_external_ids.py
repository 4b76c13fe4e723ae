"""Customers' ids in other systems (call centre, ERP, web shop).

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_external_ids",
        sa.Column("system", sa.String(50), primary_key=True),
        sa.Column("external_id", sa.String(200), primary_key=True),
        sa.Column(
            "customer_id", pg.UUID(as_uuid=True), sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
        ),
    )
    op.create_index("ix_customer_external_ids_customer_id", "customer_external_ids", ["customer_id"])


def downgrade() -> None:
    op.drop_table("customer_external_ids")
