"""The worker's delivery runner: sends due messages and webhook deliveries, records each attempt.

Per pass it claims due rows with `FOR UPDATE SKIP LOCKED` (two workers never take one row) and,
in that transaction, decides (suppressed, scheduled for quiet hours, dead) or writes the attempt
row and status `sending` with a lease. Only after that commit does it send, each send a task of
its own (at most `delivery_concurrency` at once, each bounded by the timeout), and then records
the outcome: sent/delivered, retry after exponential backoff, or dead. A worker that dies
mid-send leaves `sending`; when the lease runs out the row is taken again and sent with the same
Message-ID / webhook-id, which the receiver can deduplicate on.

Inserts and re-queues wake it at once: a statement trigger NOTIFYs `deliveries` at commit and
the loop LISTENs on its own connection (crm_shared.wakeup); it also sleeps only until the earliest
`next_attempt_at` (at most `MAX_SLEEP_SECONDS`), so a lost notification costs little.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_shared.db import database_ssl, unit_of_work, utcnow
from crm_shared.failures import is_transient
from crm_shared.wakeup import WakeUp
from crm_shared.worker import Worker
from notifications.config import Settings
from notifications.messages import sending as messages
from notifications.messages.repository import MessageRepository
from notifications.outbound import signing
from notifications.outbound.targets import configured_guard
from notifications.outbound.transports import Outcome, Transports, http_client
from notifications.webhooks import service as webhooks
from notifications.webhooks.repository import WebhookRepository

log = logging.getLogger(__name__)

CHANNEL = "deliveries"
MAX_SLEEP_SECONDS = 30.0
RETRY_SECONDS = 1.0
CONTENDED_SECONDS = 0.05
# On shutdown, sends in flight get this long to finish before they are cancelled (their rows
# stay `sending` and are taken again when the lease runs out).
DRAIN_SECONDS = 5.0


@dataclass(frozen=True)
class Queue:
    """One kind of outbound work: how to claim, send and record it."""

    name: str
    claim: Callable[[AsyncSession, int], Awaitable[list[Any]]]
    send: Callable[[Any], Awaitable[Outcome]]
    record: Callable[[AsyncSession, Any, Outcome], Awaitable[None]]
    next_due: Callable[[AsyncSession], Awaitable[Any]]


class DeliveryRunner:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings
        self.wake = WakeUp(
            settings.database_url,
            CHANNEL,
            log=log,
            cannot_listen="delivery loop: cannot listen for new messages",
            tls=database_ssl(settings),
        )
        self.in_flight: set[asyncio.Task[None]] = set()
        self.transports: Transports | None = None

    # -- the two queues ----------------------------------------------------------------------

    def queues(self, transports: Transports) -> list[Queue]:
        settings = self.settings

        def claimer(repository: Any, prepare: Any) -> Any:
            """Leases the due rows of one queue and prepares each; a row that needs no send is dropped."""

            async def claim(session: AsyncSession, limit: int) -> list[Any]:
                now = utcnow()
                jobs = []
                for row in await repository(session).claim_due(now, limit):
                    if (job := await prepare(session, row, now, settings)) is not None:
                        jobs.append(job)
                return jobs

            return claim

        claim_messages = claimer(MessageRepository, messages.prepare)
        claim_deliveries = claimer(WebhookRepository, webhooks.prepare)

        async def send_message(job: messages.Outgoing) -> Outcome:
            if job.channel == "email":
                return await transports.email(job.id, job.to, job.subject, job.body, job.language)
            if job.channel == "sms":
                return await transports.sms(job.id, job.to, job.body)
            # A playbook's call_webhook passes the integrators' SSRF guard, resolved at each send.
            if (refused := await configured_guard(settings).refusal(job.to)) is not None:
                return Outcome(False, None, f"refused: {refused}", permanent=True)
            return await transports.webhook_call(job.id, job.to, job.payload or {})

        async def record_message(session: AsyncSession, job: messages.Outgoing, outcome: Outcome) -> None:
            await messages.record_outcome(session, job, outcome, now=utcnow(), settings=settings)

        async def send_delivery(job: webhooks.OutgoingDelivery) -> Outcome:
            if (refused := await configured_guard(settings).refusal(job.url)) is not None:
                return Outcome(False, None, f"refused: {refused}", permanent=True)
            body = orjson.dumps(job.body)
            headers = signing.headers(job.secret, str(job.event_id), int(time.time()), body)
            return await transports.post(job.url, body, headers)

        async def record_delivery(session: AsyncSession, job: webhooks.OutgoingDelivery, outcome: Outcome) -> None:
            await webhooks.record_outcome(session, job, outcome, now=utcnow(), settings=settings)

        return [
            Queue(
                "messages",
                claim_messages,
                send_message,
                record_message,
                lambda s: MessageRepository(s).next_due(),
            ),
            Queue(
                "webhooks",
                claim_deliveries,
                send_delivery,
                record_delivery,
                lambda s: WebhookRepository(s).next_due(),
            ),
        ]

    # -- the loop ----------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        async with http_client(self.settings) as http:
            queues = self.queues(Transports(self.settings, http))
            try:
                while not stop.is_set():
                    await self.wake.listen()
                    self.wake.clear()
                    try:
                        delay = await self._pass(queues)
                    except Exception as exc:
                        if is_transient(exc):
                            log.warning("delivery loop: database unavailable, retrying", extra={"error": repr(exc)})
                        else:
                            log.exception("delivery pass failed")
                        delay = RETRY_SECONDS
                    if delay > 0:
                        await self.wake.sleep(stop, delay)
            finally:
                await self._drain()
                await self.wake.close()

    async def _pass(self, queues: list[Queue]) -> float:
        claimed = 0
        for queue in queues:
            free = self.settings.delivery_concurrency - len(self.in_flight)
            if free <= 0:
                return MAX_SLEEP_SECONDS  # a finishing send sets `wake`
            async with unit_of_work(self.sessions) as session:
                jobs = await queue.claim(session, free)
            claimed += len(jobs)
            for job in jobs:
                task = asyncio.create_task(self._deliver(queue, job))
                self.in_flight.add(task)
                task.add_done_callback(self._finished)
        if claimed:
            return 0  # there may be more due
        async with unit_of_work(self.sessions) as session:
            dues = [d for d in [await q.next_due(session) for q in queues] if d is not None]
        if not dues:
            return MAX_SLEEP_SECONDS
        delay = min(MAX_SLEEP_SECONDS, (min(dues) - utcnow()).total_seconds())
        # Due but nothing claimed: another worker holds those rows, or they wait for a free slot.
        return delay if delay > 0 else CONTENDED_SECONDS

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.in_flight.discard(task)
        self.wake.set()

    async def _deliver(self, queue: Queue, job: Any) -> None:
        try:
            outcome = await queue.send(job)
        except Exception as exc:  # a transport bug must cost an attempt, not the loop
            log.exception("send failed unexpectedly", extra={"queue": queue.name, "id": str(job.id)})
            outcome = Outcome(False, None, f"{type(exc).__name__}: {exc}"[:1000])
        delay = 0.2
        while True:
            try:
                async with unit_of_work(self.sessions) as session:
                    await queue.record(session, job, outcome)
                return
            except Exception as exc:
                if not is_transient(exc):
                    log.exception("recording a send failed", extra={"queue": queue.name, "id": str(job.id)})
                    return  # the lease brings the row back
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _drain(self) -> None:
        if self.in_flight:
            _, pending = await asyncio.wait(set(self.in_flight), timeout=DRAIN_SECONDS)
            for task in pending:
                task.cancel()


def delivery_runner(worker: Worker, stop: asyncio.Event) -> Awaitable[None]:
    """The background loop the notifications worker runs (crm_shared.worker.Background)."""
    settings = worker.settings
    assert isinstance(settings, Settings)
    return DeliveryRunner(worker.sessions, settings).run(stop)
