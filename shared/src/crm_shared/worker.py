"""The worker process every service runs: its consumers, the outbox relay and background loops.

SIGTERM (or Ctrl-C) sets one stop event: consumers finish the record in hand, commit their
offsets and leave the group; the publisher waits for in-flight sends; then the process exits.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from crm_shared.config import ServiceSettings
from crm_shared.db import create_engine, create_session_factory
from crm_shared.messaging.consumer import EventConsumer, Handler
from crm_shared.messaging.outbox import EventPublisher, OutboxRelay
from crm_shared.observability.logging import configure_logging

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConsumerSpec:
    """A consumer group: its name (also the group id), topics and handlers by event type."""

    name: str
    topics: list[str]
    handlers: dict[str, Handler] = field(default_factory=dict)


# A loop that is no consumer (e.g. contacts' bulk imports): runs with the worker's sessions and
# publisher until `stop` is set, then returns; it must survive its own errors.
Background = Callable[["Worker", asyncio.Event], Awaitable[None]]


class Worker:
    def __init__(
        self, settings: ServiceSettings, consumers: list[ConsumerSpec], background: Sequence[Background] = ()
    ) -> None:
        self.settings = settings
        self.specs = consumers
        self.background = list(background)
        self.engine = create_engine(settings)
        self.sessions = create_session_factory(self.engine)
        self.publisher = EventPublisher(settings.kafka, self.sessions, f"{settings.service_name}-worker")
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
            )
            for spec in consumers
        ]

    async def run(self, stop: asyncio.Event) -> None:
        await self.publisher.start()
        try:
            await asyncio.gather(
                self.relay.run(stop),
                *(c.run(stop) for c in self.consumers),
                *(loop(self, stop) for loop in self.background),
            )
        finally:
            await self.publisher.stop()
            await self.engine.dispose()


def run_worker(
    settings_factory: Callable[[], ServiceSettings],
    consumers: Callable[[], list[ConsumerSpec]],
    background: Callable[[], list[Background]] = list,
) -> None:
    """Console-script entry point of a service worker."""
    settings = settings_factory()
    configure_logging(settings.service_name + "-worker", settings.log_level)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        log.info("worker starting", extra={"consumers": [c.name for c in consumers()]})
        await Worker(settings, consumers(), background()).run(stop)
        log.info("worker stopped")

    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())
