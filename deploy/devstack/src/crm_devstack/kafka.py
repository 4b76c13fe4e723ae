"""A real Apache Kafka broker (KRaft, one node: broker + controller) run from Maven Central's jars.

The jars are resolved once by Maven (deploy/devstack/kafka/pom.xml, checksums verified) into the
repo-local `.cache/kafka-<version>/libs`, then every stack runs `java ... kafka.Kafka` from there:
no download, no install, no Docker. Data lives in `<data_dir>/kafka`, so `make run` keeps topics
and offsets across a restart, like PostgreSQL's folder next to it.
"""

from __future__ import annotations

import base64
import fcntl
import logging
import re
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

from crm_devstack.broker import BrokerProcess

KAFKA_VERSION = "4.1.1"
ROOT = Path(__file__).resolve().parents[4]
POM = ROOT / "deploy" / "devstack" / "kafka" / "pom.xml"
CACHE = ROOT / ".cache" / f"kafka-{KAFKA_VERSION}"
# A dev/test box with 2 cores: a small heap; serial GC and C1 only start the JVM fastest
# (measured: ~3.5 s to a ready broker, against ~4-4.7 s with the defaults or serial GC alone).
# C1 only costs less under load too, in runs as short as make bench's: with C2 on, the broker
# spent 17.9 ms of CPU per complaint at 20/s (C2 compiling) against 10.4 ms (2026-12-05).
JVM_OPTIONS = ["-Xmx384m", "-Xms128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true"]
# Every broker setting the dev stack and the tests run with, in one place. {host}, {port} and
# {controller_port} are filled in; `ApacheKafkaBroker(overrides=...)` adds or replaces keys.
SETTINGS = {
    "process.roles": "broker,controller",
    "node.id": "1",
    "controller.quorum.bootstrap.servers": "{host}:{controller_port}",
    "listeners": "PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller_port}",
    "advertised.listeners": "PLAINTEXT://{host}:{port}",
    "controller.listener.names": "CONTROLLER",
    "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "inter.broker.listener.name": "PLAINTEXT",
    # One node: internal topics and acks=all cannot ask for more replicas than there are.
    "offsets.topic.replication.factor": "1",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "min.insync.replicas": "1",
    "default.replication.factor": "1",
    # Topics come from crm_shared.messaging.topics.topic_plan only, as in compose and Kubernetes.
    "auto.create.topics.enable": "false",
    # The first consumer of a group gets its partitions at once (tests start many groups).
    "group.initial.rebalance.delay.ms": "0",
    # A broker restarted after kill -9 must wait for its old registration's session to expire
    # (default 9 s) before it serves again: a short session makes that restart ~4 s faster.
    "broker.session.timeout.ms": "4000",
    "broker.heartbeat.interval.ms": "500",
    "num.network.threads": "2",
    "num.io.threads": "2",
    "offsets.topic.num.partitions": "10",
}
LOG4J2 = """<Configuration status="WARN">
  <Appenders>
    <File name="file" fileName="{log}"><PatternLayout pattern="[%d] %p %m (%c)%n"/></File>
  </Appenders>
  <Loggers><Root level="WARN"><AppenderRef ref="file"/></Root></Loggers>
</Configuration>
"""

log = logging.getLogger("crm_devstack")


def _java_major(java: str) -> int | None:
    result = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def missing_prerequisite() -> str | None:
    """Why Apache Kafka cannot run here (None: Java 17+ and Maven are there, or the jars already are)."""
    java = shutil.which("java")
    if java is None:
        return "no `java` on PATH (Apache Kafka needs Java 17+)"
    major = _java_major(java)
    if major is None or major < 17:
        return f"`java` is version {major or 'unknown'}, Apache Kafka needs 17+"
    if not _resolved(CACHE / "libs") and shutil.which("mvn") is None:
        return "no `mvn` on PATH (Maven fetches the Apache Kafka jars once)"
    return None


def _resolved(libs: Path) -> bool:
    return (libs / ".complete").exists()


def resolve_libs(cache: Path = CACHE) -> Path:
    """The folder of Kafka's jars, fetched by Maven on first use (minutes), then reused (instant).

    Two processes (two test sessions, `make run` and `make test`) may ask at once: a file lock
    makes the second wait for the first, and the jars appear by an atomic rename of a finished
    folder, so nobody ever reads a half-copied one.
    """
    libs = cache / "libs"
    if _resolved(libs):
        return libs
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _resolved(libs):
            return libs
        log.info("fetching Apache Kafka %s with Maven into %s (once)", KAFKA_VERSION, libs)
        staging = Path(tempfile.mkdtemp(prefix="libs-", dir=cache))
        command = ["mvn", "-q", "-B", "--strict-checksums", "-f", str(POM), "dependency:copy-dependencies"]
        command += [f"-DoutputDirectory={staging}", "-DincludeScope=runtime", f"-Dkafka.version={KAFKA_VERSION}"]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0 or not list(staging.glob("kafka_2.13-*.jar")):
            shutil.rmtree(staging, ignore_errors=True)
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-20:])
            raise RuntimeError(f"Maven could not fetch Apache Kafka {KAFKA_VERSION}:\n{tail}")
        (staging / ".complete").touch()
        shutil.rmtree(libs, ignore_errors=True)
        staging.rename(libs)
    return libs


def new_cluster_id() -> str:
    """Kafka's Uuid text form (base64url, 22 chars); Kafka itself never hands out one starting with '-'."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


class ApacheKafkaBroker(BrokerProcess):
    """One KRaft node as a child process: start, stop, pause/resume (SIGSTOP), kill -9, restart."""

    name = "Apache Kafka"
    stop_timeout = 20.0  # a controlled shutdown flushes the logs, so the next start needs no recovery

    def __init__(
        self,
        port: int,
        controller_port: int,
        data_dir: Path,
        host: str = "127.0.0.1",
        overrides: dict[str, str] | None = None,
        probe_options: dict[str, Any] | None = None,
        format_args: list[str] | None = None,
    ) -> None:
        super().__init__(port, host)
        self.controller_port = controller_port
        self.data_dir = Path(data_dir).resolve()
        self.overrides = overrides or {}
        self.probe_options = probe_options or {}
        self.format_args = format_args or []  # e.g. --add-scram users, written with the first format
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}.log"

    def settings(self) -> dict[str, str]:
        values = {"host": self.host, "port": self.port, "controller_port": self.controller_port}
        merged = {key: value.format(**values) for key, value in SETTINGS.items()}
        merged["log.dirs"] = str(self.data_dir)
        return merged | self.overrides

    def _write_config(self) -> tuple[Path, Path]:
        properties = self.data_dir.parent / f"{self.data_dir.name}.properties"
        # Backslashes are escapes in a .properties file; none of our values need one.
        properties.write_text("".join(f"{key}={value}\n" for key, value in self.settings().items()))
        log4j = self.data_dir.parent / f"{self.data_dir.name}-log4j2.xml"
        log4j.write_text(LOG4J2.format(log=self.log_path))
        return properties, log4j

    def _java(self, libs: Path, log4j: Path, *args: str) -> list[str]:
        return ["java", *JVM_OPTIONS, f"-Dlog4j2.configurationFile={log4j}", "-cp", f"{libs}/*", *args]

    def start(self, timeout: float = 60.0) -> None:
        libs = resolve_libs()
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        properties, log4j = self._write_config()
        if not (self.data_dir / "meta.properties").exists():
            format_command = ["kafka.tools.StorageTool", "format", "--standalone", "--ignore-formatted"]
            format_command += ["-t", new_cluster_id(), "-c", str(properties), *self.format_args]
            result = subprocess.run(self._java(libs, log4j, *format_command), capture_output=True, text=True)
            if result.returncode != 0:
                raise RuntimeError(f"formatting Kafka's storage failed:\n{result.stdout}{result.stderr}")
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(
                self._java(libs, log4j, "kafka.Kafka", str(properties)),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C at the terminal reaches it only through stop()
            )
        self._wait_ready(timeout)

    def failure_details(self) -> str:
        return f":\n{self.log_tail()}"

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
