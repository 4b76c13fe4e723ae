"""Offset commits of a consumer: what was processed is committed for all partitions at once, at
most every `CRM_MESSAGING_OFFSET_COMMIT_SECONDS`, and before partitions move or the consumer stops.

Committing after every record cost the worker a broker round trip per record and the broker an
offset write per record and group; a crash now re-delivers at most the last interval's records,
which the consumers' inbox (processed_events) turns into no-ops.
"""

from __future__ import annotations

import logging
import time

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from aiokafka.structs import ConsumerRecord

log = logging.getLogger(__name__)


class OffsetCommitter:
    def __init__(self, group: str, interval_seconds: float) -> None:
        self.group = group
        self.interval = interval_seconds
        self.consumer: AIOKafkaConsumer | None = None
        self._uncommitted: dict[TopicPartition, int] = {}  # next offset to commit, per partition
        self._next_commit = 0.0

    def done(self, records: list[ConsumerRecord]) -> None:
        """The records are processed (their transaction committed, or dead-lettered)."""
        for record in records:
            self._uncommitted[TopicPartition(record.topic, record.partition)] = record.offset + 1

    def due(self, now: float) -> bool:
        return bool(self._uncommitted) and now >= self._next_commit

    async def commit(self) -> None:
        """Commit what was processed since the last commit, every partition in one request.
        The caller holds the consumer's lock, so no batch is half done."""
        self._next_commit = time.monotonic() + self.interval
        consumer, offsets = self.consumer, self._uncommitted
        if consumer is None or not offsets:
            return
        self._uncommitted = {}
        try:
            await consumer.commit(offsets)
        except CommitFailedError:
            # The partitions moved to another member; it resumes from the last committed offsets
            # and the inbox turns the replays into no-ops.
            log.info("offset commit lost to a rebalance", extra={"consumer": self.group, "partitions": len(offsets)})
        except KafkaError as exc:
            log.warning("offset commit failed", extra={"consumer": self.group, "error": repr(exc)})
            for tp, offset in offsets.items():  # retried with the next commit, unless newer by then
                self._uncommitted.setdefault(tp, offset)
