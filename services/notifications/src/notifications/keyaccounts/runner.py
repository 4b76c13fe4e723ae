"""The worker's yearly-visit check (crm_shared.worker.Background): once a day, after the first day."""

from __future__ import annotations

import asyncio
import logging
from typing import cast

from crm_shared.db import unit_of_work, utcnow
from crm_shared.worker import Worker
from notifications.config import Settings
from notifications.keyaccounts import service

log = logging.getLogger(__name__)


def key_account_check(worker: Worker, stop: asyncio.Event):
    """The background loop the notifications worker runs."""
    interval = cast(Settings, worker.settings).key_account_check_interval_seconds

    async def run() -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
                return
            except TimeoutError:
                pass
            try:
                while True:
                    async with unit_of_work(worker.sessions, worker.publisher.dispatch) as session:
                        planned = await service.plan_visits(session, utcnow())
                    log.info("key-account check", extra={"planned": planned})
                    if planned < 500:
                        break
            except Exception:
                log.exception("key-account check failed; the next one retries")

    return run()
