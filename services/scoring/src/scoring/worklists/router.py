from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require
from scoring.worklists import service
from scoring.worklists.schemas import WorkListFilters, WorkListPage

router = APIRouter(prefix="/v1/scores", tags=["work-lists"])

_DESCRIPTION = (
    "Customers by their scores, filtered by band, tier, owner, region, lifecycle stage and score "
    "ranges, sorted by value, churn risk or health (highest first unless `order=asc`), keyset paged. "
    "An `account_manager` sees only the customers owned by them or their teams."
)


@router.get("", response_model=WorkListPage, summary="Work-list: customers by score", description=_DESCRIPTION)
async def list_scores(
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("scores:read"))],
    filters: Annotated[WorkListFilters, Depends()],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> WorkListPage:
    return await service.page(session, principal, filters, limit=limit, cursor=cursor)


@router.get(
    "/export.csv",
    summary="The same work-list as CSV",
    description=_DESCRIPTION + f" At most {service.EXPORT_LIMIT} rows, with a header row.",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def export_scores(
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("scores:read"))],
    filters: Annotated[WorkListFilters, Depends()],
) -> Response:
    # Read inside the request (the session closes with it), then sent in one piece.
    body = "".join([line async for line in service.export_csv(session, principal, filters)])
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="scores.csv"'},
    )
