"""Record-level access: the customer's owning team and partner (crm_shared.access).

Revision ID: 0010_access
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_access"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("owner_team", sa.String(100), nullable=True))
    op.add_column("customers", sa.Column("partner", sa.String(200), nullable=True))
    op.create_index(
        "ix_customers_owner_team", "customers", ["owner_team"], postgresql_where=sa.text("owner_team IS NOT NULL")
    )
    op.create_index("ix_customers_partner", "customers", ["partner"], postgresql_where=sa.text("partner IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_customers_partner", table_name="customers")
    op.drop_index("ix_customers_owner_team", table_name="customers")
    op.drop_column("customers", "partner")
    op.drop_column("customers", "owner_team")
