from datetime import time

from pydantic_settings import SettingsConfigDict

from crm_shared.config import ServiceSettings
from scoring.manifest import MANIFEST


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SCORING_", extra="ignore")

    service_name: str = MANIFEST.name
    database_url: str = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{MANIFEST.database}"
    port: int = MANIFEST.api_port
    metrics_port: int | None = MANIFEST.metrics_port
    # Time-aware scoring (docs/scoring.md): the worker queues one daily run a day from this time (UTC).
    daily_run_enabled: bool = True
    daily_run_at: time = time(2, 0)
