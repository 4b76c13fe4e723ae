"""The performance targets of the complaint path, and how one `make bench` run measures against them.

The targets are ratios to the raw floor where they can be (tests/bench/floor.py, same machine, same
run), and absolute figures where the issue set them. A missed target is reported with its figure,
never hidden; docs/benchmarks.md says why underneath (*What limits it*).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

# What each pipeline process is compared with in the floor (the floor has no feedback worker:
# the case and SLA work of a complaint has no raw counterpart).
FLOOR_TWIN = {"feedback-api": "floor-intake", "scoring-worker": "floor-scorer", "notifications-worker": "floor-tasker"}
GUARD_BASELINE = Path(__file__).with_name("guard-baseline.json")
SCORING_REPORT = Path(__file__).resolve().parents[2] / "docs" / "benchmarks-scoring.json"
RSS_LIMIT_MIB = 150
SERVICE_SUFFIXES = ("-api", "-worker")


def _f(value: float | None, digits: int = 1) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _total(cpu: dict[str, float]) -> float:
    return sum(ms for name, ms in cpu.items() if name != "load generator")


def _at(rows: list[dict], rate: int) -> dict | None:
    return next((r for r in rows if r["rate"] == rate), None)


def _mark(ok: bool | None) -> str:
    return "-" if ok is None else ("met" if ok else "**missed**")


def _scoring() -> dict:
    try:
        return json.loads(SCORING_REPORT.read_text())
    except (OSError, ValueError):
        return {}


def _sustained(steps: list[dict]) -> int:
    return max((r["rate"] for r in steps if r["bounded"]), default=0)


def _intake(steps: list[dict]) -> int:
    return max((r["rate"] for r in steps if not r["errors"] and r["accept_p99"] < 100.0), default=0)


def rows(results: dict, rss: dict[str, float]) -> list[tuple[str, str, str, bool | None]]:
    """(figure, measured, target, met) for every target the benchmark measures."""
    cpu, floor_cpu = results.get("cpu", {}), results.get("floor_cpu", {})
    out: list[tuple[str, str, str, bool | None]] = []
    if cpu and floor_cpu:
        ratio = _total(cpu) / max(_total(floor_cpu), 1e-9)
        out.append(
            (
                "CPU per complaint, pipeline / floor",
                f"{ratio:.1f}x ({_total(cpu):.1f} vs {_total(floor_cpu):.1f} ms)",
                "<= 2x",
                ratio <= 2,
            )
        )
        worst = max(
            (
                (name, cpu[name] / floor_cpu[twin])
                for name, twin in FLOOR_TWIN.items()
                if name in cpu and twin in floor_cpu
            ),
            key=lambda pair: pair[1],
            default=None,
        )
        if worst:
            out.append(("worst process / its floor twin", f"{worst[1]:.1f}x ({worst[0]})", "<= 3x", worst[1] <= 3))
    for rate, p50_limit, p99_limit in ((20, 15, 40), (100, 25, 60)):
        row, twin = _at(results["latency"], rate), _at(results.get("floor", []), rate)
        if row:
            ok = row["task_p50"] <= p50_limit and row["task_p99"] <= p99_limit and not row["errors"]
            floor_note = f" (floor: {_f(twin['task_p50'])} / {_f(twin['task_p99'])} ms)" if twin else ""
            out.append(
                (
                    f"complaint -> task at {rate}/s, p50 / p99",
                    f"{_f(row['task_p50'])} / {_f(row['task_p99'])} ms{floor_note}",
                    f"<= {p50_limit} / <= {p99_limit} ms",
                    ok,
                )
            )
    floor = results.get("floor_steps") or {}
    sustained = _sustained(results["sustained"])
    out.append(
        (
            "whole pipeline, backlog bounded",
            f"{sustained} complaints/s"
            + (f" (floor: {_sustained(floor['sustained'])}/s)" if "sustained" in floor else ""),
            ">= 200/s",
            sustained >= 200,
        )
    )
    intake = _intake(results["intake"])
    out.append(
        (
            "one feedback-api, 201 p99 < 100 ms",
            f"{intake} complaints/s" + (f" (floor: {_intake(floor['intake'])}/s)" if "intake" in floor else ""),
            ">= 1,000/s",
            intake >= 1000,
        )
    )
    scoring = _scoring()
    if scoring.get("backlog"):
        drained = scoring["backlog"]["events_per_s"]
        out.append(("one scoring worker drains a backlog", f"{drained:,.0f} events/s", ">= 2,000/s", drained >= 2000))
    if scoring.get("rescore"):
        seconds = scoring["rescore"]["elapsed_s"]
        out.append(("rescoring 10k customers", f"{seconds:.1f} s", "<= 1 s", seconds <= 1))
    services = {name: mib for name, mib in rss.items() if name.endswith(SERVICE_SUFFIXES)}
    if services:
        name, mib = max(services.items(), key=lambda item: item[1])
        out.append(
            ("peak RSS per service process", f"{mib:.0f} MiB ({name})", f"<= {RSS_LIMIT_MIB} MiB", mib <= RSS_LIMIT_MIB)
        )
    return out


def section(results: dict, rss: dict[str, float]) -> list[str]:
    lines = ["| figure | measured | target | |", "|---|---|---|---|"]
    lines += [
        f"| {figure} | {measured} | {target} | {_mark(ok)} |" for figure, measured, target, ok in rows(results, rss)
    ]
    return lines


def guard_section() -> list[str]:
    """The CI regression guard and the baseline it compares with (tests/bench/guard-baseline.json)."""
    try:
        baseline = json.loads(GUARD_BASELINE.read_text())
    except (OSError, ValueError):
        return []
    return [
        "## CPU regression guard (CI)",
        "",
        "`make bench-guard` (`python -m tests.bench.guard`, run by `.ci/run` after `make test`, about a",
        f"minute): the stack on Apache Kafka takes {baseline['rate']} complaints/s for {baseline['seconds']:.0f} s, then the floor",
        "takes the same load on the same PostgreSQL and broker; CPU per complaint is summed over every",
        "process but the load generator. It fails when the pipeline / floor ratio is more than 30% above",
        "the committed baseline: a ratio from one run, so a slower or busier machine moves both sides.",
        f"Baseline: **{baseline['ratio']:.2f}x** ({baseline['pipeline_ms']:.1f} vs {baseline['floor_ms']:.1f} ms,"
        f" measured {baseline['measured_at']}); limit {baseline['ratio'] * 1.3:.2f}x. After a change that makes the path",
        "cheaper, commit the new ratio with `python -m tests.bench.guard --update-baseline` so the guard",
        "keeps what was won; `--profile DIR` also writes py-spy stacks of every pipeline process.",
    ]
