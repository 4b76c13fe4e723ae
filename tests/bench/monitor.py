"""What each process costs: peak memory, CPU per complaint beyond its idle burn, machine speed."""

from __future__ import annotations

import asyncio
import threading
import time

import psutil

from tests.bench.load import Run


class ProcessMonitor:
    """Peak RSS (sampled twice a second) and CPU time of every process the benchmark involves.

    A service process is one process; PostgreSQL is a postmaster plus one backend per connection,
    whose RSS would count shared buffers once per backend, so it is summed as PSS instead.
    """

    def __init__(self) -> None:
        self.roots: dict[str, tuple[int, bool]] = {}
        self.peak: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def watch(self, name: str, pid: int | None, tree: bool = False) -> None:
        if pid:
            self.roots[name] = (pid, tree)

    def _processes(self, name: str) -> list[psutil.Process]:
        pid, tree = self.roots[name]
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)] if tree else [root]

    def cpu(self) -> dict[str, float]:
        """CPU seconds (user + system) used so far by each watched process (tree)."""
        used = {}
        for name in list(self.roots):
            try:
                used[name] = sum(sum(p.cpu_times()[:2]) for p in self._processes(name))
            except psutil.Error:
                continue
        return used

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            for name, (_, tree) in list(self.roots.items()):
                try:
                    processes = self._processes(name)
                    if tree:
                        mib = sum(p.memory_full_info().pss for p in processes) / 2**20
                    else:
                        mib = processes[0].memory_info().rss / 2**20
                except psutil.Error:
                    continue
                self.peak[name] = max(self.peak.get(name, 0.0), mib)


def calibrate() -> float:
    """Seconds for a fixed pure-Python loop (best of 3): tells how fast this machine was today."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(5_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return best


async def measure_idle(monitor: ProcessMonitor, seconds: float = 3) -> dict[str, float]:
    """Share of one core (0-1) each process burns with nothing to do."""
    before = monitor.cpu()
    await asyncio.sleep(seconds)
    after = monitor.cpu()
    return {name: (after[name] - before[name]) / seconds for name in after if name in before}


async def cpu_accounted_run(monitor: ProcessMonitor, idle: dict[str, float], load) -> tuple[Run, dict[str, float]]:
    """Runs `load` and returns, per process, CPU ms per complaint beyond what it burns idle."""
    before, started = monitor.cpu(), time.perf_counter()
    run = await load
    after, wall = monitor.cpu(), time.perf_counter() - started
    n = max(1, len(run.samples))
    return run, {
        name: max(0.0, (after[name] - before[name] - idle.get(name, 0.0) * wall) * 1000 / n)
        for name in after
        if name in before
    }
