from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, status

from contacts.customers import service
from contacts.customers.schemas import CustomerCreate, CustomerFilters, CustomerPage, CustomerRead, CustomerUpdate
from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require
from crm_shared.http.idempotency import Idempotency
from crm_shared.http.problems import ProblemError
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
        return replay.response()
    customer = await service.create_customer(
        session, body, actor=principal.subject, phone_region=request.app.state.settings.default_phone_region
    )
    payload = CustomerRead.model_validate(customer).model_dump(mode="json")
    await idempotency.complete(201, payload)
    return JsonResponse(payload, status_code=201, headers={"Location": f"/v1/customers/{customer.id}"})


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(if_match: str | None) -> int | None:
    """The version an If-Match names; `*` accepts any. Anything else can never match (412)."""
    if if_match is None:
        raise ProblemError(
            428,
            "Precondition required",
            "Send If-Match with the ETag you read (GET the customer first), so that a change made "
            "meanwhile by someone else is never overwritten.",
            type="if-match-required",
        )
    if if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise ProblemError(412, "Precondition failed", f"If-Match {if_match!r} is not an ETag of this API.")
    return int(tag)


@router.get(
    "/{customer_id}",
    response_model=CustomerRead,
    summary="Get a customer",
    description="The `ETag` header carries the record's version, for `If-Match` on PATCH.",
)
async def get_customer(
    customer_id: uuid.UUID,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("contacts:read"))],
) -> JsonResponse:
    customer = await service.get_customer(session, customer_id)
    payload = CustomerRead.model_validate(customer).model_dump(mode="json")
    return JsonResponse(payload, headers={"ETag": etag(customer.version)})


@router.patch(
    "/{customer_id}",
    response_model=CustomerRead,
    summary="Change a customer (merge patch, optimistic concurrency)",
    description="Only the fields sent change (`null` clears owner, email or phone). `If-Match` must carry "
    "the ETag from your last read: a record changed meanwhile is a 412 and nothing is written. "
    "A change publishes `crm.contact.updated.v1` with the whole card and the changed fields, so the "
    "other services' copies (tier, owner) follow. A patch that changes nothing keeps the version and "
    "publishes nothing. `Idempotency-Key` makes retries safe.",
    responses={
        409: {"description": "Another customer has this email or phone"},
        412: {"description": "The record changed since the ETag in If-Match"},
        428: {"description": "If-Match is missing"},
    },
)
async def update_customer(
    customer_id: uuid.UUID,
    body: CustomerUpdate,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("contacts:write"))],
    if_match: Annotated[str | None, Header(description="ETag of the version you read, or `*`.")] = None,
) -> JsonResponse:
    version = expected_version(if_match)
    idempotency = Idempotency.from_request(request, session, principal, "customers.update")
    request_identity = {
        "customer_id": str(customer_id),
        "if_match": if_match,
        "patch": body.model_dump(mode="json", exclude_unset=True),
    }
    if replay := await idempotency.begin(request_identity):
        return replay.response({"ETag": etag(replay.body["version"])})
    customer = await service.update_customer(
        session,
        customer_id,
        body,
        expected_version=version,
        actor=principal.subject,
        phone_region=request.app.state.settings.default_phone_region,
    )
    payload = CustomerRead.model_validate(customer).model_dump(mode="json")
    await idempotency.complete(200, payload)
    return JsonResponse(payload, headers={"ETag": etag(customer.version)})


@router.get(
    "",
    response_model=CustomerPage,
    summary="List and look up customers",
    description="Keyset-paginated, oldest first. Filter by tier, owner, name (substring), or look a "
    "caller up by `email` or `phone` (normalised the same way as on create) or by `external_id`; "
    "segment by `kind`, `organisation_id` (its people), `lifecycle_stage`, `credit_standing`, `region` or `tag`.",
)
async def list_customers(
    request: Request,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("contacts:read"))],
    filters: Annotated[CustomerFilters, Depends()],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> CustomerPage:
    return await service.list_customers(
        session,
        filters,
        limit=limit,
        cursor=cursor,
        phone_region=request.app.state.settings.default_phone_region,
    )
