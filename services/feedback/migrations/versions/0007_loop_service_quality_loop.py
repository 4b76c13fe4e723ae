"""Every request type is a case; cause, remedy and compensation; the suggestion backlog.

Inquiries and suggestions recorded before become cases in `received` (they get no SLA clocks:
nothing was promised when they arrived). The cause taxonomy is data: the default codes are
seeded here and admins change them through `PUT /v1/cause-codes/{code}`.

Revision ID: 0007_loop
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0007_loop"
down_revision = "0007_console_server"
branch_labels = None
depends_on = None

# (code, label): the causes behind the complaint categories (product, service, purchase).
DEFAULT_CAUSES = [
    ("product.defect", "Manufacturing or material defect"),
    ("product.design", "Design or specification falls short of the use"),
    ("product.documentation", "Missing or wrong documentation"),
    ("delivery.late", "Late delivery"),
    ("delivery.damaged", "Damaged in transit"),
    ("delivery.wrong_item", "Wrong or incomplete delivery"),
    ("service.slow_response", "Slow response or handling"),
    ("service.staff_conduct", "Staff courtesy or conduct"),
    ("service.broken_promise", "A promise to the customer was not kept"),
    ("billing.error", "Invoice or price error"),
    ("customer.misuse", "Used outside the specification (customer side)"),
    ("supplier.failure", "A supplier or partner failed"),
]


def upgrade() -> None:
    cause_codes = op.create_table(
        "cause_codes",
        sa.Column("code", sa.String(60), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_cause_codes"),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        cause_codes,
        [
            {"code": c, "label": label, "description": None, "active": True, "updated_by": "default", "updated_at": now}
            for c, label in DEFAULT_CAUSES
        ],
    )
    op.create_table(
        "complaint_resolutions",
        sa.Column("feedback_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("cause_code", sa.String(60), nullable=False),
        sa.Column("remedy", sa.Text, nullable=False),
        sa.Column("compensation_amount", sa.Numeric(14, 2), nullable=True),
        sa.Column("compensation_currency", sa.String(3), nullable=True),
        sa.Column("compensation_approved_by", sa.String(200), nullable=True),
        sa.Column("compensation_approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("compensation_paid_on", sa.Date, nullable=True),
        sa.Column("resolved_by", sa.String(200), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("feedback_id", name="pk_complaint_resolutions"),
        sa.ForeignKeyConstraint(
            ["feedback_id"], ["feedback.id"], name="fk_complaint_resolutions_feedback_id_feedback", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["cause_code"], ["cause_codes.code"], name="fk_complaint_resolutions_cause_code_cause_codes"
        ),
    )
    op.create_index("ix_complaint_resolutions_resolved_at", "complaint_resolutions", ["resolved_at"])
    op.create_table(
        "backlog_items",
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("theme_key", sa.String(200), nullable=False),
        sa.Column("product", sa.String(100), nullable=True),
        sa.Column("category", sa.String(60), nullable=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("priority", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("votes", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_backlog_items"),
        sa.UniqueConstraint("theme_key", name="uq_backlog_items_theme_key"),
    )
    op.create_index("ix_backlog_items_votes", "backlog_items", ["votes", "created_at"])
    op.create_table(
        "backlog_links",
        sa.Column("feedback_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("item_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("customer_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("linked_by", sa.String(200), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("feedback_id", name="pk_backlog_links"),
        sa.ForeignKeyConstraint(
            ["feedback_id"], ["feedback.id"], name="fk_backlog_links_feedback_id_feedback", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["backlog_items.id"], name="fk_backlog_links_item_id_backlog_items", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_backlog_links_item", "backlog_links", ["item_id", "customer_id"])
    op.execute(
        "UPDATE feedback SET status = 'received' WHERE type IN ('inquiry', 'suggestion') AND status = 'recorded'"
    )


def downgrade() -> None:
    op.execute("UPDATE feedback SET status = 'recorded' WHERE type IN ('inquiry', 'suggestion', 'technical_support')")
    op.drop_table("backlog_links")
    op.drop_table("backlog_items")
    op.drop_table("complaint_resolutions")
    op.drop_table("cause_codes")
