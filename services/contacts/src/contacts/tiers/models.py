from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crm_shared.db import Base
from crm_shared.versioning import VersionColumns


class TierRulesRecord(VersionColumns, Base):
    """One version of the tier rules; the highest version applies. Kept forever, to explain old tiers."""

    __tablename__ = "tier_rules"

    rules: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
