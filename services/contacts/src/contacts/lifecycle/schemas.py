from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from crm_shared.http.schemas import RequestModel


class LifecycleRules(RequestModel):
    """The lifecycle rules (docs/domain.md#lifecycle). Each rule can be switched off; the stage a
    person sets by hand (with `lifecycle_reason`) holds until the next order or contract."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "convert_on_first_order": True,
                    "win_back_on_order": True,
                    "churn_after_days": 365,
                    "churn_on_lapsed_contract": True,
                    "lapse_grace_days": 30,
                    "phase_out_after_days": 30,
                }
            ]
        },
    )

    convert_on_first_order: StrictBool = Field(
        description="A lead or prospect with its first order or contract becomes a `customer`."
    )
    win_back_on_order: StrictBool = Field(description="A `churned` customer who orders again becomes `won_back`.")
    churn_after_days: int | None = Field(
        strict=True,
        ge=30,
        le=3650,
        description="A customer (or at_risk, won_back) with no order for this many days and no contract in "
        "force becomes `churned`; null: never by silence.",
    )
    churn_on_lapsed_contract: StrictBool = Field(
        description="A customer whose last contract ended `lapse_grace_days` ago, with none in force and no "
        "order since, becomes `churned`."
    )
    lapse_grace_days: int = Field(
        strict=True, ge=0, le=730, description="Days after a contract's end before it counts as lapsed."
    )
    phase_out_after_days: int | None = Field(
        default=30,
        strict=True,
        ge=1,
        le=730,
        description="A customer whose credit is still `poor` this many days after being put on notice is "
        "phased out (`churned`; win-back leaves poor credit alone); null: only by hand.",
    )


class LifecycleRulesVersion(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int = Field(description="0: the built-in defaults.")
    rules: LifecycleRules
    created_by: str
    created_at: datetime | None


class LifecycleRulesChange(LifecycleRulesVersion):
    moved: int = Field(description="Customers whose stage the new rules moved at once.")
