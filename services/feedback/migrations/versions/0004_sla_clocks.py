"""SLA clocks: targets by severity and tier, deadlines per complaint, pauses.

A statement trigger NOTIFYs channel `sla_clocks` whenever clocks are inserted or updated, so
the worker's timer re-reads the earliest deadline as soon as the change commits (NOTIFY is
transactional: a rolled-back change wakes no one).

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
        "sla_policies",
        sa.Column("version", sa.Integer, autoincrement=False),
        sa.Column("targets", pg.JSONB, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_sla_policies"),
    )
    op.create_table(
        "sla_clocks",
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("feedback_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("clock", sa.String(20), nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("tier", sa.String(20), nullable=False),
        sa.Column("policy_version", sa.Integer, nullable=False),
        sa.Column("target_seconds", sa.Float, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("met_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pause_reason", sa.String(500), nullable=True),
        sa.Column("paused_seconds", sa.Float, nullable=False, server_default="0"),
        sa.Column("restarts", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name="pk_sla_clocks"),
        sa.UniqueConstraint("feedback_id", "clock", name="uq_sla_clocks_feedback_id_clock"),
    )
    op.create_index(
        "ix_sla_clocks_running_due", "sla_clocks", ["due_at"], postgresql_where=sa.text("status = 'running'")
    )
    op.execute(
        """
        CREATE FUNCTION sla_clocks_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('sla_clocks', '');
            RETURN NULL;
        END $$;
        """
    )
    op.execute(
        "CREATE TRIGGER sla_clocks_changed AFTER INSERT OR UPDATE ON sla_clocks "
        "FOR EACH STATEMENT EXECUTE FUNCTION sla_clocks_notify()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER sla_clocks_changed ON sla_clocks")
    op.execute("DROP FUNCTION sla_clocks_notify()")
    op.drop_index("ix_sla_clocks_running_due", "sla_clocks")
    op.drop_table("sla_clocks")
    op.drop_table("sla_policies")
