"""Integration: the daily schedule (injectable clock) queues one daily run a day, a daily run
touches only customers whose scores move, and the work-lists filter, sort, page and export
within the caller's access."""

import csv
import io
import uuid
from datetime import UTC, datetime, time, timedelta

import httpx
import pytest
from sqlalchemy import select

from crm_devstack.testing import eventually, unique_email, unique_phone
from crm_shared.config import AuthSettings
from crm_shared.http.auth import mint_token
from scoring.scores.models import RescoreRun
from scoring.scores.runner import DailySchedule

pytestmark = pytest.mark.integration


async def new_customer(services, *, tier: str = "gold", owner: str = "dave", region: str | None = None) -> dict:
    body = {"name": "Initech", "email": unique_email(), "phone": unique_phone(), "tier": tier, "owner": owner}
    if region:
        body["region"] = region
    response = await services.contacts.post("/v1/customers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def score_of(services, customer_id: str) -> dict | None:
    response = await services.scoring.get(f"/v1/scores/{customer_id}")
    return response.json() if response.status_code == 200 else None


async def finished(services, run_id: str) -> dict | None:
    state = (await services.scoring.get(f"/v1/rescore-runs/{run_id}")).json()
    return state if state["status"] == "done" else None


async def test_the_schedule_queues_one_daily_run_a_day_whatever_the_workers(services) -> None:
    sessions = services.workers["scoring"].sessions
    day = datetime(2020, 3, 1, 1, 0, tzinfo=UTC)  # long past: the runs change nobody's scores
    clock = {"now": day}
    first, second = (DailySchedule(sessions, time(2, 0), clock=lambda: clock["now"]) for _ in range(2))

    async def runs_of(key: str) -> list[RescoreRun]:
        async with sessions() as session:
            return list((await session.scalars(select(RescoreRun).where(RescoreRun.schedule_key == key))).all())

    assert await first.tick() is False  # before 02:00
    clock["now"] = day.replace(hour=2, minute=5)
    assert (await first.tick(), await second.tick()) == (True, False)
    clock["now"] = day.replace(hour=23)
    assert await first.tick() is False
    [run] = await runs_of("daily:2020-03-01")
    assert (run.kind, run.as_of, run.requested_by) == ("daily", day.replace(hour=2, minute=5), "schedule")
    clock["now"] = day + timedelta(days=1, hours=2)
    assert await second.tick() is True
    assert len(await runs_of("daily:2020-03-02")) == 1


async def test_a_daily_run_writes_only_the_customers_whose_scores_move(services) -> None:
    """Five days on, the silent customer's churn risk rose past MIN_CHANGE; the new one's tenure
    grew by a fraction of a point: it is not touched."""
    silent = await new_customer(services)
    fresh = await new_customer(services)
    now = datetime.now(UTC)
    for days in (90, 60, 30):
        response = await services.contacts.post(
            f"/v1/customers/{silent['id']}/activities",
            json={
                "occurred_at": (now - timedelta(days=days)).isoformat(),
                "details": {"kind": "order", "amount": "500.00", "currency": "EUR"},
            },
        )
        assert response.status_code == 201, response.text

    async def both_scored():
        a, b = await score_of(services, silent["id"]), await score_of(services, fresh["id"])
        return (a, b) if a and b and a["explanation"]["components"]["orders"] == 3 else None

    _, fresh_before = await eventually(both_scored)
    history_before = (await services.scoring.get(f"/v1/scores/{fresh['id']}/history")).json()["items"]

    run = await services.scoring.post(
        "/v1/daily-runs",
        json={"as_of": (now + timedelta(days=5)).isoformat(), "customer_ids": [silent["id"], fresh["id"]]},
    )
    assert run.status_code == 202, run.text
    done = await eventually(lambda: finished(services, run.json()["id"]))
    assert (done["total"], done["done"], done["changed"]) == (2, 2, 1)

    silent_after = await score_of(services, silent["id"])
    assert silent_after["recent_causes"][0] == {
        "id": run.json()["id"],
        "type": "crm.scoring.daily_run",
        "at": silent_after["recent_causes"][0]["at"],
    }
    assert silent_after["explanation"]["scores"]["churn_risk"]["components"]["order_silence"] > 0
    fresh_after = await score_of(services, fresh["id"])
    assert fresh_after["updated_at"] == fresh_before["updated_at"]
    assert fresh_after["explanation"]["as_of"] == fresh_before["explanation"]["as_of"]
    assert (await services.scoring.get(f"/v1/scores/{fresh['id']}/history")).json()["items"] == history_before

    [latest, *_] = (await services.scoring.get(f"/v1/scores/{silent['id']}/history")).json()["items"]
    assert latest["cause_event_type"] == "crm.scoring.daily_run" and latest["changed"]
    assert latest["explanation"]["drift"] == [
        "no activity for 35 days against a usual interval of 30 days (+1.1 churn risk)",
        "no order for 35 days, 1.2 times the usual 30-day ordering rhythm (+2.5 churn risk)",
    ]


async def test_a_daily_run_needs_admin_and_refuses_a_bad_body(services) -> None:
    response = await services.scoring.post("/v1/daily-runs", json={"as_of": "2026-12-05T02:00:00"})
    assert response.status_code == 422  # no time zone
    response = await services.scoring.post("/v1/daily-runs", json={"customer_ids": []})
    assert response.status_code == 422
    token = mint_token(AuthSettings(), subject="ann", scopes=("scores:read",), roles=("analyst",))
    async with httpx.AsyncClient(base_url=str(services.scoring.base_url)) as client:
        response = await client.post("/v1/daily-runs", json={}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403


async def test_work_lists_filter_sort_page_and_export_within_the_callers_access(services) -> None:
    region = f"r-{uuid.uuid4().hex[:8]}"
    mine = [await new_customer(services, tier=t, owner="mia", region=region) for t in ("key", "gold", "bronze")]
    other = await new_customer(services, tier="silver", owner="otto", region=region)
    ids = {c["id"] for c in [*mine, other]}

    async def listed():
        page = (await services.scoring.get("/v1/scores", params={"region": region, "sort": "value"})).json()
        return page if {i["customer_id"] for i in page["items"]} == ids else None

    page = await eventually(listed)
    values = [i["value"] for i in page["items"]]
    assert values == sorted(values, reverse=True) and values[0] == 25.0  # key: potential 25
    assert page["items"][0]["tier"] == "key" and page["items"][0]["lifecycle"] == "customer"

    first = (await services.scoring.get("/v1/scores", params={"region": region, "sort": "value", "limit": 3})).json()
    rest = (
        await services.scoring.get(
            "/v1/scores", params={"region": region, "sort": "value", "limit": 3, "cursor": first["next_cursor"]}
        )
    ).json()
    assert [i["customer_id"] for i in first["items"] + rest["items"]] == [i["customer_id"] for i in page["items"]]
    assert rest["next_cursor"] is None

    gold_up = (
        await services.scoring.get(
            "/v1/scores",
            params={"region": region, "tier": ["key", "gold"], "min_value": 18, "sort": "health", "order": "asc"},
        )
    ).json()["items"]
    assert {i["customer_id"] for i in gold_up} == {mine[0]["id"], mine[1]["id"]}
    assert (await services.scoring.get("/v1/scores", params={"band": "nonsense"})).status_code == 422

    manager = mint_token(AuthSettings(), subject="mia", scopes=("scores:read",), roles=("account_manager",))
    async with httpx.AsyncClient(
        base_url=str(services.scoring.base_url), headers={"Authorization": f"Bearer {manager}"}
    ) as client:
        own = (await client.get("/v1/scores", params={"region": region})).json()["items"]
        exported = await client.get("/v1/scores/export.csv", params={"region": region, "sort": "value"})
    assert {i["customer_id"] for i in own} == {c["id"] for c in mine}
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["customer_id"] for r in rows] == [i["customer_id"] for i in page["items"] if i["owner"] == "mia"]
    assert rows[0]["tier"] == "key" and float(rows[0]["value"]) == 25.0
