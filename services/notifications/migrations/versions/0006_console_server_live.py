"""Live updates: each change of a row of `tasks` notifies channel `crm_live_tasks` at commit.

The api's `GET /v1/live` (crm_shared.http.live) listens there and streams the changed record
to the subscribers whose filters match.

Revision ID: 0006_console_server
"""

from crm_shared.migration_ops import create_live_trigger_v1, drop_live_trigger_v1

revision = "0006_console_server"
down_revision = "0006_time"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_live_trigger_v1("tasks", "crm_live_tasks", ("id", "customer_id", "assignee", "team"))


def downgrade() -> None:
    drop_live_trigger_v1("tasks")
