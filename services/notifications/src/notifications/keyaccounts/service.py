"""Every key account gets a senior-management visit at least yearly (docs/domain.md#the-key-account-programme).

The playbooks plan a visit when a customer becomes key and a year after each visit with findings;
this check catches every key account they did not reach (made key before the programme existed,
created as key, a task cancelled): one with no `leadership_visit` task open or made in the last
year gets one, due in 30 days, for its owner. Once per customer and year however often it runs
(the task's cause is derived from the customer and the year). Never commits.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.keyaccounts.repository import KeyAccountRepository
from notifications.tasks.service import create_task

PLAYBOOK = "key_account_yearly_visit"
CAUSE_TYPE = "crm.notifications.key_account_check"
_NAMESPACE = uuid.UUID("6f1c7d1e-5b8a-4c1e-9d7e-2a4b6c8d0e1f")


async def plan_visits(session: AsyncSession, now: datetime, limit: int = 500) -> int:
    """Plans a visit for up to `limit` key accounts that have none; returns how many were planned."""
    planned = 0
    for customer_id, owner in await KeyAccountRepository(session).without_visit(now - timedelta(days=365), limit):
        task_id = await create_task(
            session,
            customer_id=customer_id,
            task_type="leadership_visit",
            playbook=PLAYBOOK,
            action_key=f"{PLAYBOOK}:check",
            title="Yearly senior-management visit: hear the key account's views on product quality, service, "
            "sales policy and staff (record it as a visit with findings)",
            priority="normal",
            owner=owner,
            due_at=now + timedelta(days=30),
            cause_event_id=uuid.uuid5(_NAMESPACE, f"{customer_id}:{now.year}"),
            cause_event_type=CAUSE_TYPE,
            correlation_id=f"key-account-check-{now.date().isoformat()}",
        )
        planned += task_id is not None
    return planned
