"""Complaint cases: status history and internal notes.

The links between a follow-up answer and its complaint (survey metric, score, related feedback)
are the intake's columns (0005); the case lifecycle reads them from the event.

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
        "feedback_status_history",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "feedback_id", pg.UUID(as_uuid=True), sa.ForeignKey("feedback.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("reopened", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("changed_by", sa.String(200), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
    )
    op.create_index(
        "ix_feedback_status_history_feedback", "feedback_status_history", ["feedback_id", "changed_at", "id"]
    )
    op.create_table(
        "feedback_notes",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "feedback_id", pg.UUID(as_uuid=True), sa.ForeignKey("feedback.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_feedback_notes_feedback", "feedback_notes", ["feedback_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_table("feedback_notes")
    op.drop_table("feedback_status_history")
