"""Integration: the indicator system fed by real contact and feedback events, read through the API.

The session database is shared with other tests, so each test works in its own region and owner
(uuid-suffixed) and asserts only on those segments.
"""

import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from crm_devstack.testing import complaint_move, envelopes, eventually, read_topic, unique_email, unique_phone

pytestmark = pytest.mark.integration


async def new_customer(services, region: str, owner: str, tier: str = "gold") -> dict:
    body = {
        "name": "Umbrella Corp",
        "email": unique_email(),
        "phone": unique_phone(),
        "tier": tier,
        "owner": owner,
        "region": region,
        "industry": "pharma",
    }
    response = await services.contacts.post("/v1/customers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def feedback(services, customer_id: str, **body) -> dict:
    body = {"customer_id": customer_id, "channel": "web", **body}
    response = await services.feedback.post("/v1/feedback", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def complaint(services, customer_id: str) -> dict:
    return await feedback(
        services, customer_id, type="complaint", category="service.delivery", severity="low", description="Late."
    )


async def survey(services, customer_id: str, metric: str, score: int) -> dict:
    return await feedback(
        services, customer_id, type="survey_response", channel="survey", survey={"metric": metric, "score": score}
    )


async def order(services, customer_id: str, amount: str) -> None:
    response = await services.contacts.post(
        f"/v1/customers/{customer_id}/activities",
        json={
            "occurred_at": datetime.now(UTC).isoformat(),
            "details": {"kind": "order", "amount": amount, "currency": "EUR"},
        },
    )
    assert response.status_code == 201, response.text


async def month_of(services, dimension: str, segment: str) -> dict | None:
    response = await services.scoring.get(
        "/v1/indicators", params={"dimension": dimension, "segment": segment, "period": "month"}
    )
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    return items[0] if items else None


async def test_indicators_by_region_follow_complaints_surveys_orders_and_churn(services) -> None:
    region, owner = f"region-{uuid.uuid4().hex[:10]}", f"owner-{uuid.uuid4().hex[:10]}"
    alice = await new_customer(services, region, owner)
    bob = await new_customer(services, region, owner)
    carol = await new_customer(services, region, owner, tier="key")

    async def customers_counted():
        item = await month_of(services, "region", region)
        return item if item and item["counters"]["customers_joined"] == 3 else None

    await eventually(customers_counted)  # the surveys below then find the cards' segments

    filed = await complaint(services, alice["id"])
    for to in ("acknowledged", "resolved"):
        moved = await services.feedback.post(f"/v1/feedback/{filed['id']}/transitions", json=complaint_move(to))
        assert moved.status_code in (200, 201), moved.text
    await survey(services, alice["id"], "csat", 5)
    await survey(services, bob["id"], "csat", 2)
    for customer, score in ((alice, 10), (bob, 3), (carol, 9)):
        await survey(services, customer["id"], "nps", score)
    await order(services, alice["id"], "100")
    await order(services, alice["id"], "100")
    await order(services, bob["id"], "50")
    await order(services, carol["id"], "750")
    churned = await services.contacts.patch(
        f"/v1/customers/{carol['id']}", json={"lifecycle_stage": "churned"}, headers={"If-Match": "*"}
    )
    assert churned.status_code == 200, churned.text

    async def all_counted():
        item = await month_of(services, "region", region)
        c = item["counters"] if item else {}
        done = c.get("resolutions") == 1 and c.get("nps_answers") == 3 and c.get("orders") == 4
        return item if done and c.get("customers_churned") == 1 and c.get("csat_answers") == 2 else None

    item = await eventually(all_counted)
    values = {name: v["value"] for name, v in item["indicators"].items()}
    samples = {name: v["sample_size"] for name, v in item["indicators"].items()}
    assert item["segment"] == region and item["period"] == "month"
    assert (values["complaint_rate_per_100"], samples["complaint_rate_per_100"]) == (33.3333, 3)
    assert (values["csat"], values["csat_average"], samples["csat"]) == (50.0, 3.5, 2)
    assert (values["nps"], samples["nps"]) == (33.3333, 3)  # 2 promoters, 1 detractor of 3
    assert (values["sla_attainment"], samples["sla_attainment"]) == (100.0, 2)  # both clocks met
    assert samples["first_response_hours"] == samples["resolution_hours"] == 1
    assert 0 <= values["first_response_hours"] <= values["resolution_hours"] < 1
    assert (values["retention_rate"], samples["retention_rate"]) == (66.6667, 3)
    assert (values["repeat_purchase_rate"], samples["repeat_purchase_rate"]) == (33.3333, 3)
    assert (values["key_account_value_share"], samples["key_account_value_share"]) == (75.0, 4)

    # The same facts cut by owner, and one indicator's series.
    by_owner = await eventually(lambda: month_of(services, "owner", owner))
    assert by_owner["counters"]["complaints"] == 1
    series = await services.scoring.get(
        "/v1/indicators/nps", params={"dimension": "region", "segment": region, "period": "day"}
    )
    assert series.status_code == 200
    [point] = series.json()["items"]
    assert (point["value"], point["sample_size"]) == (33.3333, 3)


async def test_a_threshold_crossing_raises_one_alert_and_one_event_until_it_recovers(services) -> None:
    region, owner = f"region-{uuid.uuid4().hex[:10]}", f"owner-{uuid.uuid4().hex[:10]}"
    indicator = "complaint_rate_per_100"
    default = {"value": 5, "direction": "above", "min_sample": 20, "enabled": True, "period": "month"}
    put = await services.scoring.put(
        f"/v1/indicator-thresholds/{indicator}",
        json={"value": 50, "direction": "above", "min_sample": 2, "enabled": True, "period": "month"},
    )
    assert put.status_code == 200, put.text
    assert put.json()["version"] >= 1 and put.json()["updated_by"] == "tests"
    try:
        first, second = [await new_customer(services, region, owner) for _ in range(2)]

        async def customers_counted():
            item = await month_of(services, "region", region)
            return item if item and item["counters"]["customers_joined"] == 2 else None

        await eventually(customers_counted)  # so the rate moves 50, 100, 150 whatever the topics' pace
        for customer in (first, second, first):  # 50 (inside), 100 (crossed), 150 (still crossed)
            await complaint(services, customer["id"])

        async def three_complaints():
            item = await month_of(services, "region", region)
            return item if item and item["counters"]["complaints"] == 3 else None

        item = await eventually(three_complaints)
        assert item["indicators"][indicator]["value"] == 150.0
        params = {"indicator": indicator, "dimension": "region", "segment": region}
        [alert] = (await services.scoring.get("/v1/alerts", params=params | {"state": "open"})).json()["items"]
        assert (alert["value"], alert["threshold"], alert["direction"]) == (100.0, 50.0, "above")
        assert (await services.scoring.get(f"/v1/alerts/{alert['id']}")).json()["state"] == "open"
        subject = f"indicator:{indicator}:region:{region}"

        async def announced(count: int):
            events = envelopes(await read_topic(services.stack.bootstrap, "crm.scores"))
            mine = [e for e in events if e.subject == subject]
            return mine if len(mine) >= count else None

        [crossed] = await eventually(lambda: announced(1))
        assert crossed.type == "crm.indicator.threshold_crossed.v1"
        assert crossed.data["state"] == "crossed" and crossed.data["alert_id"] == alert["id"]

        # Four more customers: 3 complaints per 6 customers = 50, back inside.
        for _ in range(4):
            await new_customer(services, region, owner)

        async def closed():
            found = (await services.scoring.get(f"/v1/alerts/{alert['id']}")).json()
            return found if found["state"] == "closed" else None

        found = await eventually(closed)
        assert found["recovered_value"] == 50.0
        events = await eventually(lambda: announced(2))
        assert [e.data["state"] for e in events] == ["crossed", "recovered"]
        assert (await services.scoring.get("/v1/alerts", params=params)).json()["items"] == [found]
    finally:
        restored = await services.scoring.put(f"/v1/indicator-thresholds/{indicator}", json=default)
        assert restored.status_code == 200


async def test_each_threshold_edit_decides_the_very_next_event(services) -> None:
    """The worker keeps the thresholds in memory between events: a new version (from any api
    replica) must still decide the next complaint, not a cached one."""
    region, owner = f"region-{uuid.uuid4().hex[:10]}", f"owner-{uuid.uuid4().hex[:10]}"
    indicator = "complaint_rate_per_100"
    scoped = f"/v1/indicator-thresholds/{indicator}/segments/region/{region}"
    params = {"indicator": indicator, "dimension": "region", "segment": region}
    first, second = [await new_customer(services, region, owner) for _ in range(2)]

    async def counted(name: str, count: int):
        item = await month_of(services, "region", region)
        return item if item and item["counters"][name] == count else None

    async def alerts() -> list[dict]:
        return (await services.scoring.get("/v1/alerts", params=params)).json()["items"]

    await eventually(lambda: counted("customers_joined", 2))
    try:
        await complaint(services, first["id"])  # 50 per 100 of 2 customers: the shipped threshold needs 20
        await eventually(lambda: counted("complaints", 1))
        assert await alerts() == []

        strict = {"value": 60, "direction": "above", "min_sample": 2, "enabled": True, "period": "month"}
        assert (await services.scoring.put(scoped, json=strict)).status_code == 200
        await complaint(services, second["id"])  # 100 > 60: crossed under the new version

        async def opened():
            found = await alerts()
            return found if found and found[0]["state"] == "open" else None

        [alert] = await eventually(opened)
        assert (alert["value"], alert["threshold"], alert["threshold_version"]) == (100.0, 60.0, 1)

        loose = await services.scoring.put(scoped, json={**strict, "value": 200})
        assert loose.status_code == 200 and loose.json()["version"] == 2
        await complaint(services, first["id"])  # 150, inside 200: recovered under version 2

        async def closed():
            found = (await services.scoring.get(f"/v1/alerts/{alert['id']}")).json()
            return found if found["state"] == "closed" else None

        assert (await eventually(closed))["recovered_value"] == 150.0
    finally:
        assert (await services.scoring.delete(scoped)).status_code == 204


async def test_thresholds_are_listed_and_bad_ones_refused(services) -> None:
    listed = (await services.scoring.get("/v1/indicator-thresholds")).json()["items"]
    by_name = {t["indicator"]: t for t in listed}
    assert (by_name["nps"]["value"], by_name["nps"]["direction"]) == (0.0, "below")
    assert by_name["sla_attainment"]["value"] == 90.0
    before = by_name["sla_attainment"]["version"]
    for body in (
        {"value": 150, "direction": "below"},  # a percentage above 100
        {"value": 90, "direction": "sideways"},
        {"value": 90, "direction": "below", "min_sample": 0},
        {"value": 90, "direction": "below", "colour": "red"},
    ):
        refused = await services.scoring.put("/v1/indicator-thresholds/sla_attainment", json=body)
        assert refused.status_code == 422, body
        assert refused.headers["content-type"] == "application/problem+json"
    unknown = await services.scoring.put("/v1/indicator-thresholds/happiness", json={"value": 1, "direction": "above"})
    assert unknown.status_code == 404
    after = {t["indicator"]: t for t in (await services.scoring.get("/v1/indicator-thresholds")).json()["items"]}
    assert after["sla_attainment"]["version"] == before
    assert (await services.scoring.get("/v1/indicators", params={"dimension": "planet"})).status_code == 422


async def test_an_erased_customer_leaves_the_segments_but_the_aggregates_stay(services) -> None:
    region, owner = f"region-{uuid.uuid4().hex[:10]}", f"owner-{uuid.uuid4().hex[:10]}"
    customer = await new_customer(services, region, owner)
    await complaint(services, customer["id"])

    async def counted():
        item = await month_of(services, "region", region)
        return item if item and item["counters"]["complaints"] == 1 else None

    await eventually(counted)
    erased = await services.contacts.post(f"/v1/customers/{customer['id']}/erasure", json={"reason": "DSR-7"})
    assert erased.status_code in (200, 202), erased.text
    db = await asyncpg.connect(services.stack.database_url("scoring").replace("+asyncpg", ""))
    try:

        async def forgotten():
            rows = await db.fetchval(
                "SELECT count(*) FROM indicator_customers WHERE customer_id = $1", uuid.UUID(customer["id"])
            )
            gauge = await db.fetchval(
                "SELECT active_customers FROM indicator_segments WHERE dimension = 'region' AND segment = $1", region
            )
            return rows == 0 and gauge == 0

        await eventually(forgotten)
    finally:
        await db.close()
    item = await month_of(services, "region", region)
    assert (item["counters"]["complaints"], item["counters"]["customers_joined"]) == (1, 1)


async def test_reopen_rate_and_time_to_compensation_follow_resolved_complaints(services) -> None:
    region, owner = f"region-{uuid.uuid4().hex[:10]}", f"owner-{uuid.uuid4().hex[:10]}"
    customer = await new_customer(services, region, owner)

    async def counted():
        item = await month_of(services, "region", region)
        return item if item and item["counters"]["customers_joined"] == 1 else None

    await eventually(counted)
    reopened, compensated = await complaint(services, customer["id"]), await complaint(services, customer["id"])
    for fid, moves in (
        (reopened["id"], [complaint_move("resolved"), complaint_move("in_progress")]),
        (compensated["id"], [complaint_move("resolved", compensation={"amount": "80.00", "currency": "EUR"})]),
    ):
        for body in moves:
            moved = await services.feedback.post(f"/v1/feedback/{fid}/transitions", json=body)
            assert moved.status_code == 201, moved.text
    path = f"/v1/feedback/{compensated['id']}/resolution/compensation"
    assert (await services.feedback.post(f"{path}/approval")).status_code == 200
    today = datetime.now(UTC).date().isoformat()
    assert (await services.feedback.post(f"{path}/payment", json={"paid_on": today})).status_code == 200
    # A retry of the payment announces nothing twice.
    assert (await services.feedback.post(f"{path}/payment", json={"paid_on": today})).status_code == 200

    async def recovered():
        item = await month_of(services, "region", region)
        c = item["counters"] if item else {}
        return item if c.get("resolutions") == 2 and c.get("reopens") == 1 and c.get("compensations_paid") else None

    item = await eventually(recovered)
    indicators = item["indicators"]
    assert (indicators["reopen_rate"]["value"], indicators["reopen_rate"]["sample_size"]) == (50.0, 2)
    assert indicators["time_to_compensation_days"]["value"] == 0.0
    assert item["counters"]["compensations_paid"] == 1


async def test_an_inquiry_missing_its_sla_moves_no_complaint_indicator(services) -> None:
    region, owner = f"region-{uuid.uuid4().hex[:10]}", f"owner-{uuid.uuid4().hex[:10]}"
    customer = await new_customer(services, region, owner, tier="bronze")
    saved = (await services.feedback.get("/v1/sla-policy")).json()["targets"]
    quick = saved | {"by_type": saved["by_type"]}
    quick["by_type"]["inquiry"]["first_response"]["bronze"] = 1
    assert (await services.feedback.put("/v1/sla-policy", json=quick)).status_code == 200
    try:
        inquiry = await feedback(
            services, customer["id"], type="inquiry", category="purchase.information", description="Price list?"
        )
    finally:
        assert (await services.feedback.put("/v1/sla-policy", json=saved)).status_code == 200

    async def breached():
        events = envelopes(await read_topic(services.stack.bootstrap, "crm.feedback"))
        found = [
            e.data
            for e in events
            if e.type == "crm.feedback.sla_breached.v1" and e.data["feedback_id"] == inquiry["id"]
        ]
        return found or None

    [breach] = await eventually(breached)
    assert breach["type"] == "inquiry"
    # A complaint of the same customer comes after the breach on the customer's partition: once it
    # is counted, the breach was seen, and it counted nothing.
    filed = await complaint(services, customer["id"])
    moved = await services.feedback.post(f"/v1/feedback/{filed['id']}/transitions", json=complaint_move("resolved"))
    assert moved.status_code == 201, moved.text

    async def resolved():
        item = await month_of(services, "region", region)
        return item if item and item["counters"]["resolutions"] == 1 else None

    item = await eventually(resolved)
    assert item["counters"]["sla_breached"] == 0 and item["counters"]["complaints"] == 1
