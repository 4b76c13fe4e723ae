"""Unit tests (no servers): when the worker's in-memory copies of admin-edited tables (webhook
subscriptions, the playbooks' version) hold, and when they must be read again."""

import asyncio
import logging
import uuid
from types import SimpleNamespace

from crm_shared.wakeup import WakeUp
from notifications.changes import MAX_AGE_SECONDS, ChangeWatch
from notifications.webhooks.repository import ActiveSubscription
from notifications.webhooks.watch import SubscriptionCache, rest


class Listener:
    def __init__(self) -> None:
        self.closed = False

    def is_closed(self) -> bool:
        return self.closed


def watched(**kwargs) -> tuple[ChangeWatch, SimpleNamespace]:
    watch = ChangeWatch("test", **kwargs)
    changed = asyncio.Event()
    wake = SimpleNamespace(listener=Listener(), event=changed, clear=changed.clear, set=changed.set)
    watch.wake = wake  # type: ignore[assignment]
    return watch, wake


def test_without_a_listener_nothing_is_fresh() -> None:
    watch = ChangeWatch("test")
    watch.reading()
    assert not watch.fresh()


def test_a_copy_holds_until_a_change_is_notified_and_a_new_read_holds_again() -> None:
    watch, wake = watched()
    wake.set()  # nothing read yet
    assert not watch.fresh()
    watch.reading()
    assert watch.fresh()
    wake.set()  # NOTIFY from any replica's commit
    assert not watch.fresh()
    watch.reading()
    assert watch.fresh()


def test_a_lost_listener_makes_every_copy_stale_at_once() -> None:
    watch, wake = watched()
    watch.reading()
    wake.listener.closed = True
    assert not watch.fresh()


def test_a_copy_is_read_again_after_its_longest_age() -> None:
    now = [100.0]
    watch, _ = watched(clock=lambda: now[0])
    watch.reading()
    now[0] += MAX_AGE_SECONDS - 1
    assert watch.fresh()
    now[0] += 1
    assert not watch.fresh()


async def test_the_webhooks_consumer_rests_while_no_subscription_wants_any_event_until_one_changes() -> None:
    watch = ChangeWatch("test")
    watch.wake = WakeUp("postgresql+asyncpg://test@localhost/test", "test", log=logging.getLogger(), cannot_listen="")
    watch.wake.listener = Listener()  # type: ignore[assignment]
    cache = SubscriptionCache(watch)
    cache.rows = [ActiveSubscription(id=uuid.uuid4(), event_types=("crm.nothing.*",))]
    watch.reading()
    stop = asyncio.Event()
    resting = asyncio.ensure_future(rest(stop, cache))
    await asyncio.sleep(0)
    assert not resting.done()  # nothing wanted: it waits
    watch.wake.set()  # a subscription changed: the rest ends at once
    await asyncio.wait_for(resting, 1)
    cache = SubscriptionCache(watch)  # read again: a subscription now wants feedback events
    cache.rows = [ActiveSubscription(id=uuid.uuid4(), event_types=("crm.feedback.*",))]
    watch.reading()
    await asyncio.wait_for(rest(stop, cache), 1)  # something wanted: no rest at all
