from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from contacts.lifecycle import service
from contacts.lifecycle.schemas import LifecycleRules, LifecycleRulesChange, LifecycleRulesVersion
from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require
from crm_shared.http.idempotency import Idempotency
from crm_shared.http.responses import JsonResponse

router = APIRouter(prefix="/v1/lifecycle-rules", tags=["lifecycle"])


@router.get(
    "",
    response_model=LifecycleRulesVersion,
    summary="The lifecycle rules in force",
    description="The rules that move customers between lifecycle stages (version 0: the built-in "
    "defaults, docs/domain.md#lifecycle). Needs the `admin` scope.",
)
async def get_rules(session: SessionDep, _: Annotated[Principal, Depends(require("admin"))]) -> LifecycleRulesVersion:
    return await service.current_rules(session)


@router.put(
    "",
    response_model=LifecycleRulesChange,
    summary="Change the lifecycle rules",
    description="Stores the rules as a new version (who and when are kept) and applies them at once to "
    "every customer whose stage no person holds; each move is audited and publishes "
    "`crm.contact.lifecycle_changed.v1` (source `rules`, with the reason). Needs the `admin` scope; "
    "`Idempotency-Key` makes retries safe.",
)
async def put_rules(
    body: LifecycleRules,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("admin"))],
) -> JsonResponse:
    idempotency = Idempotency.from_request(request, session, principal, "lifecycle_rules.put")
    if replay := await idempotency.begin(body.model_dump(mode="json")):
        return replay.response()
    change = await service.change_rules(session, body, actor=principal.subject)
    payload = change.model_dump(mode="json")
    await idempotency.complete(200, payload)
    return JsonResponse(payload)
