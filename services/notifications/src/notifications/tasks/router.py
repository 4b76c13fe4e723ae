from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require
from notifications.tasks import service
from notifications.tasks.schemas import TaskPage, TaskRead

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])


@router.get(
    "",
    response_model=TaskPage,
    summary="List follow-up tasks, newest first",
    description="Filter by customer, status, assignee or type. Each task names the event that caused it.",
)
async def list_tasks(
    session: SessionDep,
    _: Annotated[Principal, Depends(require("tasks:read"))],
    customer_id: uuid.UUID | None = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    assignee: Annotated[str | None, Query(max_length=200)] = None,
    type: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> TaskPage:
    return await service.list_tasks(
        session, customer_id=customer_id, status=status, assignee=assignee, type=type, limit=limit, cursor=cursor
    )


@router.get("/{task_id}", response_model=TaskRead, summary="Get a task")
async def get_task(
    task_id: uuid.UUID, session: SessionDep, _: Annotated[Principal, Depends(require("tasks:read"))]
) -> TaskRead:
    return await service.get_task(session, task_id)
