"""The console server's settings (`CRM_CONSOLE_*`; the environment is `CRM_ENV`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from crm_shared.config import AuthSettings

# The apis the console reaches through `/api/<name>/...`.
APIS = ("contacts", "feedback", "scoring", "notifications")


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_CONSOLE_", extra="ignore", populate_by_name=True)

    # `dev` offers demo users and mints their tokens; anything else (the default, `production`)
    # never does. The dev stack (`make run`, the tests) sets CRM_ENV=dev.
    env: str = Field(default="production", validation_alias="CRM_ENV")
    host: str = "127.0.0.1"
    port: int = 8000
    # The built app (`npm run build` in console/); a placeholder page while it is missing.
    dist: Path = Path("console/dist")
    contacts_url: str = "http://127.0.0.1:8001"
    feedback_url: str = "http://127.0.0.1:8002"
    scoring_url: str = "http://127.0.0.1:8003"
    notifications_url: str = "http://127.0.0.1:8004"
    # Production sign-in: authorization code + PKCE against this issuer, done by the app.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_scopes: str = "openid profile email"
    # Dev tokens live this long (a working day).
    dev_token_ttl_seconds: int = 8 * 3600
    # The proxy's connect timeout; reads have none (live streams stay open).
    upstream_connect_timeout_seconds: float = 5.0
    # On SIGTERM, requests and open live streams get this long to end (honcho waits 5 s under `make run`).
    shutdown_grace_seconds: int = 4

    auth: AuthSettings = Field(default_factory=AuthSettings)

    @property
    def is_dev(self) -> bool:
        return self.env.strip().lower() == "dev"

    def api_url(self, api: str) -> str:
        url: str = getattr(self, f"{api}_url")
        return url.rstrip("/")
