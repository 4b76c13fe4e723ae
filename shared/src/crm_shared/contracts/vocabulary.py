"""The business vocabulary every service shares (docs/domain.md): tiers, feedback kinds, bands."""

from __future__ import annotations

from enum import StrEnum


class Tier(StrEnum):
    """Customer tier; `key` is a key account, which gets priority service (docs/domain.md#tiers-and-key-accounts)."""

    key = "key"
    gold = "gold"
    silver = "silver"
    bronze = "bronze"


class CustomerKind(StrEnum):
    """A customer is a company, or a person (who may belong to one: its contact person)."""

    organisation = "organisation"
    person = "person"


class LifecycleStage(StrEnum):
    """Where the relationship stands: lead, prospect, customer, at risk, churned, won back (docs/domain.md#lifecycle)."""

    lead = "lead"
    prospect = "prospect"
    customer = "customer"
    at_risk = "at_risk"
    churned = "churned"
    won_back = "won_back"


class CreditStanding(StrEnum):
    """Credit standing: poor credit is put on notice, and phased out if it stays so (docs/domain.md#credit-management)."""

    good = "good"
    watch = "watch"
    poor = "poor"


class CompanySize(StrEnum):
    micro = "micro"  # 1-9 people
    small = "small"  # 10-49
    medium = "medium"  # 50-249
    large = "large"  # 250-999
    enterprise = "enterprise"  # 1000+


class FeedbackType(StrEnum):
    complaint = "complaint"
    praise = "praise"
    suggestion = "suggestion"
    inquiry = "inquiry"
    # A request for technical help (a fault, installation, training): scheduled, then done.
    technical_support = "technical_support"
    survey_response = "survey_response"


class SurveyMetric(StrEnum):
    """CSAT 1-5, NPS 0-10, CES 1-7: satisfaction is measured, not guessed (docs/domain.md#measuring-satisfaction)."""

    csat = "csat"
    nps = "nps"
    ces = "ces"


class CaseStatus(StrEnum):
    """Every request is a case with its own lifecycle (docs/domain.md#every-request-is-a-case): a
    complaint received -> acknowledged -> in_progress -> resolved -> closed (reopenable); an inquiry
    is `answered`; technical support is `scheduled` before the work; a suggestion is
    `under_review`, then `accepted` (on the product backlog) or `declined`, and `delivered`."""

    received = "received"
    acknowledged = "acknowledged"
    in_progress = "in_progress"
    resolved = "resolved"
    closed = "closed"
    answered = "answered"
    scheduled = "scheduled"
    under_review = "under_review"
    accepted = "accepted"
    declined = "declined"
    delivered = "delivered"


# The kinds of feedback that are cases (a status lifecycle, SLA clocks, a playbook); praise and
# survey answers are simply recorded.
CASE_TYPES: frozenset[FeedbackType] = frozenset(
    {FeedbackType.complaint, FeedbackType.inquiry, FeedbackType.technical_support, FeedbackType.suggestion}
)


class Severity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class Channel(StrEnum):
    phone = "phone"
    web = "web"
    mobile = "mobile"
    email = "email"
    service_point = "service_point"
    survey = "survey"
    social = "social"


class Band(StrEnum):
    """Overall health band, ordered best to worst; playbooks react to drops."""

    healthy = "healthy"
    watch = "watch"
    at_risk = "at_risk"
    critical = "critical"

    @property
    def rank(self) -> int:
        return list(Band).index(self)


# Satisfaction is made of three groups of factors (docs/domain.md#feedback-categories); a category is
# "<group>.<indicator>", so reports can roll up by group.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "product": ("quality", "function", "features", "design", "reliability", "price_performance"),
    "service": ("delivery", "complaint_handling", "commercial_dispute", "problem_resolution"),
    "purchase": ("courtesy", "communication", "information", "transaction", "time"),
}
CATEGORY_CODES: frozenset[str] = frozenset(f"{group}.{name}" for group, names in CATEGORIES.items() for name in names)
