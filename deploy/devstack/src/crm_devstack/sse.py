"""Reading a server-sent event stream in tests (the apis' `GET /v1/live`): `open_stream` collects its events."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Event:
    name: str
    id: str
    data: Any
    at: float  # the loop's clock when it arrived


@dataclass
class Stream:
    status: int = 0
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    events: list[Event] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_for(self, check: Any, *, timeout: float = 60.0) -> Event:
        """The first event (so far or to come) for which `check` is true."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for event in self.events:
                if check(event):
                    return event
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"no matching event within {timeout}s; got {[e.name for e in self.events]}")
            self.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), remaining)


async def _read(client: httpx.AsyncClient, url: str, headers: dict[str, str], stream: Stream) -> None:
    async with client.stream("GET", url, headers=headers, timeout=httpx.Timeout(10, read=None)) as response:
        stream.status = response.status_code
        if response.status_code != 200:
            stream.connected.set()
            return
        fields: dict[str, str] = {}
        async for line in response.aiter_lines():
            if line.startswith(": connected"):
                stream.connected.set()
            elif line == "":
                if "event" in fields:
                    data = json.loads(fields.get("data", "null"))
                    at = asyncio.get_running_loop().time()
                    stream.events.append(Event(fields["event"], fields.get("id", ""), data, at))
                    stream.arrived.set()
                fields = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                fields[name] = f"{fields[name]}\n{value}" if name == "data" and name in fields else value


@contextlib.asynccontextmanager
async def open_stream(client: httpx.AsyncClient, url: str, token: str) -> AsyncIterator[Stream]:
    """Subscribes (returns once the server confirmed the subscription) and reads in the background."""
    stream = Stream()
    task = asyncio.create_task(_read(client, url, {"Authorization": f"Bearer {token}"}, stream))
    try:
        await asyncio.wait_for(stream.connected.wait(), 15)
        yield stream
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
