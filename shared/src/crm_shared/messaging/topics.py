"""The topics the system needs, and their idempotent creation (`crmctl topics create`, the dev stack).

Every event topic gets `PARTITIONS` partitions (the unit of consumer parallelism; keys keep one
customer's events in order), and every consumer group its own one-partition dead-letter topic.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import NewTopic

from crm_shared.config import KafkaSettings
from crm_shared.contracts import Topics, dead_letter_topic
from crm_shared.messaging.producer import create_admin

# Consumer groups, each with its own dead-letter topic (see crm_shared.contracts.dead_letter_topic).
CONSUMER_GROUPS = (
    "feedback-worker",
    "feedback-cases",
    "scoring-worker",
    "scoring-indicators",
    "notifications-worker",
    "notifications-webhooks",
)
PARTITIONS = 6


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    retention_ms: int | None = None  # None: the broker's default


def topic_plan(
    partitions: int = PARTITIONS, retention_ms: int | None = None, dead_letter_retention_ms: int | None = None
) -> list[TopicSpec]:
    """The event topics and one dead-letter topic per consumer group."""
    return [TopicSpec(name, partitions, retention_ms) for name in Topics.all()] + [
        TopicSpec(dead_letter_topic(group), 1, dead_letter_retention_ms) for group in CONSUMER_GROUPS
    ]


async def ensure_topics(
    bootstrap: str | KafkaSettings, plan: list[TopicSpec], replication_factor: int = 1
) -> tuple[list[str], list[str]]:
    """Creates the topics that do not exist yet; returns (created, already there). Existing topics
    are left alone (partitions are never changed here: that would move keys between partitions)."""
    settings = bootstrap if isinstance(bootstrap, KafkaSettings) else KafkaSettings(bootstrap_servers=bootstrap)
    admin = create_admin(settings)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                name=spec.name,
                num_partitions=spec.partitions,
                replication_factor=replication_factor,
                topic_configs={"retention.ms": str(spec.retention_ms)} if spec.retention_ms else {},
            )
            for spec in plan
            if spec.name not in existing
        ]
        if missing:
            await admin.create_topics(missing)
        return [t.name for t in missing], [spec.name for spec in plan if spec.name in existing]
    finally:
        await admin.close()


async def partitions_of(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    """A started consumer's view of the topic's partitions ([] if it does not exist).

    `consumer.topics()` fetches metadata into a copy, not the consumer's own cache; Apache Kafka
    answers a metadata request only for the topics asked for, so the topic must be added first.
    """
    await consumer._client.add_topic(topic)  # aiokafka has no public call for this
    return [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
