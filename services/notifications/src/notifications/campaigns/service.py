"""Campaign use cases: send to a segment, report, record answers, keep the audience facts.
Never commits (the request or the consumed event does).

A campaign is sent when it is created, in the request's transaction: the invitations and their
messages are inserted by two statements (repository), and the delivery loop sends the messages
after the commit like any other message to a customer, so consent, quiet hours and language
apply exactly as they do for playbooks (docs/domain.md#survey-campaigns).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts.envelope import Envelope
from crm_shared.contracts.events import (
    ActivityRecordedV1,
    ContactCreatedV1,
    ContactUpdatedV1,
    InvitationAnsweredV1,
    LifecycleChangedV1,
    OrderActivity,
)
from crm_shared.contracts.vocabulary import CATEGORIES
from crm_shared.db import new_id, utcnow
from crm_shared.http.problems import NotFound, ValidationFailed
from crm_shared.observability import context
from notifications.campaigns.repository import CampaignRepository
from notifications.campaigns.schemas import (
    DEFAULT_TEMPLATE,
    CampaignCreate,
    CampaignPage,
    CampaignRead,
    CampaignReport,
    GroupResult,
    InvitationPage,
    InvitationRead,
    MetricResult,
    SkipCount,
)
from notifications.messages.service import template_variants

log = logging.getLogger(__name__)

# Answers to questions without a category are reported under this group.
OVERALL = "overall"
SENT = "sent"


async def create_campaign(session: AsyncSession, body: CampaignCreate, *, actor: str) -> CampaignRead:
    template = body.template or DEFAULT_TEMPLATE[body.kind]
    if await template_variants(session, template) is None:
        raise ValidationFailed("template", f"no template {template!r}", "unknown_template")
    repository = CampaignRepository(session)
    now = utcnow()
    campaign = await repository.add_campaign(
        {
            "id": new_id(),
            "name": body.name,
            "kind": body.kind,
            "channel": body.channel,
            "template": template,
            "segment": body.segment.model_dump(mode="json", exclude_none=True),
            "questionnaire": [q.model_dump(mode="json") for q in body.questionnaire],
            "data": {"text": body.text} if body.text else {},
            "link_base": body.link_base,
            "audience": 0,
            "invited": 0,
            "skipped": 0,
            "created_by": actor,
            "created_at": now,
        }
    )
    await repository.invite_segment(campaign.id, body.segment.model_dump(exclude_none=True), body.channel, now)
    data: dict[str, Any] = {
        "campaign_id": str(campaign.id),
        "campaign_name": campaign.name,
        "questions": len(body.questionnaire),
        **campaign.data,
    }
    await repository.queue_invitation_messages(
        campaign, correlation_id=context.current().correlation_id, data=data, now=now
    )
    counts = await repository.invitation_counts(campaign.id)
    campaign.invited, campaign.skipped = counts.get("invited", 0), counts.get("skipped", 0)
    campaign.audience = campaign.invited + campaign.skipped
    await session.flush()
    return CampaignRead.model_validate(campaign)


async def _campaign(repository: CampaignRepository, campaign_id: uuid.UUID) -> Any:
    campaign = await repository.get(campaign_id)
    if campaign is None:
        raise NotFound("Campaign", campaign_id)
    return campaign


async def get_campaign(session: AsyncSession, campaign_id: uuid.UUID) -> CampaignRead:
    return CampaignRead.model_validate(await _campaign(CampaignRepository(session), campaign_id))


async def list_campaigns(session: AsyncSession, limit: int) -> CampaignPage:
    return CampaignPage(items=[CampaignRead.model_validate(c) for c in await CampaignRepository(session).list(limit)])


def group_results(stats: list[Any]) -> dict[str, GroupResult]:
    """Answers per indicator group (product / service / purchase, from the question's category) and
    per sub-indicator, each by metric. Pure: unit-tested."""
    groups: dict[str, dict[str, Any]] = {}
    for category, metric, answers, average, promoters, detractors in stats:
        group = category.split(".", 1)[0] if category else OVERALL
        entry = groups.setdefault(group, {"answers": 0, "metrics": {}, "categories": {}})
        entry["answers"] += answers
        totals = entry["metrics"].setdefault(metric, [0, 0.0, 0, 0])
        totals[0] += answers
        totals[1] += float(average) * answers
        totals[2] += promoters
        totals[3] += detractors
        if category:
            entry["categories"].setdefault(category, {})[metric] = _metric(
                metric, answers, float(average) * answers, promoters, detractors
            )
    ordered = [*CATEGORIES, OVERALL]
    return {
        name: GroupResult(
            answers=groups[name]["answers"],
            metrics={m: _metric(m, *t) for m, t in sorted(groups[name]["metrics"].items())},
            categories=groups[name]["categories"],
        )
        for name in ordered
        if name in groups
    }


def _metric(metric: str, answers: int, total: float, promoters: int, detractors: int) -> MetricResult:
    nps = round((promoters - detractors) * 100 / answers, 1) if metric == "nps" and answers else None
    return MetricResult(answers=answers, average=round(total / answers, 2) if answers else 0.0, nps=nps)


async def campaign_report(session: AsyncSession, campaign_id: uuid.UUID) -> CampaignReport:
    repository = CampaignRepository(session)
    campaign = await _campaign(repository, campaign_id)
    delivery = await repository.delivery(campaign_id)
    responded = await repository.responded(campaign_id)
    sent = delivery.get(SENT, 0)
    return CampaignReport(
        campaign=CampaignRead.model_validate(campaign),
        delivery=delivery,
        skipped=[SkipCount(reason=r, customers=n) for r, n in await repository.skip_reasons(campaign_id)],
        responded=responded,
        response_rate=round(responded / sent, 4) if sent else None,
        groups=group_results(await repository.answer_stats(campaign_id)),
    )


async def list_invitations(
    session: AsyncSession, campaign_id: uuid.UUID, *, status: str | None, limit: int, cursor: uuid.UUID | None
) -> InvitationPage:
    repository = CampaignRepository(session)
    await _campaign(repository, campaign_id)
    rows = await repository.invitations(campaign_id, status=status, limit=limit + 1, after=cursor)
    items = [
        InvitationRead.model_validate(invitation).model_copy(update={"message_status": message_status})
        for invitation, message_status in rows[:limit]
    ]
    return InvitationPage(items=items, next_cursor=str(items[-1].id) if len(rows) > limit else None)


# -- consumed events -----------------------------------------------------------------------------


async def on_invitation_answered(session: AsyncSession, event: Envelope) -> None:
    """Counts the response and keeps the answer for the report, once per feedback record. An answer
    naming an unknown invitation, or another customer's, is left out of every campaign (logged):
    the feedback itself is recorded all the same."""
    answer = event.payload()
    assert isinstance(answer, InvitationAnsweredV1)
    repository = CampaignRepository(session)
    invitation = await repository.invitation(answer.invitation_id)
    if invitation is None or invitation.status != "invited":
        log.warning("survey answer for no invitation", extra={"invitation_id": str(answer.invitation_id)})
        return
    if not await repository.is_same_customer(invitation.customer_id, answer.customer_id):
        log.warning("survey answer from another customer", extra={"invitation_id": str(answer.invitation_id)})
        return
    campaign = await repository.get(invitation.campaign_id)
    category = answer.category
    if category is None and campaign is not None:
        category = next((q.get("category") for q in campaign.questionnaire if q.get("key") == answer.question), None)
    added = await repository.add_answer(
        {
            "feedback_id": answer.feedback_id,
            "invitation_id": invitation.id,
            "campaign_id": invitation.campaign_id,
            "question": answer.question,
            "category": category,
            "metric": answer.survey.metric.value,
            "score": answer.survey.score,
            "answered_at": answer.answered_at,
        }
    )
    if added:
        await repository.mark_responded(invitation.id, answer.answered_at)


async def on_card(session: AsyncSession, event: Envelope) -> None:
    card = event.payload()
    assert isinstance(card, ContactCreatedV1 | ContactUpdatedV1)
    await CampaignRepository(session).note_stage(card.customer_id, card.lifecycle_stage.value, event.time)


async def on_lifecycle_changed(session: AsyncSession, event: Envelope) -> None:
    change = event.payload()
    assert isinstance(change, LifecycleChangedV1)
    await CampaignRepository(session).note_stage(change.customer_id, change.current.value, change.changed_at)


async def on_activity_recorded(session: AsyncSession, event: Envelope) -> None:
    """Any activity is a contact; an order adds its products."""
    activity = event.payload()
    assert isinstance(activity, ActivityRecordedV1)
    products = list(activity.details.products) if isinstance(activity.details, OrderActivity) else []
    await CampaignRepository(session).note_activity(activity.customer_id, products, activity.occurred_at)


async def on_customer_merged(session: AsyncSession, merged_id: uuid.UUID, survivor_id: uuid.UUID) -> None:
    await CampaignRepository(session).merge_facts(merged_id, survivor_id)


async def on_customer_erased(session: AsyncSession, customer_ids: list[uuid.UUID]) -> None:
    """The audience facts go; invitations and answers hold ids and scores only (the messages'
    addresses and texts are redacted by the messages' own erasure)."""
    await CampaignRepository(session).erase_facts(customer_ids)
