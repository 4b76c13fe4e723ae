"""Integration: records that wait together are handled in shared transactions, exactly once and
in order, and a failing record among them is still retried and dead-lettered alone."""

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from crm_devstack.testing import eventually, read_topic
from crm_shared.contracts import Envelope, Topics, dead_letter_topic
from crm_shared.messaging.models import ProcessedEvent

pytestmark = pytest.mark.integration

TEST_TYPE = "crm.test.batched.v1"


class Recorder:
    """A handler that notes which transaction handled which record; the first record waits
    until the rest are in the broker, so they arrive at the consumer together."""

    def __init__(self, poison: uuid.UUID | None = None) -> None:
        self.calls: list[tuple[uuid.UUID, int]] = []  # (transaction, record number)
        self.poison = poison
        self.release = asyncio.Event()

    async def __call__(self, session, event: Envelope) -> None:
        if event.data["n"] == 0:
            await self.release.wait()
        self.calls.append((session.info.setdefault("test-transaction", uuid.uuid4()), event.data["n"]))
        if event.id == self.poison:
            raise RuntimeError("cannot handle this record")


def records(count: int) -> list[Envelope]:
    key = str(uuid.uuid4())  # one key: one partition, in this order
    return [
        Envelope(type=TEST_TYPE, source="tests", subject=key, correlationid=key, data={"n": n}) for n in range(count)
    ]


async def send(services, recorder: Recorder, events: list[Envelope]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=services.stack.bootstrap, acks="all")
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(Topics.contacts, event.model_dump_json().encode(), key=event.subject.encode())
    finally:
        await producer.stop()
    recorder.release.set()


async def inbox(services, consumer, events: list[Envelope]) -> list[uuid.UUID]:
    async with services.workers["feedback"].sessions() as session:
        return list(
            await session.scalars(
                select(ProcessedEvent.event_id).where(
                    ProcessedEvent.consumer == consumer.name, ProcessedEvent.event_id.in_([e.id for e in events])
                )
            )
        )


def feedback_worker(services):
    return next(c for c in services.workers["feedback"].consumers if Topics.contacts in c.topics)


async def test_a_backlog_shares_transactions_and_is_applied_once_in_order(services) -> None:
    consumer = feedback_worker(services)
    recorder = Recorder()
    consumer.handlers[TEST_TYPE] = recorder
    try:
        events = records(12)
        await send(services, recorder, events)
        await eventually(lambda: _count(inbox(services, consumer, events), 12))
    finally:
        del consumer.handlers[TEST_TYPE]
    assert [n for _, n in recorder.calls] == list(range(12))  # each once, in the partition's order
    transactions = {transaction for transaction, _ in recorder.calls}
    assert len(transactions) < 12  # the records that waited together were handled together


async def test_a_failing_record_in_a_batch_is_dead_lettered_alone_and_the_rest_applied_once(services) -> None:
    consumer = feedback_worker(services)
    attempts = consumer._settings.max_handler_attempts
    recorder = Recorder()
    consumer.handlers[TEST_TYPE] = recorder
    try:
        events = records(12)
        recorder.poison = events[5].id
        await send(services, recorder, events)
        [dead] = await eventually(lambda: _dead_letters(services, consumer.name, events[0].subject.encode()))
        stored = await eventually(lambda: _count(inbox(services, consumer, events), 11))
    finally:
        del consumer.handlers[TEST_TYPE]
    assert Envelope.model_validate_json(dead.value).id == events[5].id
    assert dict(dead.headers)["dlq-attempts"] == str(attempts).encode()
    batch = next(transaction for transaction, n in recorder.calls if n == 5)
    assert any(n != 5 for transaction, n in recorder.calls if transaction == batch)  # it failed in a batch
    assert [n for _, n in recorder.calls].count(5) == attempts  # bounded, the batch's try included
    assert sorted(stored) == sorted(e.id for e in events if e.id != events[5].id)  # each applied once


async def test_a_resting_consumer_fetches_nothing_meanwhile_then_takes_what_gathered_once_in_order(services) -> None:
    """A consumer with nothing to do may rest between fetches (the webhooks consumer while no
    subscription wants anything): what arrives meanwhile waits in the broker, none of it is
    skipped, and it is handled after the rest, in order, exactly once, in one fetch's batches."""
    consumer = feedback_worker(services)
    recorder = Recorder()
    recorder.release.set()
    resting, wake = asyncio.Event(), asyncio.Event()

    async def rest(stop: asyncio.Event) -> None:
        if not wake.is_set():
            resting.set()
            await wake.wait()

    async def resting_now() -> bool:
        return resting.is_set()

    consumer.handlers[TEST_TYPE] = recorder
    consumer.rest = rest
    try:
        first, *events = records(13)
        await send(services, recorder, [first])
        await eventually(resting_now)
        await send(services, recorder, events)
        assert [n for _, n in recorder.calls] == [0]  # resting: the rest waits in the broker
        wake.set()
        await eventually(lambda: _count(inbox(services, consumer, events), 12))
    finally:
        consumer.rest = None
        del consumer.handlers[TEST_TYPE]
    assert [n for _, n in recorder.calls] == list(range(13))  # each once, in the partition's order
    assert len({transaction for transaction, n in recorder.calls if n}) < 12  # gathered: handled together


async def _count(rows, expected: int):
    found = await rows
    return found if len(found) == expected else None


async def _dead_letters(services, consumer: str, key: bytes) -> list:
    return [r for r in await read_topic(services.stack.bootstrap, dead_letter_topic(consumer)) if r.key == key]
