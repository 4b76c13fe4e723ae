"""Integration: the worker prunes stored idempotent answers and inbox rows past their retention."""

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from contacts.config import Settings
from crm_devstack.testing import eventually
from crm_shared.config import RetentionSettings
from crm_shared.db import utcnow
from crm_shared.worker import Worker

pytestmark = pytest.mark.integration


async def test_the_worker_prunes_rows_older_than_the_retention_and_keeps_recent_ones(services) -> None:
    settings = Settings(retention=RetentionSettings(days=7, prune_interval_seconds=0.2, prune_batch_size=2))
    engine = create_async_engine(settings.database_url)
    run = uuid.uuid4().hex
    now = utcnow()
    old, recent = now - timedelta(days=8), now - timedelta(days=6)
    async with engine.begin() as conn:
        for i, at in enumerate([old, old, old, recent]):
            await conn.execute(
                text(
                    "INSERT INTO idempotency_keys (principal, operation, key, request_hash, created_at) "
                    "VALUES (:p, 'test', :k, 'h', :at)"
                ),
                {"p": f"retention-{run}", "k": f"k{i}", "at": at},
            )
            await conn.execute(
                text(
                    "INSERT INTO processed_events (consumer, event_id, event_type, processed_at) "
                    "VALUES (:c, :e, 'test', :at)"
                ),
                {"c": f"retention-{run}", "e": uuid.uuid4(), "at": at},
            )
        # The access log is kept a year: 8 days is young for it, 400 days is not.
        for at in (old, now - timedelta(days=400)):
            await conn.execute(
                text("INSERT INTO access_log (at, subject, route) VALUES (:at, :s, 'GET /v1/test')"),
                {"at": at, "s": f"retention-{run}"},
            )

    async def left() -> dict[str, int] | None:
        async with engine.connect() as conn:
            keys = await conn.scalar(
                text("SELECT count(*) FROM idempotency_keys WHERE principal = :p"), {"p": f"retention-{run}"}
            )
            inbox = await conn.scalar(
                text("SELECT count(*) FROM processed_events WHERE consumer = :c"), {"c": f"retention-{run}"}
            )
            log = await conn.scalar(
                text("SELECT count(*) FROM access_log WHERE subject = :s"), {"s": f"retention-{run}"}
            )
        done = keys == 1 and inbox == 1 and log == 1
        return {"keys": keys, "inbox": inbox, "access_log": log} if done else None

    # Batches of 2: three old rows take two batches; the service's own worker prunes only hourly.
    stop = asyncio.Event()
    worker = Worker(settings, [], [])
    running = asyncio.create_task(worker.run(stop))
    try:
        assert await eventually(left) == {"keys": 1, "inbox": 1, "access_log": 1}
    finally:
        stop.set()
        await running
    async with engine.connect() as conn:
        kept = await conn.scalar(
            text("SELECT created_at FROM idempotency_keys WHERE principal = :p"), {"p": f"retention-{run}"}
        )
    assert kept == recent
    await engine.dispose()


async def test_an_injected_clock_moves_the_cutoff(services) -> None:
    """The clock the worker is given decides what is old: a row from now is pruned 8 days later."""
    settings = Settings(retention=RetentionSettings(days=7, prune_interval_seconds=0.2))
    engine = create_async_engine(settings.database_url)
    principal = f"clock-{uuid.uuid4().hex}"
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO idempotency_keys (principal, operation, key, request_hash) VALUES (:p, 'test', 'k', 'h')"
            ),
            {"p": principal},
        )

    async def gone() -> bool:
        async with engine.connect() as conn:
            count = await conn.scalar(
                text("SELECT count(*) FROM idempotency_keys WHERE principal = :p"), {"p": principal}
            )
        return count == 0

    stop = asyncio.Event()
    running = asyncio.create_task(Worker(settings, [], [], clock=lambda: utcnow() + timedelta(days=8)).run(stop))
    try:
        assert await eventually(gone)
    finally:
        stop.set()
        await running
    await engine.dispose()
