from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crm_shared.contracts.vocabulary import Tier
from crm_shared.http.schemas import RequestModel


class CustomerCreate(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "name": "Acme Logistics",
                    "email": "ops@acme.example",
                    "phone": "+1 415 555 0100",
                    "tier": "key",
                    "owner": "alice",
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=300)
    email: str | None = Field(default=None, max_length=320, description="Normalised to lower case.")
    phone: str | None = Field(default=None, max_length=40, description="Normalised to E.164.")
    tier: Tier = Tier.bronze
    owner: str | None = Field(default=None, max_length=200, description="Account manager responsible.")


class CustomerUpdate(RequestModel):
    """JSON merge patch of a customer: only the fields sent change; null clears an optional one."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"tier": "key", "owner": "bob"}]},
    )

    name: str | None = Field(default=None, min_length=1, max_length=300)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    tier: Tier | None = None
    owner: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _something_to_change(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        for required in ("name", "tier"):
            if required in self.model_fields_set and getattr(self, required) is None:
                raise ValueError(f"{required} cannot be cleared")
        return self


class CustomerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    email: str | None
    phone: str | None
    tier: Tier
    owner: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class CustomerPage(BaseModel):
    items: list[CustomerRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
