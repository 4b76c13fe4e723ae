"""The topics the system needs, and their idempotent creation: the one source of truth.

The plan comes from the services' own declarations (`crm_shared.services`): the topic each
produces and its consumer groups. `crmctl topics create` and the dev stack create the topics from
`topic_plan()`; deploy/'s create-topics.sh (compose and the Kubernetes Job) is checked against it
by tests/deploy. Every event topic gets `PARTITIONS` partitions (the unit of consumer
parallelism; keys keep one customer's events in order), and every consumer group its own
one-partition dead-letter topic.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import NewTopic

from crm_shared.config import KafkaSettings
from crm_shared.contracts import dead_letter_topic
from crm_shared.messaging.producer import create_admin
from crm_shared.services import service_manifests

PARTITIONS = 6
DAY_MS = 24 * 3_600_000
# Events: 7 days, also how long personal data in contact events outlives an erasure in Kafka.
EVENT_RETENTION_MS = 7 * DAY_MS
# Dead letters: 14 days to inspect and replay them (`crmctl dlq`).
DEAD_LETTER_RETENTION_MS = 14 * DAY_MS


def event_topics() -> list[str]:
    """The topics the installed services produce to."""
    return [m.topic for m in service_manifests() if m.topic]


def consumer_groups() -> list[str]:
    """The installed services' consumer groups, each with its own dead-letter topic."""
    return [group for m in service_manifests() for group in m.consumer_groups]


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    retention_ms: int | None = None  # None: the broker's default
    # "delete": events are a log replayed from an offset, never a keyed table to compact.
    cleanup_policy: str = "delete"

    def configs(self, replication_factor: int = 1) -> dict[str, str]:
        """Topic configs; min ISR 2 once there are replicas to spare (producers use acks=all)."""
        configs = {"cleanup.policy": self.cleanup_policy, "min.insync.replicas": str(min(2, replication_factor))}
        if self.retention_ms:
            configs["retention.ms"] = str(self.retention_ms)
        return configs


def topic_plan(
    partitions: int = PARTITIONS,
    retention_ms: int | None = EVENT_RETENTION_MS,
    dead_letter_retention_ms: int | None = DEAD_LETTER_RETENTION_MS,
) -> list[TopicSpec]:
    """The event topics and one dead-letter topic per consumer group (one partition: dead letters
    are rare and replayed in order)."""
    return [TopicSpec(name, partitions, retention_ms) for name in event_topics()] + [
        TopicSpec(dead_letter_topic(group), 1, dead_letter_retention_ms) for group in consumer_groups()
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
                topic_configs=spec.configs(replication_factor),
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
