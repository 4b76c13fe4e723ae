"""Customer aliases and erasure tombstones, for crm.contact.merged.v1 and crm.contact.erased.v1.

Revision ID: 0002
"""

from crm_shared.migration_ops import create_customer_aliases_v1, drop_customer_aliases_v1

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_customer_aliases_v1()


def downgrade() -> None:
    drop_customer_aliases_v1()
