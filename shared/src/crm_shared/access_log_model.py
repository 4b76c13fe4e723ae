"""Who read which customer's personal data, when, through which route (never what they sent or saw)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Identity, Index, String, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from crm_shared.db import Base


class AccessLogEntry(Base):
    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    # The route template (`GET /v1/customers/{customer_id}`): no query string, no body.
    route: Mapped[str] = mapped_column(String(300), nullable=False)
    # Null for a read that named no customer (a search or list that returned nobody).
    customer_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)

    __table_args__ = (
        Index("ix_access_log_customer", "customer_id", "at"),
        Index("ix_access_log_subject", "subject", "at"),
        Index("ix_access_log_at", "at"),
    )
