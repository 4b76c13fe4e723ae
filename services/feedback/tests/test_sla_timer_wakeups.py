"""Unit tests of what wakes the SLA timer (feedback/sla/timer.py) and of the cached SLA policy
(feedback/sla/policy_cache.py). No server: notifications are delivered by hand, clocks are given.

A complaint's clocks are hours away: the timer, already planning an earlier wake-up, must not run
two database transactions for each of them; an earlier deadline must still wake it at once.
"""

import asyncio
import logging
import time

from feedback.sla.policy_cache import PolicyCache
from feedback.sla.schemas import DEFAULT_TARGETS, SlaPolicy
from feedback.sla.timer import CHANNEL, EarlierDeadlineWakeUp


def wake_up() -> EarlierDeadlineWakeUp:
    return EarlierDeadlineWakeUp(
        "postgresql+asyncpg://crm@localhost/feedback", CHANNEL, log=logging.getLogger("test"), cannot_listen="-"
    )


def notify(wake: EarlierDeadlineWakeUp, payload: str) -> None:
    wake._notified(None, 1, CHANNEL, payload)


async def sleeping(wake: EarlierDeadlineWakeUp, seconds: float) -> asyncio.Task[None]:
    task = asyncio.create_task(wake.sleep(asyncio.Event(), seconds))
    await asyncio.sleep(0)  # it is asleep now
    return task


async def test_a_deadline_after_the_planned_wake_up_does_not_wake_the_timer() -> None:
    wake = wake_up()
    task = await sleeping(wake, 30)
    notify(wake, str(time.time() + 3600))  # a new complaint's clock, an hour away
    await asyncio.sleep(0)
    assert not wake.event.is_set() and not task.done()
    notify(wake, str(time.time() + 1))  # due before the planned wake-up
    await asyncio.wait_for(task, 5)
    assert wake.event.is_set()


async def test_a_change_without_a_deadline_wakes_the_timer() -> None:
    wake = wake_up()
    task = await sleeping(wake, 30)
    notify(wake, "")
    await asyncio.wait_for(task, 5)


async def test_an_earlier_deadline_heard_during_a_pass_cuts_the_next_sleep_short() -> None:
    wake = wake_up()
    wake.clear()  # a pass starts: it reads the earliest deadline after this
    notify(wake, str(time.time() + 2))  # committed while the pass ran: maybe not in what it read
    notify(wake, str(time.time() + 7200))
    await asyncio.wait_for(wake.sleep(asyncio.Event(), 30), 5)  # planned 30 s: wakes at once
    assert wake.event.is_set()
    wake.clear()
    notify(wake, str(time.time() + 7200))
    task = await sleeping(wake, 30)  # a later one heard during the pass does not
    assert not task.done()
    task.cancel()


def policy(version: int) -> SlaPolicy:
    return SlaPolicy(version=version, targets=DEFAULT_TARGETS, created_by="tests", created_at=None)


def test_the_cached_policy_is_read_again_after_its_ttl_and_at_once_after_a_change() -> None:
    now = [100.0]
    cache = PolicyCache(ttl=5.0, clock=lambda: now[0])
    assert cache.get("db") is None
    cache.put("db", policy(1))
    now[0] += 4.9
    assert cache.get("db") == policy(1)
    assert cache.get("other-db") is None  # one entry per database
    now[0] += 0.1  # another replica's change is read within the TTL
    assert cache.get("db") is None
    cache.put("db", policy(1))
    cache.forget("db")  # a change through this process
    assert cache.get("db") is None
