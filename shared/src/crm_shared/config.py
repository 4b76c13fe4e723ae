"""Settings shared by every service.

Broker and auth settings are read once under the `CRM_` prefix because every service talks to
the same broker and trusts the same token issuer; each service's own settings (database, port)
live under its own prefix (`<SERVICE>_`) so ops can point services at
different databases without touching the others.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_KAFKA_", extra="ignore")

    bootstrap_servers: str = "127.0.0.1:9092"
    # Kafka's own default: Kafka answers a waiting fetch as soon as data arrives. Only the dev
    # stack's Tansu fallback sets ~10 ms (it holds a fetch for about half of this).
    fetch_max_wait_ms: int = 500
    # Retries after a lost ack cannot duplicate or reorder a partition's records. Off only for
    # brokers that reject InitProducerId (Tansu); consumers dedupe by event id either way.
    enable_idempotence: bool = True
    request_timeout_ms: int = 15_000
    linger_ms: int = 0
    # How long a fresh consumer waits for a group join before it gives up and retries.
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 1_000
    max_poll_records: int = 500
    # Security options for managed Kafka; PLAINTEXT for the dev stack. SSL and SASL_SSL verify
    # the brokers against ssl_cafile (the system's CAs when unset), hostname included.
    security_protocol: str = "PLAINTEXT"  # PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL
    sasl_mechanism: str | None = None  # PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
    sasl_username: str | None = None
    sasl_password: str | None = None
    ssl_cafile: str | None = None
    # A client certificate, only for brokers that authenticate clients by TLS (mTLS).
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_key_password: str | None = None
    ssl_check_hostname: bool = True


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_AUTH_", extra="ignore")

    # HS256 with a shared secret in dev; set algorithm=RS256 and public_key in production so
    # services can verify tokens without holding the signing key.
    algorithm: str = "HS256"
    secret: str = "dev-secret-change-me-in-production-0123456789"
    public_key: str | None = None
    issuer: str = "crm-dev"
    audience: str = "crm"
    leeway_seconds: int = 30
    # Where the token carries the caller's scopes, roles, teams and partner: providers differ
    # (OAuth2 `scope`, Azure `scp`, Auth0 `permissions`; roles often under a namespaced claim).
    scope_claim: str = "scope"
    role_claim: str = "roles"
    team_claim: str = "teams"
    partner_claim: str = "partner"
    # Token this service presents on its own synchronous reads of other services. In dev it
    # is minted from the shared secret when unset; in production the platform injects one.
    service_token: str | None = None


class MessagingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_MESSAGING_", extra="ignore")

    # The relay only re-sends rows older than this, so it does not race the publish that
    # follows every commit; anything it sends twice is dropped by the consumers' inbox anyway.
    relay_grace_seconds: float = 2.0
    relay_interval_seconds: float = 1.0
    relay_batch_size: int = 200
    # Handler failures are retried this many times (with exponential backoff) before the
    # event goes to the dead-letter topic. Infrastructure failures are retried until they heal.
    max_handler_attempts: int = 4
    retry_backoff_seconds: float = 0.1
    retry_backoff_max_seconds: float = 5.0
    # How often the worker samples its gauges that need a query (outbox backlog, pending timers).
    backlog_sample_seconds: float = 5.0


MiB = 1024 * 1024


class LimitSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_LIMITS_", extra="ignore")

    # Body size in bytes: the default, then the routes that take many records at once.
    max_body_bytes: int = 1 * MiB
    max_batch_body_bytes: int = 16 * MiB
    max_import_body_bytes: int = 512 * MiB
    # The bulk routes: imports by path prefix (they stream the file), batches by the end of their
    # path (`POST .../batch`, parsed whole).
    import_paths: list[str] = Field(default_factory=lambda: ["/v1/imports"])
    batch_path_suffixes: list[str] = Field(default_factory=lambda: ["/batch"])
    # Per caller (token subject, else client address), `limits` notation; `;` joins several windows.
    rate_limits_enabled: bool = True
    # Callers never limited: the services' own tokens (a burst of complaints from unknown callers
    # becomes a burst of service-to-service writes that must not be refused). Dev service tokens
    # are `service:<name>`; production gives its service tokens such subjects or lists them here.
    exempt_subject_prefixes: list[str] = Field(default_factory=lambda: ["service:"])
    read_rate: str = "50/second;1200/minute"
    write_rate: str = "20/second;600/minute"
    import_rate: str = "10/minute;60/hour"
    # async+memory:// counts per process (each replica its own budget); async+redis://host:6379
    # (install `limits[async-redis]`) shares one budget across replicas.
    storage_uri: str = "async+memory://"


class RetentionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_RETENTION_", extra="ignore")

    # Stored Idempotency-Key answers and inbox rows older than this are deleted by the worker:
    # a client retries within minutes, a redelivered event arrives within the topic retention.
    days: float = 7.0
    prune_interval_seconds: float = 3600.0
    prune_batch_size: int = 5000
    # The access log is kept longer: it answers "who looked at my data" (docs/security.md).
    access_log_days: float = 365.0


class ServiceSettings(BaseSettings):
    """Base for each service's settings; subclasses set `env_prefix` and defaults."""

    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = "service"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    database_pool_size: int = 10
    database_max_overflow: int = 20
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    # The worker's Prometheus endpoint (`<SERVICE>_METRICS_PORT`; 0 = off). Each service sets its
    # dev default from its manifest (crm_shared.services). The api serves /metrics on `port`.
    metrics_port: int | None = None
    # A service that reads another one's api (views, fallbacks) adds its `<other>_url` setting.
    http_timeout_seconds: float = 2.0
    # National phone numbers (no +country prefix) are read in this region; the service that stores
    # numbers and the ones that look callers up must agree, so one variable serves them all.
    default_phone_region: str = Field(default="US", validation_alias="CRM_DEFAULT_PHONE_REGION")

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    messaging: MessagingSettings = Field(default_factory=MessagingSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)

    @property
    def worker_metrics_port(self) -> int:
        return self.metrics_port or 0
