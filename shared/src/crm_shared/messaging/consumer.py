"""Idempotent consumer runner: the one consumer loop every service's worker uses.

For each record, in partition order:
1. parse the envelope; an unparseable record is dead-lettered at once (retrying cannot help);
2. in ONE transaction: insert (consumer, event id) into processed_events and run the handler;
   a redelivered event hits the primary key and does nothing;
3. after the commit, events the handler wrote to the outbox are published right away.
Offsets are committed per partition after its records are processed, so a crash re-delivers
at most one batch, which step 2 turns into no-ops.

Failures: infrastructure errors (database or broker unreachable, serialisation conflicts) are
retried with backoff until they heal, because dead-lettering a good event for a database restart
would lose it from the flow. Any other handler error is retried a bounded number of times, then
the record goes to the consumer's dead-letter topic with the error in its headers, and the
partition moves on.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from aiokafka.structs import ConsumerRecord
from opentelemetry.trace import SpanKind
from pydantic import ValidationError
from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_shared.config import KafkaSettings, MessagingSettings
from crm_shared.contracts.envelope import Envelope
from crm_shared.contracts.events import dead_letter_topic
from crm_shared.db import unit_of_work
from crm_shared.failures import is_transient as is_transient  # re-exported: the services' loops import it here
from crm_shared.messaging.models import ProcessedEvent
from crm_shared.messaging.outbox import EventPublisher
from crm_shared.messaging.producer import create_consumer
from crm_shared.observability import context, tracing
from crm_shared.observability.metrics import CONSUMER_LAG, DEAD_LETTERS, EVENTS_CONSUMED, HANDLER_LATENCY

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]

LAG_SAMPLE_SECONDS = 1.0


# Built once; a redelivered event conflicts on the primary key and inserts nothing.
_INSERT_PROCESSED = (
    insert(ProcessedEvent.__table__)
    .values(consumer=bindparam("consumer"), event_id=bindparam("event_id"), event_type=bindparam("event_type"))
    .on_conflict_do_nothing()
    .returning(ProcessedEvent.event_id)
)


class _Stopping(Exception):
    """Raised inside a retry loop when the worker is asked to stop."""


class EventConsumer:
    """One consumer group: subscribes to topics and dispatches event types to handlers."""

    def __init__(
        self,
        *,
        name: str,
        topics: list[str],
        handlers: dict[str, Handler],
        sessions: async_sessionmaker[AsyncSession],
        publisher: EventPublisher,
        kafka: KafkaSettings,
        messaging: MessagingSettings,
        service: str = "",
    ) -> None:
        self.name = name
        self.service = service or name
        self.topics = topics
        self.handlers = handlers
        self._sessions = sessions
        self._publisher = publisher
        self._kafka = kafka
        self._settings = messaging
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self.assigned: set[TopicPartition] = set()
        self.processed = 0
        self.dead_lettered = 0

    # -- lifecycle -------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        self._stop = stop
        consumer = await self._start_consumer()
        if consumer is None:
            return
        next_lag_sample = 0.0
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=200)
                now = time.monotonic()
                if now >= next_lag_sample:  # local state only (no broker round trip), once a second
                    next_lag_sample = now + LAG_SAMPLE_SECONDS
                    await self._sample_lag(consumer)
                if not batches:
                    continue
                async with self._lock:  # a rebalance waits for the batch in hand
                    for tp, records in batches.items():
                        done = await self._process_partition(records)
                        if done is not None:
                            await self._commit(consumer, tp, done.offset + 1)
                        if stop.is_set():
                            break
        finally:
            await consumer.stop()
            log.info("consumer stopped", extra={"consumer": self.name, "processed": self.processed})

    async def _sample_lag(self, consumer: AIOKafkaConsumer) -> None:
        """Lag per assigned partition from what the last fetch told (highwater - position)."""
        for tp in list(self.assigned):
            try:
                highwater = consumer.highwater(tp)
                if highwater is None:
                    continue  # nothing fetched from it yet
                position = await consumer.position(tp)
            except Exception:  # a partition revoked under us: the next sample skips it
                continue
            CONSUMER_LAG.labels(self.service, self.name, tp.topic, str(tp.partition)).set(max(highwater - position, 0))

    def forget_lag(self, partitions: set[TopicPartition]) -> None:
        for tp in partitions:
            try:
                CONSUMER_LAG.remove(self.service, self.name, tp.topic, str(tp.partition))
            except KeyError:
                pass

    async def _start_consumer(self) -> AIOKafkaConsumer | None:
        delay = 0.2
        while not self._stop.is_set():
            consumer = create_consumer(self._kafka, self.name, [])
            consumer.subscribe(self.topics, listener=_Listener(self))
            try:
                await consumer.start()
                log.info("consumer started", extra={"consumer": self.name, "topics": self.topics})
                return consumer
            except Exception as exc:
                await consumer.stop()
                log.warning("consumer cannot reach broker, retrying", extra={"consumer": self.name, "error": repr(exc)})
                try:
                    await self._sleep(delay)
                except _Stopping:
                    return None
                delay = min(delay * 2, 5.0)
        return None

    async def _commit(self, consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> None:
        try:
            await consumer.commit({tp: offset})
        except CommitFailedError:
            # The partition moved to another member; it resumes from the last committed offset
            # and the inbox turns the replays into no-ops.
            log.info("offset commit lost to a rebalance", extra={"consumer": self.name, "partition": str(tp)})
        except KafkaError as exc:
            log.warning("offset commit failed", extra={"consumer": self.name, "error": repr(exc)})

    # -- processing ------------------------------------------------------------------------

    async def _process_partition(self, records: list[ConsumerRecord]) -> ConsumerRecord | None:
        """Process records in order; returns the last one fully handled."""
        last_done = None
        for record in records:
            try:
                await self.process(record)
            except _Stopping:
                break
            last_done = record
        return last_done

    async def process(self, record: ConsumerRecord) -> None:
        try:
            event = Envelope.model_validate_json(record.value or b"")
        except ValidationError as exc:
            await self._dead_letter(record, exc, attempts=1, event_type="unparseable")
            return
        handler = self.handlers.get(event.type)
        if handler is None:
            return  # an event type this consumer does not care about
        headers = {name: value.decode(errors="replace") for name, value in (record.headers or ())}
        with tracing.span(
            f"{record.topic} process",
            kind=SpanKind.CONSUMER,
            traceparent=headers.get("traceparent"),
            attributes={
                tracing.SERVICE_ATTRIBUTE: self.service,
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.destination.name": record.topic,
                "messaging.consumer.group.name": self.name,
                "messaging.destination.partition.id": str(record.partition),
                "messaging.kafka.offset": record.offset,
                "messaging.message.id": str(event.id),
                "crm.event.type": event.type,
            },
        ) as span:
            outcome = await self._handle(record, event, handler, headers, tracing.trace_context(span))
            if span is not None:
                span.set_attribute("crm.outcome", outcome)

    async def _handle(
        self,
        record: ConsumerRecord,
        event: Envelope,
        handler: Handler,
        headers: dict[str, str],
        span: context.TraceContext | None,
    ) -> str:
        """Runs the handler until it commits or the event is dead-lettered; returns the outcome."""
        attempt = 0
        outage = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                with context.bind(
                    correlation_id=event.correlationid,
                    causation_id=str(event.id),
                    traceparent=headers.get("traceparent"),
                    span=span,
                ):
                    async with unit_of_work(self._sessions, self._publisher.dispatch) as session:
                        first = await self._first_delivery(session, event)
                        if first:
                            await handler(session, event)
                self.processed += 1
                outcome = "ok" if first else "duplicate"
                EVENTS_CONSUMED.labels(self.service, self.name, event.type, outcome).inc()
                if first:
                    HANDLER_LATENCY.labels(self.service, self.name, event.type).observe(time.perf_counter() - started)
                return outcome
            except Exception as exc:
                if is_transient(exc):
                    log.warning(
                        "transient failure handling event; will retry",
                        extra={"consumer": self.name, "event_id": str(event.id), "error": repr(exc)},
                    )
                    EVENTS_CONSUMED.labels(self.service, self.name, event.type, "retried").inc()
                    outage += 1
                    attempt -= 1  # infrastructure trouble does not use up the event's attempts
                    await self._sleep(self._backoff(min(outage, 6)))
                    continue
                if attempt >= self._settings.max_handler_attempts:
                    log.error(
                        "handler failed; dead-lettering event",
                        extra={"consumer": self.name, "event_id": str(event.id), "error": repr(exc)},
                    )
                    await self._dead_letter(record, exc, attempts=attempt, event_type=event.type)
                    return "dead_lettered"
                EVENTS_CONSUMED.labels(self.service, self.name, event.type, "retried").inc()
                await self._sleep(self._backoff(attempt))

    async def _first_delivery(self, session: AsyncSession, event: Envelope) -> bool:
        inserted = await session.execute(
            _INSERT_PROCESSED, {"consumer": self.name, "event_id": event.id, "event_type": event.type}
        )
        return inserted.first() is not None

    async def _dead_letter(
        self, record: ConsumerRecord, exc: BaseException, attempts: int, event_type: str = "unknown"
    ) -> None:
        """Never drop: keep trying until the dead-letter topic has the record."""
        headers = [
            *list(record.headers or ()),
            ("dlq-consumer", self.name.encode()),
            ("dlq-original-topic", record.topic.encode()),
            ("dlq-original-partition", str(record.partition).encode()),
            ("dlq-original-offset", str(record.offset).encode()),
            ("dlq-error-type", type(exc).__name__.encode()),
            ("dlq-error", str(exc)[:4000].encode()),
            ("dlq-attempts", str(attempts).encode()),
            ("dlq-failed-at", datetime.now(UTC).isoformat().encode()),
        ]
        delay = 0.2
        while True:
            producer = self._publisher.producer
            try:
                if producer is None:
                    raise ConnectionError("producer not connected")
                await producer.send_and_wait(
                    dead_letter_topic(self.name), record.value, key=record.key, headers=headers
                )
                self.dead_lettered += 1
                DEAD_LETTERS.labels(self.service, self.name).inc()
                EVENTS_CONSUMED.labels(self.service, self.name, event_type, "dead_lettered").inc()
                return
            except Exception as exc2:
                log.warning("dead-letter publish failed; retrying", extra={"consumer": self.name, "error": repr(exc2)})
                await self._sleep(delay)
                delay = min(delay * 2, 5.0)

    def _backoff(self, attempt: int) -> float:
        base = self._settings.retry_backoff_seconds * (2.0 ** (attempt - 1))
        return min(base, self._settings.retry_backoff_max_seconds) * (0.8 + random.random() * 0.4)

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but give up at once when asked to stop (graceful drain on SIGTERM)."""
        try:
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)
        except TimeoutError:
            return
        raise _Stopping


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka has no type information: its classes are Any
    def __init__(self, runner: EventConsumer) -> None:
        self.runner = runner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        # Wait for the batch in hand to finish and commit before the partitions move on.
        started = time.monotonic()
        async with self.runner._lock:
            self.runner.assigned -= set(revoked)
        self.runner.forget_lag(set(revoked))
        log.info(
            "partitions revoked",
            extra={"consumer": self.runner.name, "partitions": len(revoked), "waited_s": time.monotonic() - started},
        )

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.runner.assigned |= set(assigned)
        log.info("partitions assigned", extra={"consumer": self.runner.name, "partitions": len(assigned)})
