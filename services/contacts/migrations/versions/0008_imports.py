"""Bulk import jobs, their staged rows and their per-row reports.

Revision ID: 0008
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_jobs",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("format", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("correlation_id", sa.String(100), nullable=True),
        sa.Column("rows_received", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("rows_processed", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("created", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("updated", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("unchanged", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("failed", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("claimed_by", pg.UUID(as_uuid=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_import_jobs_created", "import_jobs", ["created_at", "id"])
    op.create_index(
        "ix_import_jobs_pending",
        "import_jobs",
        ["created_at"],
        postgresql_where=sa.text("status IN ('queued', 'running')"),
    )
    op.create_table(
        "import_rows",
        sa.Column(
            "job_id", pg.UUID(as_uuid=True), sa.ForeignKey("import_jobs.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("row_number", sa.Integer, primary_key=True),
        sa.Column("line", sa.Integer, nullable=False),
        sa.Column("raw", pg.JSONB, nullable=True),
        sa.Column("problem", sa.Text, nullable=True),
    )
    op.create_table(
        "import_errors",
        sa.Column(
            "job_id", pg.UUID(as_uuid=True), sa.ForeignKey("import_jobs.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("row_number", sa.Integer, primary_key=True),
        sa.Column("line", sa.Integer, nullable=False),
        sa.Column("external_id", sa.String(300), nullable=True),
        sa.Column("errors", pg.JSONB, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("import_errors")
    op.drop_table("import_rows")
    op.drop_index("ix_import_jobs_pending", "import_jobs")
    op.drop_index("ix_import_jobs_created", "import_jobs")
    op.drop_table("import_jobs")
