"""The feedback API process (`uvicorn feedback.main:create_app --factory`)."""

from fastapi import FastAPI

from crm_shared.http.app import create_service_app
from feedback.backlog.router import router as backlog_router
from feedback.cases.router import router as cases_router
from feedback.config import Settings
from feedback.intake.router import router as feedback_router
from feedback.reports.router import router as reports_router
from feedback.resolutions.router import cause_router, resolution_router
from feedback.sla.router import clock_router as sla_clock_router
from feedback.sla.router import policy_router as sla_policy_router


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        settings=settings or Settings(),
        title="CRM feedback",
        description="Captures complaints, praise, suggestions, inquiries and technical-support requests from "
        "every channel; every request is a case with its own lifecycle and SLA.",
        routers=[
            feedback_router,
            cases_router,
            resolution_router,
            cause_router,
            sla_clock_router,
            sla_policy_router,
            reports_router,
            backlog_router,
        ],
    )
