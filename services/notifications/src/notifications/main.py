"""The notifications API process (`uvicorn notifications.main:create_app --factory`)."""

from fastapi import FastAPI

from crm_shared.http import live
from crm_shared.http.app import create_service_app
from notifications.config import Settings
from notifications.messages.router import router as messages_router
from notifications.playbooks.router import router as playbooks_router
from notifications.tasks import service as tasks
from notifications.tasks.router import TASKS_FEED, live_router
from notifications.tasks.router import router as tasks_router
from notifications.teams.router import router as teams_router
from notifications.webhooks.router import router as webhooks_router


def create_app(settings: Settings | None = None) -> FastAPI:
    start_live, stop_live = live.hooks(TASKS_FEED, tasks.live_task)
    return create_service_app(
        settings=settings or Settings(),
        title="CRM notifications",
        description="Follow-up tasks created the moment a complaint arrives or a customer's health drops, "
        "by playbooks configured through the API; claimed, completed, cancelled, and escalated when overdue; "
        "messages to customers and staff; webhooks for integrators.",
        routers=[tasks_router, live_router, playbooks_router, teams_router, messages_router, webhooks_router],
        on_startup=[start_live],
        on_shutdown=[stop_live],
    )
