"""The filters of the customer list, which the repository turns into a query."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Query

from crm_shared.contracts.vocabulary import CreditStanding, CustomerKind, LifecycleStage, Tier


@dataclass
class CustomerFilters:
    """The filters of GET /v1/customers; FastAPI reads them from the query string (a dependency)."""

    tier: Tier | None = None
    owner: Annotated[str | None, Query(max_length=200)] = None
    owner_team: Annotated[str | None, Query(max_length=100)] = None
    partner: Annotated[str | None, Query(max_length=200)] = None
    email: Annotated[str | None, Query(max_length=320)] = None
    phone: Annotated[str | None, Query(max_length=40)] = None
    name: Annotated[str | None, Query(max_length=300, description="Substring, any case.")] = None
    external_id: Annotated[
        str | None, Query(max_length=251, description="`<system>:<id>`, e.g. `callcentre:C-000142`.")
    ] = None
    kind: CustomerKind | None = None
    organisation_id: Annotated[uuid.UUID | None, Query(description="The people of one organisation.")] = None
    lifecycle_stage: LifecycleStage | None = None
    credit_standing: CreditStanding | None = None
    region: Annotated[str | None, Query(max_length=100)] = None
    tag: Annotated[str | None, Query(max_length=50)] = None
