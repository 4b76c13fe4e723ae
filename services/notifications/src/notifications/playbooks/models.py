from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import BigInteger, Boolean, Integer, String
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from crm_shared.db import Base
from crm_shared.versioning import VersionColumns


class PlaybookVersion(VersionColumns, Base):
    """Every version of every playbook is kept; the highest version of a key is in force. A
    deletion is a version too (`deleted`), so the history shows who removed a rule and when."""

    __tablename__ = "playbook_versions"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    deleted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class PlaybookState(Base):
    """One row: a number bumped by every playbook change. The worker reads it with each event (in
    the event's own transaction) and reloads its in-memory playbooks only when it moved."""

    __tablename__ = "playbook_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False)


class PlaybookEffect(Base):
    """Events that stem from a playbook's task (status changes, escalations, and consumed events
    caused by them): an event caused by one of these never triggers that playbook again."""

    __tablename__ = "playbook_effects"

    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    playbook: Mapped[str] = mapped_column(String(60), primary_key=True)
