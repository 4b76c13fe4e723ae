from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from contacts.customer360 import service
from contacts.customer360.schemas import Customer360
from crm_shared.http.access_log import record_access
from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require
from crm_shared.observability import context

router = APIRouter(prefix="/v1/customers", tags=["customer 360"])


@router.get(
    "/{customer_id}/360",
    response_model=Customer360,
    summary="Customer 360: profile, activities, feedback, scores and tasks in one answer",
    description="Reads the record and its recent activities here, and asks the feedback, scoring and "
    "notifications services at the same time, each with its own deadline "
    "(`CONTACTS_VIEW_PART_TIMEOUT_SECONDS`). `tasks` lists the customer's `open` and `claimed` tasks and "
    "those `recently_closed` (done or cancelled in the last 30 days, with their outcome). A part that is late, down or forbidden to your token is "
    "null and listed in `missing` with the reason; the answer is still 200 with `complete: false`. "
    "Your token is passed on, so the view shows only what you may read anyway.",
)
async def customer_360(
    customer_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("contacts:read"))],
) -> Customer360:
    view = await service.customer_360(
        session,
        customer_id,
        http=request.app.state.http,
        settings=request.app.state.settings,
        authorization=request.headers["authorization"],
        correlation_id=context.current().correlation_id,
    )
    await record_access(request, session, [customer_id])
    return view
