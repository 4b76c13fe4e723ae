"""Action executors, by action kind.

Every executor has one signature:

    async def execute(session: AsyncSession, trigger: Envelope, *, playbook: str, action_key: str,
                      customer: Row | None, params: dict[str, Any]) -> None

`params` is the action model's `model_dump(mode="json")`; `customer` is the projection row
(`crm_shared.projections.get_customer`), or None when the customer is unknown here, or when the
trigger event carries the customer's tier and owner itself and only `create_task` actions
matched (the complaint path makes no lookup it does not need). `action_key` is
`f"{playbook}:{index}"`: an executor makes its effect at most once per (trigger event id,
action key). Executors run in the consumed event's transaction and never commit.

`create_task` is here; `send_message`, `notify_staff` and `call_webhook` come from
`notifications.messages.playbook_actions` (they queue a message row that the delivery loop sends). A kind
without an executor is logged and skipped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from notifications.messages.playbook_actions import MESSAGE_EXECUTORS
from notifications.tasks.service import create_task_action

Executor = Callable[..., Awaitable[None]]

EXECUTORS: dict[str, Executor] = {"create_task": create_task_action, **MESSAGE_EXECUTORS}
