from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from contacts.customers import service
from contacts.customers.schemas import CustomerCreate, CustomerPage, CustomerRead
from crm_shared.contracts.vocabulary import Tier
from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require
from crm_shared.http.idempotency import Idempotency
from crm_shared.http.responses import JsonResponse

router = APIRouter(prefix="/v1/customers", tags=["customers"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CustomerRead,
    summary="Create a customer",
    description="Creates the customer record and publishes `crm.contact.created.v1`. "
    "A duplicate email or phone is a 409 listing the existing records in `candidates`. "
    "Send an `Idempotency-Key` header to make retries safe.",
    responses={409: {"description": "Duplicate", "content": {"application/problem+json": {}}}},
)
async def create_customer(
    body: CustomerCreate,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("contacts:write"))],
) -> JsonResponse:
    idempotency = Idempotency.from_request(request, session, principal, "customers.create")
    if replay := await idempotency.begin(body.model_dump(mode="json")):
        return JsonResponse(replay.body, status_code=replay.status_code, headers={"Idempotent-Replayed": "true"})
    customer = await service.create_customer(
        session, body, phone_region=request.app.state.settings.default_phone_region
    )
    payload = CustomerRead.model_validate(customer).model_dump(mode="json")
    await idempotency.complete(201, payload)
    return JsonResponse(payload, status_code=201, headers={"Location": f"/v1/customers/{customer.id}"})


@router.get("/{customer_id}", response_model=CustomerRead, summary="Get a customer")
async def get_customer(
    customer_id: uuid.UUID,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("contacts:read"))],
) -> CustomerRead:
    return CustomerRead.model_validate(await service.get_customer(session, customer_id))


@router.get(
    "",
    response_model=CustomerPage,
    summary="List and look up customers",
    description="Keyset-paginated, oldest first. Filter by tier, owner, name (substring), or look a "
    "caller up by `email` or `phone` (normalised the same way as on create).",
)
async def list_customers(
    request: Request,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("contacts:read"))],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
    tier: Tier | None = None,
    owner: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    name: Annotated[str | None, Query(max_length=300)] = None,
) -> CustomerPage:
    return await service.list_customers(
        session,
        limit=limit,
        cursor=cursor,
        tier=tier.value if tier else None,
        owner=owner,
        email=email,
        phone=phone,
        name=name,
        phone_region=request.app.state.settings.default_phone_region,
    )
