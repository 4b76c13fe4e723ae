"""Privacy: the access log of personal-data reads, and indexes for the retention prune.

Revision ID: 0006_limits
"""

from crm_shared.migration_ops import create_privacy_tables_v1, drop_privacy_tables_v1

revision = "0006_limits"
down_revision = "0006_access"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_privacy_tables_v1()


def downgrade() -> None:
    drop_privacy_tables_v1()
