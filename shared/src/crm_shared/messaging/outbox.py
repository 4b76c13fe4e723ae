"""Transactional outbox: write the event with the state change, publish right after commit.

Two paths publish a row, and both only mark it sent after the broker acknowledged it (acks=all):
- `EventPublisher.dispatch` runs right after the commit that wrote it (the hot path, no polling);
- `OutboxRelay` re-sends rows still unsent after a grace period (process crashed after commit,
  broker was down), locking them with FOR UPDATE SKIP LOCKED so several relays can run.
A row sent twice (a crash between ack and mark) is harmless: consumers dedupe by event id.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_shared.config import KafkaSettings, MessagingSettings
from crm_shared.contracts.envelope import Envelope
from crm_shared.db import Prebuilt
from crm_shared.messaging.models import OutboxMessage
from crm_shared.messaging.producer import create_producer
from crm_shared.observability import context, tracing
from crm_shared.observability.metrics import EVENTS_PRODUCED, OUTBOX_OLDEST_AGE, OUTBOX_UNSENT

log = logging.getLogger(__name__)

SENT_ROW_RETENTION = timedelta(days=3)
# Well inside the relay's grace period (CRM_MESSAGING_RELAY_GRACE_SECONDS, 2 s), so the relay does
# not re-send what was acknowledged; one UPDATE per half second instead of one per few events.
MARK_SENT_BATCH_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An outbox row written in the current transaction, to publish once it commits."""

    id: uuid.UUID
    topic: str
    key: str
    payload: str
    headers: dict[str, str]


# Built once: constructing statements per call was the largest CPU cost of a request.
_INSERT_OUTBOX = insert(OutboxMessage.__table__).values(
    id=bindparam("id"),
    topic=bindparam("topic"),
    key=bindparam("key"),
    event_type=bindparam("event_type"),
    payload=bindparam("payload"),
    headers=bindparam("headers"),
    attempts=0,
)

_INSERT_ONE = Prebuilt(_INSERT_OUTBOX)


def _pending(event: Envelope, topic: str) -> PendingEvent:
    trace = context.current().trace
    return PendingEvent(
        id=event.id,
        topic=topic,
        key=event.subject,
        payload=event.model_dump_json(),
        headers={
            "ce_id": str(event.id),
            "ce_type": event.type,
            "ce_source": event.source,
            "correlation_id": event.correlationid,
            "causation_id": event.causationid or "",
            # The span that wrote the event (with tracing on): its publish and consumers continue it.
            "traceparent": tracing.current_traceparent() or trace.child().traceparent,
            "content-type": "application/cloudevents+json",
        },
    )


async def add_event(session: AsyncSession, event: Envelope, topic: str) -> None:
    """Write an event in the caller's transaction; it is published once that commits."""
    await add_events(session, [event], topic)


async def add_events(session: AsyncSession, events: Sequence[Envelope], topic: str) -> None:
    """Several events in one statement (a bulk import's batch); published once the transaction commits."""
    pending = [_pending(event, topic) for event in events]
    if not pending:
        return
    rows = [
        {"id": p.id, "topic": topic, "key": p.key, "event_type": e.type, "payload": p.payload, "headers": p.headers}
        for p, e in zip(pending, events, strict=True)
    ]
    if len(rows) == 1:  # the hot path: one event per handler or request, without SQLAlchemy's per-call work
        await _INSERT_ONE.execute(session, rows[0])
    else:
        await session.execute(_INSERT_OUTBOX, rows)
    session.info.setdefault("outbox", []).extend(pending)


_MARK_SENT = (
    update(OutboxMessage.__table__)
    .where(OutboxMessage.id.in_(bindparam("ids", expanding=True)), OutboxMessage.sent_at.is_(None))
    .values(sent_at=func.now(), attempts=OutboxMessage.attempts + 1)
)


def kafka_headers(row: OutboxMessage | PendingEvent, traceparent: str | None = None) -> list[tuple[str, bytes]]:
    """The row's headers; `traceparent` (the publish span's) replaces the stored one."""
    headers = [(name, str(value).encode()) for name, value in row.headers.items()]
    if traceparent is not None:
        headers = [(n, v) for n, v in headers if n != "traceparent"] + [("traceparent", traceparent.encode())]
    return headers


async def send_rows(
    producer: AIOKafkaProducer, rows: Sequence[OutboxMessage | PendingEvent], service: str
) -> list[BaseException | None]:
    """Send rows and wait for every ack; one result per row (None = acknowledged).

    With tracing on, each send is a producer span, child of the span that wrote the row.
    """
    spans: list[Any] = []
    futures = []
    try:
        for row in rows:
            span, traceparent = tracing.start_producer_span(row.topic, row.headers, service)
            spans.append(span)
            futures.append(
                await producer.send(
                    row.topic, row.payload.encode(), key=row.key.encode(), headers=kafka_headers(row, traceparent)
                )
            )
    except BaseException as exc:
        for span in spans:
            tracing.end_span(span, exc)
        raise
    results = await asyncio.gather(*futures, return_exceptions=True)
    outcome: list[BaseException | None] = []
    for row, span, result in zip(rows, spans, results, strict=True):
        error = result if isinstance(result, BaseException) else None
        if error is None:
            EVENTS_PRODUCED.labels(service, row.headers.get("ce_type", "unknown")).inc()
        tracing.end_span(span, error)
        outcome.append(error)
    return outcome


class EventPublisher:
    """Owns the producer of one process; publishes committed outbox rows immediately.

    The producer connects in the background and keeps retrying, so an API can start and take
    writes while the broker is down; the relay publishes what piled up once it is back.
    """

    def __init__(
        self,
        kafka: KafkaSettings,
        sessions: async_sessionmaker[AsyncSession],
        client_id: str,
        service: str = "",
    ) -> None:
        self.service = service or client_id
        self._kafka = kafka
        self._sessions = sessions
        self._client_id = client_id
        self._producer: AIOKafkaProducer | None = None
        self._connect_task: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._sent_ids: list[uuid.UUID] = []
        self._sent_signal = asyncio.Event()
        self._marker_task: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def producer(self) -> AIOKafkaProducer | None:
        return self._producer

    async def start(self, wait: bool = False) -> None:
        self._connect_task = asyncio.create_task(self._connect())
        self._marker_task = asyncio.create_task(self._mark_sent_loop())
        if wait:
            await self._connect_task

    async def _connect(self) -> None:
        delay = 0.2
        while not self._closing:
            producer = create_producer(self._kafka, self._client_id)
            try:
                await producer.start()
            except Exception as exc:
                await producer.stop()
                log.warning("broker not reachable yet, retrying", extra={"error": str(exc), "retry_in": delay})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            self._producer = producer
            return

    async def stop(self) -> None:
        self._closing = True
        if self._in_flight:
            await asyncio.wait(self._in_flight, timeout=10)
        if self._connect_task:
            self._connect_task.cancel()
        self._sent_signal.set()
        if self._marker_task:
            self._marker_task.cancel()
            try:
                await self._marker_task
            except asyncio.CancelledError:
                pass
        await self._flush_sent_marks()
        if self._producer:
            await self._producer.stop()

    def dispatch(self, rows: Sequence[PendingEvent]) -> None:
        """Called right after commit; does not block the caller."""
        if self._producer is None or self._closing:
            return  # the relay will pick these up
        task = asyncio.create_task(self._publish(list(rows)))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _publish(self, rows: list[PendingEvent]) -> None:
        producer = self._producer
        assert producer is not None
        try:
            errors = await send_rows(producer, rows, self.service)
        except Exception as exc:
            log.warning("publish after commit failed; relay will retry", extra={"error": repr(exc)})
            return
        failed = [error for error in errors if error is not None]
        if failed:
            log.warning("publish after commit failed; relay will retry", extra={"error": repr(failed[0])})
        self._sent_ids.extend(row.id for row, error in zip(rows, errors, strict=True) if error is None)
        self._sent_signal.set()

    async def _mark_sent_loop(self) -> None:
        """Marks acknowledged rows sent in batches: one UPDATE for many events under load."""
        while True:
            await self._sent_signal.wait()
            self._sent_signal.clear()
            # Marking is off the hot path (consumers dedupe; the relay waits its grace period),
            # so wait a little and mark a whole burst with one statement.
            await asyncio.sleep(MARK_SENT_BATCH_SECONDS)
            await self._flush_sent_marks()

    async def _flush_sent_marks(self) -> None:
        if not self._sent_ids:
            return
        ids, self._sent_ids = self._sent_ids, []
        try:
            async with self._sessions() as session, session.begin():
                await session.execute(_MARK_SENT, {"ids": ids})
        except Exception as exc:
            log.warning("could not mark outbox rows sent", extra={"error": repr(exc), "rows": len(ids)})


_BACKLOG = text(
    "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0) FROM outbox WHERE sent_at IS NULL"
)


async def outbox_backlog(session: AsyncSession) -> tuple[int, float]:
    """Unsent rows and the age of the oldest (uses the partial index on unsent rows)."""
    count, age = (await session.execute(_BACKLOG)).one()
    return int(count), float(age)


class OutboxRelay:
    """Re-sends outbox rows that the immediate publish did not get out (runs in the worker)."""

    def __init__(
        self,
        publisher: EventPublisher,
        sessions: async_sessionmaker[AsyncSession],
        settings: MessagingSettings,
    ) -> None:
        self._publisher = publisher
        self._sessions = sessions
        self._settings = settings
        self._last_prune = 0.0
        self._last_sample = float("-inf")

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                relayed = await self.relay_once()
                await self._maybe_prune()
                await self._maybe_sample_backlog()
            except Exception as exc:
                log.warning("outbox relay pass failed", extra={"error": repr(exc)})
                relayed = 0
            if relayed < self._settings.relay_batch_size:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=self._settings.relay_interval_seconds)
                except TimeoutError:
                    pass

    async def relay_once(self, grace_seconds: float | None = None) -> int:
        producer = self._publisher.producer
        if producer is None:
            return 0
        grace = self._settings.relay_grace_seconds if grace_seconds is None else grace_seconds
        async with self._sessions() as session, session.begin():
            rows = (
                await session.scalars(
                    select(OutboxMessage)
                    .where(
                        OutboxMessage.sent_at.is_(None),
                        OutboxMessage.created_at < func.now() - timedelta(seconds=grace),
                    )
                    .order_by(OutboxMessage.created_at)
                    .limit(self._settings.relay_batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            results = await send_rows(producer, rows, self._publisher.service)
            sent = [row.id for row, result in zip(rows, results, strict=True) if result is None]
            for row, result in zip(rows, results, strict=True):
                if result is not None:
                    row.attempts += 1
                    row.last_error = repr(result)[:2000]
            if sent:
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(sent))
                    .values(sent_at=func.now(), attempts=OutboxMessage.attempts + 1)
                )
            log.info("outbox relay re-sent events", extra={"sent": len(sent), "failed": len(rows) - len(sent)})
            return len(sent)

    async def _maybe_sample_backlog(self) -> None:
        """The outbox gauges, from one indexed query every few seconds (never per event)."""
        loop = asyncio.get_running_loop()
        if loop.time() - self._last_sample < self._settings.backlog_sample_seconds:
            return
        self._last_sample = loop.time()
        unsent, oldest_age = await self.backlog()
        OUTBOX_UNSENT.labels(self._publisher.service).set(unsent)
        OUTBOX_OLDEST_AGE.labels(self._publisher.service).set(oldest_age)

    async def backlog(self) -> tuple[int, float]:
        """Unsent rows and the age in seconds of the oldest one (0 when none)."""
        async with self._sessions() as session:
            return await outbox_backlog(session)

    async def _maybe_prune(self) -> None:
        loop = asyncio.get_running_loop()
        if loop.time() - self._last_prune < 600:
            return
        self._last_prune = loop.time()
        async with self._sessions() as session, session.begin():
            await session.execute(
                delete(OutboxMessage).where(
                    OutboxMessage.sent_at.is_not(None), OutboxMessage.sent_at < func.now() - SENT_ROW_RETENTION
                )
            )
