"""Customer projection: industry, channel consent, language and time zone from the contact card.

Revision ID: 0003
"""

from crm_shared.migration_ops import add_customer_projection_profile_v1, drop_customer_projection_profile_v1

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_customer_projection_profile_v1()


def downgrade() -> None:
    drop_customer_projection_profile_v1()
