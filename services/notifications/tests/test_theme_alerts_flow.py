"""Integration: a complaint theme that recurs across customers reaches management as one task
(docs/domain.md#recurring-themes-go-to-management), however many complaints follow."""

import uuid

import pytest

from crm_devstack.testing import eventually, unique_email, unique_phone

pytestmark = pytest.mark.integration


async def complaint(services, product: str) -> None:
    customer = await services.contacts.post(
        "/v1/customers", json={"name": "Initech", "email": unique_email(), "phone": unique_phone(), "tier": "gold"}
    )
    assert customer.status_code == 201, customer.text
    filed = await services.feedback.post(
        "/v1/feedback",
        json={
            "customer_id": customer.json()["id"],
            "type": "complaint",
            "category": "service.commercial_dispute",
            "severity": "high",
            "channel": "email",
            "description": "Compensation for our losses is still not paid.",
            "product": product,
        },
    )
    assert filed.status_code == 201, filed.text


async def test_a_theme_raised_by_three_customers_opens_one_management_task(services) -> None:
    product = f"P-{uuid.uuid4().hex[:8]}"
    subject = f"theme:service.commercial_dispute:{product}"
    manager = f"sm-{uuid.uuid4().hex[:6]}"
    staff = await services.notifications.put(f"/v1/staff/{manager}", json={"role": "service_manager"})
    assert staff.status_code == 200, staff.text

    async def theme_tasks():
        return (await services.notifications.get("/v1/tasks", params={"subject": subject})).json()["items"]

    for _ in range(2):
        await complaint(services, product)
    await complaint(services, f"{product}-other")  # another theme: counts for nothing here
    themes = (
        await services.feedback.get("/v1/reports/themes", params={"since": "2026-01-01T00:00:00Z", "limit": 100})
    ).json()["themes"]
    assert not any(t["product"] == product and t["escalate"] for t in themes)
    await complaint(services, product)  # the third customer: escalated

    async def one_task():
        return await theme_tasks() or None

    [task] = await eventually(one_task, timeout=30)
    assert (task["type"], task["customer_id"], task["priority"], task["assignee"]) == (
        "theme_review",
        None,
        "high",
        manager,
    )
    assert task["title"].startswith(f"Recurring complaint theme service.commercial_dispute / {product}: 3 customers")
    assert await theme_tasks() == [task]
