"""The console server without a stack: static files, the SPA fallback, production sign-in, a down api."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from crm_console.app import create_app
from crm_console.settings import ConsoleSettings


def client(settings: ConsoleSettings) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings)), base_url="http://console")


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>CRM</title><div id=app></div>")
    (tmp_path / "assets" / "index-3f2a1b.js").write_text("console.log('app')")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    (tmp_path.parent / "secret.txt").write_text("outside dist")
    return tmp_path


async def test_built_app_assets_are_cached_for_good_and_page_paths_get_index_html(dist: Path) -> None:
    async with client(ConsoleSettings(dist=dist)) as console:
        asset = await console.get("/assets/index-3f2a1b.js")
        assert asset.status_code == 200 and asset.text == "console.log('app')"
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        for page in ("/", "/customers/123", "/tasks?assignee=erin"):
            answer = await console.get(page)
            assert answer.status_code == 200 and "<div id=app>" in answer.text, page
            assert answer.headers["cache-control"] == "no-cache"
        assert (await console.get("/favicon.svg")).headers["cache-control"] == "no-cache"
        assert (await console.get("/assets/gone-000000.js")).status_code == 404
        for mistyped in ("/api/contacts", "/api", "/auth/nothing"):
            answer = await console.get(mistyped)
            assert answer.status_code == 404 and "<div id=app>" not in answer.text, mistyped
        assert "outside dist" not in (await console.get("/../secret.txt")).text
        assert "outside dist" not in (await console.get("/%2e%2e/secret.txt")).text


async def test_without_a_build_the_console_says_how_to_build_it(tmp_path: Path) -> None:
    async with client(ConsoleSettings(dist=tmp_path / "missing")) as console:
        answer = await console.get("/")
        assert answer.status_code == 503
        assert "npm run build" in answer.text


async def test_production_points_the_app_at_the_issuer_and_offers_no_dev_sign_in() -> None:
    settings = ConsoleSettings(
        env="production", oidc_issuer="https://id.example.com", oidc_client_id="crm-console", oidc_scopes="openid crm"
    )
    async with client(settings) as console:
        assert (await console.get("/auth/config")).json() == {
            "mode": "oidc",
            "issuer": "https://id.example.com",
            "client_id": "crm-console",
            "scopes": "openid crm",
        }
        assert (await console.get("/auth/dev/users")).status_code == 404
        refused = await console.post("/auth/dev/token", json={"subject": "root", "role": "admin"})
        assert refused.status_code == 404 and "access_token" not in refused.text


async def test_production_without_an_issuer_says_what_to_set() -> None:
    async with client(ConsoleSettings(env="production")) as console:
        answer = await console.get("/auth/config")
        assert answer.status_code == 503 and "CRM_CONSOLE_OIDC_ISSUER" in answer.json()["detail"]


async def test_an_api_that_is_down_is_a_502_naming_it(tmp_path: Path) -> None:
    settings = ConsoleSettings(dist=tmp_path, scoring_url="http://127.0.0.1:9")  # nothing listens on 9
    async with client(settings) as console:
        answer = await console.get("/api/scoring/v1/scorecard")
        assert answer.status_code == 502
        assert "scoring" in answer.json()["detail"]
        assert (await console.get("/api/billing/v1/x")).status_code == 404
