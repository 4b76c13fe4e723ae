"""Survey answers name the campaign invitation (and question) they answer; recurring complaint
themes remember when they last went to management.

Revision ID: 0007_outreach
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0007_outreach"
down_revision = "0007_loop"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("feedback", sa.Column("invitation_id", pg.UUID(as_uuid=True), nullable=True))
    op.add_column("feedback", sa.Column("question", sa.String(40), nullable=True))
    op.create_index(
        "ix_feedback_complaint_theme",
        "feedback",
        ["category", "product", "received_at"],
        postgresql_where=sa.text("type = 'complaint'"),
    )
    op.create_table(
        "theme_escalations",
        sa.Column("category", sa.String(60), primary_key=True),
        sa.Column("product", sa.String(100), primary_key=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("customers", sa.Integer, nullable=False),
        sa.Column("complaints", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("theme_escalations")
    op.drop_index("ix_feedback_complaint_theme", table_name="feedback")
    op.drop_column("feedback", "question")
    op.drop_column("feedback", "invitation_id")
