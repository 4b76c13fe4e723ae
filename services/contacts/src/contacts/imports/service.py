"""Bulk import use cases: stage an upload, report on jobs and their errors. Never commits.

The upload request is one unit of work (the file is staged whole, or not at all). Applying the
staged rows is the worker's (`jobs.py`, with `customer_rows.py` and `activity_rows.py`).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contacts.imports import parsing
from contacts.imports.models import ImportJob
from contacts.imports.repository import ImportRepository
from contacts.imports.row_parsing import COLUMNS, REQUIRED_COLUMNS
from contacts.imports.schemas import (
    ImportFormat,
    ImportJobPage,
    ImportJobRead,
    ImportKind,
    ImportStatus,
    RowErrorPage,
    RowErrorRead,
)
from crm_shared import access
from crm_shared.db import utcnow
from crm_shared.http.pagination import decode_cursor, decode_time_cursor, encode_cursor, encode_time_cursor
from crm_shared.http.problems import NotFound, ProblemError

log = logging.getLogger(__name__)

STAGE_BATCH = 1_000


# --- upload -------------------------------------------------------------------------------------


class _Hashed:
    """Passes the body through while hashing it: an Idempotency-Key is bound to the file's content."""

    def __init__(self, chunks: AsyncIterable[bytes]) -> None:
        self.chunks = chunks
        self.digest = hashlib.sha256()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.chunks:
            self.digest.update(chunk)
            yield chunk


def _check_sees_every_customer() -> None:
    """Imports write and report rows of every owner (the worker imports unfiltered): they belong to
    callers who see every customer, not to account managers or partners (crm_shared.access)."""
    if not access.current().every_customer:
        raise ProblemError(
            403,
            "Forbidden",
            "Bulk imports hold customers of every owner: only callers who see every customer use them.",
            type="forbidden",
        )


async def receive(
    session: AsyncSession,
    body: AsyncIterable[bytes],
    *,
    kind: str,
    fmt: str,
    actor: str,
    correlation_id: str | None,
) -> tuple[ImportJob, str]:
    """Stages the file's rows in batches as they arrive; returns the queued job and the body's hash."""
    _check_sees_every_customer()
    repository = ImportRepository(session)
    job = await repository.insert(
        ImportJob(
            kind=kind, format=fmt, status="queued", actor=actor, correlation_id=correlation_id, created_at=utcnow()
        )
    )
    hashed = _Hashed(body)
    rows = (
        parsing.csv_rows(hashed, allowed=COLUMNS[kind], required=REQUIRED_COLUMNS[kind])
        if fmt == "csv"
        else parsing.jsonl_rows(hashed)
    )
    batch: list[dict[str, Any]] = []
    received = 0
    async for row in rows:
        received += 1
        if received > parsing.MAX_ROWS:
            raise ProblemError(
                413,
                "Content too large",
                f"An import holds at most {parsing.MAX_ROWS:,} rows: split the file.",
                type="too-many-rows",
            )
        batch.append(
            {"job_id": job.id, "row_number": row.row_number, "line": row.line, "raw": row.raw, "problem": row.problem}
        )
        if len(batch) >= STAGE_BATCH:
            await repository.add_rows(batch)
            batch = []
    await repository.add_rows(batch)
    if received == 0:
        raise parsing.file_problem("the file holds no rows", code="empty")
    job.rows_received = received
    await session.flush()
    return job, hashed.digest.hexdigest()


# --- reports ------------------------------------------------------------------------------------


def job_read(job: ImportJob, now: datetime | None = None) -> ImportJobRead:
    elapsed = ((job.finished_at or now or utcnow()) - job.started_at).total_seconds() if job.started_at else 0
    return ImportJobRead(
        id=job.id,
        kind=ImportKind(job.kind),
        format=ImportFormat(job.format),
        status=ImportStatus(job.status),
        actor=job.actor,
        rows_received=job.rows_received,
        rows_processed=job.rows_processed,
        created=job.created,
        updated=job.updated,
        unchanged=job.unchanged,
        failed=job.failed,
        progress_percent=round(100 * job.rows_processed / job.rows_received, 1) if job.rows_received else 0.0,
        rows_per_second=round(job.rows_processed / elapsed, 1) if elapsed > 0 else None,
        error=job.error,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


async def get_job(session: AsyncSession, job_id: uuid.UUID) -> ImportJob:
    _check_sees_every_customer()
    job = await ImportRepository(session).get(job_id)
    if job is None:
        raise NotFound("Import", job_id)
    return job


async def list_jobs(
    session: AsyncSession, *, status: str | None, kind: str | None, limit: int, cursor: str | None
) -> ImportJobPage:
    _check_sees_every_customer()
    rows = await ImportRepository(session).list(
        status=status, kind=kind, limit=limit + 1, before=decode_time_cursor(cursor)
    )
    last = rows[limit - 1] if len(rows) > limit else None
    return ImportJobPage(
        items=[job_read(r) for r in rows[:limit]],
        next_cursor=encode_time_cursor(last.created_at, last.id) if last else None,
    )


def _after(cursor: str | None) -> int:
    if not cursor:
        return 0
    [value] = decode_cursor(cursor, 1)
    if not value.isdigit():
        raise ProblemError(400, "Invalid cursor", "The cursor is not one this API returned.", type="bad-cursor")
    return int(value)


async def list_errors(session: AsyncSession, job_id: uuid.UUID, *, limit: int, cursor: str | None) -> RowErrorPage:
    await get_job(session, job_id)
    rows = await ImportRepository(session).errors(job_id, after=_after(cursor), limit=limit + 1)
    return RowErrorPage(
        items=[RowErrorRead.model_validate(r) for r in rows[:limit]],
        next_cursor=encode_cursor(rows[limit - 1].row_number) if len(rows) > limit else None,
    )
