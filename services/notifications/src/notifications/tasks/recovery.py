"""The service-recovery tables playbooks use (`due: {"by_severity_and_tier": true}`,
`priority: "by_severity"`): pure rules, no I/O.

Service recovery (docs/domain.md#service-recovery): a dissatisfied customer is contacted fast, faster the more
severe the complaint and the more important the customer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from crm_shared.contracts.vocabulary import Severity, Tier

# Hours to the first recovery contact, by severity; scaled down for more important tiers.
RECOVERY_HOURS = {Severity.critical: 4, Severity.high: 24, Severity.medium: 72, Severity.low: 120}
TIER_FACTOR = {Tier.key: 0.5, Tier.gold: 0.75, Tier.silver: 1.0, Tier.bronze: 1.0}
PRIORITY = {Severity.critical: "urgent", Severity.high: "high", Severity.medium: "normal", Severity.low: "low"}
# `by_severity` on an event without a severity (a score change, a churn).
DEFAULT_PRIORITY = "normal"


def recovery_due(received_at: datetime, severity: Severity, tier: Tier) -> datetime:
    return received_at + timedelta(hours=RECOVERY_HOURS[severity] * TIER_FACTOR[tier])


def priority_by_severity(severity: str | None) -> str:
    return PRIORITY[Severity(severity)] if severity else DEFAULT_PRIORITY


def due_by_severity_and_tier(at: datetime, severity: str | None, tier: str | None) -> datetime:
    """Events without a severity count as medium, customers without a known tier as silver."""
    return recovery_due(at, Severity(severity or Severity.medium), Tier(tier or Tier.silver))
