from pydantic_settings import SettingsConfigDict

from crm_shared.config import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore")

    service_name: str = "notifications"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/crm_notifications"
    port: int = 8004
    # Who an overdue task escalates to when its assignee's team has no lead (or manager), or the
    # assignee is in no team.
    escalation_fallback: str = "service-desk-lead"
