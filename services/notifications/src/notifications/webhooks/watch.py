"""The webhooks consumer's subscriptions, held in memory while nothing changes.

Every event of the four topics goes to the `notifications-webhooks` consumer, and each needs the
active subscriptions (id and event types): reading them per event was a query per event for a
table that changes a few times a year. The worker keeps them in memory and drops them the moment
any replica of the api changes a subscription: a statement trigger on `webhook_subscriptions`
NOTIFYs channel `webhook_subscriptions` on commit, and a background loop (`subscription_watch`)
LISTENs on its own connection (crm_shared.wakeup). The notification reaches the worker within
milliseconds of the commit, well before an event produced after the change has crossed the broker.
Without a live listener (not started yet, reconnecting) nothing is cached: every event reads the
table, as before. `MAX_AGE_SECONDS` bounds the age of the copy in any case.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.db import database_ssl
from crm_shared.wakeup import WakeUp
from crm_shared.worker import Handler, Worker
from notifications.config import Settings
from notifications.webhooks.repository import ActiveSubscription, WebhookRepository

log = logging.getLogger(__name__)

CHANNEL = "webhook_subscriptions"
MAX_AGE_SECONDS = 30.0
# How often the loop checks that its listener is still connected (a lost one drops the copy at once).
CHECK_SECONDS = 1.0


def matches(patterns: Sequence[str], event_type: str) -> bool:
    """Exact types, prefixes ending in `.*` (`crm.feedback.*`) or `*`."""
    for pattern in patterns:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


class SubscriptionCache:
    """One per worker process."""

    def __init__(self) -> None:
        self.watch: WakeUp | None = None
        self.rows: list[ActiveSubscription] | None = None
        self.loaded_at = 0.0
        self.loads = 0  # how many times the table was read (for tests)
        self._wanted: dict[str, bool] = {}  # by event type, for the copy in hand

    def wanted(self, event_type: str) -> bool | None:
        """Whether an active subscription matches `event_type`; None when the copy is not fresh."""
        if not self._fresh():
            return None
        found = self._wanted.get(event_type)
        if found is None:
            assert self.rows is not None
            found = self._wanted[event_type] = any(matches(s.event_types, event_type) for s in self.rows)
        return found

    def _fresh(self) -> bool:
        watch = self.watch
        return (
            self.rows is not None
            and watch is not None
            and watch.listener is not None
            and not watch.listener.is_closed()
            and not watch.event.is_set()
            and time.monotonic() - self.loaded_at < MAX_AGE_SECONDS
        )

    async def active(self, session: AsyncSession) -> list[ActiveSubscription]:
        if self._fresh():
            assert self.rows is not None
            return self.rows
        if self.watch is not None:
            self.watch.clear()  # before the read: a change committed after it sets the flag again
        rows = await WebhookRepository(session).active_subscriptions()
        self.loads += 1
        self.rows, self.loaded_at, self._wanted = rows, time.monotonic(), {}
        return rows


SUBSCRIPTIONS = SubscriptionCache()


class SubscribedHandlers(dict[str, Handler]):
    """The webhooks consumer's handlers: while the copy is fresh, an event type that no active
    subscription matches has no handler, so the consumer passes it by as one it does not care
    about (no transaction, no inbox row: there is nothing to do exactly once). Otherwise, and for
    any other way of reading the handlers, every event type goes to the handler."""

    cache: SubscriptionCache = SUBSCRIPTIONS

    def get(self, event_type: str, default: Handler | None = None) -> Handler | None:  # type: ignore[override]
        handler = super().get(event_type)
        if handler is None or self.cache.wanted(event_type) is False:
            return default
        return handler


def subscription_watch(worker: Worker, stop: asyncio.Event):
    """The background loop the notifications worker runs (crm_shared.worker.Background): keeps the
    LISTEN connection that lets `SUBSCRIPTIONS` keep its copy."""
    settings = cast(Settings, worker.settings)
    wake = WakeUp(
        settings.database_url,
        CHANNEL,
        log=log,
        cannot_listen="webhooks: cannot listen for subscription changes",
        tls=database_ssl(settings),
    )
    wake.set()  # nothing read yet

    async def run() -> None:
        SUBSCRIPTIONS.watch = wake
        try:
            while not stop.is_set():
                await wake.listen()
                try:
                    await asyncio.wait_for(stop.wait(), timeout=CHECK_SECONDS)
                except TimeoutError:
                    pass
        finally:
            if SUBSCRIPTIONS.watch is wake:
                SUBSCRIPTIONS.watch = None
            await wake.close()

    return run()
