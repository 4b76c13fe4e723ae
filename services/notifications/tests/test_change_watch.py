"""Unit tests (no servers): when the worker's in-memory copies of admin-edited tables (webhook
subscriptions, the playbooks' version) hold, and when they must be read again."""

import asyncio
from types import SimpleNamespace

from notifications.changes import MAX_AGE_SECONDS, ChangeWatch


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
