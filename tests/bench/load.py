"""Open-loop load and the broker-side stopwatch shared by every benchmark section.

Each complaint carries its own X-Correlation-Id; every event it causes carries it too (Kafka
header `correlation_id`), so the watcher matches a `score changed` / `task created` event to the
exact POST that caused it, whatever the customer.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson
from aiokafka import AIOKafkaConsumer

from tests.bench.http import BenchClient


@dataclass
class Sample:
    sent: float
    accepted: float | None = None
    scored: float | None = None
    tasked: float | None = None
    recovery_tasks: int = 0


@dataclass
class Run:
    rate: int
    seconds: float
    samples: dict[str, Sample] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    backlog: list[tuple[float, int]] = field(default_factory=list)  # (seconds since start, sent - tasked)
    drained_after: float | None = None  # seconds after the last POST until every task existed


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


class Watcher:
    """Reads the score and task topics from their end; stamps samples by correlation id."""

    def __init__(self, bootstrap: str, score_topic: str, task_topic: str) -> None:
        self.bootstrap = bootstrap
        self.score_topic, self.task_topic = score_topic, task_topic
        self.samples: dict[str, Sample] = {}
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        ready = asyncio.Event()
        self._task = asyncio.create_task(self._run(ready))
        await ready.wait()

    async def stop(self) -> None:
        self._stop.set()
        if self._task:
            await self._task

    async def _run(self, ready: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            self.score_topic,
            self.task_topic,
            bootstrap_servers=self.bootstrap,
            fetch_max_wait_ms=10,
            enable_auto_commit=False,
            auto_offset_reset="latest",
            group_id=f"bench-{uuid.uuid4().hex[:8]}",
        )
        await consumer.start()
        try:
            while not consumer.assignment():
                await consumer.getmany(timeout_ms=100)
            await consumer.seek_to_end()
            ready.set()
            while not self._stop.is_set():
                batch = await consumer.getmany(timeout_ms=50)
                now = time.perf_counter()
                for records in batch.values():
                    for record in records:
                        headers = dict(record.headers or ())
                        sample = self.samples.get(headers.get("correlation_id", b"").decode())
                        if sample is None:
                            continue
                        if record.topic == self.score_topic:
                            sample.scored = sample.scored or now
                        else:
                            sample.tasked = sample.tasked or now
                            playbook = orjson.loads(record.value).get("data", {}).get("playbook", "service_recovery")
                            sample.recovery_tasks += playbook == "service_recovery"
        finally:
            ready.set()
            await consumer.stop()


ComplaintBody = Callable[[int], tuple[str, dict]]  # i -> (path, json body)


async def offered_load(
    client: BenchClient, watcher: Watcher, body: ComplaintBody, rate: int, seconds: float, drain_seconds: float = 30
) -> Run:
    """Posts `rate` complaints a second for `seconds`, on schedule whatever the answers (open loop)."""
    run = Run(rate=rate, seconds=seconds)
    count = max(1, round(rate * seconds))

    async def post(i: int) -> None:
        correlation_id = f"bench-{uuid.uuid4().hex}"
        sample = watcher.samples[correlation_id] = run.samples[correlation_id] = Sample(sent=time.perf_counter())
        path, payload = body(i)
        try:
            status, _ = await client.request(
                "POST",
                path,
                payload,
                headers={"Idempotency-Key": str(uuid.uuid4()), "X-Correlation-Id": correlation_id},
            )
        except (OSError, asyncio.IncompleteReadError, ValueError):
            status = 0
        run.statuses[status] = run.statuses.get(status, 0) + 1
        if status == 201:
            sample.accepted = time.perf_counter()
        else:
            del watcher.samples[correlation_id], run.samples[correlation_id]

    async def track_backlog(start: float) -> None:
        # Sent, not accepted: a complaint the api has not answered yet is waiting too (when the api
        # is what falls behind, counting only accepted ones made a growing queue look bounded).
        while True:
            waiting = sum(1 for s in run.samples.values() if s.tasked is None)
            run.backlog.append((time.perf_counter() - start, waiting))
            await asyncio.sleep(0.25)

    start = time.perf_counter()
    tracker = asyncio.create_task(track_backlog(start))
    posts = []
    for i in range(count):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        posts.append(asyncio.create_task(post(i)))
    last_sent = time.perf_counter()
    await asyncio.gather(*posts)
    deadline = last_sent + drain_seconds
    while time.perf_counter() < deadline and any(s.tasked is None for s in run.samples.values()):
        await asyncio.sleep(0.02)
    if all(s.tasked for s in run.samples.values()):
        run.drained_after = max((s.tasked or 0) for s in run.samples.values()) - last_sent
    tracker.cancel()
    return run


def summarise(run: Run) -> dict[str, float]:
    samples = list(run.samples.values())
    accept = [(s.accepted - s.sent) * 1000 for s in samples if s.accepted]
    score = [(s.scored - s.sent) * 1000 for s in samples if s.scored]
    task = [(s.tasked - s.sent) * 1000 for s in samples if s.tasked]
    sent = sum(run.statuses.values())
    return {
        "rate": run.rate,
        "n": sent,
        "errors": sent - run.statuses.get(201, 0),
        "missing_tasks": sum(1 for s in samples if s.tasked is None),
        "accept_p50": pct(accept, 50),
        "accept_p99": pct(accept, 99),
        "score_p50": pct(score, 50),
        "score_p99": pct(score, 99),
        "task_p50": pct(task, 50),
        "task_p95": pct(task, 95),
        "task_p99": pct(task, 99),
        "max_backlog": max((b for _, b in run.backlog), default=0),
        "end_backlog": statistics.fmean(end)
        if (end := [b for t, b in run.backlog if run.seconds - 1 <= t <= run.seconds])
        else 0,
        "drained_after": run.drained_after if run.drained_after is not None else float("nan"),
    }
