"""All queries on campaigns, their invitations, answers and the audience facts.

Sending is two statements whatever the segment's size: the invitations are inserted from a select
over the customer projection (each customer invited or skipped with its reason), then their
messages from a select over the invitations, into the same queue playbook messages use. 100,000
invitations are two round trips, not 200,000 (docs/benchmarks-campaigns.md).
"""

from __future__ import annotations

import builtins
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, String, any_, case, cast, delete, false, func, literal, or_, select, text, update
from sqlalchemy.dialects.postgresql import JSONB, insert

from crm_shared.db import Repository
from crm_shared.projections import CustomerProjection, current_id_of
from notifications.campaigns.models import AudienceFacts, Campaign, CampaignAnswer, CampaignInvitation
from notifications.messages.models import Message

_CARD = CustomerProjection
_FACTS = AudienceFacts
_INV = CampaignInvitation
INVITATION_TRIGGER = "campaign.invitation"
CAMPAIGN_PLAYBOOK = "campaign"


def _segment_conditions(segment: dict[str, Any]) -> list[Any]:
    """`segment` is the `Segment` request's fields (python values, None left out)."""
    conditions: list[Any] = [_CARD.erased_at.is_(None)]
    if tiers := segment.get("tier"):
        conditions.append(_CARD.tier.in_([str(t) for t in tiers]))
    if regions := segment.get("region"):
        conditions.append(_CARD.region.in_(regions))
    if industries := segment.get("industry"):
        conditions.append(_CARD.industry.in_(industries))
    if stages := segment.get("lifecycle"):
        # A customer whose stage this service never saw is a `customer` (the card's default).
        stage = func.coalesce(_FACTS.lifecycle_stage, literal("customer"))
        conditions.append(stage.in_([str(s) for s in stages]))
    if product := segment.get("product"):
        conditions.append(literal(product) == any_(_FACTS.products))
    if before := segment.get("last_contact_before"):
        conditions.append(or_(_FACTS.last_contact_at.is_(None), _FACTS.last_contact_at < before))
    if after := segment.get("last_contact_after"):
        conditions.append(_FACTS.last_contact_at >= after)
    return conditions


def _skip_reason(channel: str) -> Any:
    """Why a customer of the segment gets no invitation (None: invited). Consent is opt-in, as for
    every message; the delivery loop checks consent, address and quiet hours again at send time."""
    address = _CARD.email if channel == "email" else _CARD.phone
    consented = func.coalesce(cast(_CARD.consent[channel].astext, String) == "true", false())
    return case(
        (~consented, literal(f"no consent for {channel}")),
        (address.is_(None), literal(f"no {'email address' if channel == 'email' else 'phone number'}")),
        else_=literal(None, String),
    )


class CampaignRepository(Repository):
    async def add_campaign(self, values: dict[str, Any]) -> Campaign:
        campaign = Campaign(**values)
        await self.insert(campaign)
        return campaign

    async def get(self, campaign_id: uuid.UUID) -> Campaign | None:
        return await self.session.get(Campaign, campaign_id)

    async def list(self, limit: int) -> builtins.list[Campaign]:
        query = select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc()).limit(limit)
        return list((await self.session.scalars(query)).all())

    async def invite_segment(
        self, campaign_id: uuid.UUID, segment: dict[str, Any], channel: str, now: datetime
    ) -> None:
        """One invitation row per customer of the segment: invited (with the id of the message to
        queue) or skipped with the reason."""
        reason = _skip_reason(channel).label("reason")
        audience = (
            select(_CARD.customer_id, reason)
            .select_from(_CARD)
            .outerjoin(_FACTS, _FACTS.customer_id == _CARD.customer_id)
            .where(*_segment_conditions(segment))
            .subquery()
        )
        rows = select(
            func.gen_random_uuid(),
            literal(campaign_id),
            audience.c.customer_id,
            case((audience.c.reason.is_(None), literal("invited")), else_=literal("skipped")),
            audience.c.reason,
            case((audience.c.reason.is_(None), func.gen_random_uuid()), else_=None),
            literal(now),
        )
        columns = ["id", "campaign_id", "customer_id", "status", "skip_reason", "message_id", "created_at"]
        await self.session.execute(insert(_INV).from_select(columns, rows))

    async def queue_invitation_messages(
        self,
        campaign: Campaign,
        *,
        correlation_id: str,
        data: dict[str, Any],
        now: datetime,
    ) -> None:
        """The invited customers' messages, into the delivery queue (same rules as every message to a
        customer). `data.invitation_id` and `data.link` are each invitation's own."""
        invitation = func.cast(_INV.id, String)
        link = (
            literal(campaign.link_base or "") + literal("?invitation=") + invitation
            if campaign.link_base
            else literal(None, String)
        )
        context = func.jsonb_build_object(
            "event",
            func.jsonb_build_object(
                "id",
                invitation,
                "type",
                INVITATION_TRIGGER,
                "time",
                literal(now.isoformat()),
                "source",
                campaign.created_by,
            ),
            "data",
            cast(literal(data, JSONB), JSONB).op("||")(
                func.jsonb_build_object("invitation_id", invitation, "link", link)
            ),
        )
        rows = select(
            _INV.message_id,
            _INV.customer_id,
            literal("customer"),
            literal("customer"),
            literal(campaign.channel),
            literal(campaign.template),
            context,
            _INV.id,
            literal(INVITATION_TRIGGER),
            literal(CAMPAIGN_PLAYBOOK),
            literal(f"{CAMPAIGN_PLAYBOOK}:{campaign.id}"),
            literal(correlation_id),
            literal(campaign.created_by),
            literal("queued"),
            literal(0),
            literal(0),
            literal(now),
            literal(now),
            literal(now),
        ).where(_INV.campaign_id == campaign.id, _INV.status == "invited")
        columns = [
            "id",
            "customer_id",
            "audience",
            "recipient",
            "channel",
            "template",
            "context",
            "trigger_event_id",
            "trigger_event_type",
            "playbook",
            "action_key",
            "correlation_id",
            "created_by",
            "status",
            "attempts",
            "attempts_before_requeue",
            "next_attempt_at",
            "created_at",
            "updated_at",
        ]
        await self.session.execute(insert(Message).from_select(columns, rows))

    async def invitation_counts(self, campaign_id: uuid.UUID) -> dict[str, int]:
        query = select(_INV.status, func.count()).where(_INV.campaign_id == campaign_id).group_by(_INV.status)
        return {status: count for status, count in (await self.session.execute(query)).all()}

    async def skip_reasons(self, campaign_id: uuid.UUID) -> builtins.list[tuple[str, int]]:
        query = (
            select(_INV.skip_reason, func.count())
            .where(_INV.campaign_id == campaign_id, _INV.status == "skipped")
            .group_by(_INV.skip_reason)
            .order_by(func.count().desc(), _INV.skip_reason)
        )
        return [(reason or "", count) for reason, count in (await self.session.execute(query)).all()]

    async def delivery(self, campaign_id: uuid.UUID) -> dict[str, int]:
        query = (
            select(Message.status, func.count())
            .select_from(_INV)
            .join(Message, Message.id == _INV.message_id)
            .where(_INV.campaign_id == campaign_id)
            .group_by(Message.status)
        )
        return {status: count for status, count in (await self.session.execute(query)).all()}

    async def responded(self, campaign_id: uuid.UUID) -> int:
        query = select(func.count()).where(_INV.campaign_id == campaign_id, _INV.responded_at.is_not(None))
        return int(await self.session.scalar(query) or 0)

    async def answer_stats(self, campaign_id: uuid.UUID) -> builtins.list[Row[Any]]:
        """(category, metric, answers, average, promoters, detractors) of the campaign's answers."""
        answer = CampaignAnswer
        query = (
            select(
                answer.category,
                answer.metric,
                func.count(),
                func.avg(answer.score),
                func.count().filter(answer.score >= 9),
                func.count().filter(answer.score <= 6),
            )
            .where(answer.campaign_id == campaign_id)
            .group_by(answer.category, answer.metric)
            .order_by(answer.category, answer.metric)
        )
        return list((await self.session.execute(query)).all())

    async def invitations(
        self, campaign_id: uuid.UUID, *, status: str | None, limit: int, after: uuid.UUID | None
    ) -> builtins.list[tuple[CampaignInvitation, str | None]]:
        query = (
            select(_INV, Message.status.label("message_status"))
            .outerjoin(Message, Message.id == _INV.message_id)
            .where(_INV.campaign_id == campaign_id)
        )
        if status:
            query = query.where(_INV.status == status)
        if after:
            query = query.where(_INV.id > after)
        result = await self.session.execute(query.order_by(_INV.id).limit(limit))
        return [(row[0], row[1]) for row in result.all()]

    # -- answers ---------------------------------------------------------------------------------

    async def invitation(self, invitation_id: uuid.UUID) -> CampaignInvitation | None:
        return await self.session.get(CampaignInvitation, invitation_id)

    async def is_same_customer(self, invited: uuid.UUID, answering: uuid.UUID) -> bool:
        """Whether two ids are one customer now (either may have been merged into the other's survivor)."""
        query = select(current_id_of(literal(invited)) == current_id_of(literal(answering)))
        return bool(await self.session.scalar(query))

    async def add_answer(self, values: dict[str, Any]) -> bool:
        statement = insert(CampaignAnswer).values(**values).on_conflict_do_nothing(index_elements=["feedback_id"])
        return bool((await self.session.execute(statement.returning(CampaignAnswer.feedback_id))).first())

    async def mark_responded(self, invitation_id: uuid.UUID, at: datetime) -> None:
        await self.session.execute(
            update(_INV).where(_INV.id == invitation_id, _INV.responded_at.is_(None)).values(responded_at=at)
        )

    # -- audience facts and customer lifecycle ---------------------------------------------------

    async def note_stage(self, customer_id: uuid.UUID, stage: str, as_of: datetime) -> None:
        statement = insert(_FACTS).values(customer_id=customer_id, lifecycle_stage=stage, stage_as_of=as_of)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["customer_id"],
                set_={"lifecycle_stage": stage, "stage_as_of": as_of},
                where=or_(_FACTS.stage_as_of.is_(None), _FACTS.stage_as_of <= as_of),
            )
        )

    async def note_activity(self, customer_id: uuid.UUID, products: builtins.list[str], at: datetime | None) -> None:
        statement = insert(_FACTS).values(customer_id=customer_id, products=products, last_contact_at=at)
        # The union of both lists, each product once (spelled out: the subquery must read this row's list).
        merged_products = text(
            "ARRAY(SELECT DISTINCT p FROM unnest(campaign_audience.products || excluded.products) AS p ORDER BY p)"
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["customer_id"],
                set_={
                    "products": merged_products if products else _FACTS.products,
                    "last_contact_at": func.greatest(_FACTS.last_contact_at, statement.excluded.last_contact_at),
                },
            )
        )

    async def merge_facts(self, merged_id: uuid.UUID, survivor_id: uuid.UUID) -> None:
        """The survivor keeps both histories (products, the later contact); invitations move to it."""
        merged = await self.session.get(AudienceFacts, merged_id)
        if merged is not None:
            if merged.last_contact_at is not None or merged.products:
                await self.note_activity(survivor_id, list(merged.products), merged.last_contact_at)
            await self.session.execute(delete(_FACTS).where(_FACTS.customer_id == merged_id))
        await self.session.execute(update(_INV).where(_INV.customer_id == merged_id).values(customer_id=survivor_id))

    async def erase_facts(self, customer_ids: builtins.list[uuid.UUID]) -> None:
        await self.session.execute(delete(_FACTS).where(_FACTS.customer_id.in_(customer_ids)))
