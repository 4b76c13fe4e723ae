"""SLA clock changes NOTIFY the earliest running deadline they wrote, and nothing else.

The timer (feedback/sla/timer.py) wakes only for a deadline earlier than the one it sleeps until:
the payload is that deadline in epoch seconds. A statement that leaves no clock running (met,
paused, breached) has no deadline to announce and notifies nothing. Transition tables need one
trigger per event.

Revision ID: 0008_feedback
"""

from alembic import op

revision = "0008_feedback"
down_revision = "0007_outreach"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP TRIGGER sla_clocks_changed ON sla_clocks")
    op.execute(
        """
        CREATE OR REPLACE FUNCTION sla_clocks_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            earliest timestamptz;
        BEGIN
            SELECT min(due_at) INTO earliest FROM changed_clocks WHERE status = 'running';
            IF earliest IS NOT NULL THEN
                PERFORM pg_notify('sla_clocks', extract(epoch FROM earliest)::text);
            END IF;
            RETURN NULL;
        END $$;
        """
    )
    for name, event in (("sla_clocks_inserted", "INSERT"), ("sla_clocks_updated", "UPDATE")):
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON sla_clocks "
            "REFERENCING NEW TABLE AS changed_clocks FOR EACH STATEMENT EXECUTE FUNCTION sla_clocks_notify()"
        )


def downgrade() -> None:
    op.execute("DROP TRIGGER sla_clocks_inserted ON sla_clocks")
    op.execute("DROP TRIGGER sla_clocks_updated ON sla_clocks")
    op.execute(
        """
        CREATE OR REPLACE FUNCTION sla_clocks_notify() RETURNS trigger LANGUAGE plpgsql AS $$
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
