"""Cause, remedy, compensation (docs/domain.md#cause-remedy-compensation). Never commits.

A complaint cannot be resolved without saying why it happened (a code of the cause taxonomy)
and what was done (the remedy); a compensation, when one is given, has an amount and currency,
is approved by a service manager and is paid on a day. The cases service calls `check` before
it moves anything and `record` in the same transaction, so a refused resolution changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts.events import CaseResolution, Compensation, CompensationPaidV1, CustomerRef
from crm_shared.contracts.vocabulary import Tier
from crm_shared.db import utcnow
from crm_shared.http.problems import NotFound, ProblemError
from crm_shared.projections import get_customer
from feedback.events.publishers import publish_compensation_paid
from feedback.records.models import Feedback
from feedback.records.repository import FeedbackRepository
from feedback.resolutions.models import CauseCode, Resolution
from feedback.resolutions.repository import CauseCodeRepository, ResolutionRepository
from feedback.resolutions.schemas import (
    CauseCodeIn,
    CauseCodeList,
    CauseCodeRead,
    CompensationRead,
    ResolutionIn,
    ResolutionRead,
)

REQUIRED = ("cause_code", "remedy")


def _invalid(errors: list[dict[str, str]]) -> ProblemError:
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return ProblemError(422, "Validation failed", detail, type="validation-error", errors=errors)


async def check(session: AsyncSession, body: ResolutionIn | None) -> ResolutionIn:
    """Every missing field named at once (422), then the cause must be an active code."""
    given = body or ResolutionIn()
    missing = [name for name in REQUIRED if not getattr(given, name)]
    if missing:
        raise _invalid(
            [
                {"field": f"resolution.{name}", "message": "required to resolve a complaint", "code": "missing"}
                for name in missing
            ]
        )
    assert given.cause_code is not None
    cause = await CauseCodeRepository(session).get(given.cause_code)
    if cause is None or not cause.active:
        raise _invalid(
            [
                {
                    "field": "resolution.cause_code",
                    "message": f"{given.cause_code!r} is not an active cause code (GET /v1/cause-codes)",
                    "code": "unknown_cause",
                }
            ]
        )
    return given


def refuse_unexpected(field: str, why: str) -> ProblemError:
    return _invalid([{"field": field, "message": why, "code": "not_allowed"}])


async def record(session: AsyncSession, feedback: Feedback, given: ResolutionIn, *, actor: str) -> CaseResolution:
    """Stores (or, for a reopened complaint resolved again, replaces) the resolution. An approval
    or payment already made stays only while the amount and currency are unchanged."""
    repository = ResolutionRepository(session)
    assert given.cause_code is not None and given.remedy is not None
    compensation = given.compensation
    amount = compensation.amount if compensation else None
    currency = compensation.currency if compensation else None
    row = await repository.get(feedback.id, for_update=True)
    if row is None:
        row = Resolution(feedback_id=feedback.id, compensation_amount=amount, compensation_currency=currency)
    elif (row.compensation_amount, row.compensation_currency) != (amount, currency):
        row.compensation_amount, row.compensation_currency = amount, currency
        row.compensation_approved_by = row.compensation_approved_at = row.compensation_paid_on = None
    row.cause_code, row.remedy, row.resolved_by, row.resolved_at = given.cause_code, given.remedy, actor, utcnow()
    await repository.insert(row)
    return event_payload(row)


def event_payload(row: Resolution) -> CaseResolution:
    compensation = None
    if row.compensation_amount is not None and row.compensation_currency is not None:
        compensation = Compensation(
            amount=row.compensation_amount,
            currency=row.compensation_currency,
            approved=row.compensation_approved_at is not None,
            paid_on=row.compensation_paid_on,
        )
    return CaseResolution(cause_code=row.cause_code, remedy=row.remedy, compensation=compensation)


async def _read(session: AsyncSession, row: Resolution) -> ResolutionRead:
    cause = await CauseCodeRepository(session).get(row.cause_code)
    compensation = None
    if row.compensation_amount is not None and row.compensation_currency is not None:
        compensation = CompensationRead(
            amount=row.compensation_amount,
            currency=row.compensation_currency,
            approved=row.compensation_approved_at is not None,
            approved_by=row.compensation_approved_by,
            approved_at=row.compensation_approved_at,
            paid_on=row.compensation_paid_on,
        )
    return ResolutionRead(
        feedback_id=row.feedback_id,
        cause_code=row.cause_code,
        cause_label=cause.label if cause else row.cause_code,
        remedy=row.remedy,
        compensation=compensation,
        resolved_by=row.resolved_by,
        resolved_at=row.resolved_at,
    )


async def _resolution(session: AsyncSession, feedback_id: uuid.UUID, *, for_update: bool = False) -> Resolution:
    row = await ResolutionRepository(session).get(feedback_id, for_update=for_update)
    if row is None:
        raise NotFound("Resolution of feedback", feedback_id)
    return row


async def get_resolution(session: AsyncSession, feedback_id: uuid.UUID) -> ResolutionRead:
    return await _read(session, await _resolution(session, feedback_id))


def _compensated(row: Resolution) -> None:
    if row.compensation_amount is None:
        raise ProblemError(
            409,
            "No compensation",
            f"The resolution of {row.feedback_id} gives no compensation.",
            type="no-compensation",
        )


async def approve(session: AsyncSession, feedback_id: uuid.UUID, *, actor: str) -> ResolutionRead:
    """Idempotent: approving an approved compensation keeps the first approval."""
    row = await _resolution(session, feedback_id, for_update=True)
    _compensated(row)
    if row.compensation_approved_at is None:
        row.compensation_approved_by, row.compensation_approved_at = actor, utcnow()
        await ResolutionRepository(session).insert(row)
    return await _read(session, row)


async def mark_paid(session: AsyncSession, feedback_id: uuid.UUID, paid_on: date) -> ResolutionRead:
    row = await _resolution(session, feedback_id, for_update=True)
    _compensated(row)
    if row.compensation_approved_at is None:
        raise ProblemError(
            409,
            "Compensation not approved",
            f"The compensation of {feedback_id} is not approved yet; a service manager approves it first.",
            type="not-approved",
        )
    if row.compensation_paid_on == paid_on:
        return await _read(session, row)  # a retry: paid once, announced once
    if row.compensation_paid_on is not None:
        raise ProblemError(
            409,
            "Compensation already paid",
            f"The compensation of {feedback_id} was paid on {row.compensation_paid_on}.",
            type="already-paid",
            paid_on=row.compensation_paid_on.isoformat(),
        )
    complaint = await FeedbackRepository(session).get(feedback_id)
    assert complaint is not None and complaint.customer_id is not None
    if paid_on < complaint.received_at.date():
        raise _invalid([{"field": "paid_on", "message": "before the complaint arrived", "code": "too_early"}])
    row.compensation_paid_on = paid_on
    await ResolutionRepository(session).insert(row)
    assert row.compensation_amount is not None and row.compensation_currency is not None
    customer = await get_customer(session, complaint.customer_id)
    await publish_compensation_paid(
        session,
        complaint,
        CompensationPaidV1(
            feedback_id=complaint.id,
            customer_id=complaint.customer_id,
            received_at=complaint.received_at,
            paid_on=paid_on,
            amount=row.compensation_amount,
            currency=row.compensation_currency,
            cause_code=row.cause_code,
            customer=CustomerRef(tier=Tier(complaint.customer_tier), owner=customer.owner if customer else None),
        ),
    )
    return await _read(session, row)


async def list_causes(session: AsyncSession, *, include_inactive: bool) -> CauseCodeList:
    rows = await CauseCodeRepository(session).list(include_inactive=include_inactive)
    return CauseCodeList(items=[CauseCodeRead.model_validate(r) for r in rows])


async def put_cause(session: AsyncSession, code: str, body: CauseCodeIn, *, actor: str) -> tuple[CauseCodeRead, bool]:
    """Creates or changes one code; True when it is new."""
    repository = CauseCodeRepository(session)
    row = await repository.get(code)
    created = row is None
    if row is None:
        row = CauseCode(code=code)
    row.label, row.description, row.active = body.label, body.description, body.active
    row.updated_by, row.updated_at = actor, utcnow()
    await repository.insert(row)
    return CauseCodeRead.model_validate(row), created
