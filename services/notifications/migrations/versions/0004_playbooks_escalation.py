"""Playbooks, task lifecycle, assignment rules and escalation timers.

- `playbook_versions` (every version of every playbook; the shipped defaults are version 0 in
  code), `playbook_state` (one row: a number every change bumps, so workers reload their cache),
  `playbook_effects` (events that stem from a playbook's task: they never trigger it again).
- `teams`: queues with round-robin assignment, lead and manager for escalation.
- `tasks`: one task per (cause event, playbook, action key); lifecycle (claimed_by, outcome,
  closed_at) and escalation (level, next_escalation_at, escalated_at). A statement trigger
  NOTIFYs channel `task_escalations` when tasks are inserted or updated, so the worker's timer
  re-reads the earliest escalation deadline as soon as the change commits.

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "playbook_versions",
        sa.Column("key", sa.String(60), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("definition", pg.JSONB, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "playbook_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO playbook_state (id, version) VALUES (1, 1)")
    op.create_table(
        "playbook_effects",
        sa.Column("event_id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("playbook", sa.String(60), primary_key=True),
    )
    op.create_table(
        "teams",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("members", pg.JSONB, nullable=False, server_default="[]"),
        sa.Column("lead", sa.String(200), nullable=True),
        sa.Column("manager", sa.String(200), nullable=True),
        sa.Column("escalate_after_minutes", sa.Float, nullable=False, server_default="240"),
        sa.Column("assigned", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )

    op.add_column("tasks", sa.Column("action_key", sa.String(80), nullable=True))
    # Tasks made before playbooks had several actions: each was its playbook's first action.
    op.execute("UPDATE tasks SET action_key = playbook || chr(58) || '0'")
    op.alter_column("tasks", "action_key", nullable=False)
    op.add_column("tasks", sa.Column("team", sa.String(100), nullable=True))
    op.add_column("tasks", sa.Column("created_event_id", pg.UUID(as_uuid=True), nullable=True))
    op.add_column("tasks", sa.Column("claimed_by", sa.String(200), nullable=True))
    op.add_column("tasks", sa.Column("outcome", sa.Text, nullable=True))
    op.add_column("tasks", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("tasks", sa.Column("escalation_level", sa.Integer, nullable=False, server_default="0"))
    op.add_column("tasks", sa.Column("next_escalation_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("tasks", sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True))
    # Open tasks made before escalation existed escalate from their due time like new ones.
    op.execute("UPDATE tasks SET next_escalation_at = due_at WHERE status IN ('open', 'claimed')")
    op.drop_constraint("uq_tasks_cause_playbook", "tasks", type_="unique")
    op.create_unique_constraint("uq_tasks_cause_action", "tasks", ["cause_event_id", "playbook", "action_key"])
    op.create_index("ix_tasks_created_event", "tasks", ["created_event_id"])
    op.create_index(
        "ix_tasks_next_escalation",
        "tasks",
        ["next_escalation_at"],
        postgresql_where=sa.text("next_escalation_at IS NOT NULL AND status IN ('open', 'claimed')"),
    )
    op.execute(
        """
        CREATE FUNCTION tasks_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('task_escalations', '');
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER tasks_changed AFTER INSERT OR UPDATE ON tasks "
        "FOR EACH STATEMENT EXECUTE FUNCTION tasks_notify()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER tasks_changed ON tasks")
    op.execute("DROP FUNCTION tasks_notify()")
    op.drop_index("ix_tasks_next_escalation", "tasks")
    op.drop_index("ix_tasks_created_event", "tasks")
    op.drop_constraint("uq_tasks_cause_action", "tasks", type_="unique")
    op.create_unique_constraint("uq_tasks_cause_playbook", "tasks", ["cause_event_id", "playbook"])
    for column in (
        "escalated_at",
        "next_escalation_at",
        "escalation_level",
        "closed_at",
        "outcome",
        "claimed_by",
        "created_event_id",
        "team",
        "action_key",
    ):
        op.drop_column("tasks", column)
    op.drop_table("teams")
    op.drop_table("playbook_effects")
    op.drop_table("playbook_state")
    op.drop_table("playbook_versions")
