"""Renewals: a contract with an end date gets one renewal task for its account owner, made
`LEAD_DAYS[tier]` days before it ends (docs/domain.md#renewals). Never commits.

A contract is remembered when its `crm.contact.activity_recorded.v1` arrives (once per contract:
the contract id is the key); a renewal recorded before the task is due (`renewal_of`) makes the
task unnecessary. The renewal timer (`timer.py`) makes the task at `fire_at`, in the same
transaction as marking the row fired, and the task's unique key (cause event, playbook, action)
holds even if two workers raced.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts.envelope import Envelope
from crm_shared.contracts.events import ActivityRecordedV1, ContractActivity
from crm_shared.db import utcnow
from crm_shared.projections import get_customer
from notifications.renewals.repository import RenewalRepository
from notifications.tasks.service import create_task

# Days before the end of a contract that its renewal task is made, by tier: the more important the
# customer, the earlier the conversation starts.
LEAD_DAYS = {"key": 120, "gold": 90, "silver": 60, "bronze": 30}
DEFAULT_LEAD_DAYS = 60
# The task is due this many days before the contract ends (or a day after it is made, if later).
DUE_DAYS_BEFORE_END = 14
PLAYBOOK = "contract_renewal"


def fire_at(ends_on: date, tier: str | None) -> datetime:
    """When the renewal task is made: midnight UTC, the tier's lead days before `ends_on`."""
    day = ends_on - timedelta(days=LEAD_DAYS.get(tier or "", DEFAULT_LEAD_DAYS))
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def due_at(ends_on: date, fired: datetime) -> datetime:
    due = datetime.combine(ends_on - timedelta(days=DUE_DAYS_BEFORE_END), time(0, 0), tzinfo=UTC)
    return max(due, fired + timedelta(days=1))


async def on_activity_recorded(session: AsyncSession, event: Envelope) -> None:
    activity = event.payload()
    assert isinstance(activity, ActivityRecordedV1)
    details = activity.details
    if not isinstance(details, ContractActivity):
        return
    repository = RenewalRepository(session)
    if details.renewal_of is not None:
        await repository.mark_renewed(details.renewal_of)
    if details.ends_on is None:
        return  # open-ended: nothing to renew
    customer = await get_customer(session, activity.customer_id)
    await repository.add_once(
        {
            "contract_id": activity.activity_id,
            "customer_id": customer.customer_id if customer is not None else activity.customer_id,
            "ends_on": details.ends_on,
            "fire_at": fire_at(details.ends_on, customer.tier if customer is not None else None),
            "status": "pending",
            "event_id": event.id,
            "correlation_id": (event.correlationid or str(event.id))[:100],
        }
    )


async def fire_due(session: AsyncSession, now: datetime, limit: int) -> int:
    """Makes the renewal task of up to `limit` contracts due at `now`; returns how many."""
    rows = await RenewalRepository(session).claim_due(now, limit)
    fired = utcnow()
    for row in rows:
        customer = await get_customer(session, row.customer_id)
        task_id = await create_task(
            session,
            customer_id=customer.customer_id if customer is not None else row.customer_id,
            task_type="contract_renewal",
            playbook=PLAYBOOK,
            action_key=f"{PLAYBOOK}:0",
            title=f"Contract ends on {row.ends_on.isoformat()}: agree the renewal with the customer",
            priority="high" if customer is not None and customer.tier == "key" else "normal",
            owner=customer.owner if customer is not None else None,
            due_at=due_at(row.ends_on, now),
            cause_event_id=row.event_id,
            cause_event_type="crm.contact.activity_recorded.v1",
            correlation_id=row.correlation_id,
        )
        row.status, row.fired_at, row.task_id = "fired", fired, task_id
    return len(rows)


async def next_deadline(session: AsyncSession) -> datetime | None:
    return await RenewalRepository(session).earliest()


async def pending(session: AsyncSession) -> int:
    return await RenewalRepository(session).count_pending()
