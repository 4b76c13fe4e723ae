from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    field_validator,
    model_validator,
)

from crm_shared import access
from crm_shared.contracts.vocabulary import CompanySize, CreditStanding, CustomerKind, LifecycleStage, Tier
from crm_shared.http.schemas import RequestModel


class ExternalId(RequestModel):
    """The customer's id in another system; a pair belongs to one customer only."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, from_attributes=True)

    system: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,49}$", examples=["callcentre", "erp", "webshop"])
    id: str = Field(min_length=1, max_length=200, examples=["C-000142"])


# Tags compare case-insensitively: stored lower case ("VIP " and "vip" are one tag).
Tag = Annotated[
    str,
    BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v),
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9_:.-]{0,49}$"),
]
AttributeValue = str | int | float | bool | None


def _known_timezone(value: str | None) -> str | None:
    """An IANA zone the system's tz database knows (messages use it for quiet hours)."""
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Berlin)") from exc
    return value


# BCP 47 as messages use it: a 2-3 letter language, then optional subtags (script, region, ...).
LanguageTag = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,4}$", max_length=35)
]
TimeZoneName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64), AfterValidator(_known_timezone)]


class Consent(RequestModel):
    """Channels the customer agreed to be contacted on (unset: not asked)."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)

    email: StrictBool | None = None
    phone: StrictBool | None = None
    sms: StrictBool | None = None
    post: StrictBool | None = None


class ProfileFields(RequestModel):
    """The segment and relationship fields create and PATCH share."""

    region: str | None = Field(default=None, max_length=100, examples=["EMEA"])
    industry: str | None = Field(default=None, max_length=100, examples=["logistics"])
    size: CompanySize | None = None
    lifecycle_stage: LifecycleStage | None = None
    credit_standing: CreditStanding | None = None
    credit_reason: str | None = Field(
        default=None, max_length=500, description="Why credit is `watch` or `poor` (required then)."
    )
    tags: list[Tag] | None = Field(default=None, max_length=30)
    entitlements: list[Tag] | None = Field(
        default=None,
        max_length=20,
        description="What the customer is entitled to (e.g. `priority_supply`, `free_delivery`), published in "
        "the contact events for an ERP to read. Replaces the whole list.",
        examples=[["priority_supply", "free_delivery"]],
    )
    consent: Consent | None = None
    attributes: dict[Annotated[str, StringConstraints(max_length=50)], AttributeValue] | None = Field(
        default=None, max_length=50, description="Your own fields: up to 50 keys, scalar values."
    )
    strategic: StrictBool | None = Field(
        default=None, description="Important to the business or image now or later: a key account by the tier rules."
    )
    potential: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)] | None = Field(
        default=None, description="Estimated annual sales potential, in the reporting currency.", examples=["250000.00"]
    )
    language: LanguageTag | None = Field(
        default=None, description="BCP 47 language for messages to the customer.", examples=["de", "zh-Hans"]
    )
    timezone: TimeZoneName | None = Field(
        default=None, description="IANA time zone, for quiet hours of messages.", examples=["Europe/Berlin"]
    )
    owner_team: str | None = Field(
        default=None,
        max_length=100,
        description="The account team owning the customer: its account managers see and change it too.",
        examples=["key-accounts-emea"],
    )
    partner: str | None = Field(
        default=None,
        max_length=200,
        description="The partner (distributor, supplier) the customer is assigned to: that partner's "
        "users see it (docs/domain.md#why-the-system-exists).",
        examples=["distributor-nordics"],
    )


def _distinct(ids: list[ExternalId] | None) -> list[ExternalId] | None:
    if ids is not None and len({(e.system, e.id) for e in ids}) != len(ids):
        raise ValueError("external_ids lists the same system and id twice")
    return ids


class CustomerCreate(ProfileFields):
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

    kind: CustomerKind = CustomerKind.organisation
    organisation_id: uuid.UUID | None = Field(
        default=None, description="For a person: the organisation they belong to."
    )
    name: str = Field(min_length=1, max_length=300)
    email: str | None = Field(default=None, max_length=320, description="Normalised to lower case.")
    phone: str | None = Field(default=None, max_length=40, description="Normalised to E.164.")
    tier: Tier = Field(
        default=Tier.bronze,
        description="Left out, the tier rules set it. Given and different from the rules' tier, it is a manual override.",
    )
    tier_reason: str | None = Field(
        default=None, min_length=1, max_length=500, description="Why `tier` is set by hand."
    )
    owner: str | None = Field(default=None, max_length=200, description="Account manager responsible.")
    external_ids: list[ExternalId] = Field(default_factory=list, max_length=20)

    _distinct_ids = field_validator("external_ids")(_distinct)

    @model_validator(mode="after")
    def _only_people_belong(self) -> Self:
        if self.organisation_id is not None and self.kind is not CustomerKind.person:
            raise ValueError("only a person belongs to an organisation")
        return self


class CustomerUpdate(ProfileFields):
    """JSON merge patch of a customer: only the fields sent change; null clears an optional one."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"tier": "key", "owner": "bob"}]},
    )

    name: str | None = Field(default=None, min_length=1, max_length=300)
    organisation_id: uuid.UUID | None = Field(default=None, description="A person moves (or `null`: leaves).")
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    tier: Tier | None = Field(
        default=None,
        description="A tier set by hand overrides the tier rules: `tier_reason` is required with it. "
        "The current tier again changes nothing (PUT `/tier-override` pins it).",
    )
    tier_reason: str | None = Field(default=None, min_length=1, max_length=500, examples=["agreed with sales director"])
    lifecycle_reason: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="Why a person moves `lifecycle_stage`: the stage then holds against the lifecycle rules "
        "until the next order or contract.",
        examples=["customer moved to a competitor"],
    )
    owner: str | None = Field(default=None, max_length=200)
    external_ids: list[ExternalId] | None = Field(
        default=None, max_length=20, description="Replaces the whole list; `[]` removes them all."
    )

    _distinct_ids = field_validator("external_ids")(_distinct)

    @model_validator(mode="after")
    def _something_to_change(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        for required in (
            "name",
            "tier",
            "external_ids",
            "lifecycle_stage",
            "credit_standing",
            "tags",
            "entitlements",
            "consent",
            "attributes",
            "strategic",
        ):
            if required in self.model_fields_set and getattr(self, required) is None:
                raise ValueError(f"{required} cannot be cleared")
        return self


CustomerStatus = Literal["active", "merged", "erased"]


class CustomerRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "6f1c8a50-3f7e-4f4f-9a53-0d3c1c7f2b10",
                    "kind": "organisation",
                    "organisation_id": None,
                    "name": "Acme Logistics",
                    "email": "ops@acme.example",
                    "phone": "+14155550100",
                    "tier": "key",
                    "owner": "alice",
                    "external_ids": [{"system": "erp", "id": "C-000142"}],
                    "region": "EMEA",
                    "industry": "logistics",
                    "size": "large",
                    "lifecycle_stage": "customer",
                    "credit_standing": "good",
                    "credit_reason": None,
                    "tags": ["vip"],
                    "consent": {"email": True, "phone": True},
                    "attributes": {"segment": "3PL"},
                    "strategic": False,
                    "potential": "250000.00",
                    "language": "de",
                    "timezone": "Europe/Berlin",
                    "tier_override_reason": None,
                    "tier_override_by": None,
                    "tier_override_at": None,
                    "version": 3,
                    "created_at": "2026-11-02T09:12:44.120Z",
                    "updated_at": "2026-11-20T16:03:10.502Z",
                    "status": "active",
                    "merged_into": None,
                    "erased_at": None,
                }
            ]
        },
    )

    id: uuid.UUID
    kind: CustomerKind
    organisation_id: uuid.UUID | None
    name: str
    email: str | None
    phone: str | None
    tier: Tier
    owner: str | None
    external_ids: list[ExternalId]
    region: str | None
    industry: str | None
    size: CompanySize | None
    lifecycle_stage: LifecycleStage
    credit_standing: CreditStanding
    credit_reason: str | None
    tags: list[str]
    entitlements: list[str] = Field(default_factory=list)
    consent: dict[str, bool]
    attributes: dict[str, Any]
    strategic: bool
    potential: Decimal | None
    language: str | None = None
    timezone: str | None = None
    owner_team: str | None = None
    partner: str | None = None
    tier_override_reason: str | None = Field(description="Set while a manual override holds the tier.")
    tier_override_by: str | None
    tier_override_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
    status: CustomerStatus = Field(
        description="`merged`: the record redirects to `merged_into`; `erased`: a tombstone without personal data."
    )
    merged_into: uuid.UUID | None = Field(default=None, description="The survivor, for a merged record.")
    erased_at: datetime | None = None

    @model_validator(mode="after")
    def _pseudonymised_for_analysts(self) -> Self:
        """An analyst's reach shows a stable pseudonym instead of the name and no identifiers."""
        reach = access.current()
        if reach.pseudonymised:
            self.name = reach.pseudonym(self.id)
            self.email = self.phone = None
            self.external_ids = []
            self.attributes = {}
        return self


class CustomerPage(BaseModel):
    items: list[CustomerRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class OnDuplicate(StrEnum):
    """What a create does when the customer seems to exist already."""

    reject = "reject"
    merge = "merge"
    create = "create"


class DuplicateCandidate(BaseModel):
    id: uuid.UUID
    name: str | None = Field(description="null for a record outside the customers you see.")
    matched: list[str] = Field(
        description="What matched: `email`, `phone`, `external_id:<system>:<id>` or `name`.",
        examples=[["email", "name"]],
    )
    similarity: float | None = Field(default=None, description="Name similarity (0..1) when the name matched.")


class MergeRequest(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {"merged_id": "0f8fad5b-d9cb-469f-a165-70867728950e", "reason": "same company, two ERP accounts"}
            ]
        },
    )

    merged_id: uuid.UUID = Field(description="The duplicate record; it becomes a redirect to the survivor.")
    reason: str | None = Field(default=None, min_length=1, max_length=500)


class ErasureRequest(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"reason": "data subject request DSR-2024-0117"}]},
    )

    reason: str = Field(min_length=1, max_length=500, description="Why, for the audit log (no personal data).")


class MergedRedirect(BaseModel):
    """The body of the 308 a merged record answers with."""

    id: uuid.UUID
    status: Literal["merged"] = "merged"
    merged_into: uuid.UUID = Field(description="The final survivor (also in `Location`).")


class SearchHit(BaseModel):
    score: float = Field(ge=0, le=1, description="Name similarity, 1 = identical (pg_trgm).", examples=[0.79])
    customer: CustomerRead


class SearchResults(BaseModel):
    items: list[SearchHit] = Field(description="Best match first; at most `limit`, no further pages.")
