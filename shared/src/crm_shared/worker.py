"""The worker process every service runs: its consumers, the outbox relay and background loops.

SIGTERM (or Ctrl-C) sets one stop event: consumers finish the record in hand, commit their
offsets and leave the group; the publisher waits for in-flight sends; then the process exits.

Retention: the worker prunes stored Idempotency-Key answers, processed-event (inbox) rows and the
access log past their retention (crm_shared.retention, `CRM_RETENTION_*`).

Metrics: the worker serves Prometheus text on `<SERVICE>_METRICS_PORT` (0 = off) and samples
the gauges that need a query every `CRM_MESSAGING_BACKLOG_SAMPLE_SECONDS`: the outbox backlog
(the relay) and every pending-timer count a service registered with `add_pending_timer`.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import start_http_server

from crm_shared.config import ServiceSettings
from crm_shared.db import create_engine, create_session_factory, utcnow
from crm_shared.http.identity import check_auth_settings
from crm_shared.messaging.consumer import EventConsumer, Handler, Rest
from crm_shared.messaging.outbox import EventPublisher, OutboxRelay
from crm_shared.observability import tracing
from crm_shared.observability.logging import configure_logging
from crm_shared.observability.metrics import TIMERS_PENDING, PendingCount
from crm_shared.retention import Clock, prune_loop

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConsumerSpec:
    """A consumer group: its name (also the group id), topics and handlers by event type; `rest`:
    for a group that often has nothing to do, how it waits between fetches meanwhile
    (crm_shared.messaging.consumer.Rest)."""

    name: str
    topics: list[str]
    handlers: dict[str, Handler] = field(default_factory=dict)
    rest: Rest | None = None


# A loop that is no consumer (e.g. a bulk import): runs with the worker's sessions and
# publisher until `stop` is set, then returns; it must survive its own errors.
Background = Callable[["Worker", asyncio.Event], Awaitable[None]]


class Worker:
    def __init__(
        self,
        settings: ServiceSettings,
        consumers: list[ConsumerSpec],
        background: Sequence[Background] = (),
        clock: Clock = utcnow,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.specs = consumers
        self.background = list(background)
        self.engine = create_engine(settings)
        tracing.instrument_engine(self.engine, settings.service_name)
        self.sessions = create_session_factory(self.engine)
        self.publisher = EventPublisher(
            settings.kafka, self.sessions, f"{settings.service_name}-worker", service=settings.service_name
        )
        self.pending_timers: dict[str, PendingCount] = {}
        self.metrics_server: Any = None
        self.relay = OutboxRelay(self.publisher, self.sessions, settings.messaging)
        self.consumers = [
            EventConsumer(
                name=spec.name,
                topics=spec.topics,
                handlers=spec.handlers,
                sessions=self.sessions,
                publisher=self.publisher,
                kafka=settings.kafka,
                messaging=settings.messaging,
                service=settings.service_name,
                rest=spec.rest,
            )
            for spec in consumers
        ]

    def add_pending_timer(self, timer: str, count: PendingCount) -> None:
        """Report `count(session)` as `crm_timers_pending{timer=...}`; keep it one indexed query."""
        self.pending_timers[timer] = count

    async def run(self, stop: asyncio.Event) -> None:
        check_auth_settings(self.settings.auth)  # no dev secret outside CRM_ENV=dev
        self._serve_metrics()
        await self.publisher.start()
        try:
            await asyncio.gather(
                self.relay.run(stop),
                *(c.run(stop) for c in self.consumers),
                *(loop(self, stop) for loop in self.background),
                self._sample_pending_timers(stop),
                prune_loop(self.sessions, self.settings.retention, stop, self.clock),
            )
        finally:
            await self.publisher.stop()
            await self.engine.dispose()
            if self.metrics_server is not None:
                self.metrics_server.shutdown()
                self.metrics_server.server_close()
                self.metrics_server = None

    def _serve_metrics(self) -> None:
        port = self.settings.worker_metrics_port
        if not port:
            return
        # A thread of its own: a scrape never waits for the event loop (and shows a stuck one).
        try:
            self.metrics_server, _thread = start_http_server(port, addr=self.settings.host)
        except OSError as exc:
            # The events matter more than their metrics: run on, and say so loudly.
            log.error("worker metrics port unavailable; running without", extra={"port": port, "error": repr(exc)})
            return
        log.info("worker metrics on", extra={"port": port})

    async def _sample_pending_timers(self, stop: asyncio.Event) -> None:
        """Every few seconds, one session for all registered counts (background loops register
        theirs when they start, so the first pass waits one interval)."""
        interval = self.settings.messaging.backlog_sample_seconds
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
                return
            except TimeoutError:
                pass
            if not self.pending_timers:
                continue
            try:
                async with self.sessions() as session:
                    for timer, count in list(self.pending_timers.items()):
                        TIMERS_PENDING.labels(self.settings.service_name, timer).set(await count(session))
            except Exception as exc:
                log.warning("pending timer sample failed", extra={"error": repr(exc)})


def run_worker(
    settings_factory: Callable[[], ServiceSettings],
    consumers: Callable[[], list[ConsumerSpec]],
    background: Callable[[], list[Background]] = list,
) -> None:
    """Console-script entry point of a service worker."""
    settings = settings_factory()
    configure_logging(settings.service_name + "-worker", settings.log_level)
    tracing.configure_from_environment(settings.service_name + "-worker")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        log.info("worker starting", extra={"consumers": [c.name for c in consumers()]})
        await Worker(settings, consumers(), background()).run(stop)
        tracing.shutdown()
        log.info("worker stopped")

    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())
