from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm_shared.db import Base


class ThemeEscalation(Base):
    """When a complaint theme last went to management: a theme is escalated at most once per
    escalation window, however many complaints keep it above the bar."""

    __tablename__ = "theme_escalations"

    category: Mapped[str] = mapped_column(String(60), primary_key=True)
    product: Mapped[str] = mapped_column(String(100), primary_key=True)  # '' for complaints without one
    escalated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    customers: Mapped[int] = mapped_column(Integer, nullable=False)
    complaints: Mapped[int] = mapped_column(Integer, nullable=False)
