"""The feedback API process (`uvicorn feedback.main:create_app --factory`)."""

from fastapi import FastAPI

from crm_shared.http import live
from crm_shared.http.app import create_service_app
from feedback.cases.router import router as cases_router
from feedback.config import Settings
from feedback.intake import service as intake
from feedback.intake.router import FEEDBACK_FEED, live_router
from feedback.intake.router import router as feedback_router
from feedback.reports.router import router as reports_router
from feedback.sla.router import clock_router as sla_clock_router
from feedback.sla.router import policy_router as sla_policy_router


def create_app(settings: Settings | None = None) -> FastAPI:
    start_live, stop_live = live.hooks(FEEDBACK_FEED, intake.live_feedback)
    return create_service_app(
        settings=settings or Settings(),
        title="CRM feedback",
        description="Captures complaints, praise, suggestions and inquiries from every channel.",
        routers=[feedback_router, live_router, cases_router, sla_clock_router, sla_policy_router, reports_router],
        on_startup=[start_live],
        on_shutdown=[stop_live],
    )
