from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response, status

from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require
from notifications.playbooks import service
from notifications.playbooks.schemas import KEY_PATTERN, PlaybookDefinition, PlaybookHistory, PlaybookList, PlaybookRead

router = APIRouter(prefix="/v1/playbooks", tags=["playbooks"])

PlaybookKey = Annotated[str, Path(pattern=KEY_PATTERN, max_length=60)]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No playbook with this key", "content": {"application/problem+json": {}}}
}


@router.get(
    "",
    response_model=PlaybookList,
    summary="The playbooks in force",
    description="Shipped defaults (version 0) and every playbook changed or added through the API, enabled "
    "or not; deleted ones are left out.",
)
async def list_playbooks(session: SessionDep, _: Annotated[Principal, Depends(require("tasks:read"))]) -> PlaybookList:
    return await service.list_playbooks(session)


@router.get("/{key}", response_model=PlaybookRead, summary="Get a playbook", responses=_NOT_FOUND)
async def get_playbook(
    key: PlaybookKey, session: SessionDep, _: Annotated[Principal, Depends(require("tasks:read"))]
) -> PlaybookRead:
    return await service.get_playbook(session, key)


@router.get(
    "/{key}/versions",
    response_model=PlaybookHistory,
    summary="Every version of a playbook",
    description="Oldest first; a deletion is a version too.",
    responses=_NOT_FOUND,
)
async def playbook_versions(
    key: PlaybookKey, session: SessionDep, _: Annotated[Principal, Depends(require("tasks:read"))]
) -> PlaybookHistory:
    return await service.playbook_history(session, key)


@router.put(
    "/{key}",
    response_model=PlaybookRead,
    summary="Create or replace a playbook",
    description="Stores a new version (the old ones are kept); the workers use it from the next event on. "
    "A trigger is an event type and conditions on its facts (all must hold); actions are `create_task`, "
    "`send_message`, `notify_staff` and `call_webhook`. Title templates may quote the trigger event's facts "
    "as `{name}`. `enabled: false` keeps the rule but stops it. Needs the `admin` scope.",
)
async def put_playbook(
    key: PlaybookKey,
    body: PlaybookDefinition,
    session: SessionDep,
    request: Request,
    principal: Annotated[Principal, Depends(require("admin"))],
) -> PlaybookRead:
    return await service.put_playbook(session, key, body, actor=principal.subject, settings=request.app.state.settings)


@router.delete(
    "/{key}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a playbook",
    description="Stores a deletion as a new version; a shipped default stays off until put again. Needs the "
    "`admin` scope.",
    responses=_NOT_FOUND,
)
async def delete_playbook(
    key: PlaybookKey, session: SessionDep, principal: Annotated[Principal, Depends(require("admin"))]
) -> Response:
    await service.delete_playbook(session, key, actor=principal.subject)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
