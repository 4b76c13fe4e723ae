"""The call-centre flow in a real Chromium: find the caller by a 13800138000-style number, record a
complaint (a double click records one), see the new task and score appear live, claim and complete it."""

from __future__ import annotations

import time
import uuid
from typing import Any

from tests.console.helpers import api, poll

PHONE = "+86 138 0013 8000"


def _customer(console_url: str, token: str) -> dict[str, Any]:
    with api(console_url, token) as client:
        found = client.get("/contacts/v1/customers", params={"phone": PHONE}).json()["items"]
        if found:
            return found[0]
        answer = client.post(
            "/contacts/v1/customers",
            json={"name": "Wang Logistics Shanghai", "phone": PHONE, "tier": "gold", "owner": "erin", "region": "APAC"},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert answer.status_code in (200, 201), answer.text
        return answer.json()


def test_caller_found_by_number_complaint_shows_live_then_claimed_and_completed(
    page: Any, console_url: str, dev_token: Any, screenshot: Any
) -> None:
    admin = dev_token("root", "admin")
    customer = _customer(console_url, admin)

    # Sign in as the agent on the dev sign-in page.
    page.goto("/")
    page.get_by_label("User").select_option("erin")
    page.get_by_label("Role").select_option("agent")
    page.get_by_role("button", name="Sign in").click()

    # The number as the caller reads it out: no country code, no spaces.
    page.get_by_label("Phone, email or name").fill("13800138000")
    page.get_by_role("button", name="Find").click()
    card = page.locator("#customer-card")
    card.get_by_role("heading", name="Wang Logistics Shanghai").wait_for()
    assert card.locator("[data-field=tier]").inner_text() == "gold"
    assert card.locator("[data-field=owner]").inner_text() == "erin"
    card.locator("[data-live=open]").wait_for(timeout=10_000)
    tasks_before = int(card.locator("[data-field=open-tasks]").inner_text())
    health_before = card.locator("[data-field=band]").get_attribute("data-health")

    form = page.locator("#feedback-form")
    form.get_by_label("Type").select_option("complaint")
    form.get_by_label("Category").select_option("service.delivery")
    form.get_by_label("Severity").select_option("high")
    form.get_by_label("Channel").select_option("phone")
    form.get_by_label("Description").fill("The pallets arrived two days late again.")
    started = time.monotonic()
    form.get_by_role("button", name="Record").dblclick()

    # The new task and the new score arrive over the live streams, without a reload.
    task = card.locator("li.task[data-status=open]", has_text="Call back about a high complaint")
    task.wait_for(timeout=2_000)
    task_seconds = time.monotonic() - started
    page.wait_for_function(
        "([before]) => { const el = document.querySelector('#customer-card [data-field=band]');"
        " return el && el.dataset.health !== '' && el.dataset.health !== before; }",
        arg=[health_before or ""],
        timeout=2_000,
    )
    score_seconds = time.monotonic() - started
    print(f"\ncomplaint -> task on screen: {task_seconds:.3f} s; -> new score on screen: {score_seconds:.3f} s")
    assert int(card.locator("[data-field=open-tasks]").inner_text()) >= tasks_before + 1
    screenshot("caller-desk")

    # One complaint for the double click (one Idempotency-Key per form).
    with api(console_url, admin) as client:
        complaints = client.get(
            "/feedback/v1/feedback", params={"customer_id": customer["id"], "type": "complaint"}
        ).json()["items"]
        recorded = [c for c in complaints if c["description"] == "The pallets arrived two days late again."]
        assert len(recorded) == 1, recorded

    task_id = task.get_attribute("data-task-id")
    task.get_by_role("button", name="Claim").click()
    claimed = card.locator(f"li.task[data-task-id='{task_id}'][data-status=claimed]")
    claimed.wait_for()
    claimed.get_by_role("button", name="Complete").click()
    claimed.get_by_label("Outcome").fill("Called back; next delivery expedited.")
    claimed.get_by_role("button", name="Complete").click()
    card.locator(f"li.task[data-task-id='{task_id}']").wait_for(state="detached")

    with api(console_url, admin) as client:
        done = poll(lambda: (t := client.get(f"/notifications/v1/tasks/{task_id}").json())["status"] == "done" and t)
    assert done["outcome"] == "Called back; next delivery expedited."
    assert done["claimed_by"] == "erin"


def test_unknown_caller_becomes_a_lead(page: Any, console_url: str, dev_token: Any) -> None:
    from tests.console.helpers import sign_in

    sign_in(page, dev_token("farid", "agent"))
    number = f"+86 139 {uuid.uuid4().int % 10**8:08d}"
    page.get_by_label("Phone, email or name").fill(number)
    page.get_by_role("button", name="Find").click()
    form = page.locator("#feedback-form")
    form.get_by_label("Caller's name").fill("Li Na")
    form.get_by_label("Type").select_option("inquiry")
    form.get_by_label("Description").fill("Do you deliver to Suzhou?")
    form.get_by_role("button", name="Record").click()
    form.get_by_role("status").wait_for()

    with api(console_url, dev_token("root", "admin")) as client:
        lead = poll(lambda: client.get("/contacts/v1/customers", params={"phone": number}).json()["items"])
    assert lead[0]["name"] == "Li Na"
    assert lead[0]["lifecycle_stage"] == "lead"
