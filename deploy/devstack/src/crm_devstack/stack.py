"""The embedded dev stack: PostgreSQL + Apache Kafka (or Tansu), databases, migrations, topics, env.

`make run`, the end-to-end tests and the benchmark all start the system through this module, so
what the tests exercise is what a newcomer runs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from crm_devstack.broker import TansuBroker
from crm_devstack.console import CONSOLE_DIR
from crm_devstack.kafka import ApacheKafkaBroker, missing_prerequisite
from crm_devstack.postgres import EmbeddedPostgres
from crm_shared.db import migrate
from crm_shared.messaging.topics import PARTITIONS, consumer_groups, ensure_topics, topic_plan
from crm_shared.services import service_manifests

log = logging.getLogger("crm_devstack")

ROOT = Path(__file__).resolve().parents[4]
PROCFILE = ROOT / "deploy" / "Procfile"
# The console server runs beside the eight Procfile processes in the dev stack (in production
# the console image serves it: deploy/docker/Dockerfile.console).
CONSOLE_COMMAND = "exec crm-console"
# The installed services (their manifests, crm_shared.services) and their dev api ports.
SERVICES: dict[str, int] = {m.name: m.api_port for m in service_manifests()}
DEV_METRICS_PORTS: dict[str, int] = {m.name: m.metrics_port for m in service_manifests()}
CONSUMER_GROUPS: tuple[str, ...] = tuple(consumer_groups())  # for tests/deploy, with PARTITIONS
__all__ = ["CONSUMER_GROUPS", "PARTITIONS", "SERVICES", "DevStack", "StackConfig", "database_name"]


def database_name(service: str) -> str:
    return next(m.database for m in service_manifests() if m.name == service)


@dataclass
class StackConfig:
    data_dir: Path = field(default_factory=lambda: Path(os.environ.get("CRM_DEV_DATA_DIR", ROOT / ".data")))
    host: str = "127.0.0.1"
    pg_port: int = field(default_factory=lambda: int(os.environ.get("CRM_DEV_PG_PORT", "55432")))
    kafka_port: int = field(default_factory=lambda: int(os.environ.get("CRM_DEV_KAFKA_PORT", "9092")))
    kafka_controller_port: int = field(
        default_factory=lambda: int(os.environ.get("CRM_DEV_KAFKA_CONTROLLER_PORT", "9093"))
    )
    # "kafka" (Apache Kafka, the default) or "tansu"; unset: Kafka where Java 17+ and Maven are.
    broker: str | None = field(default_factory=lambda: os.environ.get("CRM_DEV_BROKER") or None)
    service_ports: dict[str, int] = field(default_factory=lambda: dict(SERVICES))
    # Each worker's Prometheus endpoint (the apis serve /metrics on their own port).
    metrics_ports: dict[str, int] = field(default_factory=lambda: dict(DEV_METRICS_PORTS))
    # The workers' queried gauges (outbox backlog, pending timers): fresher than production's 5 s.
    gauge_sample_seconds: float = 1.0
    # The web console (crm_console): the app, sign-in and a proxy to the apis on one origin.
    console_port: int = field(default_factory=lambda: int(os.environ.get("CRM_CONSOLE_PORT", "8000")))


class DevStack:
    def __init__(self, config: StackConfig | None = None) -> None:
        self.config = config or StackConfig()
        self.postgres = EmbeddedPostgres(
            self.config.data_dir / "postgres", port=self.config.pg_port, host=self.config.host
        )
        self.broker = choose_broker(self.config)

    @property
    def on_tansu(self) -> bool:
        return isinstance(self.broker, TansuBroker)

    @property
    def bootstrap(self) -> str:
        return f"{self.config.host}:{self.config.kafka_port}"

    def database_url(self, service: str) -> str:
        return self.postgres.url(database_name(service))

    def start(self) -> None:
        """Start PostgreSQL and the broker, then create databases, apply migrations, create topics."""
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        log.info("starting PostgreSQL on %s:%s", self.config.host, self.config.pg_port)
        self.postgres.start()
        try:
            asyncio.run(self.postgres.create_databases([database_name(s) for s in SERVICES]))
            for service in SERVICES:
                migrate(ROOT / "services" / service, self.database_url(service))
            log.info("starting %s on %s", "Tansu" if self.on_tansu else "Apache Kafka", self.bootstrap)
            self.broker.start()
            asyncio.run(ensure_topics(self.bootstrap, topic_plan()))
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        self.broker.stop()
        self.postgres.stop()

    def env(self) -> dict[str, str]:
        """Environment for the eight processes: every address they need is a setting."""
        env = dict(os.environ)
        bin_dir = str(Path(sys.executable).parent)
        env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
        env["PYTHONUNBUFFERED"] = "1"
        env["CRM_KAFKA_BOOTSTRAP_SERVERS"] = self.bootstrap
        if self.on_tansu:
            # Tansu holds a fetch for about half of fetch.max.wait.ms even when data arrives, and
            # rejects InitProducerId: a short wait, no idempotent producer. Apache Kafka gets the
            # production defaults (500 ms, idempotence on).
            env["CRM_KAFKA_FETCH_MAX_WAIT_MS"] = "10"
            env["CRM_KAFKA_ENABLE_IDEMPOTENCE"] = "false"
        env["CRM_MESSAGING_BACKLOG_SAMPLE_SECONDS"] = str(self.config.gauge_sample_seconds)
        # Webhook receivers of a developer (and of the tests) listen on this machine.
        env.setdefault("NOTIFICATIONS_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")
        for service, port in self.config.service_ports.items():
            prefix = service.upper()
            env[f"{prefix}_DATABASE_URL"] = self.database_url(service)
            env[f"{prefix}_HOST"] = self.config.host
            env[f"{prefix}_PORT"] = str(port)
            env[f"{prefix}_METRICS_PORT"] = str(self.config.metrics_ports.get(service, 0))
            for other in self.config.service_ports:
                env[f"{prefix}_{other.upper()}_URL"] = self.api_url(other)
            env[f"CRM_CONSOLE_{prefix}_URL"] = self.api_url(service)
        # Dev: the console offers demo users and their tokens (signed with the dev secret).
        env.setdefault("CRM_ENV", "dev")
        env["CRM_CONSOLE_HOST"] = self.config.host
        env["CRM_CONSOLE_PORT"] = str(self.config.console_port)
        env.setdefault("CRM_CONSOLE_DIST", str(CONSOLE_DIR / "dist"))
        return env

    def console_url(self) -> str:
        return f"http://{self.config.host}:{self.config.console_port}"

    def api_url(self, service: str) -> str:
        return f"http://{self.config.host}:{self.config.service_ports[service]}"

    def worker_metrics_url(self, service: str) -> str:
        return f"http://{self.config.host}:{self.config.metrics_ports[service]}/metrics"


def choose_broker(config: StackConfig) -> ApacheKafkaBroker | TansuBroker:
    """Apache Kafka where it can run; else Tansu, said in one line (an explicit "kafka" fails instead)."""
    choice = (config.broker or "kafka").lower()
    if choice not in ("kafka", "tansu"):
        raise RuntimeError(f"CRM_DEV_BROKER={config.broker!r}: use kafka or tansu")
    if choice == "kafka":
        missing = missing_prerequisite()
        if missing is None:
            return ApacheKafkaBroker(
                port=config.kafka_port,
                controller_port=config.kafka_controller_port,
                data_dir=config.data_dir / "kafka",
                host=config.host,
            )
        if config.broker:
            raise RuntimeError(f"CRM_DEV_BROKER=kafka but {missing}")
        log.warning("dev broker: Tansu (in memory), because %s; install Java 17+ and Maven for Apache Kafka", missing)
    return TansuBroker(port=config.kafka_port, host=config.host)


def run_commands() -> dict[str, str]:
    """What `make run` starts: the eight Procfile processes and the console server."""
    return procfile_commands() | {"console": CONSOLE_COMMAND}


def procfile_commands(path: Path = PROCFILE) -> dict[str, str]:
    commands: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, command = line.partition(":")
        commands[name.strip()] = command.strip()
    return commands
