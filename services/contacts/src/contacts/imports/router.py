from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from contacts.imports import parsing, row_parsing, service
from contacts.imports.schemas import ImportFilters, ImportJobPage, ImportJobRead, ImportKind, RowErrorPage
from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require
from crm_shared.http.idempotency import Idempotency, IdempotentReplay
from crm_shared.http.responses import JsonResponse
from crm_shared.observability import context

router = APIRouter(prefix="/v1/imports", tags=["imports"])

CSV_EXAMPLE = (
    "external_id,name,kind,email,phone,tier,owner,tags,organisation_external_id\n"
    "erp:D-10042,Acme Logistics,organisation,ops@acme.example,+1 415 555 0100,key,alice,logistics;emea,\n"
    "erp:P-77,Wile E. Coyote,person,wile@acme.example,,,alice,,erp:D-10042\n"
)
JSONL_EXAMPLE = (
    '{"external_id": "erp:D-10042", "name": "Acme Logistics", "tier": "key", "owner": "alice"}\n'
    '{"external_ids": [{"system": "erp", "id": "P-77"}], "name": "Wile E. Coyote", "kind": "person", '
    '"organisation_external_id": "erp:D-10042"}\n'
)
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "The file, streamed: CSV with a header row, or JSON Lines (one object per line). UTF-8.",
        "content": {
            "text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE},
            "application/x-ndjson": {"schema": {"type": "string"}, "example": JSONL_EXAMPLE},
        },
    }
}


class _Replayed(Exception):
    def __init__(self, replay: IdempotentReplay) -> None:
        self.replay = replay


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ImportJobRead,
    summary="Upload a file of customers or activities to import",
    description="Streams the file into a staging table (memory stays flat for any size, up to "
    f"{parsing.MAX_ROWS:,} rows of at most {parsing.MAX_LINE_CHARS:,} characters) and answers 202 with "
    "the queued job; the contacts worker then applies it in batches. Follow `Location` for progress.\n\n"
    "**Customers** (`kind=customers`). CSV columns: "
    + ", ".join(f"`{c}`" for c in row_parsing.CUSTOMER_COLUMNS)
    + ". `name` and "
    "`external_id` (`<system>:<id>`, several separated by `;`) are required; `tags` are `;`-separated; "
    "an empty cell changes nothing. A JSON line is a customer as `POST /v1/customers` takes it, with "
    "`external_id` (as in CSV) or `external_ids`, and `organisation_external_id` instead of `organisation_id` "
    "(a person's organisation, found by its external id: put organisations first).\n\n"
    "**Activities** (`kind=activities`). CSV columns: "
    + ", ".join(f"`{c}`" for c in row_parsing.ACTIVITY_COLUMNS)
    + ". "
    "`customer_external_id` (the customer's `<system>:<id>`), `kind` (`order`, `contract`, `visit`, `call`), "
    "`occurred_at` (with a time zone) and `external_ref` are required; then the kind's fields: `amount`, "
    "`currency`, `products` (`;`-separated) for an order; `starts_on`, `ends_on`, `annual_value`, `currency` "
    "and `renewal_of_external_ref` (the renewed contract's `external_ref`) for a contract; `purpose`, "
    "`visited_by` for a visit; `direction`, `duration_seconds`, `handled_by` for a call. A JSON line has the "
    "same keys. Each activity is recorded as `POST /v1/customers/{id}/activities` records it "
    "(`crm.contact.activity_recorded.v1`, tier re-evaluated for orders and contracts); one whose "
    "`external_ref` the customer already has is left as it is (counted unchanged).\n\n"
    "**Customers are idempotent by external id.** A row whose external id is new creates the customer "
    "(`crm.contact.created.v1`); one whose customer exists updates only the fields that differ "
    "(`crm.contact.updated.v1`, external ids are added, never removed) or, if nothing differs, writes "
    "and publishes nothing: importing the same file again changes nothing. Every change is audited "
    "with the uploader as actor.\n\n"
    "**Errors.** A file that cannot be read as a whole (unknown or missing columns, not UTF-8, empty) "
    "is refused here; a bad row never stops the others: `GET /v1/imports/{id}/errors` lists it with "
    "its row number, line and fields (an activity of an unknown customer: `customer_external_id`). "
    "`Idempotency-Key` makes a retried upload safe (same key and same bytes: the first job again).",
    openapi_extra=UPLOAD_BODY,
    responses={
        202: {
            "description": "Accepted: the file is staged and queued.",
            "headers": {"Location": {"description": "The job: `/v1/imports/{id}`", "schema": {"type": "string"}}},
        },
        413: {"description": "More rows than one import takes"},
        415: {"description": "Neither text/csv nor application/x-ndjson (UTF-8)"},
        422: {"description": "The file cannot be read: unknown or missing columns, not UTF-8, empty"},
    },
)
async def upload(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("contacts:import"))],
    kind: Annotated[ImportKind, Query(description="What the rows are: customers or activities.")],
) -> JsonResponse:
    fmt = parsing.format_of(request.headers.get("content-type"))
    idempotency = Idempotency.from_request(request, session, principal, "imports.create")
    try:
        # A savepoint around the staging: a replayed upload takes its staged copy back.
        async with session.begin_nested():
            job, digest = await service.receive(
                session,
                request.stream(),
                kind=kind.value,
                fmt=fmt,
                actor=principal.subject,
                correlation_id=context.correlation_id(),
            )
            if replay := await idempotency.begin({"kind": kind.value, "format": fmt, "sha256": digest}):
                raise _Replayed(replay)
    except _Replayed as replayed:
        return replayed.replay.response({"Location": f"/v1/imports/{replayed.replay.body['id']}"})
    payload = service.job_read(job).model_dump(mode="json")
    await idempotency.complete(202, payload)
    return JsonResponse(payload, status_code=202, headers={"Location": f"/v1/imports/{job.id}"})


@router.get(
    "",
    response_model=ImportJobPage,
    summary="List imports",
    description="Newest first, keyset-paginated; filter by `status` or `kind`.",
)
async def list_imports(
    session: SessionDep,
    _: Annotated[Principal, Depends(require("contacts:import", "contacts:read"))],
    filters: Annotated[ImportFilters, Depends()],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> ImportJobPage:
    return await service.list_jobs(
        session,
        status=filters.status.value if filters.status else None,
        kind=filters.kind.value if filters.kind else None,
        limit=limit,
        cursor=cursor,
    )


@router.get(
    "/{import_id}",
    response_model=ImportJobRead,
    summary="Progress of an import",
    description="Status (`queued`, `running`, `completed`, `failed`), rows received and processed, "
    "created / updated / unchanged / failed counts, progress in percent, start and finish times and "
    "the processing rate. Counts move once per committed batch.",
)
async def get_import(
    import_id: uuid.UUID,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("contacts:import", "contacts:read"))],
) -> ImportJobRead:
    return service.job_read(await service.get_job(session, import_id))


@router.get(
    "/{import_id}/errors",
    response_model=RowErrorPage,
    summary="The rows an import rejected, and why",
    description="In file order, keyset-paginated. Each entry names the row (1 = first row after the "
    "header), the line it starts on, its external id and the fields at fault, in the problem+json "
    "`errors` shape; a duplicate names the existing records in `candidates`.",
)
async def import_errors(
    import_id: uuid.UUID,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("contacts:import", "contacts:read"))],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: str | None = None,
) -> RowErrorPage:
    return await service.list_errors(session, import_id, limit=limit, cursor=cursor)
