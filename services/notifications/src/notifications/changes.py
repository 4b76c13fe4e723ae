"""In-memory copies of admin-edited tables, dropped the moment any replica changes them.

A statement trigger on the table NOTIFYs a channel on commit; the worker LISTENs on its own
connection (crm_shared.wakeup), kept open by a background loop (`ChangeWatch.loop`). A copy is
fresh while that listener is connected, no change was notified since the copy was read, and it is
younger than `MAX_AGE_SECONDS`. The notification reaches the worker within milliseconds of the
commit, well before an event produced after the change has crossed the broker. Without a live
listener (not started yet, reconnecting) nothing counts as fresh: every use reads the table.
Used for the webhook subscriptions and the playbooks' version.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import cast

from crm_shared.db import database_ssl
from crm_shared.wakeup import WakeUp
from crm_shared.worker import Worker
from notifications.config import Settings

log = logging.getLogger(__name__)

MAX_AGE_SECONDS = 30.0
# How often the loop checks that its listener is still connected (a lost one marks every copy stale at once).
CHECK_SECONDS = 1.0


class ChangeWatch:
    """One per channel and worker process."""

    def __init__(self, channel: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.channel = channel
        self.clock = clock
        self.wake: WakeUp | None = None
        self.read_at = 0.0

    def fresh(self) -> bool:
        """Whether a copy read since the last `reading()` still holds."""
        wake = self.wake
        return (
            wake is not None
            and wake.listener is not None
            and not wake.listener.is_closed()
            and not wake.event.is_set()
            and self.clock() - self.read_at < MAX_AGE_SECONDS
        )

    def reading(self) -> None:
        """Called just before the table is read: a change committed after the read marks it stale again."""
        if self.wake is not None:
            self.wake.clear()
        self.read_at = self.clock()

    def loop(self, worker: Worker, stop: asyncio.Event) -> Awaitable[None]:
        """The background loop (crm_shared.worker.Background) that keeps the LISTEN connection."""
        settings = cast(Settings, worker.settings)
        wake = WakeUp(
            settings.database_url,
            self.channel,
            log=log,
            cannot_listen=f"cannot listen for changes on {self.channel}",
            tls=database_ssl(settings),
        )
        wake.set()  # nothing read yet

        async def run() -> None:
            self.wake = wake
            try:
                while not stop.is_set():
                    await wake.listen()
                    try:
                        await asyncio.wait_for(stop.wait(), timeout=CHECK_SECONDS)
                    except TimeoutError:
                        pass
            finally:
                if self.wake is wake:
                    self.wake = None
                await wake.close()

        return run()
