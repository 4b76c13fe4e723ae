"""Customer scores, score history, the customer projection, and the platform tables.

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
        "customer_scores",
        sa.Column("customer_id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("satisfaction", sa.Float, nullable=False),
        sa.Column("health", sa.Float, nullable=False),
        sa.Column("band", sa.String(20), nullable=False),
        sa.Column("complaint_weight", sa.Float, nullable=False),
        sa.Column("praise_weight", sa.Float, nullable=False),
        sa.Column("complaints", sa.Integer, nullable=False),
        sa.Column("praises", sa.Integer, nullable=False),
        sa.Column("inputs_as_of", sa.DateTime(timezone=True), nullable=True),
        sa.Column("model_version", sa.String(40), nullable=False),
        sa.Column("explanation", pg.JSONB, nullable=False),
        sa.Column("last_event_id", pg.UUID(as_uuid=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "score_history",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("customer_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("satisfaction", sa.Float, nullable=False),
        sa.Column("health", sa.Float, nullable=False),
        sa.Column("band", sa.String(20), nullable=False),
        sa.Column("previous_satisfaction", sa.Float, nullable=True),
        sa.Column("previous_health", sa.Float, nullable=True),
        sa.Column("previous_band", sa.String(20), nullable=True),
        sa.Column("cause_event_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("cause_event_type", sa.String(200), nullable=False),
        sa.Column("model_version", sa.String(40), nullable=False),
        sa.Column("explanation", pg.JSONB, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_score_history_customer", "score_history", ["customer_id", "computed_at", "id"])


def downgrade() -> None:
    op.drop_table("score_history")
    op.drop_table("customer_scores")
    drop_customer_projection_v1()
    drop_platform_tables_v1()
