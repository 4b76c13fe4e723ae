"""Integration: CRM_CORS_ALLOW_ORIGINS lets a browser app on another origin call an api; none by default."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import uvicorn

from crm_devstack.testing import free_port, unique_email, unique_phone
from crm_shared.config import CorsSettings

pytestmark = pytest.mark.integration

CONSOLE = "https://console.example.com"


@pytest.fixture
async def cors_contacts(dev_stack):
    """The contacts api (real database and broker) with one allowed origin."""
    from contacts.config import Settings
    from contacts.main import create_app

    settings = Settings(port=free_port(), cors=CorsSettings(allow_origins=f"{CONSOLE}/, https://other.example.com"))
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=settings.port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not task.done(), "the api did not start"
            await asyncio.sleep(0.02)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.port}", timeout=10) as client:
            yield client
    finally:
        server.should_exit = True
        await asyncio.wait([task], timeout=10)


async def test_an_allowed_origin_may_send_tokens_and_preconditions_and_read_etags(cors_contacts, auth_headers) -> None:
    preflight = await cors_contacts.options(
        "/v1/customers/00000000-0000-0000-0000-000000000000",
        headers={
            "Origin": CONSOLE,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, if-match, idempotency-key, content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == CONSOLE
    assert "PATCH" in preflight.headers["access-control-allow-methods"]
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert all(h in allowed for h in ("authorization", "if-match", "idempotency-key"))

    body = {"name": "Cors Ltd", "email": unique_email(), "phone": unique_phone(), "tier": "silver"}
    created = await cors_contacts.post("/v1/customers", json=body, headers=auth_headers | {"Origin": CONSOLE})
    assert created.status_code == 201
    assert created.headers["access-control-allow-origin"] == CONSOLE
    read = await cors_contacts.get(created.headers["location"], headers=auth_headers | {"Origin": CONSOLE})
    assert "etag" in read.headers["access-control-expose-headers"].lower()
    # Errors carry the headers too, so the browser app can read the problem.
    missing = await cors_contacts.get(created.headers["location"], headers={"Origin": CONSOLE})
    assert missing.status_code == 401 and missing.headers["access-control-allow-origin"] == CONSOLE


async def test_other_origins_and_the_default_settings_get_no_cors_headers(cors_contacts, services) -> None:
    evil = await cors_contacts.options(
        "/v1/customers", headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"}
    )
    assert evil.status_code == 400 and "access-control-allow-origin" not in evil.headers
    plain = await services.contacts.get("/v1/customers", params={"limit": 1}, headers={"Origin": CONSOLE})
    assert plain.status_code == 200 and "access-control-allow-origin" not in plain.headers
