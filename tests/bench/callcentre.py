"""A call centre for a sustained minute: many agents, each working calls the way a desk does.

Each agent, in a loop: identifies the caller by phone (typed the way the caller says it), records
the feedback by caller identity (mostly complaints, some praise, suggestions, inquiries), re-sends
the POST with the same Idempotency-Key now and then (a client that timed out and retried), then
looks at the customer's score and open tasks, and pauses before the next call. Every answer that
is not the expected one counts as an error; afterwards every accepted complaint must have exactly
one service-recovery task.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote

from tests.bench.http import BenchClient
from tests.bench.load import Sample, Watcher, pct

FEEDBACK_MIX = [("complaint", 0.6), ("praise", 0.15), ("suggestion", 0.1), ("inquiry", 0.15)]
SEVERITIES = ["low", "medium", "high", "critical"]


@dataclass
class CallCentreResult:
    agents: int
    seconds: float
    calls: int = 0
    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    complaints: dict[str, Sample] = field(default_factory=dict)
    retries_replayed: int = 0

    def record(self, operation: str, status: int, started: float, expected: tuple[int, ...]) -> None:
        self.requests[operation] += 1
        self.statuses[(operation, status)] += 1
        self.latencies.setdefault(operation, []).append((time.perf_counter() - started) * 1000)
        if status not in expected:
            self.errors[f"{operation} -> {status}"] += 1


async def simulate(
    clients: dict[str, BenchClient], watcher: Watcher, customers: list[tuple[str, str]], agents: int, seconds: float
) -> CallCentreResult:
    """customers: (id, E.164 phone) pairs."""
    result = CallCentreResult(agents=agents, seconds=seconds)
    end = time.perf_counter() + seconds
    rng = random.Random(7)

    async def call(op: str, service: str, method: str, path: str, body=None, headers=None, expected=(200,)):
        started = time.perf_counter()
        try:
            status, data = await clients[service].request(method, path, body, headers=headers)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            status, data = 0, None
        result.record(op, status, started, expected)
        return status, data

    async def agent() -> None:
        await asyncio.sleep(rng.random())  # agents do not all pick up at the same instant
        while time.perf_counter() < end:
            customer_id, phone = rng.choice(customers)
            national = phone.removeprefix("+1")
            spoken = f"({national[:3]}) {national[3:6]}-{national[6:]}"
            status, found = await call("identify caller", "contacts", "GET", f"/v1/customers?phone={quote(spoken)}")
            if status == 200 and [c["id"] for c in found["items"]] != [customer_id]:
                result.errors["identify caller -> wrong customer"] += 1
            kind = rng.choices([k for k, _ in FEEDBACK_MIX], [w for _, w in FEEDBACK_MIX])[0]
            body = {
                "customer": {"phone": spoken},
                "type": kind,
                "channel": "phone",
                "description": f"Call about order {rng.randint(10000, 99999)}.",
            }
            if kind == "complaint":
                body |= {"severity": rng.choice(SEVERITIES), "category": "service.delivery"}
            correlation_id = f"call-{uuid.uuid4().hex}"
            headers = {"Idempotency-Key": str(uuid.uuid4()), "X-Correlation-Id": correlation_id}
            if kind == "complaint":
                watcher.samples[correlation_id] = result.complaints[correlation_id] = Sample(sent=time.perf_counter())
            status, created = await call("record feedback", "feedback", "POST", "/v1/feedback", body, headers, (201,))
            if kind == "complaint":
                if status == 201:
                    result.complaints[correlation_id].accepted = time.perf_counter()
                else:
                    del result.complaints[correlation_id]
            if status == 201 and rng.random() < 0.05:
                again, replayed = await call(
                    "retry feedback", "feedback", "POST", "/v1/feedback", body, headers, (201,)
                )
                if again == 201 and replayed["id"] == created["id"]:
                    result.retries_replayed += 1
                elif again == 201:
                    result.errors["retry created a second feedback"] += 1
            await call("view score", "scoring", "GET", f"/v1/customers/{customer_id}/score", expected=(200, 404))
            await call("view tasks", "notifications", "GET", f"/v1/tasks?customer_id={customer_id}&limit=20")
            result.calls += 1
            await asyncio.sleep(rng.uniform(0.2, 1.0))

    await asyncio.gather(*(agent() for _ in range(agents)))
    drain_until = time.perf_counter() + 30
    while time.perf_counter() < drain_until and any(s.recovery_tasks == 0 for s in result.complaints.values()):
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)  # a duplicate task would show up by now
    return result


def summary(result: CallCentreResult) -> dict[str, object]:
    complaints = list(result.complaints.values())
    task = [(s.tasked - s.sent) * 1000 for s in complaints if s.tasked]
    return {
        "agents": result.agents,
        "seconds": result.seconds,
        "calls": result.calls,
        "requests": sum(result.requests.values()),
        "requests_per_second": sum(result.requests.values()) / result.seconds,
        "errors": dict(result.errors),
        "complaints": len(complaints),
        "without_recovery_task": sum(1 for s in complaints if s.recovery_tasks == 0),
        "with_duplicate_recovery_task": sum(1 for s in complaints if s.recovery_tasks > 1),
        "retries_replayed": result.retries_replayed,
        "task_p50": pct(task, 50),
        "task_p99": pct(task, 99),
        "operations": {
            op: (result.requests[op], pct(lat, 50), pct(lat, 99)) for op, lat in sorted(result.latencies.items())
        },
    }
