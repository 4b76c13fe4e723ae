"""Integration: events rescore the customer, with history, explanation and crm.score.changed.v2;
scorecards are versioned through the API and rescore runs apply a new one to every customer."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from crm_devstack.testing import complaint_move, eventually, read_topic, unique_email, unique_phone
from crm_shared.contracts import Envelope

pytestmark = pytest.mark.integration


async def new_customer(services, tier: str = "gold") -> dict:
    body = {"name": "Initech", "email": unique_email(), "phone": unique_phone(), "tier": tier, "owner": "dave"}
    return (await services.contacts.post("/v1/customers", json=body)).json()


async def score_of(services, customer_id: str) -> dict | None:
    response = await services.scoring.get(f"/v1/scores/{customer_id}")
    return response.json() if response.status_code == 200 else None


async def complain(services, customer_id: str, severity: str = "high"):
    body = {
        "customer_id": customer_id,
        "type": "complaint",
        "category": "product.quality",
        "severity": severity,
        "channel": "email",
        "description": "Broken on arrival.",
    }
    posted = await services.feedback.post("/v1/feedback", json=body)
    assert posted.status_code == 201
    return posted


async def score_events(services, customer_id: str) -> list[Envelope]:
    records = await read_topic(services.stack.bootstrap, "crm.scores")
    return [Envelope.model_validate_json(r.value) for r in records if r.key == customer_id.encode()]


async def test_a_new_customer_gets_the_baseline_scores(services) -> None:
    customer = await new_customer(services)
    score = await eventually(lambda: score_of(services, customer["id"]))
    assert (score["satisfaction"], score["loyalty"], score["value"], score["churn_risk"]) == (75.0, 0.0, 18.0, 0.0)
    current = (await services.scoring.get("/v1/scorecard")).json()
    assert (score["health"], score["band"], score["scorecard_version"]) == (70.5, "healthy", current["version"])
    assert score["model_version"] == current["model_version"]


async def test_a_complaint_recalculates_the_scores_explains_them_and_announces_v2(services) -> None:
    customer = await new_customer(services)
    await eventually(lambda: score_of(services, customer["id"]))
    posted = await complain(services, customer["id"])

    async def rescored():
        score = await score_of(services, customer["id"])
        return score if score and score["satisfaction"] < 75 else None

    score = await eventually(rescored)
    assert (score["satisfaction"], score["churn_risk"], score["health"], score["band"]) == (45.5, 39.4, 43.5, "at_risk")
    assert score["explanation"]["components"]["complaints"] == 1
    assert score["explanation"]["scores"]["churn_risk"]["components"]["open_complaints"] == 12.0
    assert "complaint penalty 29.5" in score["explanation"]["summary"]
    assert score["recent_causes"][0]["type"] == "crm.feedback.received.v1"

    history = (await services.scoring.get(f"/v1/scores/{customer['id']}/history")).json()["items"]
    latest = history[0]
    assert (latest["previous_band"], latest["band"]) == ("healthy", "at_risk")
    assert latest["cause_event_type"] == "crm.feedback.received.v1"
    assert set(latest["changed"]) == {"satisfaction", "churn_risk", "health", "band"}
    assert score["recent_causes"][0]["id"] == latest["cause_event_id"]

    async def announced():
        return [e for e in await score_events(services, customer["id"]) if e.data["band_to"] == "at_risk"]

    [event] = await eventually(announced)
    assert event.type == "crm.score.changed.v2"
    assert event.data["band_from"] == "healthy"
    assert event.data["previous"]["health"] == 70.5 and event.data["current"]["churn_risk"] == 39.4
    assert set(event.data["changed"]) == {"satisfaction", "churn_risk", "health", "band"}
    assert event.data["cause_event_id"] == latest["cause_event_id"] and event.data["rescore_run_id"] is None
    assert event.correlationid == posted.headers["x-correlation-id"]
    assert not [e for e in await score_events(services, customer["id"]) if e.type == "crm.score.changed.v1"]

    async def retention_plan():
        tasks = (await services.notifications.get("/v1/tasks", params={"customer_id": customer["id"]})).json()
        return [t for t in tasks["items"] if t["type"] == "retention_plan"]

    assert await eventually(retention_plan)  # notifications' band-drop playbook reads v2


async def test_orders_resolution_and_the_explanation_of_a_drop(services) -> None:
    customer = await new_customer(services)
    await eventually(lambda: score_of(services, customer["id"]))
    order = {
        "occurred_at": datetime.now(UTC).isoformat(),
        "details": {"kind": "order", "amount": "20000", "currency": "EUR"},
        "external_ref": f"erp:SO-{uuid.uuid4().hex[:8]}",
    }
    assert (await services.contacts.post(f"/v1/customers/{customer['id']}/activities", json=order)).status_code == 201

    async def valued():
        score = await score_of(services, customer["id"])
        return score if score and score["value"] > 18 else None

    score = await eventually(valued)
    # monetary 40 (1 - e^-0.4) + frequency 20 (1 - e^-0.25) + recency 15 + potential 18 (gold)
    assert score["value"] == pytest.approx(50.6, abs=0.11) and score["loyalty"] == pytest.approx(10.0, abs=0.11)

    feedback = (await complain(services, customer["id"])).json()
    await eventually(lambda: _open_complaints(services, customer["id"], 1))
    moved = await services.feedback.post(f"/v1/feedback/{feedback['id']}/transitions", json=complaint_move("resolved"))
    assert moved.status_code == 201, moved.text
    score = await eventually(lambda: _open_complaints(services, customer["id"], 0))
    # resolved within the hour: no longer open, and the fast remedy counts like one praise
    assert score["explanation"]["scores"]["satisfaction"]["components"]["praise_bonus"] == pytest.approx(5.53, abs=0.01)
    assert score["churn_risk"] < 39.4

    # "why did it drop?": at the complaint's change, with a window reaching back past the order's
    rows = (await services.scoring.get(f"/v1/scores/{customer['id']}/history")).json()["items"]
    by_cause = {r["cause_event_type"]: r for r in rows}
    drop, before = by_cause["crm.feedback.received.v1"], by_cause["crm.contact.activity_recorded.v1"]
    gap = datetime.fromisoformat(drop["computed_at"]) - datetime.fromisoformat(before["computed_at"])
    explanation = (
        await services.scoring.get(
            f"/v1/scores/{customer['id']}/explanation",
            params={"at": drop["computed_at"], "window_hours": gap / timedelta(hours=1) / 2},
        )
    ).json()
    assert (explanation["score"]["id"], explanation["previous"]["id"]) == (drop["id"], before["id"])
    assert [(c["cause_event_id"], c["cause_event_type"]) for c in explanation["changes"]] == [
        (drop["cause_event_id"], "crm.feedback.received.v1")
    ]
    assert explanation["score_deltas"]["satisfaction"] == -29.5
    penalty = next(d for d in explanation["deltas"] if d["component"] == "complaint_penalty")
    assert penalty["delta"] == pytest.approx(-29.51, abs=0.01) and "complaint penalty fell by 29.5" in penalty["text"]
    assert "band healthy -> at_risk" in explanation["summary"]

    everything_since_creation = (
        await services.scoring.get(f"/v1/scores/{customer['id']}/explanation", params={"window_hours": 1})
    ).json()
    causes = [c["cause_event_type"] for c in everything_since_creation["changes"]]
    assert causes == [
        "crm.contact.created.v1",
        "crm.contact.activity_recorded.v1",
        "crm.feedback.received.v1",
        "crm.feedback.status_changed.v1",
    ]
    assert everything_since_creation["score"]["health"] == score["health"]

    # history: every score, cursor pagination, since/until
    page = (await services.scoring.get(f"/v1/scores/{customer['id']}/history", params={"limit": 2})).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = (
        await services.scoring.get(
            f"/v1/scores/{customer['id']}/history", params={"limit": 50, "cursor": page["next_cursor"]}
        )
    ).json()
    everything = page["items"] + rest["items"]
    assert len({h["id"] for h in everything}) == len(everything) == len(causes)
    model_version = (await services.scoring.get("/v1/scorecard")).json()["model_version"]
    assert all(h["value"] is not None and h["model_version"] == model_version for h in everything)
    newest = everything[0]["computed_at"]
    since = (await services.scoring.get(f"/v1/scores/{customer['id']}/history", params={"since": newest})).json()
    until = (await services.scoring.get(f"/v1/scores/{customer['id']}/history", params={"until": newest})).json()
    assert [h["id"] for h in since["items"]] == [everything[0]["id"]]
    assert [h["id"] for h in until["items"]] == [h["id"] for h in everything[1:]]
    naive = await services.scoring.get(f"/v1/scores/{customer['id']}/history", params={"since": "2026-01-01T00:00:00"})
    assert naive.status_code == 422


async def _open_complaints(services, customer_id: str, count: int) -> dict | None:
    score = await score_of(services, customer_id)
    if score and score["explanation"]["components"]["open_complaints"] == count and score["satisfaction"] < 75:
        return score
    return None


async def test_a_new_scorecard_is_validated_versioned_and_rescores_every_customer(services) -> None:
    current = (await services.scoring.get("/v1/scorecard")).json()
    bad = await services.scoring.put("/v1/scorecard", json={"weights": {"satisfaction": 0.9}})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["errors"][0]["field"] == "weights"
    unordered = await services.scoring.put("/v1/scorecard", json={"bands": {"healthy": 40, "watch": 48, "at_risk": 30}})
    assert unordered.status_code == 422
    assert (await services.scoring.get("/v1/scorecard")).json()["version"] == current["version"]  # nothing stored

    customer = await new_customer(services)
    await eventually(lambda: score_of(services, customer["id"]))
    await complain(services, customer["id"])
    await eventually(lambda: _open_complaints(services, customer["id"], 1))

    weights = {"satisfaction": 0.7, "loyalty": 0.0, "value": 0.0, "retention": 0.3}
    try:
        put = await services.scoring.put(
            "/v1/scorecard", json={"weights": weights, "comment": "satisfaction first", "rescore": True}
        )
        assert put.status_code == 200, put.text
        card = put.json()
        assert card["version"] == current["version"] + 1 and card["config"]["weights"] == weights
        assert card["config"]["bands"] == current["config"]["bands"]  # a section left out keeps its values
        run_id = card["rescore_run"]["id"]

        async def finished():
            run = (await services.scoring.get(f"/v1/rescore-runs/{run_id}")).json()
            return run if run["status"] == "done" else None

        run = await eventually(finished, timeout=60)
        assert run["done"] >= 1 and run["done"] == run["total"] and run["changed"] >= 1
        score = await score_of(services, customer["id"])
        assert score["model_version"] == f"scorecard-{card['version']}"
        assert score["health"] == round(0.7 * 45.5 + 0.3 * (100 - 39.4), 1)
        [latest, *_] = (await services.scoring.get(f"/v1/scores/{customer['id']}/history")).json()["items"]
        assert (latest["rescore_run_id"], latest["cause_event_id"]) == (run_id, run_id)
        assert latest["model_version"] == score["model_version"] and latest["changed"] == ["health", "band"]

        async def announced():
            events = await score_events(services, customer["id"])
            return [e for e in events if e.data["rescore_run_id"] == run_id]

        [event] = await eventually(announced)
        assert event.data["changed"] == ["health", "band"] and event.data["model_version"] == score["model_version"]

        versions = (await services.scoring.get("/v1/scorecard/versions", params={"limit": 1})).json()
        assert versions["items"][0]["version"] == card["version"] and versions["next_cursor"]
        runs = (await services.scoring.get("/v1/rescore-runs", params={"status": "done"})).json()["items"]
        assert run_id in [r["id"] for r in runs]
    finally:
        # Put scorecard 1's parameters back (as a new version) for every other test of the session.
        restored = await services.scoring.put("/v1/scorecard", json={**current["config"], "rescore": True})
        restore_run = restored.json()["rescore_run"]["id"]

        async def restored_done():
            run = (await services.scoring.get(f"/v1/rescore-runs/{restore_run}")).json()
            return run["status"] == "done"

        await eventually(restored_done, timeout=60)
    assert (await score_of(services, customer["id"]))["health"] == 43.5


async def test_a_rescore_run_takes_an_empty_body_and_an_idempotency_key(services) -> None:
    key = {"Idempotency-Key": f"rescore-{uuid.uuid4()}"}
    first = await services.scoring.post("/v1/rescore-runs", json={}, headers=key)
    assert first.status_code == 202, first.text
    again = await services.scoring.post("/v1/rescore-runs", json={}, headers=key)
    assert again.status_code == 202 and again.json()["id"] == first.json()["id"]
    assert first.headers["location"] == f"/v1/rescore-runs/{first.json()['id']}"
    current = (await services.scoring.get("/v1/scorecard")).json()["version"]
    assert first.json()["scorecard_version"] == current

    async def finished():
        run = (await services.scoring.get(first.headers["location"])).json()
        return run if run["status"] == "done" else None

    run = await eventually(finished, timeout=60)
    assert run["changed"] == 0  # the same scorecard moves nobody: no history, no events
    stale = await services.scoring.post("/v1/rescore-runs", json={"scorecard_version": current + 100})
    assert stale.status_code == 422
    assert (await services.scoring.get(f"/v1/rescore-runs/{uuid.uuid4()}")).status_code == 404


async def test_an_unknown_customer_has_no_score(services) -> None:
    response = await services.scoring.get(f"/v1/scores/{uuid.uuid4()}")
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"
    explanation = await services.scoring.get(f"/v1/scores/{uuid.uuid4()}/explanation")
    assert explanation.status_code == 404
