"""Organisations and the people who belong to them.

Revision ID: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("kind", sa.String(20), nullable=False, server_default="organisation"))
    op.add_column(
        "customers",
        sa.Column("organisation_id", pg.UUID(as_uuid=True), sa.ForeignKey("customers.id"), nullable=True),
    )
    op.create_index("ix_customers_organisation", "customers", ["organisation_id"])


def downgrade() -> None:
    op.drop_index("ix_customers_organisation", "customers")
    op.drop_column("customers", "organisation_id")
    op.drop_column("customers", "kind")
