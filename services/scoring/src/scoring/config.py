from pydantic_settings import SettingsConfigDict

from crm_shared.config import ServiceSettings
from scoring.manifest import MANIFEST


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SCORING_", extra="ignore")

    service_name: str = MANIFEST.name
    database_url: str = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{MANIFEST.database}"
    port: int = MANIFEST.api_port
    metrics_port: int | None = MANIFEST.metrics_port
