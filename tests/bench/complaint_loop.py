"""`make bench`: how fast the complaint loop is, and how close to what the machine allows.

Starts its own stack (PostgreSQL, the broker, the eight Procfile processes) and measures, in order:

1. complaint -> score / follow-up task latency at fixed offered loads, open loop over HTTP;
2. the highest intake rate one feedback-api process answers with p99 under 100 ms;
3. the highest rate the whole pipeline sustains with its backlog staying bounded;
4. a call centre of many agents for a sustained minute (errors, exactly-once tasks);
5. the floor (tests/bench/floor.py: same hops with raw asyncpg + aiokafka), with the pipeline's
   processes stopped so that both get the same machine, at the same offered loads as (1).

Peak RSS of every process is sampled throughout. The whole run is made once per broker
(`--brokers kafka,tansu`: Apache Kafka, then Tansu), so the report can put both side by side.
Prints everything, then writes docs/benchmarks.md and docs/benchmarks.png. Figures are
measurements, never assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

from crm_devstack.stack import ROOT, DevStack, procfile_commands
from crm_devstack.supervisor import ProcessSupervisor, wait_until_ready
from crm_devstack.testing import free_port, new_stack, unique_email, unique_phone
from crm_devstack.topics import ensure_topics
from crm_shared.config import AuthSettings
from crm_shared.http.auth import mint_token
from crm_shared.messaging.topics import consumer_groups
from tests.bench import callcentre, compare, floor, report
from tests.bench.http import BenchClient
from tests.bench.load import Watcher, offered_load, summarise
from tests.bench.monitor import ProcessMonitor, calibrate, cpu_accounted_run, measure_idle
from tests.bench.steps import BACKLOG_LIMIT_SECONDS, INTAKE_P99_LIMIT_MS, intake_steps, line, sustained_steps


def complaint_body(customers: list[str]):
    def body(i: int) -> tuple[str, dict]:
        return "/v1/feedback", {
            "customer_id": customers[i % len(customers)],
            "type": "complaint",
            "category": "service.delivery",
            "severity": "high",
            "channel": "phone",
            "description": "Late delivery (benchmark).",
        }

    return body


async def create_customers(url: str, token: str, count: int) -> list[tuple[str, str]]:
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as contacts:
        made: list[tuple[str, str]] = []
        while len(made) < count:
            response = await contacts.post(
                "/v1/customers",
                json={
                    "name": f"Bench Co {len(made)}",
                    "email": unique_email("bench"),
                    "phone": unique_phone(),
                    "tier": "gold",
                    "owner": "bench",
                },
            )
            if response.status_code == 201:
                made.append((response.json()["id"], response.json()["phone"]))
            elif response.status_code != 409:
                raise RuntimeError(f"creating a bench customer failed: {response.status_code} {response.text}")
        return made


async def consumer_group_lag(bootstrap: str) -> int:
    """Records every consumer group still has to process (end offset minus committed offset),
    read through each group's coordinator as its own members do (Tansu answers the consumer's
    OffsetFetch; the admin client's request versions it does not)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from crm_shared.contracts import Topics

    lag = 0
    for group in consumer_groups():
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
        await consumer.start()
        try:
            await consumer.topics()
            tps = [
                TopicPartition(topic, p) for topic in Topics.all() for p in consumer.partitions_for_topic(topic) or ()
            ]
            ends = await consumer.end_offsets(tps)
            for tp in tps:
                committed = await consumer.committed(tp)
                if committed is not None:
                    lag += max(0, ends[tp] - committed)
        finally:
            await consumer.stop()
    return lag


async def wait_for_consumer_groups(bootstrap: str, timeout: float = 300) -> float:
    """Seconds until every consumer group has caught up: a step measured while another group is
    still working through the previous step's backlog would measure that backlog, not the step."""
    started = time.perf_counter()
    while await consumer_group_lag(bootstrap) and time.perf_counter() - started < timeout:
        await asyncio.sleep(0.5)
    return time.perf_counter() - started


async def wait_for_outboxes(stack: DevStack, timeout: float = 120) -> float:
    """Seconds until no service has an unsent outbox row. After the workers resume from a pause,
    what they publish in the burst can still be unacknowledged or unmarked (then the relay re-sends
    it after its grace period); a step measured then would measure that, not the steady state."""
    started = time.perf_counter()
    for service in stack.config.service_ports:
        connection = await asyncpg.connect(stack.database_url(service).replace("+asyncpg", ""))
        try:
            while time.perf_counter() - started < timeout:
                if not await connection.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL"):
                    break
                await asyncio.sleep(0.2)
        finally:
            await connection.close()
    return time.perf_counter() - started


def signal_workers(supervisor: ProcessSupervisor, sig: int) -> None:
    for name, process in supervisor.processes.items():
        if name.endswith("-worker"):
            os.kill(process.pid, sig)


async def pipeline_sections(
    stack: DevStack, supervisor: ProcessSupervisor, args: argparse.Namespace, monitor: ProcessMonitor
) -> dict:
    urls = {s: stack.api_url(s) for s in stack.config.service_ports}
    token = mint_token(AuthSettings(), subject="bench")
    auth = {"Authorization": f"Bearer {token}"}
    customers = await create_customers(urls["contacts"], token, args.customers)
    ids = [c for c, _ in customers]
    await asyncio.sleep(2.0)  # the customer cards reach every projection before anything is timed
    clients = {
        s: BenchClient(*url.removeprefix("http://").split(":"), auth, connections=512) for s, url in urls.items()
    }
    watcher = Watcher(stack.bootstrap, "crm.scores", "crm.outreach")
    await watcher.start()
    results: dict = {"latency": [], "intake": [], "sustained": []}
    try:
        body = complaint_body(ids)
        await offered_load(clients["feedback"], watcher, body, 20, 2)  # warm-up, not reported
        results["idle_cpu"] = idle = await measure_idle(monitor)
        print("\n1. complaint -> task latency, open loop", flush=True)
        for rate in args.rates:
            run, cpu = await cpu_accounted_run(
                monitor, idle, offered_load(clients["feedback"], watcher, body, rate, args.seconds)
            )
            if rate == args.rates[0]:
                results["cpu"] = cpu
            results["latency"].append(summarise(run))
            print(line("pipeline", results["latency"][-1]), flush=True)

        print(f"\n2. intake: one feedback-api process, p99 of the 201 under {INTAKE_P99_LIMIT_MS:.0f} ms", flush=True)
        # The four workers are paused (SIGSTOP) so that the api, PostgreSQL and the broker have the
        # machine; what it accepts waits in the broker and is processed once they resume.
        intake_runs = await intake_steps(
            clients["feedback"], watcher, body, args, lambda sig: signal_workers(supervisor, sig), results["intake"]
        )
        backlog = [s for r in intake_runs for s in r.samples.values()]
        started = time.perf_counter()
        while any(s.tasked is None for s in backlog) and time.perf_counter() - started < 300:
            await asyncio.sleep(0.1)
        results["intake_backlog"] = (len(backlog), sum(1 for s in backlog if s.tasked), time.perf_counter() - started)
        print(
            f"   after resuming the workers: {results['intake_backlog'][1]} of {len(backlog)} tasks exist, "
            f"backlog drained in {results['intake_backlog'][2]:.1f} s",
            flush=True,
        )

        caught_up = await wait_for_consumer_groups(stack.bootstrap)
        results["intake_backlog_all_groups_seconds"] = results["intake_backlog"][2] + caught_up
        print(f"   every consumer group caught up {caught_up:.1f} s after that", flush=True)
        published = await wait_for_outboxes(stack)
        print(f"   every outbox row published and marked {published:.1f} s after that", flush=True)
        await asyncio.sleep(3)  # let PostgreSQL and the broker settle after the burst
        print(f"\n3. whole pipeline: backlog bounded (<= {BACKLOG_LIMIT_SECONDS} s of arrivals at the end)", flush=True)
        results["sustained"] = await sustained_steps(clients["feedback"], watcher, body, args, "pipeline")

        await wait_for_consumer_groups(stack.bootstrap)
        print(f"\n4. call centre: {args.agents} agents for {args.callcentre_seconds:.0f} s", flush=True)
        centre = await callcentre.simulate(clients, watcher, customers, args.agents, args.callcentre_seconds)
        results["callcentre"] = callcentre.summary(centre)
        print(results["callcentre"], flush=True)
    finally:
        await watcher.stop()
        for client in clients.values():
            await client.close()
    return results


async def prepare_floor(stack: DevStack, customers: int) -> tuple[str, list[str]]:
    await stack.postgres.create_databases(["floor"])
    dsn = stack.postgres.dsn("floor")
    await floor.prepare(dsn)
    await ensure_topics(stack.bootstrap, floor.TOPICS)
    ids = [str(uuid.uuid4()) for _ in range(customers)]
    conn = await asyncpg.connect(dsn)
    try:
        await conn.executemany("INSERT INTO customers (id, tier) VALUES ($1, 'gold')", [(i,) for i in ids])
    finally:
        await conn.close()
    return dsn, ids


async def measure_floor(
    stack: DevStack,
    args: argparse.Namespace,
    monitor: ProcessMonitor,
    port: int,
    ids: list[str],
    consumers: list[subprocess.Popen],
    steps: dict[str, list[dict]],
) -> tuple[list[dict], dict[str, float]]:
    """The floor's latency at the offered loads of section 1; with `--floor-steps`, also its intake
    and sustained rates (sections 2 and 3 on the floor): what the hardware allows at all."""
    rows, cpu = [], {}
    client = BenchClient("127.0.0.1", port, {"Authorization": "Bearer floor"}, connections=512)
    watcher = Watcher(stack.bootstrap, floor.SCORES, floor.OUTREACH)
    try:
        for _ in range(100):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            except OSError:
                await asyncio.sleep(0.1)
        await watcher.start()
        body = complaint_body(ids)
        await offered_load(client, watcher, body, 20, 3)  # warm-up: consumer groups join
        print("\n5. the floor (raw asyncpg + aiokafka, same hops), pipeline processes stopped", flush=True)
        idle = await measure_idle(monitor, getattr(args, "idle_seconds", 3))
        for rate in args.rates:
            run, rate_cpu = await cpu_accounted_run(
                monitor, idle, offered_load(client, watcher, body, rate, args.seconds)
            )
            cpu = cpu or rate_cpu
            rows.append(summarise(run))
            print(line("floor   ", rows[-1]), flush=True)
        if getattr(args, "floor_steps", False):

            def pause(sig: int) -> None:
                for process in consumers:
                    os.kill(process.pid, sig)

            print("   the floor's intake (its scorer and tasker paused) and sustained rate", flush=True)
            runs = await intake_steps(client, watcher, body, args, pause, steps.setdefault("intake", []), "floor in")
            drained_by = time.perf_counter() + 300
            while any(s.tasked is None for r in runs for s in r.samples.values()) and time.perf_counter() < drained_by:
                await asyncio.sleep(0.1)
            await asyncio.sleep(3)
            steps["sustained"] = await sustained_steps(client, watcher, body, args, "floor")
    finally:
        await watcher.stop()
        await client.close()
    return rows, cpu


def floor_section(
    stack: DevStack, args: argparse.Namespace, monitor: ProcessMonitor, tmp: Path, steps: dict | None = None
) -> tuple[list[dict], dict[str, float]]:
    """The floor's three processes on the same PostgreSQL and broker, then the same offered loads."""
    dsn, ids = asyncio.run(prepare_floor(stack, args.customers))
    port = free_port()
    processes = {}
    try:
        for role in ("intake", "scorer", "tasker"):
            processes[role] = subprocess.Popen(
                [sys.executable, "-m", "tests.bench.floor", role, "--dsn", dsn, "--port", str(port)],
                cwd=ROOT,
                env=stack.env(),
                stdout=(tmp / f"floor-{role}.log").open("wb"),
                stderr=subprocess.STDOUT,
            )
            monitor.watch(f"floor-{role}", processes[role].pid)
        consumers = [processes["scorer"], processes["tasker"]]
        return asyncio.run(measure_floor(stack, args, monitor, port, ids, consumers, {} if steps is None else steps))
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.wait(10)


def run_on(broker: str, args: argparse.Namespace, calibration: float) -> dict:
    """The whole benchmark on one broker (`CRM_DEV_BROKER`), with a stack of its own."""
    os.environ["CRM_DEV_BROKER"] = broker
    monitor = ProcessMonitor()
    print(f"\n=== on {compare.BROKER_TITLES.get(broker, broker)} ===", flush=True)
    with tempfile.TemporaryDirectory(prefix="crm-bench-") as tmp:
        stack = new_stack(Path(tmp))
        kind = "tansu" if stack.on_tansu else "kafka"  # without Java, "kafka" falls back to Tansu
        supervisor = ProcessSupervisor(procfile_commands(), stack.env(), Path(tmp) / "logs", ROOT)
        try:
            supervisor.start_all()
            for name, process in supervisor.processes.items():
                monitor.watch(name, process.pid)
            monitor.watch("postgresql (all backends, PSS)", stack.postgres.pid, tree=True)
            monitor.watch(f"{kind} broker", stack.broker.process.pid if stack.broker.process else None)
            monitor.watch("load generator", os.getpid())
            monitor.start()
            wait_until_ready([stack.api_url(s) for s in stack.config.service_ports])
            started = time.perf_counter()
            results = asyncio.run(pipeline_sections(stack, supervisor, args, monitor))
            supervisor.stop_all()
            results["floor_steps"] = {}
            results["floor"], results["floor_cpu"] = floor_section(
                stack, args, monitor, Path(tmp), results["floor_steps"]
            )
            results["elapsed"] = time.perf_counter() - started
            results["broker"] = kind
        finally:
            monitor.stop()
            supervisor.stop_all()
            stack.stop()
    machine = {
        "cores": os.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "calibration": calibration,
    }
    return {"results": results, "peak_rss": monitor.peak, "machine": machine}


def run(args: argparse.Namespace) -> None:
    calibration = calibrate()
    runs = {broker: run_on(broker, args, calibration) for broker in args.brokers}
    args.output.with_suffix(".json").write_text(json.dumps({"runs": runs}, indent=1, default=float))
    print("\n" + render(args.output))


def render(output: Path) -> str:
    """(Re)writes the report and the plot from the figures of the last run (docs/benchmarks.json)."""
    saved = json.loads(output.with_suffix(".json").read_text())
    runs = saved.get("runs") or {saved["results"].get("broker", "tansu"): saved}
    first = next(iter(runs.values()))
    return report.write(
        first["results"], first["peak_rss"], first["machine"], output, output.with_suffix(".png"), compare.section(runs)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ints = lambda s: [int(x) for x in s.split(",")]  # noqa: E731
    parser.add_argument("--rates", type=ints, default=[20, 50, 100, 200], help="offered complaints/s for latency")
    parser.add_argument("--seconds", type=float, default=5, help="seconds per latency rate")
    parser.add_argument("--intake-rates", type=ints, default=[50, 100, 150, 200, 300, 400, 600, 800, 1000])
    parser.add_argument("--pipeline-rates", type=ints, default=[20, 30, 40, 50, 60, 80, 100, 150, 200, 300, 500])
    parser.add_argument("--step-seconds", type=float, default=3)
    parser.add_argument("--agents", type=int, default=40)
    parser.add_argument("--callcentre-seconds", type=float, default=60)
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument(
        "--floor-steps",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure the floor's intake and sustained rates (what the machine allows at all)",
    )
    parser.add_argument(
        "--brokers",
        type=lambda s: s.split(","),
        default=os.environ.get("CRM_BENCH_BROKERS", "kafka,tansu").split(","),
        help="run everything once per broker, in this order (kafka, tansu); the first is the report's main run",
    )
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--render-only", action="store_true", help="rewrite the report from the saved figures")
    args = parser.parse_args()
    if args.render_only:
        print(render(args.output))
    else:
        run(args)


if __name__ == "__main__":
    main()
