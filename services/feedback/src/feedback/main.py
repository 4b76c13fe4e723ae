"""The feedback API process (`uvicorn feedback.main:create_app --factory`)."""

from fastapi import FastAPI

from crm_shared.http.app import create_service_app
from feedback.config import Settings
from feedback.intake.router import router as feedback_router


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        settings=settings or Settings(),
        title="CRM feedback",
        description="Captures complaints, praise, suggestions and inquiries from every channel.",
        routers=[feedback_router],
    )
