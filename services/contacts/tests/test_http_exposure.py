"""Integration: /docs, /openapi.json, /redoc and /metrics open, behind a token, off or on a port
of their own, by setting (CRM_HTTP_DOCS, CRM_HTTP_METRICS)."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn

from contacts.config import Settings
from contacts.main import create_app
from crm_devstack.testing import free_port
from crm_shared.config import HttpSettings
from crm_shared.http.auth import mint_token

pytestmark = pytest.mark.integration

DOCS = ("/docs", "/redoc", "/openapi.json")


@asynccontextmanager
async def api(http: HttpSettings) -> AsyncIterator[tuple[httpx.AsyncClient, Settings]]:
    """A contacts api of its own with these settings (the stack's database and broker)."""
    settings = Settings(port=free_port(), http=http)
    server = uvicorn.Server(uvicorn.Config(create_app(settings), port=settings.port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.port}", timeout=10) as client:
            yield client, settings
    finally:
        server.should_exit = True
        await task


async def test_by_default_docs_and_metrics_are_open_for_dev(services) -> None:
    async with api(HttpSettings()) as (client, _):
        for path in (*DOCS, "/metrics"):
            assert (await client.get(path)).status_code == 200, path


async def test_docs_and_metrics_behind_auth_need_a_valid_token_of_any_scope(services) -> None:
    async with api(HttpSettings(docs="auth", metrics="auth")) as (client, settings):
        token = mint_token(settings.auth, subject="prometheus", scopes=())
        for path in (*DOCS, "/metrics"):
            refused = await client.get(path)
            assert refused.status_code == 401, path
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert (await client.get(path, headers={"Authorization": "Bearer not-a-token"})).status_code == 401
            assert (await client.get(path, headers={"Authorization": f"Bearer {token}"})).status_code == 200, path
        schema = (await client.get("/openapi.json", headers={"Authorization": f"Bearer {token}"})).json()
        assert "/v1/customers" in schema["paths"] and "/openapi.json" not in schema["paths"]


async def test_docs_off_and_metrics_on_a_port_of_their_own(services) -> None:
    port = free_port()
    async with api(HttpSettings(docs="off", metrics=f"port:{port}")) as (client, settings):
        token = mint_token(settings.auth)
        for path in (*DOCS, "/metrics"):
            response = await client.get(path, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 404, path
        async with httpx.AsyncClient(timeout=10) as scraper:
            scraped = await scraper.get(f"http://127.0.0.1:{port}/metrics")
        assert scraped.status_code == 200 and "crm_http_requests_total" in scraped.text
        assert (await client.get("/healthz")).status_code == 200
