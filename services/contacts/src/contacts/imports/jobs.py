"""Running an import job: claiming it, applying its rows batch by batch under a lease, releasing or failing it.

Never commits: the worker's runner makes each batch one unit of work, with the job's progress
in the same commit, so a crash resumes exactly after the last committed batch.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from contacts.imports.activity_rows import apply_activity_rows
from contacts.imports.customer_rows import apply_customer_rows
from contacts.imports.repository import ImportRepository
from crm_shared.db import utcnow

LEASE = timedelta(seconds=30)


async def claim_job(session: AsyncSession, token: uuid.UUID) -> uuid.UUID | None:
    """Takes the oldest job nobody is running (FOR UPDATE SKIP LOCKED: two runners never take the same)."""
    now = utcnow()
    job = await ImportRepository(session).claim_next(token, now)
    if job is None:
        return None
    job.status, job.claimed_by, job.lease_until = "running", token, now + LEASE
    job.started_at = job.started_at or now
    return job.id


async def apply_next_batch(
    session: AsyncSession, job_id: uuid.UUID, token: uuid.UUID, *, batch_size: int, phone_region: str | None
) -> bool:
    """Applies the rows after the last committed batch and records the progress in the same
    transaction, so a crash resumes exactly there. False once the job is done (or not ours)."""
    repository = ImportRepository(session)
    job = await repository.lock(job_id)
    if job is None or job.status != "running" or job.claimed_by != token:
        return False
    rows = await repository.next_rows(job.id, job.rows_processed, batch_size)
    if job.kind == "customers":
        outcome = await apply_customer_rows(session, rows, actor=job.actor, phone_region=phone_region)
    elif job.kind == "activities":
        outcome = await apply_activity_rows(session, rows, actor=job.actor)
    else:
        raise ValueError(f"unknown import kind {job.kind!r}")
    await repository.add_errors([e | {"job_id": job.id} for e in outcome.errors])
    job.rows_processed += len(rows)
    job.created += outcome.created
    job.updated += outcome.updated
    job.unchanged += outcome.unchanged
    job.failed += len(outcome.errors)
    now = utcnow()
    job.lease_until = now + LEASE
    if job.rows_processed >= job.rows_received or not rows:
        job.status, job.finished_at, job.claimed_by, job.lease_until = "completed", now, None, None
        await repository.drop_rows(job.id)
        return False
    return True


async def release_job(session: AsyncSession, job_id: uuid.UUID, token: uuid.UUID) -> None:
    """On a graceful stop: another worker may take the job over at once (it resumes after the last batch)."""
    job = await ImportRepository(session).lock(job_id)
    if job is not None and job.claimed_by == token and job.status == "running":
        job.claimed_by, job.lease_until = None, None


async def fail_job(session: AsyncSession, job_id: uuid.UUID, reason: str) -> None:
    job = await ImportRepository(session).lock(job_id)
    if job is not None and job.status in ("queued", "running"):
        job.status, job.error, job.finished_at, job.claimed_by, job.lease_until = "failed", reason, utcnow(), None, None
