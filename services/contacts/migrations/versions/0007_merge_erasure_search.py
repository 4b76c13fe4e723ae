"""Merged-record redirects, erasure tombstones and name search.

Revision ID: 0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.add_column("customers", sa.Column("status", sa.String(10), nullable=False, server_default="active"))
    op.add_column(
        "customers", sa.Column("merged_into", pg.UUID(as_uuid=True), sa.ForeignKey("customers.id"), nullable=True)
    )
    op.add_column("customers", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_customers_merged_into", "customers", ["merged_into"], postgresql_where=sa.text("merged_into IS NOT NULL")
    )
    op.create_index(
        "ix_customers_name_trgm",
        "customers",
        ["name"],
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
    )
    op.create_table(
        "customer_secondary_identifiers",
        sa.Column("kind", sa.String(10), primary_key=True),
        sa.Column("value", sa.String(320), primary_key=True),
        sa.Column(
            "customer_id", pg.UUID(as_uuid=True), sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("merged_from", pg.UUID(as_uuid=True), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_customer_secondary_identifiers_customer_id", "customer_secondary_identifiers", ["customer_id"])


def downgrade() -> None:
    op.drop_table("customer_secondary_identifiers")
    op.drop_index("ix_customers_name_trgm", "customers")
    op.drop_index("ix_customers_merged_into", "customers")
    op.drop_column("customers", "erased_at")
    op.drop_column("customers", "merged_into")
    op.drop_column("customers", "status")
    # pg_trgm stays: other objects may use it, and keeping it is harmless.
