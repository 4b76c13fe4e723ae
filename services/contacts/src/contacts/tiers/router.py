from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from contacts.tiers import service
from contacts.tiers.schemas import (
    TierOverrideSet,
    TierRules,
    TierRulesChange,
    TierRulesVersion,
    TierRulesVersionPage,
    TierStatus,
)
from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require
from crm_shared.http.idempotency import Idempotency
from crm_shared.http.responses import JsonResponse

rules_router = APIRouter(prefix="/v1/tier-rules", tags=["tiers"])
customer_router = APIRouter(prefix="/v1/customers", tags=["tiers"])


@rules_router.get(
    "",
    response_model=TierRulesVersion,
    summary="The tier rules in force",
    description="The current version of the rules that set each customer's tier (version 0: the built-in "
    "defaults, the key-account criteria of the domain brief). Needs the `admin` scope.",
)
async def get_rules(session: SessionDep, _: Annotated[Principal, Depends(require("admin"))]) -> TierRulesVersion:
    return await service.current_rules(session)


@rules_router.put(
    "",
    response_model=TierRulesChange,
    summary="Change the tier rules",
    description="Stores the rules as a new version (who and when are kept) and re-tiers every customer "
    "without a manual override at once; each change publishes `crm.contact.tier_changed.v1` (source "
    "`rules`) and `crm.contact.updated.v1`. `retiered` says how many moved. Needs the `admin` scope; "
    "`Idempotency-Key` makes retries safe.",
)
async def put_rules(
    body: TierRules,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("admin"))],
) -> JsonResponse:
    idempotency = Idempotency.from_request(request, session, principal, "tier_rules.put")
    if replay := await idempotency.begin(body.model_dump(mode="json")):
        return replay.response()
    change = await service.change_rules(session, body, actor=principal.subject)
    payload = change.model_dump(mode="json")
    await idempotency.complete(200, payload)
    return JsonResponse(payload)


@rules_router.get(
    "/versions",
    response_model=TierRulesVersionPage,
    summary="Every stored version of the tier rules",
    description="Newest first, keyset-paginated: who changed the rules, when, and to what. The built-in "
    "defaults (version 0) are not stored and so not listed.",
)
async def rules_versions(
    session: SessionDep,
    _: Annotated[Principal, Depends(require("admin"))],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> TierRulesVersionPage:
    return await service.rules_versions(session, limit=limit, cursor=cursor)


@customer_router.get(
    "/{customer_id}/tier",
    response_model=TierStatus,
    summary="A customer's tier and why",
    description="The tier, whether a manual override holds it (who, when, why), and the tier the current "
    "rules give with their reason.",
)
async def get_tier(
    customer_id: uuid.UUID, session: SessionDep, _: Annotated[Principal, Depends(require("contacts:read"))]
) -> TierStatus:
    return await service.tier_status(session, customer_id)


_OVERRIDE_ERRORS: dict[int | str, dict[str, Any]] = {409: {"description": "The customer record was merged or erased"}}


@customer_router.put(
    "/{customer_id}/tier-override",
    response_model=TierStatus,
    summary="Set the tier by hand, with a reason",
    description="Sets the tier and keeps who, when and why; the tier rules leave it alone until the "
    "override is deleted. A changed tier publishes `crm.contact.tier_changed.v1` (source `manual`) and "
    "`crm.contact.updated.v1`. Sending the same override again changes nothing.",
    responses=_OVERRIDE_ERRORS,
)
async def put_override(
    customer_id: uuid.UUID,
    body: TierOverrideSet,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("contacts:write"))],
) -> TierStatus:
    customer = await service.set_override(session, customer_id, body, actor=principal.subject)
    return await service.status_of(session, customer)


@customer_router.delete(
    "/{customer_id}/tier-override",
    response_model=TierStatus,
    summary="Hand the tier back to the rules",
    description="Removes the manual override and applies the tier rules at once (publishing the change "
    "if the tier moves). Without an override this changes nothing.",
    responses=_OVERRIDE_ERRORS,
)
async def delete_override(
    customer_id: uuid.UUID,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("contacts:write"))],
) -> TierStatus:
    customer = await service.remove_override(session, customer_id, actor=principal.subject)
    return await service.status_of(session, customer)
