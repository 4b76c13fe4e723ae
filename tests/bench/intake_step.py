"""Intake step test: one feedback-api process alone (no workers), open-loop complaints at rising
rates; prints per step the answers, accept p50/p99 and feedback-api CPU ms per complaint.

    python -m tests.bench.intake_step --rates 200 400 600 800 1000 --seconds 8

The highest rate whose p99 stays under 100 ms with every answer a 201 is the intake's capacity.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

import asyncpg
import psutil

from crm_devstack.stack import ROOT, procfile_commands
from crm_devstack.supervisor import ProcessSupervisor, wait_until_ready
from crm_devstack.testing import new_stack
from crm_shared.config import AuthSettings
from crm_shared.http.auth import mint_token
from tests.bench.complaint_loop import complaint_body, create_customers
from tests.bench.http import BenchClient
from tests.bench.load import Watcher, offered_load, summarise


class _NoWatcher(Watcher):
    """Nothing downstream runs: only the intake's answers are timed."""

    def __init__(self) -> None:
        self.samples = {}


async def steps(stack, pid: int, rates: list[int], seconds: float) -> list[dict]:
    urls = {s: stack.api_url(s) for s in stack.config.service_ports}
    token = mint_token(AuthSettings(), subject="bench")
    customers = [c for c, _ in await create_customers(urls["contacts"], token, 50)]
    client = BenchClient(*urls["feedback"].removeprefix("http://").split(":"), {"Authorization": f"Bearer {token}"})
    body = complaint_body(customers)
    api = psutil.Process(pid)
    database = stack.database_url("feedback").replace("postgresql+asyncpg://", "postgresql://")

    async def sessions_opened() -> int:
        """PostgreSQL sessions ever opened on feedback's database (the pool's new connections)."""
        connection = await asyncpg.connect(database)
        try:
            return int(
                await connection.fetchval("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
            )
        finally:
            await connection.close()

    rows = []
    try:
        await offered_load(client, _NoWatcher(), body, 50, 3, drain_seconds=0)  # warm-up: every card cached
        for rate in rates:
            opened = await sessions_opened()
            before = sum(api.cpu_times()[:2])
            started = time.perf_counter()
            run = await offered_load(client, _NoWatcher(), body, rate, seconds, drain_seconds=0)
            cpu = sum(api.cpu_times()[:2]) - before
            opened = await sessions_opened() - opened - 1
            summary = summarise(run)
            row = {
                "rate": rate,
                "n": summary["n"],
                "errors": summary["errors"],
                "accept_p50": round(summary["accept_p50"], 1),
                "accept_p99": round(summary["accept_p99"], 1),
                "api_cpu_ms_per_complaint": round(cpu * 1000 / max(1, summary["n"]), 2),
                "api_cpu_share": round(cpu / (time.perf_counter() - started), 2),
                "db_connections_opened": opened,
            }
            print(row, flush=True)
            rows.append(row)
            await asyncio.sleep(2)
    finally:
        await client.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rates", type=int, nargs="+", default=[200, 400, 600, 800, 1000])
    parser.add_argument("--seconds", type=float, default=8)
    args = parser.parse_args()
    os.environ["CRM_DEV_BROKER"] = "kafka"
    with tempfile.TemporaryDirectory(prefix="crm-intake-") as tmp:
        stack = new_stack(Path(tmp))
        commands = {n: c for n, c in procfile_commands().items() if n in ("contacts-api", "feedback-api")}
        supervisor = ProcessSupervisor(commands, stack.env(), Path(tmp) / "logs", ROOT)
        try:
            supervisor.start_all()
            wait_until_ready([stack.api_url(s) for s in ("contacts", "feedback")])
            # The api's own process (the shell execs uvicorn).
            asyncio.run(steps(stack, supervisor.processes["feedback-api"].pid, args.rates, args.seconds))
        finally:
            supervisor.stop_all()
            stack.stop()


if __name__ == "__main__":
    main()
