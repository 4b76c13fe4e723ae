import ipaddress
from functools import cached_property

from pydantic import field_validator
from pydantic_settings import SettingsConfigDict

from crm_shared.config import ServiceSettings
from notifications.manifest import MANIFEST

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str) -> tuple[Network, ...]:
    """`"127.0.0.0/8, ::1/128"` -> networks; a bad entry fails the settings load, not a delivery."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip())


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore")

    service_name: str = MANIFEST.name
    database_url: str = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{MANIFEST.database}"
    port: int = MANIFEST.api_port
    metrics_port: int | None = MANIFEST.metrics_port
    # Who an overdue task escalates to when its assignee's team has no lead (or manager), or the
    # assignee is in no team.
    escalation_fallback: str = "service-desk-lead"
    # How often the worker checks that every key account has a senior-management visit planned.
    key_account_check_interval_seconds: float = 86_400.0

    # Outbound email (SMTP). Port 1025 is the usual local mail catcher; production sets a relay.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_from: str = "crm@example.com"
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    # SMS through an HTTP gateway: POST {"to", "text"} with this bearer token. Unset: SMS stay queued
    # for retries and end as dead letters saying so, to be re-queued once configured.
    sms_gateway_url: str | None = None
    sms_gateway_token: str | None = None
    # Fernet key(s) sealing webhook signing secrets at rest (outbound/sealing.py); comma-separated,
    # the first encrypts. Unset: the public dev key, refused when require_key is true (production).
    webhook_secrets_key: str | None = None
    webhook_secrets_require_key: bool = False
    # Optional Standard Webhooks secret (whsec_...) signing the playbooks' `call_webhook` calls.
    outbound_webhook_secret: str | None = None
    # Integrators' webhooks reach public addresses only (SSRF guard, outbound/targets.py), and
    # these networks besides, comma-separated CIDRs ("10.20.0.0/16,fd00::/8"). The dev stack
    # allows loopback.
    webhook_allowed_networks: str = ""

    # Delivery of messages and webhooks: attempts, exponential backoff, timeouts, parallel sends.
    delivery_max_attempts: int = 8
    delivery_backoff_seconds: float = 30.0
    delivery_backoff_max_seconds: float = 3600.0
    delivery_timeout_seconds: float = 10.0
    delivery_concurrency: int = 16
    # A send not recorded after this long (the worker died mid-send) is attempted again, with the
    # same Message-ID / webhook-id, so the receiver can drop the duplicate.
    delivery_lease_seconds: float = 300.0

    # Quiet hours in the customer's time zone ("" disables): messages to customers wait until the end.
    quiet_hours_start: str = "21:00"
    quiet_hours_end: str = "08:00"
    default_timezone: str = "UTC"
    # Staff who receive `notify_staff` messages sent "to" team_lead / manager when neither the
    # owner's team nor the directory's `reports_to` names one
    # (docs/architecture.md#messages-to-customers-and-staff-notifications, "Staff directory").
    staff_team_lead: str | None = None
    staff_manager: str | None = None

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)  # a typo stops the start, not every delivery
        return value

    @cached_property
    def webhook_networks(self) -> tuple[Network, ...]:
        """Where webhooks may go besides public addresses (`outbound/targets.py` guards with it)."""
        return parse_networks(self.webhook_allowed_networks)
