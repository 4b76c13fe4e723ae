"""Runs the Procfile's processes one by one, so tests can kill and restart any of them.

`make run` uses honcho, which stops everything when one process dies (what you want at a
terminal); fault tests need the opposite: SIGKILL one worker, leave the rest running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx


class ProcessSupervisor:
    def __init__(self, commands: dict[str, str], env: dict[str, str], log_dir: Path, cwd: Path) -> None:
        self.commands = commands
        self.env = env
        self.log_dir = log_dir
        self.cwd = cwd
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.extra_env: dict[str, dict[str, str]] = {}
        log_dir.mkdir(parents=True, exist_ok=True)

    def start(self, name: str) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / f"{name}.log", "ab")
        process = subprocess.Popen(
            ["/bin/sh", "-c", self.commands[name]],
            env=self.env | self.extra_env.get(name, {}),
            cwd=self.cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.processes[name] = process
        return process

    def start_copy(self, name: str, copy: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Another process with `name`'s command (a second member of a worker's consumer groups,
        as a second replica would be); `env` overrides what two copies cannot share, e.g. a port."""
        self.commands[copy] = self.commands[name]
        self.extra_env[copy] = env or {}
        return self.start(copy)

    def start_all(self) -> None:
        for name in self.commands:
            self.start(name)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.processes[name]
        os.killpg(process.pid, sig)
        process.wait(timeout=30)

    def restart(self, name: str) -> None:
        if self.processes[name].poll() is None:
            self.kill(name, signal.SIGTERM)
        self.start(name)

    def stop_all(self, timeout: float = 20.0) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + timeout
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.log_dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def wait_until_ready(urls: list[str], timeout: float = 60.0) -> None:
    """Poll each api's /readyz until all answer 200."""
    deadline = time.monotonic() + timeout
    pending = list(urls)
    while pending:
        url = pending[0]
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                pending.pop(0)
                continue
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"not ready after {timeout}s: {pending}")
        time.sleep(0.2)
