"""Segment thresholds: one segment of an indicator (the complaint rate of key accounts) may have a
stricter threshold of its own, versioned like the indicator's.

Revision ID: 0006_outreach
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_outreach"
down_revision = "0006_loop"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "indicator_segment_thresholds",
        sa.Column("scope", sa.String(300), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("indicator", sa.String(60), nullable=False),
        sa.Column("dimension", sa.String(20), nullable=False),
        sa.Column("segment", sa.String(200), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("direction", sa.String(10), nullable=False),
        sa.Column("min_sample", sa.Integer, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("removed", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("indicator_segment_thresholds")
