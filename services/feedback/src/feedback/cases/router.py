from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from crm_shared.http.access_log import record_access
from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require
from crm_shared.http.idempotency import Idempotency
from crm_shared.http.responses import JsonResponse
from feedback.cases import service, transitions
from feedback.cases.schemas import (
    CaseHistory,
    NoteCreate,
    NoteList,
    NoteRead,
    StatusChangeRead,
    TransitionCreate,
    TransitionRead,
)

router = APIRouter(prefix="/v1/feedback", tags=["complaint cases"])
_422 = {
    "description": "Resolving a complaint without its cause code or remedy (every missing field named in "
    "`errors`), an unknown cause code, or a `resolution` on another move",
    "content": {"application/problem+json": {}},
}

_TABLE = " ".join(
    f"**{kind.value}**: "
    + "; ".join(f"`{k.value}` → {', '.join(f'`{v.value}`' for v in vs) or '(end)'}" for k, vs in table.items())
    + "."
    for kind, table in transitions.LIFECYCLES.items()
)
_CONFLICT = {
    "description": "Illegal transition (`type` illegal-transition, with `current_status` and `allowed_next`), "
    "or the feedback is not a complaint (`type` not-a-case)",
    "content": {
        "application/problem+json": {
            "example": {
                "type": "https://crm.example/problems/illegal-transition",
                "title": "Illegal transition",
                "status": 409,
                "detail": "A closed complaint cannot move to resolved; allowed next: in_progress.",
                "current_status": "closed",
                "allowed_next": ["in_progress"],
            }
        }
    },
}


@router.post(
    "/{feedback_id}/transitions",
    status_code=status.HTTP_201_CREATED,
    response_model=TransitionRead,
    summary="Move a case (complaint, inquiry, technical support, suggestion) to its next status",
    description="Every request type is a case with its own lifecycle. Allowed moves: "
    + _TABLE
    + " Moving a done case (resolved, answered, closed) back to `in_progress` reopens it (`reopened: true`). "
    "Resolving a complaint requires `resolution` {`cause_code`, `remedy`, `compensation`?}: without it the "
    "answer is 422 naming the missing fields and nothing changes. The change is kept "
    "in the history (actor = token subject) and published as `crm.feedback.status_changed.v1`; resolving a "
    "complaint makes notifications open a satisfaction follow-up task. Concurrent moves of one case are "
    "serialised: the second is judged against the status the first left. Send an `Idempotency-Key` header to "
    "make a retry safe (same key: the first answer, header `Idempotent-Replayed: true`).",
    responses={409: _CONFLICT, 422: _422},
)
async def create_transition(
    feedback_id: uuid.UUID,
    body: TransitionCreate,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("feedback:write"))],
) -> JsonResponse:
    idempotency = Idempotency.from_request(request, session, principal, "feedback.transition")
    if replay := await idempotency.begin({"feedback_id": str(feedback_id), **body.model_dump(mode="json")}):
        return replay.response()
    change, kind = await service.change_status(
        session, feedback_id, body.to, actor=principal.subject, reason=body.reason, resolution=body.resolution
    )
    read = StatusChangeRead.model_validate(change)
    allowed_next = list(transitions.allowed_next(body.to, kind))
    payload = TransitionRead(**read.model_dump(), allowed_next=allowed_next).model_dump(mode="json")
    await idempotency.complete(201, payload)
    return JsonResponse(payload, status_code=201)


@router.get(
    "/{feedback_id}/history",
    response_model=CaseHistory,
    summary="A case's status history",
    description="Current status, where it may go next, and every change, oldest first.",
    responses={409: _CONFLICT},
)
async def get_history(
    feedback_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("feedback:read"))],
) -> CaseHistory:
    history = await service.history(session, feedback_id)
    await record_access(request, session, [await service.customer_of(session, feedback_id)])
    return history


@router.post(
    "/{feedback_id}/notes",
    status_code=status.HTTP_201_CREATED,
    response_model=NoteRead,
    summary="Add an internal note",
    description="Staff-only text on a piece of feedback (author = token subject). Never published in events; "
    "blanked when the customer is erased.",
)
async def create_note(
    feedback_id: uuid.UUID,
    body: NoteCreate,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("feedback:write"))],
) -> JsonResponse:
    note = await service.add_note(session, feedback_id, body.text, author=principal.subject)
    return JsonResponse(note.model_dump(mode="json"), status_code=201)


@router.get("/{feedback_id}/notes", response_model=NoteList, summary="List internal notes, oldest first")
async def list_notes(
    feedback_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("feedback:read"))],
) -> NoteList:
    notes = await service.list_notes(session, feedback_id)
    await record_access(request, session, [await service.customer_of(session, feedback_id)])
    return notes
