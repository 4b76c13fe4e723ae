"""Wake-ups that say what changed: the tasks trigger names its escalation deadline, webhook subscriptions announce changes.

Before, every insert or update of `tasks` NOTIFYed channel `task_escalations` with an empty
payload, and the worker's escalation timer answered each one with two transactions (fire what is
due, re-read the earliest deadline): two round trips per complaint for nothing, since a new
task's deadline is hours away. Now the payload is the earliest pending deadline among the rows
the statement wrote (epoch seconds), and no notification is sent when they hold none (a task
closed or done): the timer (crm_shared.timers) wakes only for a deadline earlier than the one it
plans for, and then without a query. Two statement triggers (insert, update) with transition
tables, since PostgreSQL allows a transition table on one event per trigger.

And `webhook_subscriptions` NOTIFYs channel `webhook_subscriptions` on any change, so the worker's
webhooks consumer keeps the active subscriptions in memory and drops them at once
(notifications.webhooks.watch) instead of reading the table for every event; `playbook_state`
NOTIFYs channel `playbooks` when a change bumps the version, so an event with no causation
costs the playbook engine no version query while nothing changed.
"""

from alembic import op

revision = "0008_notify"
down_revision = "0006_outreach"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP TRIGGER tasks_changed ON tasks")
    op.execute("DROP FUNCTION tasks_notify()")
    op.execute(
        """
        CREATE FUNCTION tasks_notify_deadline() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            earliest timestamptz;
        BEGIN
            SELECT min(next_escalation_at) INTO earliest FROM written
            WHERE next_escalation_at IS NOT NULL AND status IN ('open', 'claimed');
            IF earliest IS NOT NULL THEN
                PERFORM pg_notify('task_escalations', extract(epoch FROM earliest)::text);
            END IF;
            RETURN NULL;
        END $$
        """
    )
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER tasks_{event.lower()}_deadline AFTER {event} ON tasks "
            "REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION tasks_notify_deadline()"
        )

    op.execute(
        """
        CREATE FUNCTION webhook_subscriptions_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('webhook_subscriptions', '');
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER webhook_subscriptions_changed AFTER INSERT OR UPDATE OR DELETE ON webhook_subscriptions "
        "FOR EACH STATEMENT EXECUTE FUNCTION webhook_subscriptions_notify()"
    )
    op.execute(
        """
        CREATE FUNCTION playbook_state_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('playbooks', '');
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER playbook_state_changed AFTER INSERT OR UPDATE OR DELETE ON playbook_state "
        "FOR EACH STATEMENT EXECUTE FUNCTION playbook_state_notify()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER playbook_state_changed ON playbook_state")
    op.execute("DROP FUNCTION playbook_state_notify()")
    op.execute("DROP TRIGGER webhook_subscriptions_changed ON webhook_subscriptions")
    op.execute("DROP FUNCTION webhook_subscriptions_notify()")
    for event in ("INSERT", "UPDATE"):
        op.execute(f"DROP TRIGGER tasks_{event.lower()}_deadline ON tasks")
    op.execute("DROP FUNCTION tasks_notify_deadline()")
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
