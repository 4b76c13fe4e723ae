"""Contract renewals: one row per contract with an end date; the renewal timer makes its task.

A statement trigger NOTIFYs channel `contract_renewals` on insert or update, so the worker's
renewal timer wakes for a new or earlier deadline.

Revision ID: 0006_time
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0006_time"
down_revision = "0007_limits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contract_renewals",
        sa.Column("contract_id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("customer_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("ends_on", sa.Date, nullable=False),
        sa.Column("fire_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("event_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("correlation_id", sa.String(100), nullable=False),
        sa.Column("task_id", pg.UUID(as_uuid=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_contract_renewals_customer_id", "contract_renewals", ["customer_id"])
    op.create_index(
        "ix_contract_renewals_due", "contract_renewals", ["fire_at"], postgresql_where=sa.text("status = 'pending'")
    )
    op.execute(
        """
        CREATE FUNCTION contract_renewals_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('contract_renewals', '');
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER contract_renewals_changed AFTER INSERT OR UPDATE ON contract_renewals "
        "FOR EACH STATEMENT EXECUTE FUNCTION contract_renewals_notify()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER contract_renewals_changed ON contract_renewals")
    op.execute("DROP FUNCTION contract_renewals_notify()")
    op.drop_table("contract_renewals")
