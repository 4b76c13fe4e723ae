"""The feedback API process (`uvicorn feedback.main:create_app --factory`)."""

from fastapi import FastAPI

from crm_shared.http import live
from crm_shared.http.app import create_service_app
from feedback.backlog.router import router as backlog_router
from feedback.cases.router import router as cases_router
from feedback.config import Settings
from feedback.intake import service as intake
from feedback.intake.router import FEEDBACK_FEED, live_router
from feedback.intake.router import router as feedback_router
from feedback.privacy.router import router as privacy_router
from feedback.reports.router import router as reports_router
from feedback.resolutions.router import cause_router, resolution_router
from feedback.sla.router import clock_router as sla_clock_router
from feedback.sla.router import open_clocks_router as sla_open_clocks_router
from feedback.sla.router import policy_router as sla_policy_router


def create_app(settings: Settings | None = None) -> FastAPI:
    start_live, stop_live = live.hooks(FEEDBACK_FEED, intake.live_feedback)
    return create_service_app(
        settings=settings or Settings(),
        title="CRM feedback",
        description="Captures complaints, praise, suggestions, inquiries and technical-support requests from "
        "every channel; every request is a case with its own lifecycle and SLA.",
        routers=[
            feedback_router,
            live_router,
            cases_router,
            resolution_router,
            cause_router,
            sla_clock_router,
            sla_policy_router,
            sla_open_clocks_router,
            reports_router,
            backlog_router,
            privacy_router,
        ],
        on_startup=[start_live],
        on_shutdown=[stop_live],
    )
