from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from contacts.privacy import service
from crm_shared.contracts.scopes import EXPORT_SCOPE
from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require

router = APIRouter(prefix="/v1/customers", tags=["privacy"])


@router.get(
    "/{customer_id}/export",
    summary="A customer's data export: everything every service holds about them, as one JSON document",
    description="For a data subject's access request (GDPR art. 15) or portability request (art. 20): "
    "`services` holds each service's part (`contacts`, `feedback`, `scoring`, `notifications`), table by "
    "table, every column as stored (no secrets), with each service's access log of the customer's data. "
    "The other services are asked with your token. Complete or nothing: a part that fails is a 503 with "
    "`Retry-After`. Needs `contacts:export` (or `admin`); the export is access-logged in every service.",
)
async def export_customer(
    customer_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    _: Annotated[Principal, Depends(require(EXPORT_SCOPE))],
) -> dict[str, Any]:
    return await service.export_customer(request, session, customer_id, request.app.state.settings)
