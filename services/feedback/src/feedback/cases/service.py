"""Case use cases (complaints, inquiries, technical support, suggestions). Never commits: the request or the consumed event does.

Every status change locks the feedback row, writes a history row, updates `feedback.status`
and stages `crm.feedback.status_changed.v1` in one transaction, so the case, its timeline and
what the other services hear never disagree.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts.envelope import Envelope
from crm_shared.contracts.events import FeedbackReceivedV1
from crm_shared.contracts.vocabulary import CaseStatus, FeedbackType
from crm_shared.db import new_id, utcnow
from crm_shared.http.problems import NotFound, ProblemError
from crm_shared.projections import get_customer
from feedback.cases import transitions
from feedback.cases.models import CaseNote, StatusChange
from feedback.cases.repository import CaseRepository
from feedback.cases.schemas import CaseHistory, NoteList, NoteRead, StatusChangeRead
from feedback.events.publishers import publish_status_changed
from feedback.records.models import Feedback
from feedback.records.repository import FeedbackRepository
from feedback.resolutions import service as resolutions
from feedback.resolutions.schemas import ResolutionIn
from feedback.sla import service as sla

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "system"


def _not_a_case(feedback: Feedback) -> ProblemError:
    """409 rather than 422: the request is well formed, this feedback's kind has no lifecycle."""
    return ProblemError(
        409,
        "Not a case",
        f"Feedback {feedback.id} is a {feedback.type}; only complaints, inquiries, technical support and "
        "suggestions are cases with a status lifecycle.",
        type="not-a-case",
        feedback_type=feedback.type,
    )


def _illegal(current: CaseStatus, to: CaseStatus, kind: FeedbackType) -> ProblemError:
    allowed = [s.value for s in transitions.allowed_next(current, kind)]
    noun = kind.value.replace("_", " ")
    return ProblemError(
        409,
        "Illegal transition",
        f"A {current.value} {noun} cannot move to {to.value}; allowed next: {', '.join(allowed) or 'none'}.",
        type="illegal-transition",
        current_status=current.value,
        allowed_next=allowed,
    )


async def _locked_case(repository: CaseRepository, feedback_id: uuid.UUID) -> Feedback:
    feedback = await repository.lock_feedback(feedback_id)
    if feedback is None:
        raise NotFound("Feedback", feedback_id)
    if not transitions.is_case(feedback.type):
        raise _not_a_case(feedback)
    if feedback.customer_id is None:
        # Status changes are announced keyed by customer; an unmatched case has none yet.
        raise ProblemError(
            409,
            "Case not matched to a customer",
            f"Feedback {feedback.id} waits for its caller to be matched to a customer; match it first.",
            type="unmatched-feedback",
        )
    return feedback


async def _apply(
    session: AsyncSession,
    feedback: Feedback,
    to: CaseStatus,
    *,
    actor: str,
    reason: str | None,
    resolution: ResolutionIn | None = None,
) -> StatusChange:
    kind = FeedbackType(feedback.type)
    current = CaseStatus(feedback.status)
    if to not in transitions.allowed_next(current, kind):
        raise _illegal(current, to, kind)
    # Checked before anything moves: a refused resolution leaves the case as it was.
    resolving = kind is FeedbackType.complaint and to is CaseStatus.resolved
    if resolving:
        resolution = await resolutions.check(session, resolution)
    elif resolution is not None:
        raise resolutions.refuse_unexpected("resolution", "only resolving a complaint takes a resolution")
    change = await CaseRepository(session).insert(
        StatusChange(
            id=new_id(),
            feedback_id=feedback.id,
            from_status=current.value,
            to_status=to.value,
            reopened=transitions.is_reopen(current, to, kind),
            changed_by=actor,
            changed_at=utcnow(),
            reason=reason or None,
        )
    )
    feedback.status = to.value
    resolved = await resolutions.record(session, feedback, resolution, actor=actor) if resolution else None
    # The owner now, not at complaint time: the follow-up goes to whoever owns the account today.
    # _locked_case refuses unmatched complaints; a follow-up answer's complaint is its customer's.
    assert feedback.customer_id is not None
    customer = await get_customer(session, feedback.customer_id)
    await publish_status_changed(
        session,
        feedback,
        previous=current,
        reopened=change.reopened,
        reason=change.reason,
        changed_by=actor,
        changed_at=change.changed_at,
        owner=customer.owner if customer else None,
        resolution=resolved,
    )
    # Called here, not registered as a listener: SLA clocks sit below cases, so every process
    # that moves a case moves its clocks too, whatever it happened to import.
    await sla.on_status_changed(session, feedback, current.value, to.value, done=transitions.done_statuses(kind))
    return change


async def change_status(
    session: AsyncSession,
    feedback_id: uuid.UUID,
    to: CaseStatus,
    *,
    actor: str,
    reason: str | None,
    resolution: ResolutionIn | None = None,
) -> tuple[StatusChange, FeedbackType]:
    """As `transition`, answering with the history row the change wrote (the API shows it) and the
    case's type (whose lifecycle says where it may go next)."""
    feedback = await _locked_case(CaseRepository(session), feedback_id)
    change = await _apply(session, feedback, to, actor=actor, reason=reason, resolution=resolution)
    return change, FeedbackType(feedback.type)


async def transition(
    session: AsyncSession, feedback_id: uuid.UUID, to: CaseStatus, *, actor: str, reason: str | None
) -> Feedback:
    """Move a case to `to` if its type's lifecycle allows it (409 otherwise)."""
    feedback = await _locked_case(CaseRepository(session), feedback_id)
    await _apply(session, feedback, to, actor=actor, reason=reason)
    return feedback


async def history(session: AsyncSession, feedback_id: uuid.UUID) -> CaseHistory:
    repository = CaseRepository(session)
    feedback = await FeedbackRepository(session).get(feedback_id)
    if feedback is None:
        raise NotFound("Feedback", feedback_id)
    if not transitions.is_case(feedback.type):
        raise _not_a_case(feedback)
    status = CaseStatus(feedback.status)
    return CaseHistory(
        feedback_id=feedback.id,
        type=FeedbackType(feedback.type),
        status=status,
        allowed_next=list(transitions.allowed_next(status, FeedbackType(feedback.type))),
        items=[StatusChangeRead.model_validate(c) for c in await repository.history(feedback_id)],
    )


async def add_note(session: AsyncSession, feedback_id: uuid.UUID, text: str, *, author: str) -> NoteRead:
    """Notes go on any feedback (a praise may deserve a remark too), not only on cases."""
    repository = CaseRepository(session)
    if not await repository.feedback_exists(feedback_id):
        raise NotFound("Feedback", feedback_id)
    note = await repository.insert(
        CaseNote(id=new_id(), feedback_id=feedback_id, text=text, author=author, created_at=utcnow())
    )
    return NoteRead.model_validate(note)


async def customer_of(session: AsyncSession, feedback_id: uuid.UUID) -> uuid.UUID | None:
    """Whose feedback it is (for the access log of reads by feedback id); None while unmatched."""
    return await CaseRepository(session).customer_of(feedback_id)


async def list_notes(session: AsyncSession, feedback_id: uuid.UUID) -> NoteList:
    repository = CaseRepository(session)
    if not await repository.feedback_exists(feedback_id):
        raise NotFound("Feedback", feedback_id)
    return NoteList(items=[NoteRead.model_validate(n) for n in await repository.notes(feedback_id)])


async def on_feedback_received(session: AsyncSession, event: Envelope) -> None:
    """Closes the loop: the customer's answer to the satisfaction follow-up moves the complaint.

    An unhappy answer reopens a resolved or closed complaint; a happy one closes a resolved one.
    Runs in the feedback worker off the service's own `crm.feedback.received.v1` rather than
    inside the intake request, so intake stays ignorant of cases; the outbox and the inbox make
    it exactly once, and the customer key keeps it behind the `resolved` change on the partition.
    """
    answer = event.payload()
    assert isinstance(answer, FeedbackReceivedV1)
    if answer.type is not FeedbackType.survey_response or answer.survey is None or answer.related_feedback_id is None:
        return
    repository = CaseRepository(session)
    complaint = await repository.lock_feedback(answer.related_feedback_id)
    if complaint is None or complaint.type != FeedbackType.complaint or complaint.customer_id != answer.customer_id:
        log.info(
            "follow-up answer not linked to a complaint of its customer", extra={"feedback_id": answer.feedback_id}
        )
        return
    status = CaseStatus(complaint.status)
    metric, score = answer.survey.metric, answer.survey.score
    label = f"{metric.value.upper()} {score}"
    if transitions.is_unhappy(metric, score) and status in transitions.REOPENABLE:
        await _apply(
            session, complaint, CaseStatus.in_progress, actor=SYSTEM_ACTOR, reason=f"unhappy follow-up answer ({label})"
        )
    elif transitions.is_happy(metric, score) and status is CaseStatus.resolved:
        await _apply(
            session, complaint, CaseStatus.closed, actor=SYSTEM_ACTOR, reason=f"happy follow-up answer ({label})"
        )
