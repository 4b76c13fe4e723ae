"""Live updates without a database: who gets a change, the SSE wire format, a client that falls behind."""

from __future__ import annotations

import asyncio
import contextvars
import json
from typing import Any

import pytest

from crm_shared.http.live import LiveFeed, LiveHub, format_event
from crm_shared.http.problems import NotFound

FEED = LiveFeed(
    channel="crm_live_tasks",
    event="task",
    filters={"customer_id": ("customer_id",), "assignee": ("assignee",), "queue": ("team", "assignee")},
)
CHANGE = {"op": "UPDATE", "id": "t1", "customer_id": "c1", "assignee": "service-desk", "team": None}


def hub(queue_size: int = 256) -> LiveHub:
    async def render(_session: Any, keys: Any) -> dict[str, Any]:
        return dict(keys)

    return LiveHub(FEED, "postgresql+asyncpg://u:p@127.0.0.1:1/db", None, render, queue_size=queue_size)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("wanted", "gets_it"),
    [
        ({}, True),
        ({"customer_id": "c1"}, True),
        ({"customer_id": "c2"}, False),
        ({"customer_id": "c1", "assignee": "erin"}, False),
        ({"queue": "service-desk"}, True),  # a queue assignee
        ({"queue": "key-accounts"}, False),
        ({"customer_id": None, "assignee": None}, True),  # unset filters filter nothing
    ],
)
async def test_a_change_reaches_the_streams_whose_filters_all_match(wanted: dict[str, Any], gets_it: bool) -> None:
    live = hub()
    async with live.subscribe(wanted):
        (subscriber,) = live.subscribers
        assert subscriber.matches(FEED, CHANGE) is gets_it
    assert not live.subscribers, "a closed stream unsubscribes"


async def test_a_team_matches_the_queue_filter_too() -> None:
    live = hub()
    async with live.subscribe({"queue": "key-accounts"}):
        (subscriber,) = live.subscribers
        assert subscriber.matches(FEED, CHANGE | {"assignee": "alice", "team": "key-accounts"})


def test_the_wire_format_is_one_sse_event_with_a_fresh_id() -> None:
    first = format_event("task", '{"id": "t1"}').decode()
    second = format_event("task", '{"id": "t1"}').decode()
    name, event_id, data, end = first.split("\n", 3)
    assert name == "event: task" and data == 'data: {"id": "t1"}' and end == "\n"
    assert event_id.startswith("id: ") and first != second
    assert format_event("case", "a\nb").decode().endswith("data: a\ndata: b\n\n")


async def test_a_stream_that_falls_behind_loses_its_backlog_and_is_told_to_re_read() -> None:
    live = hub(queue_size=3)
    async with live.subscribe({}) as queue:
        (subscriber,) = live.subscribers
        for n in range(4):
            live._deliver(subscriber, ("task", f'{{"n": {n}}}'))
        assert [queue.get_nowait() for _ in range(queue.qsize())] == [("resync", "{}")]


async def test_changes_reach_each_stream_in_commit_order() -> None:
    live = hub()
    live.sessions = _NoSession  # type: ignore[assignment]  # render() above reads nothing
    task = asyncio.create_task(live._fan_out())
    try:
        async with live.subscribe({"customer_id": "c1"}) as mine, live.subscribe({"customer_id": "c2"}) as other:
            for n in range(3):
                live._on_notify(None, 0, FEED.channel, f'{{"id": "t{n}", "customer_id": "c1"}}')
            live._on_notify(None, 0, FEED.channel, "not json")
            got = [await asyncio.wait_for(mine.get(), 2) for _ in range(3)]
            assert [name for name, _ in got] == ["task"] * 3
            assert [data for _, data in got] == [f'{{"id": "t{n}", "customer_id": "c1"}}' for n in range(3)]
            assert other.empty()
    finally:
        task.cancel()


CALLER: contextvars.ContextVar[str] = contextvars.ContextVar("caller", default="nobody")


async def test_each_stream_sees_a_change_as_its_own_caller_may_read_it() -> None:
    """Rendered in each stream's request context: a record its caller may not read is not sent."""

    async def render(_session: Any, keys: Any) -> dict[str, Any]:
        if CALLER.get() == "partner" and keys["customer_id"] != "c-partner":
            raise NotFound("Task", keys["id"])
        return {"id": keys["id"], "seen_by": CALLER.get()}

    live = LiveHub(FEED, "postgresql+asyncpg://u:p@127.0.0.1:1/db", _NoSession, render)  # type: ignore[arg-type]
    task = asyncio.create_task(live._fan_out())
    try:
        CALLER.set("agent")
        async with live.subscribe({}) as agents:
            CALLER.set("partner")
            async with live.subscribe({}) as partners:
                CALLER.set("nobody")
                live._on_notify(None, 0, FEED.channel, '{"id": "t1", "customer_id": "c-other"}')
                live._on_notify(None, 0, FEED.channel, '{"id": "t2", "customer_id": "c-partner"}')
                agent_events = [json.loads((await asyncio.wait_for(agents.get(), 2))[1]) for _ in range(2)]
                assert agent_events == [{"id": "t1", "seen_by": "agent"}, {"id": "t2", "seen_by": "agent"}]
                assert json.loads((await asyncio.wait_for(partners.get(), 2))[1]) == {"id": "t2", "seen_by": "partner"}
                assert partners.empty()
    finally:
        task.cancel()


class _NoSession:
    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *_: object) -> None:
        return None
