"""Messages to customers and staff, delivery log, webhook subscriptions and deliveries.

Both queues notify channel `deliveries` when rows are inserted or their next attempt time
moves, so the worker's delivery loop sends within milliseconds of the commit (NOTIFY is
delivered at commit, never on rollback).

Revision ID: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

PENDING = "status IN ('queued', 'scheduled', 'retrying', 'sending')"


def _now() -> sa.TextClause:
    return sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "message_templates",
        sa.Column("key", sa.String(60), primary_key=True),
        sa.Column("variants", pg.JSONB, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    )
    op.create_table(
        "staff_members",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("role", sa.String(20), nullable=True),
        sa.Column("reports_to", sa.String(200), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    )
    op.create_table(
        "messages",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("customer_id", pg.UUID(as_uuid=True), nullable=True),
        sa.Column("audience", sa.String(10), nullable=False),
        sa.Column("recipient", sa.String(2000), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("template", sa.String(60), nullable=True),
        sa.Column("context", pg.JSONB, nullable=False),
        sa.Column("language", sa.String(35), nullable=True),
        sa.Column("to_address", sa.String(2000), nullable=True),
        sa.Column("subject", sa.Text, nullable=True),
        sa.Column("body", sa.Text, nullable=True),
        sa.Column("trigger_event_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("trigger_event_type", sa.String(200), nullable=False),
        sa.Column("playbook", sa.String(60), nullable=False),
        sa.Column("action_key", sa.String(100), nullable=False),
        sa.Column("correlation_id", sa.String(100), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_reason", sa.Text, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("attempts_before_requeue", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("trigger_event_id", "playbook", "action_key", name="uq_messages_trigger_action"),
    )
    op.create_index("ix_messages_customer", "messages", ["customer_id", "created_at", "id"])
    op.create_index("ix_messages_status", "messages", ["status", "created_at", "id"])
    op.create_index("ix_messages_due", "messages", ["next_attempt_at"], postgresql_where=sa.text(PENDING))
    op.create_table(
        "message_attempts",
        sa.Column(
            "message_id", pg.UUID(as_uuid=True), sa.ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("event_types", pg.ARRAY(sa.String(200)), nullable=False),
        sa.Column("description", sa.String(500), nullable=True),
        sa.Column("secret", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("subscription_id", pg.UUID(as_uuid=True), sa.ForeignKey("webhook_subscriptions.id"), nullable=False),
        sa.Column("event_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("customer_id", pg.UUID(as_uuid=True), nullable=True),
        sa.Column("payload", pg.JSONB, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_reason", sa.Text, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("attempts_before_requeue", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.Integer, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("subscription_id", "event_id", name="uq_webhook_deliveries_subscription_event"),
    )
    op.create_index("ix_webhook_deliveries_subscription", "webhook_deliveries", ["subscription_id", "created_at", "id"])
    op.create_index("ix_webhook_deliveries_customer", "webhook_deliveries", ["customer_id"])
    op.create_index(
        "ix_webhook_deliveries_due", "webhook_deliveries", ["next_attempt_at"], postgresql_where=sa.text(PENDING)
    )
    op.create_table(
        "webhook_attempts",
        sa.Column(
            "delivery_id",
            pg.UUID(as_uuid=True),
            sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.execute(
        """
        CREATE FUNCTION deliveries_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('deliveries', '');
            RETURN NULL;
        END $$
        """
    )
    for table in ("messages", "webhook_deliveries"):
        op.execute(
            f"CREATE TRIGGER {table}_due AFTER INSERT OR UPDATE OF next_attempt_at ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION deliveries_notify()"
        )


def downgrade() -> None:
    for table in ("messages", "webhook_deliveries"):
        op.execute(f"DROP TRIGGER {table}_due ON {table}")
    op.execute("DROP FUNCTION deliveries_notify()")
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_subscriptions")
    op.drop_table("message_attempts")
    op.drop_table("messages")
    op.drop_table("staff_members")
    op.drop_table("message_templates")
