from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from crm_shared.contracts.vocabulary import Tier
from crm_shared.http.schemas import RequestModel

# Thresholds are amounts in the one reporting currency the rules assume (see tiers/rules.py).
Threshold = Annotated[Decimal, Field(ge=0, max_digits=20, decimal_places=2)]


class TierRules(RequestModel):
    """The tier rules: key-account criteria (docs/domain.md#key-account-criteria), then gold/silver/bronze by order volume.

    Key account if any of: contracts in force now that have run back to back for at least
    `key_contract_months` AND orders of at least `key_order_volume` in the window; an annual
    potential of at least `key_potential`; the strategic flag. Otherwise gold from
    `gold_order_volume`, silver from `silver_order_volume`, else bronze.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "key_contract_months": 12,
                    "key_order_volume": "100000.00",
                    "key_potential": "1000000.00",
                    "silver_order_volume": "10000.00",
                    "gold_order_volume": "50000.00",
                    "order_window_months": 12,
                }
            ]
        },
    )

    key_contract_months: int = Field(
        ge=1, le=600, description="Months of continuous contracts a key account needs.", examples=[12]
    )
    key_order_volume: Threshold = Field(
        description="Orders in the window a key account needs besides its contracts.", examples=["100000.00"]
    )
    key_potential: Threshold = Field(
        description="Annual potential that alone makes a key account.", examples=["1000000.00"]
    )
    silver_order_volume: Threshold = Field(description="Orders in the window that make silver.", examples=["10000.00"])
    gold_order_volume: Threshold = Field(description="Orders in the window that make gold.", examples=["50000.00"])
    order_window_months: int = Field(
        ge=1, le=120, description="The window orders are summed over, ending now.", examples=[12]
    )

    @field_validator("gold_order_volume")
    @classmethod
    def _gold_above_silver(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        silver = info.data.get("silver_order_volume")
        if silver is not None and value < silver:
            raise ValueError("gold_order_volume must not be below silver_order_volume")
        return value


class TierRulesVersion(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int = Field(description="0 for the built-in defaults, then 1, 2, ... per change.", examples=[3])
    rules: TierRules
    created_by: str = Field(description="Token subject that stored this version (`default` for the built-in).")
    created_at: datetime | None = Field(description="When it was stored (null for the built-in defaults).")


class TierRulesChange(TierRulesVersion):
    retiered: int = Field(description="Customers whose tier the new rules changed.", examples=[17])


class TierRulesVersionPage(BaseModel):
    items: list[TierRulesVersion]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; null on the last page.")


class TierOverrideSet(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"tier": "key", "reason": "strategic partner for the 2026 product launch"}]},
    )

    tier: Tier
    reason: str = Field(min_length=1, max_length=500, description="Why the rules do not apply to this customer.")


class TierStatus(BaseModel):
    """A customer's tier, who decided it, and what the rules would say."""

    customer_id: uuid.UUID
    tier: Tier
    overridden: bool = Field(description="True while a manual override holds the tier against the rules.")
    override_reason: str | None
    override_by: str | None
    override_at: datetime | None
    rules_tier: Tier = Field(description="The tier the current rules give.")
    rules_reason: str = Field(examples=["continuous contracts for 14 months and 180,000 ordered in 12 months"])
    rules_version: int
    version: int = Field(description="The customer record's version (its ETag).")
