"""The complaint path's CPU regression guard: CPU per complaint as a ratio to the floor's.

A short version of `make bench` section 1 and 5: the whole stack on Apache Kafka takes complaints
at a fixed open-loop rate, then the floor (tests/bench/floor.py: the same hops on raw asyncpg and
aiokafka) takes the same load on the same PostgreSQL and broker. CPU time is counted per process
beyond its idle burn. Machines are noisy and differ, so what is compared is the *ratio* of the
pipeline's CPU per complaint to the floor's, measured in one run, against the committed baseline
(`guard-baseline.json`): more than `--tolerance` (30 %) above it fails.

    python -m tests.bench.guard                     # measure, compare, exit 1 on a regression
    python -m tests.bench.guard --update-baseline   # measure and commit the new ratio
    python -m tests.bench.guard --profile /tmp/prof # also py-spy every pipeline process (flame input)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from crm_devstack.stack import ROOT, procfile_commands
from crm_devstack.supervisor import ProcessSupervisor, wait_until_ready
from crm_devstack.testing import new_stack
from crm_shared.config import AuthSettings
from crm_shared.http.auth import mint_token
from tests.bench.complaint_loop import complaint_body, create_customers, floor_section, wait_for_consumer_groups
from tests.bench.http import BenchClient
from tests.bench.load import Watcher, offered_load, summarise
from tests.bench.monitor import ProcessMonitor, cpu_accounted_run, measure_idle

BASELINE = Path(__file__).with_name("guard-baseline.json")
LOAD_GENERATOR = "load generator"


def total(cpu: dict[str, float]) -> float:
    """CPU ms per complaint of every process but the load generator."""
    return sum(ms for name, ms in cpu.items() if name != LOAD_GENERATOR)


async def pipeline_run(stack, monitor: ProcessMonitor, args: argparse.Namespace, profilers: list) -> dict:
    urls = {s: stack.api_url(s) for s in stack.config.service_ports}
    token = mint_token(AuthSettings(), subject="bench")
    customers = [c for c, _ in await create_customers(urls["contacts"], token, args.customers)]
    client = BenchClient(*urls["feedback"].removeprefix("http://").split(":"), {"Authorization": f"Bearer {token}"})
    watcher = Watcher(stack.bootstrap, "crm.scores", "crm.outreach")
    await watcher.start()
    try:
        body = complaint_body(customers)
        await asyncio.sleep(2.0)  # the customer cards reach every projection
        await offered_load(client, watcher, body, args.rate, 3)  # warm-up: groups joined, caches filled
        await wait_for_consumer_groups(stack.bootstrap)
        # Long enough that the broker's idle burn (heartbeats, housekeeping: about a tenth of a core)
        # is known well: it is subtracted from every process's CPU, and a 3 s sample swung the ratio.
        idle = await measure_idle(monitor, args.idle_seconds)
        for start in profilers:
            start()
        run, cpu = await cpu_accounted_run(monitor, idle, offered_load(client, watcher, body, args.rate, args.seconds))
        return {"cpu": cpu, "latency": summarise(run)}
    finally:
        await watcher.stop()
        await client.close()


def py_spy(name: str, pid: int, seconds: float, directory: Path) -> subprocess.Popen:
    """Samples one process for the measured run (raw stacks, for speedscope or flamegraph.pl)."""
    return subprocess.Popen(
        [
            shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy")),
            "record", "-p", str(pid), "-r", "200", "-d", str(int(seconds) + 2), "--nonblocking",
            "-f", "raw", "-o", str(directory / f"{name}.txt"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )  # fmt: skip


def measure(args: argparse.Namespace) -> dict:
    os.environ["CRM_DEV_BROKER"] = "kafka"
    monitor = ProcessMonitor()
    with tempfile.TemporaryDirectory(prefix="crm-guard-") as tmp:
        stack = new_stack(Path(tmp))
        supervisor = ProcessSupervisor(procfile_commands(), stack.env(), Path(tmp) / "logs", ROOT)
        spies: list[subprocess.Popen] = []
        try:
            supervisor.start_all()
            for name, process in supervisor.processes.items():
                monitor.watch(name, process.pid)
            monitor.watch("postgresql (all backends, PSS)", stack.postgres.pid, tree=True)
            monitor.watch("kafka broker", stack.broker.process.pid if stack.broker.process else None)
            monitor.watch(LOAD_GENERATOR, os.getpid())
            monitor.start()
            wait_until_ready([stack.api_url(s) for s in stack.config.service_ports])
            profilers = []
            if args.profile:
                args.profile.mkdir(parents=True, exist_ok=True)
                profilers = [
                    (lambda n=name, p=process.pid: spies.append(py_spy(n, p, args.seconds, args.profile)))
                    for name, process in supervisor.processes.items()
                    if name.endswith(("-worker", "-api")) and not name.startswith("contacts")
                ]
            pipeline = asyncio.run(pipeline_run(stack, monitor, args, profilers))
            for spy in spies:
                spy.wait(30)
            supervisor.stop_all()
            floor_args = argparse.Namespace(
                customers=args.customers, rates=[args.rate], seconds=args.seconds, idle_seconds=args.idle_seconds
            )
            floor_rows, floor_cpu = floor_section(stack, floor_args, monitor, Path(tmp))
        finally:
            monitor.stop()
            supervisor.stop_all()
            stack.stop()
    return {
        "rate": args.rate,
        "seconds": args.seconds,
        "pipeline_cpu": pipeline["cpu"],
        "floor_cpu": floor_cpu,
        "pipeline_ms": total(pipeline["cpu"]),
        "floor_ms": total(floor_cpu),
        "ratio": total(pipeline["cpu"]) / max(total(floor_cpu), 1e-9),
        "task_p50_ms": pipeline["latency"]["task_p50"],
        "floor_task_p50_ms": floor_rows[0]["task_p50"],
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def describe(figures: dict) -> str:
    lines = [f"{'process':<34}{'pipeline ms':>12}{'floor ms':>10}"]
    names = sorted(set(figures["pipeline_cpu"]) | set(figures["floor_cpu"]))
    for name in names:
        pipe, fl = figures["pipeline_cpu"].get(name), figures["floor_cpu"].get(name)
        cells = [f"{v:>10.1f}" if v is not None else f"{'-':>10}" for v in (pipe, fl)]
        lines.append(f"{name:<34}  {cells[0]}{cells[1]}")
    lines.append(
        f"CPU per complaint: {figures['pipeline_ms']:.1f} ms vs floor {figures['floor_ms']:.1f} ms"
        f" = {figures['ratio']:.2f}x   (task p50 {figures['task_p50_ms']:.1f} ms, floor {figures['floor_task_p50_ms']:.1f} ms)"
    )
    return "\n".join(lines)


def verdict(figures: dict, baseline: dict, tolerance: float) -> tuple[bool, str]:
    limit = baseline["ratio"] * (1 + tolerance)
    ok = figures["ratio"] <= limit
    return ok, (
        f"{'OK' if ok else 'REGRESSION'}: ratio {figures['ratio']:.2f}x, baseline {baseline['ratio']:.2f}x"
        f" ({baseline.get('measured_at', '?')}), limit {limit:.2f}x (+{tolerance:.0%})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=20, help="offered complaints/s")
    parser.add_argument("--seconds", type=float, default=15, help="seconds of load (pipeline, then floor)")
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--idle-seconds", type=float, default=8, help="seconds of idle burn measured first")
    parser.add_argument("--tolerance", type=float, default=0.30)
    parser.add_argument("--baseline", type=Path, default=BASELINE)
    parser.add_argument("--update-baseline", action="store_true")
    parser.add_argument("--profile", type=Path, help="write py-spy raw stacks of each pipeline process here")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    figures = measure(args)
    print(describe(figures), flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    if args.update_baseline:
        args.baseline.write_text(json.dumps(figures, indent=1) + "\n")
        print(f"baseline written: {args.baseline}")
        return 0
    ok, message = verdict(figures, json.loads(args.baseline.read_text()), args.tolerance)
    print(message)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
