"""The same complaint-loop benchmark on two brokers, side by side (one `make bench` run).

Apache Kafka is what production runs; Tansu is the fallback the dev stack uses where Java is
missing. Putting both in one table from one run shows what the broker itself costs, on the same
machine at the same moment, rather than comparing runs from different days.
"""

from __future__ import annotations

import math

BROKER_TITLES = {"kafka": "Apache Kafka", "tansu": "Tansu"}


def _f(value: float | None, digits: int = 1) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _system_cpu(cpu: dict[str, float]) -> float:
    return sum(value for name, value in cpu.items() if name != "load generator")


def _at(rows: list[dict], rate: int) -> dict | None:
    return next((r for r in rows if r["rate"] == rate), None)


def _broker_name(names: list[str]) -> str | None:
    return next((n for n in names if n.endswith("broker")), None)


def headline(raw: dict) -> dict[str, float | None]:
    """The figures an operator compares first, from one broker's run."""
    results, rss = raw["results"], raw["peak_rss"]
    low = results["latency"][0]
    hundred = _at(results["latency"], 100) or {}
    intake_ok = [r["rate"] for r in results["intake"] if not r["errors"] and r["accept_p99"] < 100.0]
    sustained = [r["rate"] for r in results["sustained"] if r["bounded"]]
    idle = results.get("idle_cpu", {})
    broker = _broker_name(list(rss))
    return {
        "rate": low["rate"],
        "task_p50": low["task_p50"],
        "task_p99": low["task_p99"],
        "task_p50_100": hundred.get("task_p50"),
        "task_p99_100": hundred.get("task_p99"),
        "intake": float(max(intake_ok, default=0)),
        "sustained": float(max(sustained, default=0)),
        "cpu": _system_cpu(results.get("cpu", {})),
        "floor_cpu": _system_cpu(results.get("floor_cpu", {})),
        "idle_total": sum(v for k, v in idle.items() if k != "load generator") * 100,
        "broker_cpu": results.get("cpu", {}).get(broker) if broker else None,
        "broker_idle": idle.get(broker, float("nan")) * 100 if broker else None,
        "broker_rss": rss.get(broker) if broker else None,
    }


ROWS = (
    ("complaint -> task at {rate}/s, p50 / p99 (ms)", ("task_p50", "task_p99")),
    ("complaint -> task at 100/s, p50 / p99 (ms)", ("task_p50_100", "task_p99_100")),
    ("intake, one feedback-api, 201 p99 < 100 ms (complaints/s)", ("intake",)),
    ("whole pipeline sustained (complaints/s)", ("sustained",)),
    ("CPU per complaint, all processes but the load generator (ms)", ("cpu",)),
    ("CPU per complaint of the floor on the same broker (ms)", ("floor_cpu",)),
    ("the broker's CPU per complaint (ms)", ("broker_cpu",)),
    ("idle CPU, all processes but the load generator (% of a core)", ("idle_total",)),
    ("the broker's idle CPU (% of a core)", ("broker_idle",)),
    ("the broker's peak RSS (MiB)", ("broker_rss",)),
)


def section(runs: dict[str, dict]) -> list[str]:
    """Markdown lines: the headline figures and every process's idle CPU, one column per broker."""
    if len(runs) < 2:
        return []
    names = list(runs)
    heads = {name: headline(raw) for name, raw in runs.items()}
    rate = heads[names[0]]["rate"]
    titles = [BROKER_TITLES.get(n, n) for n in names]
    digits = {"intake": 0, "sustained": 0, "broker_rss": 0, "idle_total": 0, "broker_idle": 0}
    lines = [
        "## Apache Kafka and Tansu, side by side (same run, same machine)",
        "",
        "The whole benchmark above ran once per broker, one after the other; everything else (code,",
        "settings, offered loads) is the same, except the consumers' fetch wait: Kafka's default",
        "500 ms on Apache Kafka (it answers a waiting fetch as soon as data arrives), 10 ms on Tansu",
        "(it holds a fetch for the whole wait). The sections above are the first broker's run.",
        "",
        "| figure | " + " | ".join(titles) + " |",
        "|---|" + "---|" * len(names),
    ]
    for label, keys in ROWS:
        cells = [" / ".join(_f(heads[n][k], digits.get(k, 1)) for k in keys) for n in names]
        lines.append(f"| {label.format(rate=rate)} | " + " | ".join(cells) + " |")
    processes = [p for p in runs[names[0]]["results"].get("idle_cpu", {}) if p != "load generator"]
    for name in names[1:]:
        processes += [p for p in runs[name]["results"].get("idle_cpu", {}) if p not in processes]
    lines += [
        "",
        "Idle CPU of every process (% of one core, nothing offered) and peak RSS (MiB):",
        "",
        "| process | " + " | ".join(f"{t} idle % / RSS" for t in titles) + " |",
        "|---|" + "---|" * len(names),
    ]
    for process in processes:
        if process == "load generator":
            continue
        cells = []
        for name in names:
            idle = runs[name]["results"].get("idle_cpu", {}).get(process)
            rss = runs[name]["peak_rss"].get(process)
            cells.append("-" if idle is None else f"{idle * 100:.1f} / {_f(rss, 0)}")
        lines.append(f"| {process} | " + " | ".join(cells) + " |")
    return lines
