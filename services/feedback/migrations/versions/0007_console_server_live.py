"""Live updates: each change of a row of `feedback` notifies channel `crm_live_feedback` at commit.

The api's `GET /v1/live` (crm_shared.http.live) listens there and streams the changed record
to the subscribers whose filters match.

Revision ID: 0007_console_server
"""

from crm_shared.migration_ops import create_live_trigger_v1, drop_live_trigger_v1

revision = "0007_console_server"
down_revision = "0007_limits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_live_trigger_v1("feedback", "crm_live_feedback", ("id", "customer_id"))


def downgrade() -> None:
    drop_live_trigger_v1("feedback")
