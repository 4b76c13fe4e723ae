"""Live updates: a table's changes, as server-sent events, fed by PostgreSQL LISTEN/NOTIFY.

- A migration puts a row trigger on the table (`crm_shared.migration_ops.create_live_trigger_v1`):
  on every insert or update it calls `pg_notify(channel, {key columns})` inside the writing
  transaction, so a change is announced exactly when it commits, and never when it rolls back,
  whatever code path wrote it (api, worker, bulk update).
- Each api process holds one `LiveHub` per feed: a single LISTEN connection (reconnected with
  backoff) whose changes go, in commit order, to the SSE subscribers whose filters match. For each
  of them the row is rendered by the service's own read use case inside that subscriber's request
  context (its caller, and whatever the auth dependency bound for the request), so an event is
  exactly what that caller's read endpoint returns, and a record the caller may not read (the
  read's 404) is not sent to them.
- `stream(request, ...)` is the endpoint's response: `event: <name>\\nid: <uuid>\\ndata: <json>\\n\\n`
  per change, a `: keepalive` comment while quiet, and `event: resync` after the hub lost its
  LISTEN connection (changes may have been missed: the client re-reads).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import ssl
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from pydantic import BaseModel
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.responses import StreamingResponse

from crm_shared.db import database_ssl
from crm_shared.http.problems import ProblemError

log = logging.getLogger(__name__)

LISTEN_WAIT_SECONDS = 5.0
# A change's keys (the trigger's payload) -> the event's data, or None when the row is gone.
Render = Callable[[AsyncSession, Mapping[str, Any]], Awaitable[BaseModel | dict[str, Any] | None]]


@dataclass(frozen=True)
class LiveFeed:
    """One table's changes as one SSE event type."""

    channel: str  # the NOTIFY channel its trigger uses
    event: str  # the SSE event name
    # Query parameter -> the payload keys it matches (any of them equal to the value).
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(eq=False)  # one per stream, held in a set by identity
class _Subscriber:
    wanted: dict[str, str]
    queue: asyncio.Queue[tuple[str, str]]
    # The stream's request context (a copy), in which its events are rendered.
    context: contextvars.Context

    def matches(self, feed: LiveFeed, keys: Mapping[str, Any]) -> bool:
        for name, value in self.wanted.items():
            if not any(str(keys.get(column)) == value for column in feed.filters.get(name, (name,))):
                return False
        return True


class LiveHub:
    """One LISTEN connection of a process for one feed, fanned out to its SSE subscribers."""

    def __init__(
        self,
        feed: LiveFeed,
        database_url: str,
        sessions: async_sessionmaker[AsyncSession],
        render: Render,
        *,
        queue_size: int = 256,
        reconnect_max_seconds: float = 5.0,
        tls: ssl.SSLContext | bool | None = None,
    ) -> None:
        """`tls`: asyncpg's `ssl` argument, as the pool's connections use (None: the URL decides)."""
        self.feed = feed
        self.tls = tls
        self.dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.sessions = sessions
        self.render = render
        self.queue_size = queue_size
        self.reconnect_max_seconds = reconnect_max_seconds
        self.subscribers: set[_Subscriber] = set()
        self.listening = asyncio.Event()
        self._lost = asyncio.Event()
        self._changes: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._fan_out())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @contextlib.asynccontextmanager
    async def subscribe(self, wanted: Mapping[str, str | None]) -> AsyncIterator[asyncio.Queue[tuple[str, str]]]:
        wanted_now = {k: v for k, v in wanted.items() if v is not None}
        subscriber = _Subscriber(wanted_now, asyncio.Queue(self.queue_size), contextvars.copy_context())
        self.subscribers.add(subscriber)
        try:
            yield subscriber.queue
        finally:
            self.subscribers.discard(subscriber)

    async def _listen(self) -> None:
        """Holds the LISTEN connection; after a loss, reconnects with backoff and tells the streams."""
        delay, reconnecting = 0.1, False
        while True:
            connection: asyncpg.Connection | None = None
            self._lost.clear()
            try:
                connection = await (
                    asyncpg.connect(self.dsn) if self.tls is None else asyncpg.connect(self.dsn, ssl=self.tls)
                )
                connection.add_termination_listener(self._on_lost)
                await connection.add_listener(self.feed.channel, self._on_notify)
                if reconnecting:  # changes may have been missed meanwhile
                    self._broadcast(("resync", "{}"))
                self.listening.set()
                delay = 0.1
                await self._lost.wait()
            except Exception as exc:  # whatever it was, listen again: a dead hub would end live updates
                log.warning("live %s: LISTEN connection failed: %r", self.feed.channel, exc)
            finally:
                self.listening.clear()
                if connection is not None and not connection.is_closed():
                    await connection.close(timeout=2)
            reconnecting = True
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.reconnect_max_seconds)

    def _on_lost(self, _connection: object) -> None:
        self._lost.set()

    def _on_notify(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        if not self.subscribers:  # nobody streams: every write of the table would be parsed for nothing
            return
        try:
            self._changes.put_nowait(json.loads(payload))
        except ValueError:
            log.warning("live %s: a payload that is not JSON: %r", self.feed.channel, payload[:200])

    async def _fan_out(self) -> None:
        """One change at a time, in commit order, to each subscriber that wants it."""
        while True:
            keys = await self._changes.get()
            for subscriber in [s for s in self.subscribers if s.matches(self.feed, keys)]:
                body = await asyncio.create_task(self._render(keys), context=subscriber.context)
                if body is not None and subscriber in self.subscribers:
                    self._deliver(subscriber, (self.feed.event, body))

    async def _render(self, keys: Mapping[str, Any]) -> str | None:
        """The change as the read use case shows it to the current caller; None: not theirs, or gone."""
        try:
            async with self.sessions() as session:
                data = await self.render(session, keys)
        except ProblemError:  # the read's 404 (gone, or beyond the caller's reach) or 403
            return None
        except Exception:
            log.exception("live %s: rendering %s failed", self.feed.channel, keys)
            return None
        if data is None:
            return None
        return data.model_dump_json() if isinstance(data, BaseModel) else json.dumps(data, default=str)

    def _broadcast(self, item: tuple[str, str]) -> None:
        for subscriber in list(self.subscribers):
            self._deliver(subscriber, item)

    @staticmethod
    def _deliver(subscriber: _Subscriber, item: tuple[str, str]) -> None:
        """A subscriber that does not keep up loses its backlog and is told to re-read."""
        try:
            subscriber.queue.put_nowait(item)
        except asyncio.QueueFull:
            while not subscriber.queue.empty():
                subscriber.queue.get_nowait()
            subscriber.queue.put_nowait(("resync", "{}"))


def hooks(feed: LiveFeed, render: Render) -> tuple[Callable[[FastAPI], Awaitable[None]], ...]:
    """The app's startup and shutdown hooks for one feed (create_service_app's on_startup/on_shutdown)."""

    async def start(app: FastAPI) -> None:
        settings = app.state.settings
        hub = LiveHub(feed, settings.database_url, app.state.sessions, render, tls=database_ssl(settings))
        app.state.live = getattr(app.state, "live", {}) | {feed.event: hub}
        await hub.start()

    async def stop(app: FastAPI) -> None:
        await app.state.live[feed.event].stop()

    return start, stop


def format_event(event: str, data: str) -> bytes:
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"event: {event}\nid: {uuid.uuid4()}\n{lines}\n".encode()


def stream(
    request: Request, event: str, wanted: Mapping[str, str | None], *, heartbeat_seconds: float = 15.0
) -> StreamingResponse:
    """The SSE response of a live endpoint: the feed's changes that match `wanted`, until the client leaves."""
    hub: LiveHub = request.app.state.live[event]

    async def events() -> AsyncIterator[bytes]:
        async with hub.subscribe(wanted) as queue:
            # `: connected` promises that every change committed from now on will come; right
            # after the api started, that needs the LISTEN connection (a lost one: resync follows).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(hub.listening.wait(), LISTEN_WAIT_SECONDS)
            yield b": connected\n\n"
            while True:
                try:
                    name, data = await asyncio.wait_for(queue.get(), heartbeat_seconds)
                except TimeoutError:
                    yield b": keepalive\n\n"
                    continue
                yield format_event(name, data)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
