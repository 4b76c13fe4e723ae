"""Settings shared by every service.

Broker and auth settings are read once under the `CRM_` prefix because every service talks to
the same broker and trusts the same token issuer; each service's own settings (database, port)
live under its own prefix (`<SERVICE>_`) so ops can point services at
different databases without touching the others.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
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


# The built-in shared secret and claims of dev tokens (`crmctl token`, the tests). Services refuse
# to start with this secret unless CRM_ENV=dev (crm_shared.http.identity.check_auth_settings).
DEV_SECRET = "dev-secret-change-me-in-production-0123456789"
DEV_ISSUER = "crm-dev"
DEV_AUDIENCE = "crm"


class AuthSettings(BaseSettings):
    """Who the services trust (docs/security.md#identity-and-tokens).

    Production: an OpenID Connect provider (`oidc_issuer`, discovery) or its JWKS (`jwks_url`);
    tokens are RS256/ES256 signed, the key chosen by the token's `kid`, keys refetched when an
    unknown `kid` appears (the provider rotated). Dev: the dev stack's identity provider, and
    HS256 tokens signed with the built-in dev secret (`crmctl token`, the tests).
    """

    model_config = SettingsConfigDict(env_prefix="CRM_AUTH_", extra="ignore", populate_by_name=True)

    # `CRM_ENV`: "dev" allows the built-in dev secret and default issuer/audience. Anything else
    # (the default, "production") refuses them at startup: a deployment that forgot its
    # settings stops with a clear error instead of accepting tokens anyone can mint.
    env: str = Field(default="production", validation_alias="CRM_ENV")

    # Shared-secret (HS256) or static public key tokens: `algorithm` with `secret` or `public_key`.
    algorithm: str = "HS256"
    secret: str = DEV_SECRET
    public_key: str | None = None
    # The expected `iss` and `aud`. Outside dev both must be set (with `oidc_issuer`, the issuer
    # is the provider's); in dev they default to the dev tokens' values.
    issuer: str = DEV_ISSUER
    audience: str = DEV_AUDIENCE
    leeway_seconds: int = 30

    # An OpenID Connect provider: its issuer URL (discovery at
    # `<issuer>/.well-known/openid-configuration` gives the JWKS and token endpoint), or a bare
    # JWKS URL. Either one makes the services verify the provider's tokens by `kid`.
    oidc_issuer: str | None = None
    jwks_url: str | None = None
    # Keys are kept this long, then fetched again; a token whose `kid` is unknown triggers a
    # refetch at once, but at most once per `jwks_refetch_seconds` (a flood of forged kids does
    # not become a flood of requests to the provider).
    jwks_cache_seconds: float = 300.0
    jwks_refetch_seconds: float = 30.0
    jwks_timeout_seconds: float = 5.0

    # Where the token carries the caller's scopes, roles, teams and partner: providers differ
    # (OAuth2 `scope`, Azure `scp`, Auth0 `permissions`; roles often under a namespaced claim).
    scope_claim: str = "scope"
    role_claim: str = "roles"
    team_claim: str = "teams"
    partner_claim: str = "partner"

    # A service's own calls to other services' APIs: OAuth2 client credentials at the provider's
    # token endpoint (`token_url`, else the discovered one). `client_scope` and `client_audience`
    # are sent when set (Auth0 wants `audience`; Entra a `scope` of `<app id URI>/.default`).
    token_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    client_scope: str | None = None
    client_audience: str | None = None
    # Keys the stable pseudonyms an analyst sees instead of names (crm_shared.access): the same in
    # every service, so pseudonymised records still join; set a secret of your own in production.
    pseudonym_key: str = "dev-pseudonym-key-change-me"
    # A fixed token instead (injected by the platform); in dev, without a client, one is minted
    # from the shared secret.
    service_token: str | None = None

    @property
    def is_dev(self) -> bool:
        return self.env.strip().lower() == "dev"

    @property
    def uses_provider(self) -> bool:
        return bool(self.oidc_issuer or self.jwks_url)

    @property
    def accepts_shared_secret(self) -> bool:
        """HS256 tokens: the only kind without a provider; in dev also beside one (dev tokens)."""
        return self.algorithm.upper().startswith("HS") and (self.is_dev or not self.uses_provider)


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
    # When a fetch brings several records (a burst, a backlog), up to this many share one
    # transaction (one inbox INSERT, one COMMIT); 1 = a transaction per record. A batch that
    # fails is rolled back and handled one record at a time.
    batch_size: int = 100
    # Consumers commit the offsets of what they processed at most this often, all partitions in
    # one request (and before a rebalance or stop); a crash re-delivers at most this window,
    # which the inbox turns into no-ops.
    offset_commit_seconds: float = 0.5
    # How often the worker samples its gauges that need a query (outbox backlog, pending timers).
    backlog_sample_seconds: float = 5.0


DATABASE_SSL_MODES = ("disable", "require", "verify-ca", "verify-full")


class HttpSettings(BaseSettings):
    """Who may read the api's own description and metrics (docs/security.md#personal-data-and-webhooks)."""

    model_config = SettingsConfigDict(env_prefix="CRM_HTTP_", extra="ignore")

    # /docs, /redoc and /openapi.json: `public` (dev), `auth` (any valid bearer token) or `off`.
    docs: Literal["public", "auth", "off"] = "public"
    # /metrics: `public` (dev), `auth` (any valid bearer token), or `port:<n>`: not on the api's
    # port at all, but on a port of its own (e.g. one only the cluster's Prometheus reaches).
    metrics: str = Field(default="public", pattern=r"^(public|auth|port:[0-9]{1,5})$")

    @property
    def metrics_port(self) -> int | None:
        return int(self.metrics.removeprefix("port:")) if self.metrics.startswith("port:") else None


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


class CorsSettings(BaseSettings):
    """Browsers on other origins allowed to call the apis (`CRM_CORS_ALLOW_ORIGINS`, comma-separated).

    Empty (the default): no CORS headers at all. The web console needs none (its server proxies
    the apis on its own origin); set it for a browser app served elsewhere."""

    model_config = SettingsConfigDict(env_prefix="CRM_CORS_", extra="ignore")

    allow_origins: str = ""
    max_age_seconds: int = 600

    @property
    def origins(self) -> list[str]:
        return [origin.strip().rstrip("/") for origin in self.allow_origins.split(",") if origin.strip()]


class ServiceSettings(BaseSettings):
    """Base for each service's settings; subclasses set `env_prefix` and defaults."""

    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = "service"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    # 30 connections at most per process, all kept once opened: overflow connections are closed
    # as soon as they are returned, so a burst beyond the pool paid a new PostgreSQL session (a
    # backend, codec set-up) for every few requests, just when the process was busiest.
    database_pool_size: int = 30
    database_max_overflow: int = 0
    # TLS to PostgreSQL (`<SERVICE>_DATABASE_SSL_MODE`): unset leaves it to the URL and asyncpg
    # (dev: plain on loopback). `verify-full` (production): encrypted, the server's certificate
    # checked against `database_ssl_root_cert` (a CA file; the system's CAs when unset) and its
    # host name; `verify-ca` skips the host name; `require` encrypts without checking anything.
    database_ssl_mode: str | None = None
    database_ssl_root_cert: str | None = None
    # A client certificate, only for servers that authenticate clients by TLS.
    database_ssl_cert: str | None = None
    database_ssl_key: str | None = None
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
    http: HttpSettings = Field(default_factory=HttpSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    cors: CorsSettings = Field(default_factory=CorsSettings)

    @field_validator("database_ssl_mode")
    @classmethod
    def _ssl_mode(cls, value: str | None) -> str | None:
        if value is not None and value not in DATABASE_SSL_MODES:
            raise ValueError(f"use one of {', '.join(DATABASE_SSL_MODES)}")
        return value

    @property
    def worker_metrics_port(self) -> int:
        return self.metrics_port or 0
