from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require
from feedback.backlog import service
from feedback.backlog.schemas import BacklogItemDetail, BacklogItemPatch, BacklogList, ItemStatus, SuggestionLinkIn

router = APIRouter(prefix="/v1/backlog", tags=["suggestion backlog"])


@router.get(
    "",
    response_model=BacklogList,
    summary="The product backlog of customers' suggestions, most votes first",
    description="Suggestions naming the same product and category are one item; `votes` counts the distinct "
    "customers who asked for it. Items appear once the feedback worker has linked their first suggestion.",
)
async def list_items(
    session: SessionDep,
    _: Annotated[Principal, Depends(require("feedback:read"))],
    status: ItemStatus | None = None,
    product: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> BacklogList:
    return await service.list_items(session, status=status, product=product, limit=limit)


@router.get("/{item_id}", response_model=BacklogItemDetail, summary="A backlog item and its suggestions")
async def get_item(
    item_id: uuid.UUID, session: SessionDep, _: Annotated[Principal, Depends(require("feedback:read"))]
) -> BacklogItemDetail:
    return await service.get_item(session, item_id)


@router.patch(
    "/{item_id}",
    response_model=BacklogItemDetail,
    summary="Prioritise a backlog item, retitle it or move it on (planned, done, declined)",
    description="Publishes `crm.feedback.backlog_item_changed.v1` (subject `backlog:<id>`) when something "
    "changed; sending the same values again changes and announces nothing, so a retry is safe.",
)
async def update_item(
    item_id: uuid.UUID,
    body: BacklogItemPatch,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("feedback:write"))],
) -> BacklogItemDetail:
    return await service.update_item(session, item_id, body, actor=principal.subject)


@router.post(
    "/{item_id}/suggestions",
    response_model=BacklogItemDetail,
    summary="Link a suggestion to this item by hand (staff judge it the same request)",
    description="For suggestions the theme rule does not group (no category, or worded for another "
    "product): the suggestion leaves its current item, whose votes are recounted, and votes here "
    "(a customer counts once per item). Publishes `crm.feedback.suggestion_voted.v1`. Linking it again is a no-op.",
)
async def link_suggestion(
    item_id: uuid.UUID,
    body: SuggestionLinkIn,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("feedback:write"))],
) -> BacklogItemDetail:
    return await service.link(session, item_id, body.feedback_id, actor=principal.subject)
