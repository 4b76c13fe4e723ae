from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, status

from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require
from crm_shared.http.idempotency import Idempotency
from crm_shared.http.responses import JsonResponse
from notifications.campaigns import service
from notifications.campaigns.schemas import (
    CampaignCreate,
    CampaignPage,
    CampaignRead,
    CampaignReport,
    InvitationPage,
)

router = APIRouter(prefix="/v1/campaigns", tags=["campaigns"])
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No campaign with this id"}}
Reader = Annotated[Principal, Depends(require("tasks:read"))]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CampaignRead,
    summary="Send a survey, newsletter or service summary to a segment",
    description="Selects the segment's customers now (tier, region, industry, lifecycle, product bought, last "
    "contact) and queues one message per customer through the message delivery (consent, quiet hours and "
    "language apply as for every message); a customer without consent or address for the channel is skipped "
    "with the reason. A survey's invitation id is the token its link carries: answers posted to "
    "`POST /v1/feedback` with `invitation_id` count as its responses (docs/domain.md#survey-campaigns). "
    "With an `Idempotency-Key`, a retry returns the first answer and sends nothing again.",
    responses={422: {"description": "Unknown template, bad segment or questionnaire"}},
)
async def create_campaign(
    body: CampaignCreate,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("tasks:write"))],
) -> JsonResponse:
    idempotency = Idempotency.from_request(request, session, principal, "campaigns.create")
    if replay := await idempotency.begin(body.model_dump(mode="json")):
        return replay.response()
    campaign = await service.create_campaign(session, body, actor=principal.subject)
    payload = campaign.model_dump(mode="json")
    await idempotency.complete(201, payload)
    return JsonResponse(payload, status_code=201, headers={"Location": f"/v1/campaigns/{campaign.id}"})


@router.get("", response_model=CampaignPage, summary="Campaigns, newest first")
async def list_campaigns(
    session: SessionDep, _: Reader, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> CampaignPage:
    return await service.list_campaigns(session, limit)


@router.get("/{campaign_id}", response_model=CampaignRead, summary="One campaign", responses=_NOT_FOUND)
async def get_campaign(campaign_id: uuid.UUID, session: SessionDep, _: Reader) -> CampaignRead:
    return await service.get_campaign(session, campaign_id)


@router.get(
    "/{campaign_id}/report",
    response_model=CampaignReport,
    summary="Delivery, response rate and results per indicator group",
    description="Invitations by message status, the skipped customers by reason, how many answered "
    "(response rate = responded / sent), and the answers per indicator group (product, service, purchase) "
    "and sub-indicator, by metric (average; NPS as promoters minus detractors).",
    responses=_NOT_FOUND,
)
async def campaign_report(campaign_id: uuid.UUID, session: SessionDep, _: Reader) -> CampaignReport:
    return await service.campaign_report(session, campaign_id)


@router.get(
    "/{campaign_id}/invitations",
    response_model=InvitationPage,
    summary="The campaign's invitations: invited (with the message status) or skipped (with the reason)",
    responses=_NOT_FOUND,
)
async def list_invitations(
    campaign_id: uuid.UUID,
    session: SessionDep,
    _: Reader,
    status: Literal["invited", "skipped"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[uuid.UUID | None, Query(description="`next_cursor` of the previous page.")] = None,
) -> InvitationPage:
    return await service.list_invitations(session, campaign_id, status=status, limit=limit, cursor=cursor)
