"""Integration: complaint counts and recurring themes for management."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from crm_devstack.testing import eventually, unique_email, unique_phone

pytestmark = pytest.mark.integration


async def complain(services, customer_id: str, product: str, category: str = "service.delivery") -> None:
    response = await services.feedback.post(
        "/v1/feedback",
        json={
            "customer_id": customer_id,
            "type": "complaint",
            "category": category,
            "severity": "medium",
            "channel": "email",
            "product": product,
            "description": "Arrived broken.",
        },
    )
    assert response.status_code == 201, response.text


async def test_counts_by_region_product_and_tier_and_a_recurring_theme_is_escalated(services) -> None:
    since = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    region, product = f"region-{uuid.uuid4().hex[:8]}", f"pump-{uuid.uuid4().hex[:8]}"
    customers = []
    for tier in ("key", "gold", "gold"):
        body = {"name": "Soylent", "email": unique_email(), "phone": unique_phone(), "tier": tier, "region": region}
        customers.append((await services.contacts.post("/v1/customers", json=body)).json())
    for customer in customers:
        await complain(services, customer["id"], product)
    await complain(services, customers[0]["id"], product, category="product.quality")

    async def counted():
        report = await services.feedback.get(
            "/v1/reports/complaints", params={"since": since, "group_by": "region", "interval": "day"}
        )
        assert report.status_code == 200, report.text
        return report.json() if report.json()["totals"].get(region) == 4 else None

    by_region = await eventually(counted)  # the region arrives with the contact events
    [today] = by_region["buckets"]
    assert today["counts"][region] == 4

    by_product = (
        await services.feedback.get("/v1/reports/complaints", params={"since": since, "group_by": "product"})
    ).json()
    assert by_product["totals"][product] == 4
    by_tier = (
        await services.feedback.get("/v1/reports/complaints", params={"since": since, "group_by": "tier"})
    ).json()
    assert by_tier["totals"]["key"] >= 2 and by_tier["totals"]["gold"] >= 2

    themes = (await services.feedback.get("/v1/reports/themes", params={"since": since, "limit": 100})).json()["themes"]
    ours = {(t["category"], t["product"]): t for t in themes if t["product"] == product}
    delivery = ours[("service.delivery", product)]
    assert (delivery["complaints"], delivery["customers"], delivery["previous_period"]) == (3, 3, 0)
    assert delivery["escalate"] is True
    assert ours[("product.quality", product)]["escalate"] is False  # one customer is not a theme


async def test_a_period_that_is_empty_naive_or_too_finely_split_is_refused(services) -> None:
    now = datetime.now(UTC)
    cases = [
        {"since": now.isoformat(), "until": (now - timedelta(days=1)).isoformat()},
        {"since": now.replace(tzinfo=None).isoformat()},
        {"since": (now - timedelta(days=900)).isoformat(), "interval": "day"},
    ]
    for params in cases:
        response = await services.feedback.get("/v1/reports/complaints", params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.headers["content-type"] == "application/problem+json"
