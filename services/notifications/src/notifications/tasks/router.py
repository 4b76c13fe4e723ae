from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import StreamingResponse

from crm_shared.http import live
from crm_shared.http.access_log import record_access
from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require
from crm_shared.http.idempotency import Idempotency
from crm_shared.http.responses import JsonResponse
from notifications.tasks import service
from notifications.tasks.schemas import TaskCancel, TaskComplete, TaskFilters, TaskPage, TaskRead

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])
live_router = APIRouter(prefix="/v1/live", tags=["live"])
# Every change of a task (tasks' trigger, migration 0006_console_server) as an SSE `task` event.
TASKS_FEED = live.LiveFeed(
    channel="crm_live_tasks",
    event="task",
    filters={"customer_id": ("customer_id",), "assignee": ("assignee",), "queue": ("team", "assignee")},
)

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No task with this id (within your reach)", "content": {"application/problem+json": {}}}
}
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {
        "description": "Illegal transition for the task's status (with `current_status` and `allowed_next`)",
        "content": {
            "application/problem+json": {
                "example": {
                    "type": "https://crm.example/problems/conflict",
                    "title": "Conflict",
                    "status": 409,
                    "detail": "A done task cannot become claimed.",
                    "current_status": "done",
                    "allowed_next": [],
                }
            }
        },
    }
}
_NOT_YOURS: dict[int | str, dict[str, Any]] = {
    403: {"description": "The task is claimed by someone else", "content": {"application/problem+json": {}}}
}
_RETRY = " Send an `Idempotency-Key` header to make a retry safe (same key: the first answer again)."


@router.get(
    "",
    response_model=TaskPage,
    summary="List follow-up tasks, newest first",
    description="Filter by customer, status (one or several), assignee, type, due time, overdue (open or "
    "claimed past due) or closed since a time. Each task names the event that caused it. Newest first, "
    "cursor pagination (`next_cursor`).",
)
async def list_tasks(
    request: Request,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("tasks:read"))],
    filters: Annotated[TaskFilters, Depends()],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> TaskPage:
    page = await service.list_tasks(session, filters, limit=limit, cursor=cursor)
    await record_access(request, session, (task.customer_id for task in page.items))
    return page


@router.get("/{task_id}", response_model=TaskRead, summary="Get a task", responses=_NOT_FOUND)
async def get_task(
    task_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("tasks:read"))],
) -> TaskRead:
    task = await service.get_task(session, task_id)
    await record_access(request, session, [task.customer_id])
    return task


async def _idempotent(request, session, principal, operation: str, payload: dict, change) -> JsonResponse:
    idempotency = Idempotency.from_request(request, session, principal, operation)
    if replay := await idempotency.begin(payload):
        return replay.response()
    task = await change()
    body = task.model_dump(mode="json")
    await idempotency.complete(200, body)
    return JsonResponse(body)


@router.post(
    "/{task_id}/claim",
    response_model=TaskRead,
    summary="Claim a task (assign it to yourself)",
    description="An open task becomes `claimed`, assigned to the caller; published as "
    "`crm.task.status_changed.v1`. A claimed task past due still escalates." + _RETRY,
    responses=_NOT_FOUND | _CONFLICT,
)
async def claim_task(
    task_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("tasks:write"))],
) -> JsonResponse:
    return await _idempotent(
        request,
        session,
        principal,
        "task.claim",
        {"task_id": str(task_id)},
        lambda: service.claim(session, task_id, actor=principal.subject),
    )


@router.post(
    "/{task_id}/complete",
    response_model=TaskRead,
    summary="Complete a task with its outcome",
    description="An open or claimed task becomes `done`; escalation stops; published as "
    "`crm.task.status_changed.v1` with the outcome. A claimed task is closed only by its assignee, "
    "a lead or manager of their team, a service manager or an admin (others: 403)." + _RETRY,
    responses=_NOT_FOUND | _CONFLICT | _NOT_YOURS,
)
async def complete_task(
    task_id: uuid.UUID,
    body: TaskComplete,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("tasks:write"))],
) -> JsonResponse:
    return await _idempotent(
        request,
        session,
        principal,
        "task.complete",
        {"task_id": str(task_id), **body.model_dump()},
        lambda: service.complete(
            session, task_id, actor=principal.subject, outcome=body.outcome, manager=principal.manager
        ),
    )


@router.post(
    "/{task_id}/cancel",
    response_model=TaskRead,
    summary="Cancel a task, with the reason",
    description="An open or claimed task becomes `cancelled`; escalation stops; published as "
    "`crm.task.status_changed.v1` (the reason as `outcome`). A claimed task is cancelled only by its "
    "assignee, a lead or manager of their team, a service manager or an admin (others: 403)." + _RETRY,
    responses=_NOT_FOUND | _CONFLICT | _NOT_YOURS,
)
async def cancel_task(
    task_id: uuid.UUID,
    body: TaskCancel,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("tasks:write"))],
) -> JsonResponse:
    return await _idempotent(
        request,
        session,
        principal,
        "task.cancel",
        {"task_id": str(task_id), **body.model_dump()},
        lambda: service.cancel(
            session, task_id, actor=principal.subject, reason=body.reason, manager=principal.manager
        ),
    )


@live_router.get(
    "",
    summary="Live task changes (server-sent events)",
    description="A `text/event-stream`: each created or changed task that matches the filters as an `event: task` "
    "whose data is the task as `GET /v1/tasks/{id}` returns it; `: keepalive` comments every 15 s; `event: resync` "
    "when changes may have been missed (read the list again). `queue` matches the task's team or a queue assignee.",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def live_tasks(
    request: Request,
    _: Annotated[Principal, Depends(require("tasks:read"))],
    customer_id: uuid.UUID | None = None,
    assignee: Annotated[str | None, Query(max_length=200)] = None,
    queue: Annotated[str | None, Query(max_length=200)] = None,
) -> StreamingResponse:
    wanted = {"customer_id": str(customer_id) if customer_id else None, "assignee": assignee, "queue": queue}
    return live.stream(request, TASKS_FEED.event, wanted)
