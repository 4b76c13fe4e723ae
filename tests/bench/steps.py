"""Rate steps shared by the pipeline's and the floor's sections of `make bench`: rising open-loop
steps of intake (consumers paused) and of the whole pipeline (until its backlog stops being bounded)."""

from __future__ import annotations

import asyncio
import os
import signal

from tests.bench.load import offered_load, summarise

INTAKE_P99_LIMIT_MS = 100.0
BACKLOG_LIMIT_SECONDS = 0.5  # sustained: at the end of a step the queue holds at most half a second of arrivals


def line(label: str, r: dict[str, float]) -> str:
    return (
        f"{label} {r['rate']:>5}/s  n={r['n']:<5} errors={r['errors']:<3} missing={r['missing_tasks']:<3} "
        f"201 p50/p99={r['accept_p50']:.1f}/{r['accept_p99']:.1f}ms  task p50/p95/p99="
        f"{r['task_p50']:.1f}/{r['task_p95']:.1f}/{r['task_p99']:.1f}ms  max backlog={r['max_backlog']}  "
        f"(cores={os.cpu_count()})"
    )


async def intake_steps(client, watcher, body, args, pause, rows: list[dict], label: str = "intake  ") -> list:
    """Rising open-loop steps of POST /v1/feedback with the consumers paused (`pause(SIGSTOP)`), until
    a step fails or its p99 reaches the limit; what is accepted waits in the broker meanwhile."""
    pause(signal.SIGSTOP)
    runs = []
    try:
        for rate in args.intake_rates:
            runs.append(await offered_load(client, watcher, body, rate, args.step_seconds, 0))
            rows.append(summarise(runs[-1]))
            print(line(label, rows[-1]), flush=True)
            if rows[-1]["errors"] or rows[-1]["accept_p99"] >= INTAKE_P99_LIMIT_MS:
                break
            await asyncio.sleep(1)
    finally:
        pause(signal.SIGCONT)
    return runs


async def sustained_steps(client, watcher, body, args, label: str) -> list[dict]:
    """Rising steps until the backlog stops being bounded (see BACKLOG_LIMIT_SECONDS)."""
    rows = []
    for rate in args.pipeline_rates:
        row = summarise(await offered_load(client, watcher, body, rate, args.step_seconds * 2, 120))
        row["bounded"] = not row["errors"] and row["end_backlog"] <= max(5, rate * BACKLOG_LIMIT_SECONDS)
        rows.append(row)
        print(line(f"{label:<8}", row) + f"  drained {row['drained_after']:.2f}s after  bounded={row['bounded']}")
        if not row["bounded"]:
            break
    return rows
