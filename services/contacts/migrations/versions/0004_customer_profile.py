"""The rest of the customer card: lifecycle, credit standing, segment, tags, consent, attributes.

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = [
    sa.Column("lifecycle_stage", sa.String(20), nullable=False, server_default="customer"),
    sa.Column("credit_standing", sa.String(10), nullable=False, server_default="good"),
    sa.Column("credit_reason", sa.String(500), nullable=True),
    sa.Column("region", sa.String(100), nullable=True),
    sa.Column("industry", sa.String(100), nullable=True),
    sa.Column("size", sa.String(20), nullable=True),
    sa.Column("tags", pg.ARRAY(sa.String(50)), nullable=False, server_default="{}"),
    sa.Column("consent", pg.JSONB, nullable=False, server_default="{}"),
    sa.Column("attributes", pg.JSONB, nullable=False, server_default="{}"),
]


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("customers", column)
    op.create_index("ix_customers_lifecycle", "customers", ["lifecycle_stage"])
    op.create_index("ix_customers_tags", "customers", ["tags"], postgresql_using="gin")


def downgrade() -> None:
    op.drop_index("ix_customers_tags", "customers")
    op.drop_index("ix_customers_lifecycle", "customers")
    for column in reversed(COLUMNS):
        op.drop_column("customers", column.name)
