"""Every table of the scoring database (Alembic's env imports this)."""

from crm_shared.http.idempotency_model import IdempotencyRecord
from crm_shared.messaging.models import OutboxMessage, ProcessedEvent
from crm_shared.projections import CustomerAlias, CustomerProjection
from scoring.indicators.models import (
    IndicatorAlert,
    IndicatorAlertState,
    IndicatorComplaint,
    IndicatorCounters,
    IndicatorCustomer,
    IndicatorCustomerOrders,
    IndicatorSegment,
    IndicatorThresholdVersion,
)
from scoring.scores.models import CustomerScore, RescoreRun, ScorecardVersion, ScoreHistory

__all__ = [
    "CustomerAlias",
    "CustomerProjection",
    "CustomerScore",
    "IdempotencyRecord",
    "IndicatorAlert",
    "IndicatorAlertState",
    "IndicatorComplaint",
    "IndicatorCounters",
    "IndicatorCustomer",
    "IndicatorCustomerOrders",
    "IndicatorSegment",
    "IndicatorThresholdVersion",
    "OutboxMessage",
    "ProcessedEvent",
    "RescoreRun",
    "ScoreHistory",
    "ScorecardVersion",
]
