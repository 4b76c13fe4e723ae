"""My work and Cases in a real Chromium: a complaint's task arrives in my queue live and is cancelled
with a reason; a case is resolved in the console and reopened live by the customer's unhappy survey."""

from __future__ import annotations

import uuid
from typing import Any

from tests.console.helpers import api, poll, sign_in


def _customer(client: Any, name: str) -> dict[str, Any]:
    customer: dict[str, Any] = client.get("/contacts/v1/customers/search", params={"q": name}).json()["items"][0][
        "customer"
    ]
    return customer


def _complaint(client: Any, customer_id: str, description: str) -> dict[str, Any]:
    answer = client.post(
        "/feedback/v1/feedback",
        json={
            "customer_id": customer_id,
            "type": "complaint",
            "category": "purchase.time",
            "severity": "medium",
            "channel": "phone",
            "description": description,
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert answer.status_code == 201, answer.text
    feedback: dict[str, Any] = answer.json()
    return feedback


def test_new_task_arrives_in_my_queue_live_and_is_cancelled(
    page: Any, console_url: str, dev_token: Any, screenshot: Any
) -> None:
    alice = dev_token("alice", "account_manager")
    sign_in(page, alice, "/#/work")
    mine = page.locator("#my-tasks")
    mine.locator("li.task").first.wait_for()
    page.locator("[data-live=open]").wait_for(timeout=10_000)
    before = set(mine.locator("li.task").evaluate_all("els => els.map((e) => e.dataset.taskId)"))

    with api(console_url, alice) as client:
        customer = _customer(client, "Hollis & Wren Health Systems")
        assert customer["owner"] == "alice"
        _complaint(client, customer["id"], "Nobody called back about the delayed order.")

    new = poll(
        lambda: [
            i
            for i in mine.locator("li.task").evaluate_all("els => els.map((e) => e.dataset.taskId)")
            if i not in before
        ],
        timeout=15,
    )
    task = mine.locator(f"li.task[data-task-id='{new[0]}']")
    screenshot("my-work-live")
    task.get_by_role("button", name="Cancel task").click()
    task.get_by_label("Reason").fill("Duplicate of the call-back already planned.")
    task.get_by_role("button", name="Cancel task").click()
    task.wait_for(state="detached")
    with api(console_url, alice) as client:
        cancelled = client.get(f"/notifications/v1/tasks/{new[0]}").json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["outcome"] == "Duplicate of the call-back already planned."


def test_resolved_case_reopens_live_after_an_unhappy_survey(
    page: Any, console_url: str, dev_token: Any, screenshot: Any
) -> None:
    maya = dev_token("maya", "service_manager")
    with api(console_url, maya) as client:
        customer = _customer(client, "Cobalt Street Cycles")
        case = _complaint(client, customer["id"], "The repaired bike came back with the same fault.")

    sign_in(page, maya, f"/#/cases/{case['id']}")
    detail = page.locator("#case-detail")
    detail.locator("[data-sla=running]").first.wait_for()
    assert "due in" in detail.locator("[data-sla=running]").first.inner_text()
    page.locator("[data-live=open]").wait_for(timeout=10_000)

    detail.get_by_label("Move to").select_option("resolved")
    detail.get_by_label("Reason", exact=True).fill("Replaced the gear hub; tested with the customer.")
    # A complaint is resolved with its cause and remedy (the cause Pareto counts them).
    detail.get_by_label("Cause").select_option(index=1)
    detail.get_by_label("Remedy").fill("Gear hub replaced under warranty.")
    detail.get_by_role("button", name="Move to").click()
    detail.get_by_role("heading", name="purchase › time — resolved").wait_for()  # noqa: RUF001

    # The customer answers the follow-up survey unhappily: the case reopens by itself, on screen.
    with api(console_url, maya) as client:
        survey = client.post(
            "/feedback/v1/feedback",
            json={
                "customer_id": customer["id"],
                "type": "survey_response",
                "channel": "survey",
                "description": "Still broken.",
                "survey": {"metric": "csat", "score": 1},
                "related_feedback_id": case["id"],
            },
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert survey.status_code == 201, survey.text
    detail.get_by_role("heading", name="purchase › time — in progress").wait_for(timeout=15_000)  # noqa: RUF001
    detail.locator("li", has_text="Reopen").first.wait_for()
    screenshot("case-reopened")
