"""Lifecycle rules: versioned rules, when the stage last moved, and the manual stage that holds.

Existing customers' stages count as moved at their last update, so a churned customer's old
orders do not win them back.

Revision ID: 0010_time
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0010_time"
down_revision = "0010_limits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "customers",
        sa.Column("lifecycle_changed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=True),
    )
    op.execute("UPDATE customers SET lifecycle_changed_at = updated_at")
    op.add_column("customers", sa.Column("lifecycle_override_reason", sa.String(500), nullable=True))
    op.add_column("customers", sa.Column("lifecycle_override_by", sa.String(200), nullable=True))
    op.add_column("customers", sa.Column("lifecycle_override_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("customers", sa.Column("credit_noticed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("customers", sa.Column("entitlements", pg.ARRAY(sa.String(50)), nullable=False, server_default="{}"))
    op.execute("UPDATE customers SET credit_noticed_at = updated_at WHERE credit_standing <> 'good'")
    op.create_table(
        "lifecycle_rules",
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("rules", pg.JSONB, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("lifecycle_rules")
    for column in (
        "entitlements",
        "credit_noticed_at",
        "lifecycle_override_at",
        "lifecycle_override_by",
        "lifecycle_override_reason",
        "lifecycle_changed_at",
    ):
        op.drop_column("customers", column)
