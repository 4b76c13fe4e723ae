from pydantic_settings import SettingsConfigDict

from crm_shared.config import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CONTACTS_", extra="ignore")

    service_name: str = "contacts"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/crm_contacts"
    port: int = 8001
    # Each other service's part of the customer 360 must answer within this, or is left out.
    view_part_timeout_seconds: float = 1.0
    # How often the worker re-applies the tier rules to everyone (tiers also move with time).
    tier_sweep_interval_seconds: float = 86_400.0
