"""Action executors, by action kind.

Every executor has one signature:

    async def execute(session: AsyncSession, trigger: Envelope, *, playbook: str, action_key: str,
                      customer: Row | None, params: dict[str, Any]) -> None

`params` is the action model's `model_dump(mode="json")`; `customer` is the projection row
(`crm_shared.projections.get_customer`), or None when the customer is unknown here, or when the
trigger event carries the customer's tier and owner itself and only `create_task` actions
matched (the complaint path makes no lookup it does not need), or when the trigger is about no
customer (an indicator alert, a complaint theme). `action_key` is
`f"{playbook}:{index}"`: an executor makes its effect at most once per (trigger event id,
action key). Executors run in the consumed event's transaction and never commit.

`create_task` is here (a `role:<role>` assignee is looked up in the staff directory first);
`send_message`, `notify_staff` and `call_webhook` come from
`notifications.messages.playbook_actions` (they queue a message row that the delivery loop sends). A kind
without an executor is logged and skipped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts.envelope import Envelope
from notifications.messages.playbook_actions import MESSAGE_EXECUTORS
from notifications.messages.repository import MessageRepository
from notifications.tasks.service import FALLBACK_QUEUE, create_task_action

Executor = Callable[..., Awaitable[None]]


async def create_task(
    session: AsyncSession,
    trigger: Envelope,
    *,
    playbook: str,
    action_key: str,
    customer: Row[Any] | None,
    params: dict[str, Any],
) -> None:
    """`role:service_manager` names whoever the staff directory lists with that role today (the first
    by name), so a playbook survives a change of service manager; nobody listed: the fallback queue."""
    assign_to: str = params["assign_to"]
    if assign_to.startswith("role:"):
        member = await MessageRepository(session).staff_with_role(assign_to.removeprefix("role:"))
        params = {**params, "assign_to": f"user:{member.name if member else FALLBACK_QUEUE}"}
    await create_task_action(
        session, trigger, playbook=playbook, action_key=action_key, customer=customer, params=params
    )


EXECUTORS: dict[str, Executor] = {"create_task": create_task, **MESSAGE_EXECUTORS}
