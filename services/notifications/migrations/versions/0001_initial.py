"""Tasks, the customer projection, and the platform tables.

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
        "tasks",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("customer_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("playbook", sa.String(60), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("priority", sa.String(20), nullable=False),
        sa.Column("assignee", sa.String(200), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cause_event_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("cause_event_type", sa.String(200), nullable=False),
        sa.Column("correlation_id", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("cause_event_id", "playbook", name="uq_tasks_cause_playbook"),
    )
    op.create_index("ix_tasks_customer", "tasks", ["customer_id", "created_at", "id"])
    op.create_index("ix_tasks_assignee_status", "tasks", ["assignee", "status", "due_at"])


def downgrade() -> None:
    op.drop_table("tasks")
    drop_customer_projection_v1()
    drop_platform_tables_v1()
