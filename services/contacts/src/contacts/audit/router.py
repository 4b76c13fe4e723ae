from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from contacts.audit import service
from contacts.audit.schemas import AuditPage
from contacts.customers.service import get_customer
from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require

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
    session: SessionDep,
    _: Annotated[Principal, Depends(require("contacts:read"))],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> AuditPage:
    await get_customer(session, customer_id)  # 404 for a customer that does not exist
    return await service.history(session, customer_id, limit=limit, cursor=cursor)
