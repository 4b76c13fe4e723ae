"""Customer projection: the owning team and partner from the contact card (record-level access).

Revision ID: 0006_access
"""

from crm_shared.migration_ops import add_customer_projection_reach_v1, drop_customer_projection_reach_v1

revision = "0006_access"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_customer_projection_reach_v1()


def downgrade() -> None:
    drop_customer_projection_reach_v1()
