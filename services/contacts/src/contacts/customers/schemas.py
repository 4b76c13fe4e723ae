from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from crm_shared.contracts.vocabulary import Tier
from crm_shared.http.schemas import RequestModel


class ExternalId(RequestModel):
    """The customer's id in another system; a pair belongs to one customer only."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, from_attributes=True)

    system: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,49}$", examples=["callcentre", "erp", "webshop"])
    id: str = Field(min_length=1, max_length=200, examples=["C-000142"])


def _distinct(ids: list[ExternalId] | None) -> list[ExternalId] | None:
    if ids is not None and len({(e.system, e.id) for e in ids}) != len(ids):
        raise ValueError("external_ids lists the same system and id twice")
    return ids


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
                    "external_ids": [{"system": "erp", "id": "D-10042"}],
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=300)
    email: str | None = Field(default=None, max_length=320, description="Normalised to lower case.")
    phone: str | None = Field(default=None, max_length=40, description="Normalised to E.164.")
    tier: Tier = Tier.bronze
    owner: str | None = Field(default=None, max_length=200, description="Account manager responsible.")
    external_ids: list[ExternalId] = Field(default_factory=list, max_length=20)

    _distinct_ids = field_validator("external_ids")(_distinct)


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
    external_ids: list[ExternalId] | None = Field(
        default=None, max_length=20, description="Replaces the whole list; `[]` removes them all."
    )

    _distinct_ids = field_validator("external_ids")(_distinct)

    @model_validator(mode="after")
    def _something_to_change(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        for required in ("name", "tier", "external_ids"):
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
    external_ids: list[ExternalId]
    version: int
    created_at: datetime
    updated_at: datetime


class CustomerPage(BaseModel):
    items: list[CustomerRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
