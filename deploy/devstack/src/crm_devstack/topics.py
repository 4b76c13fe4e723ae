"""Topic creation for the dev stack: the shared, idempotent code `crmctl topics create` uses too."""

from __future__ import annotations

from crm_shared.messaging.topics import TopicSpec
from crm_shared.messaging.topics import ensure_topics as _ensure_topics


async def ensure_topics(bootstrap: str, topics: dict[str, int], replication_factor: int = 1) -> None:
    await _ensure_topics(bootstrap, [TopicSpec(name, n) for name, n in topics.items()], replication_factor)
