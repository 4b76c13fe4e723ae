"""The CI regression guard's verdict: a rise of the CPU ratio to the floor beyond the tolerance fails."""

from tests.bench.guard import total, verdict
from tests.bench.targets import rows

BASELINE = {"ratio": 2.0, "measured_at": "2026-12-05"}


def test_cpu_per_complaint_leaves_out_the_load_generator() -> None:
    assert total({"feedback-api": 3.0, "kafka broker": 2.0, "load generator": 9.0}) == 5.0


def test_a_ratio_within_thirty_percent_of_the_baseline_passes() -> None:
    ok, message = verdict({"ratio": 2.59}, BASELINE, 0.30)
    assert ok and message.startswith("OK")


def test_a_ratio_more_than_thirty_percent_above_the_baseline_fails_naming_the_limit() -> None:
    ok, message = verdict({"ratio": 2.61}, BASELINE, 0.30)
    assert not ok and "REGRESSION" in message and "limit 2.60x" in message


def test_the_report_marks_each_target_met_or_missed() -> None:
    results = {
        "cpu": {"feedback-api": 4.0, "scoring-worker": 9.0, "load generator": 50.0},
        "floor_cpu": {"floor-intake": 2.0, "floor-scorer": 2.0},
        "latency": [{"rate": 20, "task_p50": 12.0, "task_p99": 45.0, "errors": 0}],
        "sustained": [{"rate": 100, "bounded": True}, {"rate": 200, "bounded": False}],
        "intake": [{"rate": 1000, "errors": 0, "accept_p99": 80.0}],
    }
    measured = {figure: (value, ok) for figure, value, _, ok in rows(results, {"feedback-api": 120.0})}
    assert measured["CPU per complaint, pipeline / floor"] == ("3.2x (13.0 vs 4.0 ms)", False)
    assert measured["worst process / its floor twin"] == ("4.5x (scoring-worker)", False)
    assert measured["complaint -> task at 20/s, p50 / p99"][1] is False  # p99 45 > 40
    assert measured["whole pipeline, backlog bounded"] == ("100 complaints/s", False)
    assert measured["one feedback-api, 201 p99 < 100 ms"] == ("1000 complaints/s", True)
    assert measured["peak RSS per service process"] == ("120 MiB (feedback-api)", True)
