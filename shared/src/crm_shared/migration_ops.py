"""Alembic operations for the tables every service has, written once.

These are frozen "version 1" definitions: a later change to a platform table gets a new
function here and a new migration in each service, never an edit of these.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg


def create_platform_tables_v1() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("headers", pg.JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer, server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
    )
    op.create_index("ix_outbox_unsent", "outbox", ["created_at"], postgresql_where=sa.text("sent_at IS NULL"))
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(200), primary_key=True),
        sa.Column("event_id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("principal", sa.String(200), primary_key=True),
        sa.Column("operation", sa.String(200), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("response_body", pg.JSONB, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )


def drop_platform_tables_v1() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("processed_events")
    op.drop_index("ix_outbox_unsent", table_name="outbox")
    op.drop_table("outbox")


def create_customer_projection_v1() -> None:
    op.create_table(
        "customer_projection",
        sa.Column("customer_id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("tier", sa.String(20), nullable=False),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_customer_projection_email", "customer_projection", ["email"])
    op.create_index("ix_customer_projection_phone", "customer_projection", ["phone"])


def drop_customer_projection_v1() -> None:
    op.drop_table("customer_projection")


def create_customer_aliases_v1() -> None:
    """Merged ids and erasure tombstones for the customer projection (merge and erasure events),
    and the customer's region (reports by region)."""
    op.add_column("customer_projection", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("customer_projection", sa.Column("region", sa.String(100), nullable=True))
    op.create_table(
        "customer_aliases",
        sa.Column("merged_id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("survivor_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_customer_aliases_survivor_id", "customer_aliases", ["survivor_id"])
    op.create_index("ix_customer_aliases_email", "customer_aliases", ["email"])
    op.create_index("ix_customer_aliases_phone", "customer_aliases", ["phone"])


def drop_customer_aliases_v1() -> None:
    op.drop_table("customer_aliases")
    op.drop_column("customer_projection", "region")
    op.drop_column("customer_projection", "erased_at")


def add_customer_projection_profile_v1() -> None:
    """Industry (indicators by industry), channel consent, language and time zone (outreach)."""
    op.add_column("customer_projection", sa.Column("industry", sa.String(100), nullable=True))
    op.add_column(
        "customer_projection", sa.Column("consent", pg.JSONB, server_default=sa.text("'{}'::jsonb"), nullable=False)
    )
    op.add_column("customer_projection", sa.Column("language", sa.String(35), nullable=True))
    op.add_column("customer_projection", sa.Column("timezone", sa.String(64), nullable=True))


def drop_customer_projection_profile_v1() -> None:
    for column in ("timezone", "language", "consent", "industry"):
        op.drop_column("customer_projection", column)


def create_live_trigger_v1(table: str, channel: str, keys: tuple[str, ...]) -> None:
    """Live updates (crm_shared.http.live): after each insert or update of a row of `table`,
    `pg_notify(channel, {key: value, ...})` with the row's `keys` columns, in the writing transaction
    (delivered at commit, never on rollback)."""
    op.execute(
        """
        CREATE OR REPLACE FUNCTION crm_live_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            new_row jsonb := to_jsonb(NEW);
            payload jsonb := jsonb_build_object('op', TG_OP);
            i integer;
        BEGIN
            FOR i IN 1 .. TG_NARGS - 1 LOOP
                payload := payload || jsonb_build_object(TG_ARGV[i], new_row -> TG_ARGV[i]);
            END LOOP;
            PERFORM pg_notify(TG_ARGV[0], payload::text);
            RETURN NULL;
        END;
        $$
        """
    )
    arguments = ", ".join(f"'{name}'" for name in (channel, *keys))
    op.execute(
        f"CREATE TRIGGER {table}_live AFTER INSERT OR UPDATE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION crm_live_notify({arguments})"
    )


def drop_live_trigger_v1(table: str, *, last: bool = True) -> None:
    """Undoes `create_live_trigger_v1`; `last`: no other table of the database uses the function."""
    op.execute(f"DROP TRIGGER IF EXISTS {table}_live ON {table}")
    if last:
        op.execute("DROP FUNCTION IF EXISTS crm_live_notify()")
