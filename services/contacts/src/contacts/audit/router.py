from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from contacts.audit import service
from contacts.audit.schemas import AuditPage
from contacts.customer_records.repository import CustomerRepository
from crm_shared.http.access_log import record_access
from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require
from crm_shared.http.problems import NotFound

router = APIRouter(prefix="/v1/customers", tags=["audit"])


@router.get(
    "/{customer_id}/audit",
    response_model=AuditPage,
    summary="Who changed what on a customer, and when",
    description="Newest first, keyset-paginated. Each entry names the token subject that made the change, "
    "the fields with their values before and after, and the request's correlation id.",
)
async def customer_audit(
    customer_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("contacts:read"))],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> AuditPage:
    # 404 for a customer that does not exist; a merged or erased record's log stays readable.
    if await CustomerRepository(session).get(customer_id) is None:
        raise NotFound("Customer", customer_id)
    page = await service.history(session, customer_id, limit=limit, cursor=cursor)
    await record_access(request, session, [customer_id])
    return page
