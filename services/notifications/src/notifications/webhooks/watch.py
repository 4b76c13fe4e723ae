"""The webhooks consumer's subscriptions, held in memory while nothing changes.

Every event of the four topics goes to the `notifications-webhooks` consumer, and each needs the
active subscriptions (id and event types): reading them per event was a query per event for a
table that changes a few times a year. The worker keeps them in memory and drops them the moment
any replica of the api changes a subscription (notifications.changes: the `webhook_subscriptions`
trigger NOTIFYs channel `webhook_subscriptions`, the worker LISTENs). While the copy is fresh, an
event type no subscription wants does not even open a transaction (`SubscribedHandlers`), and
while no subscription wants any event at all the consumer rests between fetches (`rest`): a fetch
round trip of all 24 partitions for every event, to pass it by, cost more than anything else the
worker did for an event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts import EVENT_PAYLOADS
from crm_shared.messaging.consumer import Handler
from notifications.changes import ChangeWatch
from notifications.webhooks.repository import ActiveSubscription, WebhookRepository

CHANNEL = "webhook_subscriptions"
# While nothing is wanted, the webhooks consumer fetches at most this often (a subscription
# change ends the rest at once, so a new subscriber waits for none of it). Short enough that the
# group's committed lag stays well under the autoscaler's threshold (deploy/k8s: 100).
REST_SECONDS = 0.25


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

    def __init__(self, watch: ChangeWatch) -> None:
        self.watch = watch
        self.rows: list[ActiveSubscription] | None = None
        self.loads = 0  # how many times the table was read (for tests)
        self._wanted: dict[str, bool] = {}  # by event type, for the copy in hand

    def wanted(self, event_type: str) -> bool | None:
        """Whether an active subscription matches `event_type`; None when the copy is not fresh."""
        if self.rows is None or not self.watch.fresh():
            return None
        found = self._wanted.get(event_type)
        if found is None:
            found = self._wanted[event_type] = any(matches(s.event_types, event_type) for s in self.rows)
        return found

    def wants_nothing(self) -> bool:
        """True while the copy is fresh and no active subscription matches any event type."""
        return all(self.wanted(event_type) is False for event_type in EVENT_PAYLOADS)

    async def active(self, session: AsyncSession) -> list[ActiveSubscription]:
        if self.rows is not None and self.watch.fresh():
            return self.rows
        self.watch.reading()
        rows = await WebhookRepository(session).active_subscriptions()
        self.loads += 1
        self.rows, self._wanted = rows, {}
        return rows


SUBSCRIPTION_CHANGES = ChangeWatch(CHANNEL)
SUBSCRIPTIONS = SubscriptionCache(SUBSCRIPTION_CHANGES)
# The background loop the notifications worker runs (crm_shared.worker.Background).
subscription_watch = SUBSCRIPTION_CHANGES.loop


async def rest(stop: asyncio.Event, cache: SubscriptionCache | None = None) -> None:
    """The webhooks consumer's rest between fetches (crm_shared.messaging.consumer.Rest): while
    no subscription wants any event, until `REST_SECONDS` pass, a subscription changes or `stop`."""
    cache = cache or SUBSCRIPTIONS
    wake = cache.watch.wake
    if wake is not None and cache.wants_nothing():
        await wake.sleep(stop, REST_SECONDS)


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
