"""The suggestion backlog (docs/domain.md#the-suggestion-backlog). Never commits.

Suggestions are similar when they name the same product and category: the first opens a backlog
item, the next ones vote on it (one vote per customer). A suggestion without a category opens an
item of its own, which staff link by hand (`POST /v1/backlog/{id}/suggestions`). Runs in the
feedback worker off `crm.feedback.received.v1`, so unmatched suggestions vote once their customer
is known; the inbox makes each suggestion count once.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts.envelope import Envelope
from crm_shared.contracts.events import BacklogItemChangedV1, ContactMergedV1, FeedbackReceivedV1, SuggestionVotedV1
from crm_shared.contracts.vocabulary import FeedbackType
from crm_shared.db import utcnow
from crm_shared.http.problems import NotFound, ValidationFailed
from feedback.backlog.models import BacklogItem, BacklogLink
from feedback.backlog.repository import BacklogRepository
from feedback.backlog.schemas import (
    BacklogItemDetail,
    BacklogItemPatch,
    BacklogItemRead,
    BacklogList,
    SuggestionLinkRead,
)
from feedback.events.publishers import publish_backlog_item_changed, publish_suggestion_voted
from feedback.records.models import Feedback
from feedback.records.repository import FeedbackRepository

SYSTEM = "system"


def theme_key(feedback: Feedback) -> str:
    if feedback.category is None:
        return f"feedback:{feedback.id}"
    return f"{feedback.product or '*'}|{feedback.category}"


def _title(feedback: Feedback) -> str:
    if feedback.category is None:
        return feedback.description[:300] or "Suggestion"
    return f"{feedback.product or 'all products'}: {feedback.category}"


async def _vote(session: AsyncSession, item: BacklogItem, feedback: Feedback, *, actor: str, new_item: bool) -> None:
    assert feedback.customer_id is not None
    repository = BacklogRepository(session)
    now = utcnow()
    await repository.insert(
        BacklogLink(
            feedback_id=feedback.id, item_id=item.id, customer_id=feedback.customer_id, linked_by=actor, linked_at=now
        )
    )
    item.votes, item.updated_at = await repository.count_votes(item.id), now
    await publish_suggestion_voted(
        session,
        SuggestionVotedV1(
            backlog_item_id=item.id,
            feedback_id=feedback.id,
            customer_id=feedback.customer_id,
            theme_key=item.theme_key,
            product=item.product,
            category=item.category,
            votes=item.votes,
            new_item=new_item,
            voted_at=now,
        ),
    )


async def on_feedback_received(session: AsyncSession, event: Envelope) -> None:
    received = event.payload()
    assert isinstance(received, FeedbackReceivedV1)
    if received.type is not FeedbackType.suggestion:
        return
    repository = BacklogRepository(session)
    if await repository.link_of(received.feedback_id) is not None:
        return
    feedback = await FeedbackRepository(session).get(received.feedback_id)
    if feedback is None or feedback.customer_id is None:
        return
    key = theme_key(feedback)
    item = await repository.item_for_theme(
        key, product=feedback.product, category=feedback.category, title=_title(feedback)
    )
    await _vote(session, item, feedback, actor=SYSTEM, new_item=item.votes == 0)


async def link(session: AsyncSession, item_id: uuid.UUID, feedback_id: uuid.UUID, *, actor: str) -> BacklogItemDetail:
    """Staff say two suggestions are the same thing: the suggestion moves to this item."""
    repository = BacklogRepository(session)
    item = await repository.get(item_id, for_update=True)
    if item is None:
        raise NotFound("Backlog item", item_id)
    feedback = await FeedbackRepository(session).get(feedback_id)
    if feedback is None or feedback.type != FeedbackType.suggestion.value:
        raise ValidationFailed("feedback_id", f"No suggestion with id {feedback_id}.", "unknown_suggestion")
    if feedback.customer_id is None:
        raise ValidationFailed("feedback_id", "the suggestion's caller is not matched to a customer yet", "unmatched")
    current = await repository.link_of(feedback_id, for_update=True)
    if current is not None and current.item_id == item.id:
        return await _detail(session, item)
    if current is not None:
        previous = await repository.get(current.item_id, for_update=True)
        await repository.delete(current)
        if previous is not None:
            previous.votes, previous.updated_at = await repository.count_votes(previous.id), utcnow()
    await _vote(session, item, feedback, actor=actor, new_item=False)
    return await _detail(session, item)


async def _detail(session: AsyncSession, item: BacklogItem) -> BacklogItemDetail:
    links = await BacklogRepository(session).links(item.id)
    return BacklogItemDetail(
        **BacklogItemRead.model_validate(item).model_dump(),
        suggestions=[SuggestionLinkRead.model_validate(x) for x in links],
    )


async def get_item(session: AsyncSession, item_id: uuid.UUID) -> BacklogItemDetail:
    item = await BacklogRepository(session).get(item_id)
    if item is None:
        raise NotFound("Backlog item", item_id)
    return await _detail(session, item)


async def list_items(session: AsyncSession, *, status: str | None, product: str | None, limit: int) -> BacklogList:
    rows = await BacklogRepository(session).items(status=status, product=product, limit=limit)
    return BacklogList(items=[BacklogItemRead.model_validate(r) for r in rows])


async def update_item(
    session: AsyncSession, item_id: uuid.UUID, patch: BacklogItemPatch, *, actor: str
) -> BacklogItemDetail:
    """Announces a real change once (`crm.feedback.backlog_item_changed.v1`); the same values again
    change nothing and announce nothing."""
    repository = BacklogRepository(session)
    item = await repository.get(item_id, for_update=True)
    if item is None:
        raise NotFound("Backlog item", item_id)
    previous_status, previous_priority = item.status, item.priority
    changes = {k: v for k, v in patch.model_dump(exclude_none=True).items() if getattr(item, k) != v}
    if not changes:
        return await _detail(session, item)
    for field, value in changes.items():
        setattr(item, field, value)
    item.updated_at = utcnow()
    await repository.insert(item)
    await publish_backlog_item_changed(
        session,
        BacklogItemChangedV1(
            backlog_item_id=item.id,
            theme_key=item.theme_key,
            product=item.product,
            category=item.category,
            title=item.title,
            priority=item.priority,
            previous_priority=previous_priority,
            status=item.status,
            previous_status=previous_status,
            votes=item.votes,
            changed_by=actor,
            changed_at=item.updated_at,
        ),
    )
    return await _detail(session, item)


async def on_contact_merged(session: AsyncSession, event: Envelope) -> None:
    """The merged customer's votes become the survivor's: a customer who suggested it under both
    records counts once."""
    merge = event.payload()
    assert isinstance(merge, ContactMergedV1)
    repository = BacklogRepository(session)
    for item_id in await repository.move_customer(merge.merged_id, merge.survivor_id):
        item = await repository.get(item_id, for_update=True)
        if item is not None:
            item.votes = await repository.count_votes(item_id)
