"""Idempotent consumer runner: the one consumer loop every service's worker uses.

For each record, in partition order:
1. parse the envelope; an unparseable record is dead-lettered at once (retrying cannot help);
2. in ONE transaction: insert (consumer, event id) into processed_events and run the handler;
   a redelivered event hits the primary key and does nothing;
3. after the commit, events the handler wrote to the outbox are published right away.

When a fetch brings several records (a burst, a backlog), up to `CRM_MESSAGING_BATCH_SIZE` of them
share one transaction: one inbox INSERT for all, each partition's records handled in order (each
with a fresh identity map, as if alone), one COMMIT, then their outbox rows are published. If any
record of the batch fails, the batch rolls back and its records are handled one by one as above,
so a poison record is retried and dead-lettered alone.

Offsets of processed records are committed for all partitions in one request, at most every
`CRM_MESSAGING_OFFSET_COMMIT_SECONDS` (and before partitions are revoked or the consumer stops),
so a crash re-delivers at most that window, which step 2 turns into no-ops.

Failures: infrastructure errors (database or broker unreachable, serialisation conflicts) are
retried with backoff until they heal, because dead-lettering a good event for a database restart
would lose it from the flow. Any other handler error is retried a bounded number of times, then
the record goes to the consumer's dead-letter topic with the error in its headers, and the
partition moves on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError
from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_shared.config import KafkaSettings, MessagingSettings
from crm_shared.contracts.envelope import Envelope
from crm_shared.contracts.events import dead_letter_topic
from crm_shared.db import Prebuilt, unit_of_work
from crm_shared.failures import is_transient as is_transient  # re-exported: the services' loops import it here
from crm_shared.messaging import records as consumed
from crm_shared.messaging.models import ProcessedEvent
from crm_shared.messaging.offsets import OffsetCommitter
from crm_shared.messaging.outbox import EventPublisher
from crm_shared.messaging.producer import create_consumer
from crm_shared.observability import context, tracing
from crm_shared.observability.metrics import CONSUMER_LAG, DEAD_LETTERS, EVENTS_CONSUMED, HANDLER_LATENCY

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]
# Awaited after each fetch that brought records, the consumer's partitions paused, with the stop
# event: returns at once while the consumer has work, or rests while it has none (see `_rest`).
Rest = Callable[[asyncio.Event], Awaitable[None]]

LAG_SAMPLE_SECONDS = 1.0
STOP_COMMIT_SECONDS = 5.0


# Built once; a redelivered event conflicts on the primary key and inserts nothing.
_INSERT_PROCESSED = (
    insert(ProcessedEvent.__table__)
    .values(consumer=bindparam("consumer"), event_id=bindparam("event_id"), event_type=bindparam("event_type"))
    .on_conflict_do_nothing()
    .returning(ProcessedEvent.event_id)
)

_INSERT_ONE_PROCESSED = Prebuilt(_INSERT_PROCESSED)


class _Stopping(Exception):
    """Raised inside a retry loop when the worker is asked to stop."""


@dataclass(frozen=True, slots=True)
class _Failed:
    """Why a batch was rolled back: the record whose handler raised (None: no handler did)."""

    record: ConsumerRecord | None
    error: Exception


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
        rest: Rest | None = None,
    ) -> None:
        self.name = name
        self.service = service or name
        self.topics = topics
        self.handlers = handlers
        self.rest = rest
        self._sessions = sessions
        self._publisher = publisher
        self._kafka = kafka
        self._settings = messaging
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self.assigned: set[TopicPartition] = set()
        self.offsets = OffsetCommitter(name, messaging.offset_commit_seconds)
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
                if batches:
                    async with self._lock:  # a rebalance waits for the batch in hand
                        await self._process_fetch(batches)
                if self.offsets.due(now):
                    async with self._lock:
                        await self.offsets.commit()
                if batches and self.rest is not None:
                    await self._rest(consumer)
        finally:
            async with self._lock:  # bounded: a broker that is down does not hold up the stop
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.offsets.commit(), STOP_COMMIT_SECONDS)
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

    async def _rest(self, consumer: AIOKafkaConsumer) -> None:
        """A consumer with nothing to do (no webhook subscriber wants any event) need not make a
        fetch round trip, all its partitions in it, for every event that arrives: its partitions
        stay paused while `rest` waits, then the next fetch takes what gathered meanwhile. Nothing
        is skipped: paused partitions resume at their position."""
        assert self.rest is not None
        paused = consumer.assignment()
        consumer.pause(*paused)
        try:
            await self.rest(self._stop)
        finally:  # a rebalance meanwhile may have taken some away (new ones are not paused)
            consumer.resume(*(paused & consumer.assignment()))

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
                self.offsets.consumer = consumer
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

    # -- processing ------------------------------------------------------------------------

    async def _process_fetch(self, batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        """Process what one fetch returned, each partition in order, in batches of up to
        `batch_size` records per transaction; marks what is done for the next offset commit."""
        records = [record for partition in batches.values() for record in partition]
        size = max(self._settings.batch_size, 1)
        for start in range(0, len(records), size):
            chunk = records[start : start + size]
            failed: _Failed | None = None
            if len(chunk) > 1:
                failed = await self._process_together(chunk)
                if failed is None:
                    self.offsets.done(chunk)
                    continue
            for record in chunk:
                try:
                    await self.process(record, failed.error if failed and failed.record is record else None)
                except _Stopping:
                    return
                self.offsets.done([record])
                if self._stop.is_set():
                    return

    async def process(self, record: ConsumerRecord, failed_in_batch: Exception | None = None) -> None:
        """Handle one record in its own transaction (`failed_in_batch`: its handler's error in a
        batch, which counts as its first attempt)."""
        try:
            event = Envelope.model_validate_json(record.value or b"")
        except ValidationError as exc:
            await self._dead_letter(record, exc, attempts=1, event_type="unparseable")
            return
        handler = self.handlers.get(event.type)
        if handler is None:
            return  # an event type this consumer does not care about
        headers = consumed.headers(record)
        with consumed.process_span(record, event, headers, self.service, self.name) as span:
            outcome = await self._handle(record, event, handler, headers, tracing.trace_context(span), failed_in_batch)
            if span is not None:
                span.set_attribute("crm.outcome", outcome)

    async def _process_together(self, records: list[ConsumerRecord]) -> _Failed | None:
        """Handle the records in one transaction. If any fails, nothing is committed and the
        failure is returned (with the record whose handler raised, if one did): the caller then
        handles the records one by one."""
        items = []
        for record in records:
            try:
                event = Envelope.model_validate_json(record.value or b"")
            except ValidationError as exc:
                return _Failed(None, exc)  # dead-lettered on the one-by-one path
            handler = self.handlers.get(event.type)
            if handler is not None:
                items.append((record, event, handler))
        if not items:
            return None
        # By key (stable, so each key keeps its order): concurrent batches of the service's
        # consumers then lock the customers' rows in one order instead of deadlocking.
        items.sort(key=lambda item: item[0].key or b"")
        outcomes: list[tuple[str, str, float]] = []
        current = None
        try:
            async with unit_of_work(self._sessions, self._publisher.dispatch) as session:
                first = await self._first_deliveries(session, [event for _, event, _ in items])
                for record, event, handler in items:
                    if event.id not in first:  # handled before (or earlier in this batch)
                        outcomes.append((event.type, "duplicate", 0.0))
                        continue
                    first.discard(event.id)
                    current, started, headers = record, time.perf_counter(), consumed.headers(record)
                    with (
                        consumed.process_span(record, event, headers, self.service, self.name) as span,
                        context.bind(
                            correlation_id=event.correlationid,
                            causation_id=str(event.id),
                            traceparent=headers.get("traceparent"),
                            span=tracing.trace_context(span),
                        ),
                    ):
                        await handler(session, event)
                        await session.flush()
                    session.expunge_all()  # the next handler starts with a fresh identity map, as if alone
                    current = None
                    outcomes.append((event.type, "ok", time.perf_counter() - started))
        except Exception as exc:
            log.info(
                "batch failed; handling its records one by one",
                extra={"consumer": self.name, "records": len(records), "error": repr(exc)},
            )
            return _Failed(current, exc)
        self.processed += len(outcomes)
        for event_type, outcome, seconds in outcomes:
            EVENTS_CONSUMED.labels(self.service, self.name, event_type, outcome).inc()
            if outcome == "ok":
                HANDLER_LATENCY.labels(self.service, self.name, event_type).observe(seconds)
        return None

    async def _handle(
        self,
        record: ConsumerRecord,
        event: Envelope,
        handler: Handler,
        headers: dict[str, str],
        span: context.TraceContext | None,
        failed_in_batch: Exception | None = None,
    ) -> str:
        """Runs the handler until it commits or the event is dead-lettered; returns the outcome."""
        attempt = 0
        outage = 0
        if failed_in_batch is not None and not is_transient(failed_in_batch):
            attempt = 1  # its handler already failed once, in the batch
            if attempt >= self._settings.max_handler_attempts:
                return await self._give_up(record, event, failed_in_batch, attempt)
            EVENTS_CONSUMED.labels(self.service, self.name, event.type, "retried").inc()
            await self._sleep(self._backoff(attempt))
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
                    return await self._give_up(record, event, exc, attempt)
                EVENTS_CONSUMED.labels(self.service, self.name, event.type, "retried").inc()
                await self._sleep(self._backoff(attempt))

    async def _give_up(self, record: ConsumerRecord, event: Envelope, exc: Exception, attempts: int) -> str:
        log.error(
            "handler failed; dead-lettering event",
            extra={"consumer": self.name, "event_id": str(event.id), "error": repr(exc)},
        )
        await self._dead_letter(record, exc, attempts=attempts, event_type=event.type)
        return "dead_lettered"

    async def _first_delivery(self, session: AsyncSession, event: Envelope) -> bool:
        # Compiled once and run on the session's asyncpg connection: the one statement every event pays.
        inserted = await _INSERT_ONE_PROCESSED.fetchrow(
            session, {"consumer": self.name, "event_id": event.id, "event_type": event.type}
        )
        return inserted is not None

    async def _first_deliveries(self, session: AsyncSession, events: list[Envelope]) -> set[uuid.UUID]:
        """Inbox rows for a batch in one statement; returns the ids not processed before."""
        rows = {e.id: {"consumer": self.name, "event_id": e.id, "event_type": e.type} for e in events}
        connection = await session.connection()
        inserted = await connection.execute(_INSERT_PROCESSED, list(rows.values()))
        return set(inserted.scalars())

    async def _dead_letter(
        self, record: ConsumerRecord, exc: BaseException, attempts: int, event_type: str = "unknown"
    ) -> None:
        """Never drop: keep trying until the dead-letter topic has the record."""
        headers = consumed.dead_letter_headers(record, self.name, exc, attempts)
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
            await self.runner.offsets.commit()
            self.runner.assigned -= set(revoked)
        self.runner.forget_lag(set(revoked))
        log.info(
            "partitions revoked",
            extra={"consumer": self.runner.name, "partitions": len(revoked), "waited_s": time.monotonic() - started},
        )

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.runner.assigned |= set(assigned)
        log.info("partitions assigned", extra={"consumer": self.runner.name, "partitions": len(assigned)})
