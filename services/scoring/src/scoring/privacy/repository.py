"""The queries that find everything scoring holds about one customer (their data export)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select

from crm_shared.projections import CustomerProjection
from scoring.indicators.models import IndicatorCustomer, IndicatorCustomerOrders
from scoring.scores.models import CustomerScore, ScoreHistory


def export_queries(customer_id: uuid.UUID) -> dict[str, Select[Any]]:
    return {
        "customer_projection": select(CustomerProjection).where(CustomerProjection.customer_id == customer_id),
        "customer_scores": select(CustomerScore).where(CustomerScore.customer_id == customer_id),
        "score_history": select(ScoreHistory).where(ScoreHistory.customer_id == customer_id),
        "indicator_customers": select(IndicatorCustomer).where(IndicatorCustomer.customer_id == customer_id),
        "indicator_customer_orders": select(IndicatorCustomerOrders).where(
            IndicatorCustomerOrders.customer_id == customer_id
        ),
    }
