from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, Numeric, String, false, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_shared.db import Base, new_id, utcnow


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(20), nullable=False, default="organisation")
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("customers.id"), nullable=True
    )
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    tier: Mapped[str] = mapped_column(String(20), nullable=False)
    owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Record-level access (crm_shared.access): the account team that owns the customer with the
    # owner, and the partner (distributor, supplier) it is assigned to.
    owner_team: Mapped[str | None] = mapped_column(String(100), nullable=True)
    partner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lifecycle_stage: Mapped[str] = mapped_column(String(20), nullable=False, default="customer")
    credit_standing: Mapped[str] = mapped_column(String(10), nullable=False, default="good")
    credit_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    region: Mapped[str | None] = mapped_column(String(100), nullable=True)
    industry: Mapped[str | None] = mapped_column(String(100), nullable=True)
    size: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # For messages: the template variant (BCP 47) and quiet hours (IANA zone).
    language: Mapped[str | None] = mapped_column(String(35), nullable=True)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(50)), nullable=False)
    # What the customer is entitled to (priority_supply, free_delivery, ...), published with the
    # card for an ERP to read (docs/domain.md#the-key-account-programme).
    entitlements: Mapped[list[str]] = mapped_column(
        ARRAY(String(50)), nullable=False, default=list, server_default="{}"
    )
    consent: Mapped[dict[str, bool]] = mapped_column(JSONB, nullable=False)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    # Tier inputs besides the activities (contacts/tiers/rules.py), and the manual override that
    # holds the tier against the rules while `tier_override_at` is set.
    strategic: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    potential: Mapped[Decimal | None] = mapped_column(Numeric(18, 2), nullable=True)
    tier_override_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    tier_override_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    tier_override_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # When the lifecycle stage last moved (by a person or the lifecycle rules), and the manual stage
    # that holds against the rules while `lifecycle_override_at` is set (contacts/lifecycle/).
    lifecycle_changed_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now(), nullable=True
    )
    lifecycle_override_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    lifecycle_override_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lifecycle_override_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # When the credit standing left `good` (put on notice); cleared when it is good again. The
    # lifecycle rules phase out a customer still `poor` `phase_out_after_days` later.
    credit_noticed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow, server_default=func.now(), nullable=False
    )
    # active | merged (a redirect to `merged_into`) | erased (a tombstone without personal data)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="active", server_default="active")
    merged_into: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("customers.id"), nullable=True)
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    # Load explicitly (repository options); never by accident in a loop.
    external_ids: Mapped[list[CustomerExternalId]] = relationship(
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="(CustomerExternalId.system, CustomerExternalId.id)",
    )

    __table_args__ = (
        # One record per identifier: a duplicate is a 409 the client resolves, never a second row.
        Index("uq_customers_email", "email", unique=True, postgresql_where=text("email IS NOT NULL")),
        Index("uq_customers_phone", "phone", unique=True, postgresql_where=text("phone IS NOT NULL")),
        Index("ix_customers_created", "created_at", "id"),
        Index("ix_customers_owner", "owner"),
        Index("ix_customers_owner_team", "owner_team", postgresql_where=text("owner_team IS NOT NULL")),
        Index("ix_customers_partner", "partner", postgresql_where=text("partner IS NOT NULL")),
        Index("ix_customers_tier", "tier"),
        Index("ix_customers_lifecycle", "lifecycle_stage"),
        Index("ix_customers_organisation", "organisation_id"),
        Index("ix_customers_tags", "tags", postgresql_using="gin"),
        Index("ix_customers_merged_into", "merged_into", postgresql_where=text("merged_into IS NOT NULL")),
        Index("ix_customers_name_trgm", "name", postgresql_using="gin", postgresql_ops={"name": "gin_trgm_ops"}),
    )


class CustomerExternalId(Base):
    """The customer's id in another system (call centre, ERP, web shop): one owner per pair."""

    __tablename__ = "customer_external_ids"

    system: Mapped[str] = mapped_column(String(50), primary_key=True)
    id: Mapped[str] = mapped_column("external_id", String(200), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True
    )

    @property
    def label(self) -> str:
        return f"{self.system}:{self.id}"


class SecondaryIdentifier(Base):
    """An email or phone a customer also answers to: those of records merged into it.

    Lookups and duplicate checks see them, so a caller known by an old number still finds the
    survivor; one owner per value, like the primary identifiers.
    """

    __tablename__ = "customer_secondary_identifiers"

    kind: Mapped[str] = mapped_column(String(10), primary_key=True)  # email | phone
    value: Mapped[str] = mapped_column(String(320), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    merged_from: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
