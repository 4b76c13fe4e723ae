"""Unit: a consumer commits what it processed for all partitions in one request, at most once per
interval, and keeps offsets a failed commit did not store."""

from aiokafka import TopicPartition
from aiokafka.errors import CommitFailedError, KafkaConnectionError
from aiokafka.structs import ConsumerRecord

from crm_shared.messaging.offsets import OffsetCommitter


class FakeConsumer:
    def __init__(self, *errors: Exception) -> None:
        self.commits: list[dict[TopicPartition, int]] = []
        self.errors = list(errors)

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if self.errors:
            raise self.errors.pop(0)
        self.commits.append(dict(offsets))


def record(topic: str, partition: int, offset: int) -> ConsumerRecord:
    return ConsumerRecord(topic, partition, offset, 0, 0, b"k", b"v", None, 1, 1, ())


async def test_offsets_of_every_partition_go_in_one_commit_per_interval() -> None:
    committer = OffsetCommitter("group", interval_seconds=60)
    committer.consumer = FakeConsumer()
    committer.done([record("t", 0, 5), record("t", 0, 6), record("t", 1, 9)])
    assert committer.due(now=0.0)
    await committer.commit()
    committer.done([record("t", 1, 10)])
    assert not committer.due(now=1.0)  # within the interval: waits
    assert committer.consumer.commits == [{TopicPartition("t", 0): 7, TopicPartition("t", 1): 10}]


async def test_a_failed_commit_is_retried_with_the_next_but_never_moves_an_offset_back() -> None:
    committer = OffsetCommitter("group", interval_seconds=0)
    committer.consumer = FakeConsumer(KafkaConnectionError())
    committer.done([record("t", 0, 5), record("t", 1, 3)])
    await committer.commit()  # the broker is unreachable
    committer.done([record("t", 0, 8)])  # processed meanwhile
    await committer.commit()
    assert committer.consumer.commits == [{TopicPartition("t", 0): 9, TopicPartition("t", 1): 4}]


async def test_offsets_lost_to_a_rebalance_are_not_committed_again() -> None:
    committer = OffsetCommitter("group", interval_seconds=0)
    committer.consumer = FakeConsumer(CommitFailedError())
    committer.done([record("t", 0, 5)])
    await committer.commit()  # the partition moved; its new owner replays from the last commit
    assert not committer.due(now=float("inf"))
