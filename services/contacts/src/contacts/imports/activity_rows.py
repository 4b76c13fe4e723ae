"""Applying a batch of staged activity rows. Never commits: the runner's batch does."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from contacts.activities.service import record_activity
from contacts.activity_records.repository import ActivityRepository
from contacts.imports.models import ImportRow
from contacts.imports.repository import ImportRepository
from contacts.imports.row_parsing import (
    ActivityRow,
    BatchOutcome,
    RowRejected,
    parse_activity_row,
    row_error,
    row_errors,
)
from crm_shared.http.problems import ProblemError


async def apply_activity_rows(session: AsyncSession, rows: list[ImportRow], *, actor: str) -> BatchOutcome:
    """Each row in its own SAVEPOINT through `record_activity`: idempotent by `external_ref`, so a
    re-run finds every activity recorded and writes and publishes nothing."""
    outcome = BatchOutcome()
    parsed: list[tuple[ImportRow, ActivityRow]] = []

    def reject(row: ImportRow, errors: list[dict[str, Any]], label: str | None) -> None:
        outcome.errors.append({"row_number": row.row_number, "line": row.line, "external_id": label, "errors": errors})

    for row in rows:
        if row.raw is None:
            reject(row, [row_error("row", row.problem or "unreadable", "unreadable")], None)
            continue
        try:
            parsed.append((row, parse_activity_row(row.raw)))
        except RowRejected as exc:
            label = row.raw.get("customer_external_id")
            reject(row, exc.errors, label[:300] if isinstance(label, str) else None)
    owners = await ImportRepository(session).owners_of([item.customer for _, item in parsed])
    outbox = session.info.setdefault("outbox", [])
    for row, item in parsed:
        customer = owners.get(item.customer)
        if customer is None:
            reject(
                row,
                [row_error("customer_external_id", f"no customer has {item.label}", "unknown_customer")],
                item.label,
            )
            continue
        staged_events = len(outbox)
        try:
            async with session.begin_nested():
                data = item.data
                if item.renewal_of is not None:
                    renewed = await ActivityRepository(session).by_external_ref(customer.id, item.renewal_of)
                    if renewed is None or renewed.kind != "contract":
                        raise RowRejected(
                            [
                                row_error(
                                    "renewal_of_external_ref",
                                    f"{item.label} has no contract {item.renewal_of!r}",
                                    "unknown_contract",
                                )
                            ]
                        )
                    details = data.details.model_copy(update={"renewal_of": renewed.id})
                    data = data.model_copy(update={"details": details})
                _, created = await record_activity(session, customer.id, data, actor=actor)
            if created:
                outcome.created += 1
            else:
                outcome.unchanged += 1
        except RowRejected as exc:
            reject(row, exc.errors, item.label)
        except (ProblemError, ValidationError) as exc:
            del outbox[staged_events:]  # the savepoint took the outbox rows back: publish none of them
            reject(row, row_errors(exc), item.label)
    return outcome
