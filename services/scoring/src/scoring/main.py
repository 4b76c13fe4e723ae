"""The scoring API process (`uvicorn scoring.main:create_app --factory`)."""

from fastapi import FastAPI

from crm_shared.http import live
from crm_shared.http.app import create_service_app
from scoring.config import Settings
from scoring.indicators.router import routers as indicator_routers
from scoring.scores import reads
from scoring.scores.router import SCORES_FEED, live_router, runs_router, scorecard_router
from scoring.scores.router import router as scores_router


def create_app(settings: Settings | None = None) -> FastAPI:
    start_live, stop_live = live.hooks(SCORES_FEED, reads.live_score)
    return create_service_app(
        settings=settings or Settings(),
        title="CRM scoring",
        description="Customer scores recalculated on every feedback event, explained and kept as history.",
        routers=[scores_router, scorecard_router, runs_router, live_router, *indicator_routers],
        on_startup=[start_live],
        on_shutdown=[stop_live],
    )
