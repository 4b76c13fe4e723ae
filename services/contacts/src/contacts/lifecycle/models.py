from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crm_shared.db import Base
from crm_shared.versioning import VersionColumns


class LifecycleRulesRecord(VersionColumns, Base):
    """One version of the lifecycle rules; the highest applies. Kept forever, to explain old moves."""

    __tablename__ = "lifecycle_rules"

    rules: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
