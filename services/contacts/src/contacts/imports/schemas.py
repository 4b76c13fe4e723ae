from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from crm_shared.http.problems import FieldError


class ImportKind(StrEnum):
    customers = "customers"
    activities = "activities"


class ImportStatus(StrEnum):
    queued = "queued"
    running = "running"
    completed = "completed"
    failed = "failed"


class ImportFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


class ImportJobRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "0b5f8f7e-3a52-4a7e-9c1e-2f7f5f0e9a11",
                    "kind": "customers",
                    "format": "csv",
                    "status": "running",
                    "actor": "erp-sync",
                    "rows_received": 100000,
                    "rows_processed": 42000,
                    "created": 41000,
                    "updated": 600,
                    "unchanged": 380,
                    "failed": 20,
                    "progress_percent": 42.0,
                    "rows_per_second": 1050.0,
                    "error": None,
                    "created_at": "2026-11-23T10:00:00Z",
                    "started_at": "2026-11-23T10:00:05Z",
                    "finished_at": None,
                }
            ]
        },
    )

    id: uuid.UUID
    kind: ImportKind
    format: ImportFormat
    status: ImportStatus = Field(description="queued -> running -> completed (or failed, see `error`).")
    actor: str = Field(description="Subject of the token that uploaded the file; audit entries name it.")
    rows_received: int = Field(description="Rows in the uploaded file (the header not counted).")
    rows_processed: int = Field(description="Rows applied or rejected so far.")
    created: int
    updated: int = Field(description="Rows whose customer existed (same external id) and differed.")
    unchanged: int = Field(description="Rows whose customer existed and already matched: nothing written.")
    failed: int = Field(description="Rows rejected; `GET /v1/imports/{id}/errors` says why.")
    progress_percent: float
    rows_per_second: float | None = Field(description="Processing rate since the worker started the job.")
    error: str | None = Field(description="Why the whole job failed, if it did.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ImportJobPage(BaseModel):
    items: list[ImportJobRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; null on the last page.")


class RowFieldError(FieldError):
    candidates: list[str] | None = Field(
        default=None, description="For a duplicate: the existing customers (ids) that already hold the value."
    )


class RowErrorRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    row_number: int = Field(description="1 = the first row after the CSV header (or the first JSON line).")
    line: int = Field(description="Line of the file where the row starts (the CSV header is line 1).")
    external_id: str | None = Field(description="The row's external id(s), as given.", examples=["erp:D-10042"])
    errors: list[RowFieldError]


class RowErrorPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "row_number": 3,
                            "line": 4,
                            "external_id": "erp:D-10044",
                            "errors": [
                                {
                                    "field": "phone",
                                    "message": "not a valid phone number",
                                    "code": "invalid_identifier",
                                }
                            ],
                        }
                    ],
                    "next_cursor": None,
                }
            ]
        }
    )

    items: list[RowErrorRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


@dataclass
class ImportFilters:
    """The filters of GET /v1/imports (a dependency, so the strict query check knows them)."""

    status: ImportStatus | None = None
    kind: ImportKind | None = None
