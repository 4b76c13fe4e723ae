"""Waking a background loop at once when a table changes: LISTEN on its own connection.

A trigger NOTIFYs a channel on commit; the loop LISTENs on a dedicated asyncpg connection (the
pool's connections come and go) and sleeps until the notification, its own timeout or the stop
signal, whichever comes first. A lost connection also wakes it, and the next pass listens again;
a notification missed meanwhile costs at most the loop's longest sleep. Used by the deadline
timers (crm_shared.timers) and delivery runners.
"""

from __future__ import annotations

import asyncio
import logging
import ssl

import asyncpg
from sqlalchemy.engine import make_url


class WakeUp:
    def __init__(
        self,
        database_url: str,
        channel: str,
        *,
        log: logging.Logger,
        cannot_listen: str,
        tls: ssl.SSLContext | bool | None = None,
    ) -> None:
        """`cannot_listen`: the warning `log` (the loop's logger) writes when LISTEN cannot connect;
        `tls`: asyncpg's `ssl` (crm_shared.db.database_ssl), as the pool's connections use."""
        self.tls = tls
        self.dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.channel = channel
        self.log = log
        self.cannot_listen = cannot_listen
        self.event = asyncio.Event()
        self.listener: asyncpg.Connection | None = None

    def set(self) -> None:
        self.event.set()

    def clear(self) -> None:
        """Called before reading what is due: a change committed after that read sets it again."""
        self.event.clear()

    async def listen(self) -> None:
        """Opens the LISTEN connection unless it is open; a failure is logged and retried next pass."""
        if self.listener is not None and not self.listener.is_closed():
            return
        try:
            self.listener = await (
                asyncpg.connect(self.dsn) if self.tls is None else asyncpg.connect(self.dsn, ssl=self.tls)
            )
            await self.listener.add_listener(self.channel, self._notified)
            self.listener.add_termination_listener(lambda _connection: self.event.set())
        except (OSError, asyncpg.PostgresError) as exc:
            # The cap on the sleep still bounds the delay; the next pass retries.
            self.log.warning(self.cannot_listen, extra={"error": repr(exc)})
            self.listener = None

    async def sleep(self, stop: asyncio.Event, seconds: float) -> None:
        """Until a notification, `stop` or `seconds`, whichever comes first."""
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.event.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def close(self) -> None:
        if self.listener is not None and not self.listener.is_closed():
            await self.listener.close()

    def _notified(self, *_: object) -> None:
        self.event.set()
