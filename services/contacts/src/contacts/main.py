"""The contacts API process (`uvicorn contacts.main:create_app --factory`)."""

from fastapi import FastAPI

from contacts.activities.router import router as activities_router
from contacts.audit.router import router as audit_router
from contacts.config import Settings
from contacts.customer360.router import router as customer360_router
from contacts.customers.router import router as customers_router
from contacts.imports.router import router as imports_router
from contacts.lifecycle.router import router as lifecycle_rules_router
from contacts.privacy.router import router as privacy_router
from contacts.tiers.router import customer_router as tier_router
from contacts.tiers.router import rules_router as tier_rules_router
from crm_shared.http.app import create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        settings=settings or Settings(),
        title="CRM contacts",
        description="The customer master: one trusted record per customer, with tier and account owner.",
        routers=[
            customers_router,
            audit_router,
            imports_router,
            activities_router,
            tier_router,
            tier_rules_router,
            lifecycle_rules_router,
            customer360_router,
            privacy_router,
        ],
    )
