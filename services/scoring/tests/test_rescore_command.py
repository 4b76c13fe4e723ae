"""`crmctl rescore`, which scoring declares in its manifest: the polling, and a real run."""

import json
import re

import httpx
import pytest

from crm_devstack.testing import eventually
from scoring.commands import daily_run, rescore


async def test_rescore_polls_the_run_until_it_finishes(capsys) -> None:
    """Against the scoring api's documented paths (POST /v1/rescore-runs, GET /v1/rescore-runs/{id})."""
    states = iter([("running", 40), ("running", 90), ("done", 120)])
    seen: list[tuple[str, str]] = []

    def scoring(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path))
        if request.method == "POST":
            assert json.loads(request.content) == {}
            return httpx.Response(202, json={"id": "r-1", "status": "queued", "total": 120, "done": 0})
        status, done = next(states)
        return httpx.Response(200, json={"id": "r-1", "status": status, "total": 120, "done": done})

    code = await rescore("http://scoring", "t", interval=0, transport=httpx.MockTransport(scoring))
    assert code == 0
    assert seen == [("POST", "/v1/rescore-runs")] + [("GET", "/v1/rescore-runs/r-1")] * 3
    out = capsys.readouterr().out
    assert "queued: 0/120" in out and "running: 90/120" in out and "done: 120/120" in out


async def test_daily_run_posts_a_daily_run_and_polls_it_until_it_finishes(capsys) -> None:
    """`crmctl daily-run`: POST /v1/daily-runs, then the run's progress at GET /v1/rescore-runs/{id}."""
    seen: list[tuple[str, str]] = []

    def scoring(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path))
        if request.method == "POST":
            return httpx.Response(202, json={"id": "d-1", "kind": "daily", "status": "queued", "total": 9, "done": 0})
        return httpx.Response(200, json={"id": "d-1", "kind": "daily", "status": "done", "total": 9, "done": 9})

    code = await daily_run("http://scoring", "t", interval=0, transport=httpx.MockTransport(scoring))
    assert code == 0
    assert seen == [("POST", "/v1/daily-runs"), ("GET", "/v1/rescore-runs/d-1")]
    out = capsys.readouterr().out
    assert "daily run d-1 started" in out and "done: 9/9" in out


@pytest.mark.integration
async def test_rescore_runs_the_scoring_services_rescore_to_its_end(services, token, capsys) -> None:
    from crm_devstack.testing import unique_email

    customer = (
        await services.contacts.post("/v1/customers", json={"name": "Rescore Co", "email": unique_email()})
    ).json()
    await eventually(lambda: _scored(services, customer["id"]))
    code = await rescore(str(services.scoring.base_url), token, interval=0.1, timeout=120)
    out = capsys.readouterr().out
    assert code == 0, out
    run_id = re.search(r"rescore run (\S+) started", out).group(1)
    run = (await services.scoring.get(f"/v1/rescore-runs/{run_id}")).json()
    assert run["status"] == "done" and run["done"] == run["total"] > 0
    assert f"done: {run['total']}/{run['total']}" in out


async def _scored(services, customer_id: str) -> bool:
    return (await services.scoring.get(f"/v1/scores/{customer_id}")).status_code == 200
