from pydantic_settings import SettingsConfigDict

from contacts.manifest import MANIFEST
from crm_shared.config import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CONTACTS_", extra="ignore")

    service_name: str = MANIFEST.name
    database_url: str = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{MANIFEST.database}"
    port: int = MANIFEST.api_port
    metrics_port: int | None = MANIFEST.metrics_port
    # The services whose parts make up the customer 360.
    feedback_url: str = "http://127.0.0.1:8002"
    scoring_url: str = "http://127.0.0.1:8003"
    notifications_url: str = "http://127.0.0.1:8004"
    # Each other service's part of the customer 360 must answer within this, or is left out.
    view_part_timeout_seconds: float = 1.0
    # A data export waits this long for each other service's part (it is complete or a 503).
    export_part_timeout_seconds: float = 10.0
    # How often the worker re-applies the tier rules to everyone (tiers also move with time).
    tier_sweep_interval_seconds: float = 86_400.0
