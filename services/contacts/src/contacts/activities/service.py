"""Activity use cases: the commercial history the scores and the tier rules read. Never commits."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from contacts.activities.schemas import ActivityCreate, ActivityFilters, ActivityPage, ActivityRead, ContractDetails
from contacts.activity_records.models import Activity
from contacts.activity_records.repository import ActivityRepository
from contacts.audit import service as audit
from contacts.customer_records.repository import CustomerRepository
from contacts.events.publishers import publish_activity_recorded
from contacts.lifecycle import service as lifecycle
from contacts.tiers import service as tiers
from crm_shared.db import utcnow
from crm_shared.http.pagination import decode_time_cursor, encode_time_cursor
from crm_shared.http.problems import NotFound, ValidationFailed

# Kinds the tier rules read: recording one re-evaluates the customer's tier.
TIER_INPUTS = frozenset({"order", "contract"})


async def record_activity(
    session: AsyncSession, customer_id: uuid.UUID, data: ActivityCreate, *, actor: str
) -> tuple[Activity, bool]:
    """Records the activity (False: one with its `external_ref` already existed and is returned).

    The customer stays locked until commit, so a re-sent activity and its first copy, or two
    orders moving the tier, are applied one after the other.
    """
    await tiers.locked_customer(session, customer_id)
    repository = ActivityRepository(session)
    if data.external_ref is not None:
        existing = await repository.by_external_ref(customer_id, data.external_ref)
        if existing is not None:
            return existing, False
    details = data.details
    if isinstance(details, ContractDetails) and details.renewal_of is not None:
        renewed = await repository.get(details.renewal_of)
        if renewed is None or renewed.customer_id != customer_id or renewed.kind != "contract":
            raise ValidationFailed(
                "details.renewal_of", f"{details.renewal_of} is not a contract of this customer", "unknown_contract"
            )
    activity = await repository.add(
        Activity(
            customer_id=customer_id,
            kind=details.kind,
            occurred_at=data.occurred_at,
            details=details.model_dump(mode="json"),
            external_ref=data.external_ref,
            amount=getattr(details, "amount", None),
            currency=getattr(details, "currency", None),
            starts_on=getattr(details, "starts_on", None),
            ends_on=getattr(details, "ends_on", None),
            renewal_of=getattr(details, "renewal_of", None),
            recorded_by=actor,
            recorded_at=utcnow(),
        )
    )
    audit.record(
        session,
        customer_id,
        actor=actor,
        action="activity_recorded",
        changes={
            "activity": {
                "from": None,
                "to": {"id": activity.id, "kind": activity.kind, "occurred_at": activity.occurred_at}
                | ({"external_ref": activity.external_ref} if activity.external_ref else {}),
            }
        },
    )
    await publish_activity_recorded(session, activity)
    if activity.kind in TIER_INPUTS:
        await tiers.reevaluate_customer(session, customer_id)
        await lifecycle.after_activity(session, customer_id)
    return activity, True


async def get_activity(session: AsyncSession, customer_id: uuid.UUID, activity_id: uuid.UUID) -> Activity:
    activity = await ActivityRepository(session).get(activity_id)
    if activity is None or activity.customer_id != customer_id:
        raise NotFound("Activity", activity_id)
    if await CustomerRepository(session).get(customer_id) is None:  # outside the caller's reach
        raise NotFound("Activity", activity_id)
    return activity


async def list_activities(
    session: AsyncSession, customer_id: uuid.UUID, filters: ActivityFilters, *, limit: int, cursor: str | None
) -> ActivityPage:
    if await CustomerRepository(session).get(customer_id) is None:
        raise NotFound("Customer", customer_id)
    before = decode_time_cursor(cursor)
    if before is not None:
        before = (_aware(before[0]), before[1])
    rows = await ActivityRepository(session).list(
        customer_id,
        kind=filters.kind.value if filters.kind else None,
        since=_aware(filters.since) if filters.since else None,
        limit=limit + 1,
        before=before,
    )
    last = rows[limit - 1] if len(rows) > limit else None
    return ActivityPage(
        items=[ActivityRead.model_validate(r) for r in rows[:limit]],
        next_cursor=encode_time_cursor(last.occurred_at, last.id) if last else None,
    )


def _aware(moment: datetime) -> datetime:
    """In UTC, as the timestamptz column compares it; a time without a zone is read as UTC.

    Times at the very ends of the calendar have no UTC equivalent (year 1 at +05:00): they bound
    nothing, so they become the calendar's ends instead of an error.
    """
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return (datetime.min if moment.year == datetime.min.year else datetime.max).replace(tzinfo=UTC)


async def recent_activities(session: AsyncSession, customer_id: uuid.UUID, limit: int) -> list[Activity]:
    """The newest `limit` activities of a customer (for the customer 360 view)."""
    return await ActivityRepository(session).list(customer_id, kind=None, since=None, limit=limit, before=None)


async def commercial_history(
    session: AsyncSession, customer_id: uuid.UUID, *, since: datetime, until: datetime
) -> tuple[Decimal, list[tuple[date, date | None]]]:
    """Order revenue in [since, until] and every contract's (starts_on, ends_on): the 360's summary."""
    repository = ActivityRepository(session)
    revenue = (await repository.order_volumes([customer_id], since=since, until=until)).get(customer_id, Decimal(0))
    terms = (await repository.contract_terms([customer_id])).get(customer_id, [])
    return revenue, terms


async def move_activities(session: AsyncSession, from_customer: uuid.UUID, to_customer: uuid.UUID) -> int:
    """Re-points a merged record's history to the survivor; returns how many activities moved.

    The caller (the merge) re-evaluates the survivor's tier afterwards
    (`contacts.tiers.service.reevaluate`), since its orders and contracts just grew.
    """
    return await ActivityRepository(session).move(from_customer, to_customer)
