from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, status

from contacts.customer_records.filters import CustomerFilters
from contacts.customers import duplicates, erasure, merging, service
from contacts.customers.schemas import (
    CustomerCreate,
    CustomerPage,
    CustomerRead,
    CustomerUpdate,
    ErasureRequest,
    MergedRedirect,
    MergeRequest,
    OnDuplicate,
    SearchResults,
)
from crm_shared.contracts.vocabulary import CustomerKind
from crm_shared.http.access_log import record_access
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
    description="Creates the customer record and publishes `crm.contact.created.v1`.\n\n"
    "**Duplicates.** A record with the same email or phone (also one kept from a merged record) or "
    "external id, a person of the same organisation with a similar name, or an organisation with a "
    "very similar name is a probable duplicate. `on_duplicate` says what to do:\n"
    "- `reject` (default): 409; `duplicates` lists each candidate's id, name, what matched "
    "(`email`, `phone`, `external_id:<system>:<id>`, `name`) and the name similarity; `candidates` "
    "lists their ids.\n"
    "- `merge`: the request's details are added to the one matching record (empty fields filled, "
    "new external ids, tags, consent and attributes added, a different email or phone kept as a "
    "secondary identifier); 200 with that record, an audit entry and `crm.contact.updated.v1` if "
    "anything changed. Several candidates (or one of another kind) are a 409.\n"
    "- `create`: create anyway when only a similar name matched (two people may share most of a "
    "name); a shared identifier or an exact namesake in the organisation is still a 409.\n\n"
    "Send an `Idempotency-Key` header to make retries safe.",
    responses={
        200: {"description": "`on_duplicate=merge`: the existing record, with the new details added"},
        409: {"description": "A probable duplicate (see `duplicates`)"},
    },
)
async def create_customer(
    body: CustomerCreate,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("contacts:write"))],
    on_duplicate: Annotated[
        OnDuplicate, Query(description="What to do when the customer seems to exist: reject, merge or create.")
    ] = OnDuplicate.reject,
) -> JsonResponse:
    idempotency = Idempotency.from_request(request, session, principal, "customers.create")
    request_identity = body.model_dump(mode="json")
    if on_duplicate is not OnDuplicate.reject:  # the default keeps the identity earlier keys were stored with
        request_identity = {"body": request_identity, "on_duplicate": on_duplicate.value}
    if replay := await idempotency.begin(request_identity):
        return replay.response()
    customer, created = await duplicates.create_or_merge(
        session,
        body,
        actor=principal.subject,
        phone_region=request.app.state.settings.default_phone_region,
        on_duplicate=on_duplicate,
    )
    payload = CustomerRead.model_validate(customer).model_dump(mode="json")
    status_code = 201 if created else 200
    await idempotency.complete(status_code, payload)
    headers = {"Location": f"/v1/customers/{customer.id}"} if created else {"ETag": etag(customer.version)}
    return JsonResponse(payload, status_code=status_code, headers=headers)


@router.get(
    "/search",
    response_model=SearchResults,
    summary="Search customers by name",
    description='Ranked name search that tolerates typos and word order ("Acme Logistcs" and '
    '"logistics acme" find "Acme Logistics"; a part such as "acme" finds it too). Each hit '
    "carries its `score` (pg_trgm similarity, 1 = identical), best first. Merged and erased records "
    "are never found. One page of at most `limit` hits and no cursor: refine `q` or filter by `kind` "
    "or `organisation_id` instead of paging through weak matches.",
)
async def search_customers(
    request: Request,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("contacts:read"))],
    q: Annotated[
        str, Query(min_length=1, max_length=300, description="Name or part of it.", examples=["acme logistcs"])
    ],
    kind: CustomerKind | None = None,
    organisation_id: Annotated[uuid.UUID | None, Query(description="Only the people of this organisation.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchResults:
    results = await service.search_customers(
        session, q, kind=kind.value if kind else None, organisation_id=organisation_id, limit=limit
    )
    await record_access(request, session, (hit.customer.id for hit in results.items))
    return results


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
    "/{customer_id:uuid}",  # :uuid so /search is never taken for an id (405, not 422)
    response_model=CustomerRead,
    summary="Get a customer",
    description="The `ETag` header carries the record's version, for `If-Match` on PATCH. A record "
    "merged into another answers 308 with `Location` naming the survivor (the last one, after "
    "chained merges). An erased customer answers with its tombstone: status `erased`, no personal data.",
    responses={
        308: {
            "description": "Merged: the survivor is in `Location`",
            "model": MergedRedirect,
            "headers": {"Location": {"schema": {"type": "string"}, "description": "/v1/customers/{survivor_id}"}},
        }
    },
)
async def get_customer(
    customer_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("contacts:read"))],
) -> JsonResponse:
    customer = await service.get_customer(session, customer_id)
    if customer.status == "merged":
        survivor = await service.final_survivor(session, customer)
        redirect = MergedRedirect(id=customer.id, merged_into=survivor.id).model_dump(mode="json")
        return JsonResponse(redirect, status_code=308, headers={"Location": f"/v1/customers/{survivor.id}"})
    payload = CustomerRead.model_validate(customer).model_dump(mode="json")
    await record_access(request, session, [customer.id])
    return JsonResponse(payload, headers={"ETag": etag(customer.version)})


@router.patch(
    "/{customer_id:uuid}",
    response_model=CustomerRead,
    summary="Change a customer (merge patch, optimistic concurrency)",
    description="Only the fields sent change (`null` clears owner, email or phone). `If-Match` must carry "
    "the ETag from your last read: a record changed meanwhile is a 412 and nothing is written. "
    "A change publishes `crm.contact.updated.v1` with the whole card and the changed fields, so the "
    "other services' copies (tier, owner) follow. A patch that changes nothing keeps the version and "
    "publishes nothing. `Idempotency-Key` makes retries safe.",
    responses={
        409: {
            "description": "Another customer has this email or phone; or the record was merged "
            "(`survivor_id` names where its data went) or erased"
        },
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
    "caller up by `email` or `phone` (normalised the same way as on create; a number written without "
    "its country that nobody holds as read in the default region matches the national part of stored "
    "numbers) or by `external_id`; "
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
    page = await service.list_customers(
        session,
        filters,
        limit=limit,
        cursor=cursor,
        phone_region=request.app.state.settings.default_phone_region,
    )
    await record_access(request, session, (customer.id for customer in page.items))
    return page


@router.post(
    "/{customer_id}/merge",
    response_model=CustomerRead,
    summary="Merge a duplicate into this customer",
    description="`merged_id` is folded into this record (the survivor): its external ids move here; its "
    "email and phone fill the survivor's if empty, otherwise they stay as secondary identifiers, so "
    "lookups by them still find the survivor; empty profile fields are filled and tags, consent and "
    "attributes added; an organisation's people and the activities move here. The merged record "
    "stays as a redirect (GET answers 308 to the survivor; writes are 409); earlier merges into it "
    "redirect here too. Audit entries on both records; publishes `crm.contact.merged.v1` (keyed by the "
    "merged id) and `crm.contact.updated.v1` when the survivor changed. Merging a record into where it "
    "already leads changes nothing (200). `Idempotency-Key` makes retries safe.",
    responses={
        409: {
            "description": "The survivor or `merged_id` was merged elsewhere (`survivor_id`) or erased, or people "
            "of both organisations share a name (`clashes`: merge them first)"
        },
        422: {"description": "`merged_id` is this customer, unknown, or of another kind"},
    },
)
async def merge_customer(
    customer_id: uuid.UUID,
    body: MergeRequest,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("contacts:write"))],
) -> JsonResponse:
    idempotency = Idempotency.from_request(request, session, principal, "customers.merge")
    if replay := await idempotency.begin({"customer_id": str(customer_id), **body.model_dump(mode="json")}):
        return replay.response()
    survivor = await merging.merge_customers(
        session, customer_id, body.merged_id, actor=principal.subject, reason=body.reason
    )
    payload = CustomerRead.model_validate(survivor).model_dump(mode="json")
    await idempotency.complete(200, payload)
    return JsonResponse(payload, headers={"ETag": etag(survivor.version)})


@router.post(
    "/{customer_id}/erasure",
    response_model=CustomerRead,
    summary="Erase a customer (right to be forgotten)",
    description='Irreversible, scope `contacts:erase`. Name (replaced by "Erased customer"), email, '
    "phone, external and secondary identifiers, tags, consent, attributes, owner, organisation and credit "
    "details are removed from the record and from the records merged into it; what is left is a "
    "tombstone (id, kind, tier, region, industry, size, lifecycle stage, dates, status `erased`). "
    'Audit entries stay but show "[erased]" instead of personal values; stored answers of idempotent '
    "requests about the customer are deleted (a retry with an old Idempotency-Key runs as a new "
    "request). Publishes `crm.contact.erased.v1` so the other services erase their copies. Erasing an "
    "erased customer changes nothing and answers 200 with the tombstone. People of an erased "
    "organisation are separate customers and stay.",
    responses={409: {"description": "The record was merged: erase the survivor (`survivor_id`)"}},
)
async def erase_customer(
    customer_id: uuid.UUID,
    body: ErasureRequest,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("contacts:erase"))],
) -> JsonResponse:
    idempotency = Idempotency.from_request(request, session, principal, "customers.erase")
    if replay := await idempotency.begin({"customer_id": str(customer_id), **body.model_dump(mode="json")}):
        return replay.response()
    customer = await erasure.erase_customer(session, customer_id, actor=principal.subject, reason=body.reason)
    payload = CustomerRead.model_validate(customer).model_dump(mode="json")
    await idempotency.complete(200, payload)
    return JsonResponse(payload, headers={"ETag": etag(customer.version)})
