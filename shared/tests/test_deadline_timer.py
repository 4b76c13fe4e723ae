"""The deadline timer reads the database only when a deadline is reached or a change is unknown.

Pure logic: the timer runs against an in-memory table of deadlines and a clock the test moves;
notifications are handed to it as PostgreSQL would (channel, payload), and its LISTEN connection
is a stand-in.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from crm_shared.timers import DeadlineTimer, heard_deadline

T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


class FakeListener:
    def is_closed(self) -> bool:
        return False

    async def close(self) -> None:
        pass


class FakeSession:
    def __init__(self) -> None:
        self.info: dict[str, Any] = {}

    @asynccontextmanager
    async def begin(self):
        yield self


class Sessions:
    @asynccontextmanager
    async def __call__(self):
        yield FakeSession()


class Publisher:
    def dispatch(self, rows: list[Any]) -> None:
        pass


class Table:
    """Pending deadlines, as the database holds them; counts the timer's reads."""

    def __init__(self, *deadlines: datetime) -> None:
        self.pending = sorted(deadlines)
        self.fired: list[datetime] = []
        self.reads = 0

    async def fire_due(self, session: Any, now: datetime, limit: int) -> int:
        self.reads += 1
        due = [d for d in self.pending if d <= now][:limit]
        self.pending = [d for d in self.pending if d not in due]
        self.fired += due
        return len(due)

    async def next_deadline(self, session: Any) -> datetime | None:
        self.reads += 1
        return self.pending[0] if self.pending else None


def epoch(at: datetime) -> str:
    return f"{at.timestamp():.6f}"


async def until(check: Any, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not check():
        assert loop.time() < end, "timed out"
        await asyncio.sleep(0.005)


@pytest.fixture
async def running():
    table = Table(T0 + timedelta(hours=1))
    now = {"at": T0}
    timer = DeadlineTimer(
        "test-timer",
        "test_channel",
        Sessions(),  # type: ignore[arg-type]
        Publisher(),  # type: ignore[arg-type]
        "postgresql+asyncpg://nobody@localhost/none",
        table.fire_due,
        table.next_deadline,
        clock=lambda: now["at"],
    )

    async def listen() -> None:
        timer.wake.listener = FakeListener()  # type: ignore[assignment]

    timer.wake.listen = listen  # type: ignore[method-assign]
    stop = asyncio.Event()
    task = asyncio.create_task(timer.run(stop))
    try:
        await until(lambda: timer.wake.planned == T0 + timedelta(hours=1))
        yield timer, table, now
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


def notify(timer: DeadlineTimer, payload: str) -> None:
    timer.wake._notified(None, 1, "test_channel", payload)


async def test_a_later_deadline_costs_no_read_and_an_earlier_one_is_planned_without_a_read(running) -> None:
    timer, table, now = running
    assert table.reads == 2  # the first pass: fire what is due, read the earliest deadline
    notify(timer, epoch(T0 + timedelta(hours=2)))  # a new task, due after the planned one
    assert not timer.wake.event.is_set()  # the timer does not even wake

    earlier = T0 + timedelta(minutes=30)
    notify(timer, epoch(earlier))
    await until(lambda: timer.wake.planned == earlier)
    assert table.reads == 2

    table.pending = sorted([*table.pending, earlier])
    now["at"] = earlier + timedelta(seconds=1)
    timer.wake.set()  # the sleep until the deadline ends
    await until(lambda: table.fired == [earlier])
    await until(lambda: timer.wake.planned == T0 + timedelta(hours=1))
    assert table.reads == 4


async def test_a_change_that_does_not_say_its_deadline_is_read(running) -> None:
    timer, table, _ = running
    table.pending = [T0 - timedelta(seconds=1), *table.pending]  # written by a trigger with no payload
    notify(timer, "")
    await until(lambda: table.fired == [T0 - timedelta(seconds=1)])


async def test_the_earliest_deadline_is_reread_after_the_longest_sleep_in_case_a_notification_was_lost(
    running,
) -> None:
    timer, table, now = running
    table.pending = [T0 + timedelta(minutes=5), *table.pending]  # its notification never came
    now["at"] = T0 + timedelta(seconds=timer.max_sleep)
    timer.wake.set()
    await until(lambda: timer.wake.planned == T0 + timedelta(minutes=5))


def test_the_payload_is_epoch_seconds_and_anything_else_is_unknown() -> None:
    assert heard_deadline(epoch(T0)) == T0
    assert heard_deadline("") is None
    assert heard_deadline("soon") is None
