"""The console's views in a real Chromium: the stale-edit conflict screen, the dashboard's charts from
seeded feedback, the language switch, and no serious accessibility violations on any page (axe-core)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.console.helpers import api, describe, sign_in


def _customer_id(console_url: str, token: str, name: str) -> str:
    with api(console_url, token) as client:
        hits = client.get("/contacts/v1/customers/search", params={"q": name}).json()["items"]
    customer_id: str = hits[0]["customer"]["id"]
    return customer_id


def test_stale_edit_shows_who_changed_what(page: Any, console_url: str, dev_token: Any, screenshot: Any) -> None:
    alice = dev_token("alice", "account_manager")
    # One of alice's own key accounts: an account manager reaches only their customers.
    customer_id = _customer_id(console_url, alice, "Hollis & Wren Health Systems")
    sign_in(page, alice, f"/#/customers/{customer_id}")
    page.get_by_role("button", name="Edit the card").click()
    form = page.get_by_role("form", name="Edit the card")
    form.get_by_label("region").wait_for()

    # Meanwhile Maya moves the customer to another region (she read the record after Alice opened the form).
    with api(console_url, dev_token("maya", "service_manager")) as client:
        current = client.get(f"/contacts/v1/customers/{customer_id}")
        changed = client.patch(
            f"/contacts/v1/customers/{customer_id}",
            json={"region": "AMER West"},
            headers={"If-Match": current.headers["ETag"], "Idempotency-Key": str(uuid.uuid4())},
        )
        assert changed.status_code == 200, changed.text

    form.get_by_label("region").fill("EMEA North")
    form.get_by_role("button", name="Save").click()
    conflict = page.locator("[data-conflict=true]")
    conflict.wait_for()
    text = conflict.inner_text()
    assert "Someone else changed this customer" in text
    assert "maya" in text and "region" in text and "AMER West" in text
    screenshot("conflict")

    with api(console_url, alice) as client:
        assert client.get(f"/contacts/v1/customers/{customer_id}").json()["region"] != "EMEA North"

    # Their version loads; the edit saved on top of it goes through.
    conflict.get_by_role("button", name="Load their version and edit again").click()
    expect(form.get_by_label("region")).to_have_value("AMER West")
    form.get_by_label("region").fill("EMEA North")
    form.get_by_role("button", name="Save").click()
    page.locator("#profile dd", has_text="EMEA North").wait_for()


def test_dashboard_charts_the_seeded_feedback(page: Any, console_url: str, dev_token: Any, screenshot: Any) -> None:
    sign_in(page, dev_token("olga", "analyst"), "/#/dashboard")
    for indicator in ("nps", "csat", "complaint_rate_per_100"):
        chart = page.locator(f"[data-indicator={indicator}]")
        chart.locator("canvas").wait_for()
        # The text under each chart carries the latest value and its sample: seeded answers count.
        assert "n=0" not in chart.locator("figcaption").inner_text()
    complaints = page.locator("#complaints")
    complaints.locator("canvas").wait_for()
    # The seed's one product-quality complaint (other tests add only delivery complaints).
    assert "quality: 1" in complaints.locator("figcaption").inner_text()
    page.locator("#themes li").first.wait_for()
    page.get_by_label("Cut by").select_option("tier")
    page.locator("[data-indicator=nps] .u-legend", has_text="key").wait_for()
    screenshot("dashboard")


def test_language_switch_is_remembered(page: Any, dev_token: Any, screenshot: Any) -> None:
    sign_in(page, dev_token("erin", "agent"), "/#/desk")
    page.get_by_label("Language").select_option("zh-CN")
    page.get_by_role("heading", name="来电台").wait_for()
    assert page.get_by_role("navigation").get_by_role("link", name="我的工作").is_visible()
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    page.reload()
    page.get_by_role("heading", name="来电台").wait_for()
    page.get_by_label("电话、邮箱或姓名").fill("Nordlicht")
    page.get_by_role("button", name="查找").click()
    page.locator("#customer-card dt", has_text="等级").wait_for()
    screenshot("desk-zh")
    page.get_by_label("语言").select_option("en")
    page.get_by_role("heading", name="Caller desk").wait_for()


PAGES = [
    ("sign-in", None, "/", "form"),
    ("desk", ("erin", "agent"), "/#/desk", "#desk-query"),
    ("customer-360", ("alice", "account_manager"), "/#/customers/{k01}", "#trend canvas"),
    ("my-work", ("alice", "account_manager"), "/#/work", "#my-tasks li.task"),
    ("cases", ("maya", "service_manager"), "/#/cases", "#case-list tbody tr"),
    ("case", ("maya", "service_manager"), "/#/cases/{case}", "#case-detail"),
    ("dashboard", ("olga", "analyst"), "/#/dashboard", "[data-indicator=nps] canvas"),
    ("admin", ("root", "admin"), "/#/admin", "#admin-list li"),
]


@pytest.mark.parametrize(("name", "user", "path", "ready"), PAGES, ids=[p[0] for p in PAGES])
def test_page_has_no_serious_accessibility_violations(
    page: Any,
    console_url: str,
    dev_token: Any,
    axe: Any,
    screenshot: Any,
    name: str,
    user: tuple[str, str] | None,
    path: str,
    ready: str,
) -> None:
    admin = dev_token("root", "admin")
    k01 = _customer_id(console_url, admin, "Nordlicht Logistik")
    with api(console_url, admin) as client:
        case = client.get("/feedback/v1/feedback", params={"customer_id": k01, "type": "complaint"}).json()["items"][0]
    path = path.format(k01=k01, case=case["id"])
    if user:
        sign_in(page, dev_token(*user), path)
    else:
        page.goto(path)
    page.locator(ready).first.wait_for()
    violations = axe(page)
    screenshot(name)
    assert violations == [], describe(violations)


@pytest.mark.parametrize(
    ("user", "shown", "hidden"),
    [
        (("olga", "analyst"), ["My work", "Cases", "Dashboard"], ["Caller desk", "Admin"]),
        (("erin", "agent"), ["Caller desk", "My work", "Cases", "Dashboard"], ["Admin"]),
        (("root", "admin"), ["Caller desk", "My work", "Cases", "Dashboard", "Admin"], []),
    ],
    ids=["analyst", "agent", "admin"],
)
def test_menu_shows_only_what_the_token_can_use(
    page: Any, console_url: str, dev_token: Any, user: tuple[str, str], shown: list[str], hidden: list[str]
) -> None:
    sign_in(page, dev_token(*user), "/")
    nav = page.get_by_role("navigation")
    nav.get_by_role("link").first.wait_for()
    links = nav.get_by_role("link").all_inner_texts()
    assert links == shown
    for name in hidden:
        assert name not in links
    if user[1] == "analyst":
        # Read-only: it lands on the first page it may use; a customer's tasks and card have no write buttons.
        page.get_by_role("heading", name="My work").wait_for()
        k01 = _customer_id(console_url, dev_token("root", "admin"), "Nordlicht Logistik")
        page.goto(f"/#/customers/{k01}")
        page.locator("#tasks li.task").first.wait_for()
        assert page.get_by_role("button", name="Claim").count() == 0
        assert page.get_by_role("button", name="Edit the card").count() == 0


def test_admin_rescores_everyone_with_progress(page: Any, dev_token: Any, screenshot: Any) -> None:
    sign_in(page, dev_token("root", "admin"), "/#/admin")
    page.get_by_role("tab", name="Scorecard").click()
    editor = page.get_by_label("scorecard", exact=True)
    editor.wait_for()
    assert '"weights"' in editor.input_value()
    page.get_by_role("button", name="Rescore everyone").click()
    page.locator("#scorecard [role=status]", has_text="Run done").wait_for(timeout=60_000)
    screenshot("admin-rescore")


def test_caller_desk_works_from_the_keyboard(page: Any, dev_token: Any) -> None:
    sign_in(page, dev_token("erin", "agent"), "/#/desk")
    page.get_by_role("heading", name="Caller desk").wait_for()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "desk-query"
    page.keyboard.type("+44 20 7946 0001")
    page.keyboard.press("Enter")
    page.locator("#customer-card").get_by_role("heading", name="Nordlicht Logistik GmbH").wait_for()
    # Tab order reaches the feedback form's fields after the card.
    page.get_by_label("Description").focus()
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == "fb-channel"
