from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require
from scoring.scores import service
from scoring.scores.schemas import ScoreHistoryPage, ScoreRead

router = APIRouter(prefix="/v1/scores", tags=["scores"])


@router.get(
    "/{customer_id}",
    response_model=ScoreRead,
    summary="A customer's current scores, with their explanation",
)
async def get_score(
    customer_id: uuid.UUID, session: SessionDep, _: Annotated[Principal, Depends(require("scores:read"))]
) -> ScoreRead:
    return ScoreRead.model_validate(await service.get_score(session, customer_id))


@router.get(
    "/{customer_id}/history",
    response_model=ScoreHistoryPage,
    summary="Every change of a customer's scores, newest first, with the event that caused it",
)
async def get_history(
    customer_id: uuid.UUID,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("scores:read"))],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> ScoreHistoryPage:
    return await service.score_history(session, customer_id, limit=limit, cursor=cursor)
