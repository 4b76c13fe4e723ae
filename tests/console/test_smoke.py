"""Smoke: the console server serves the app, dev sign-in mints a token the proxied apis accept, and a
live event reaches the browser (read with fetch and a stream reader, as the app does)."""

from __future__ import annotations

import uuid

import httpx

from crm_devstack.stack import ROOT

# In the browser: a stream of /api/notifications/v1/live read into window.__live (events as text).
OPEN_STREAM = """async ([url, token]) => {
  window.__live = [];
  window.__liveConnected = false;
  const response = await fetch(url, {headers: {Authorization: `Bearer ${token}`}});
  if (!response.ok) return response.status;
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  (async () => {
    for (;;) {
      const {value, done} = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, {stream: true});
      let end;
      while ((end = buffer.indexOf("\\n\\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith(": connected")) window.__liveConnected = true;
        else if (!block.startsWith(":")) window.__live.push(block);
      }
    }
  })();
  return response.status;
}"""


def test_the_console_signs_in_reads_through_the_proxy_and_receives_live_events(page, console_url, dev_token) -> None:
    response = page.goto("/")
    if (ROOT / "console" / "package.json").is_file():
        assert response.status == 200, "make install builds console/dist"
        assert page.locator("script[type=module]").count() >= 1
    else:  # the app is not in this checkout: the server says how to build it
        assert response.status == 503 and "npm run build" in page.content()

    # Sign-in as the app does it: the mode, the demo users, a token; then an api through the proxy.
    signed_in = page.evaluate(
        """async () => {
          const mode = (await (await fetch("/auth/config")).json()).mode;
          const users = await (await fetch("/auth/dev/users")).json();
          const erin = users.find((u) => u.subject === "erin");
          const minted = await fetch("/auth/dev/token", {
            method: "POST", headers: {"Content-Type": "application/json"},
            body: JSON.stringify({subject: erin.subject, role: erin.role}),
          });
          const token = (await minted.json()).access_token;
          const customers = await fetch("/api/contacts/v1/customers?limit=50", {headers: {Authorization: `Bearer ${token}`}});
          return {mode, role: erin.role, status: customers.status, names: (await customers.json()).items.map((c) => c.name)};
        }"""
    )
    assert signed_in["mode"] == "dev" and signed_in["role"] == "agent" and signed_in["status"] == 200
    assert "Nordlicht Logistik GmbH" in signed_in["names"]  # the seeded demo data

    token = dev_token("maya", "service_manager")
    customers = httpx.get(
        f"{console_url}/api/contacts/v1/customers",
        params={"limit": 1, "owner": "bob"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()["items"]
    customer_id = customers[0]["id"]
    status = page.evaluate(OPEN_STREAM, [f"/api/notifications/v1/live?customer_id={customer_id}", token])
    assert status == 200
    page.wait_for_function("window.__liveConnected === true", timeout=15_000)

    complaint = {
        "customer_id": customer_id,
        "type": "complaint",
        "category": "service.delivery",
        "severity": "medium",
        "channel": "email",
        "description": "The smoke test's complaint.",
        "external_ref": f"smoke-{uuid.uuid4()}",
    }
    posted = httpx.post(
        f"{console_url}/api/feedback/v1/feedback", json=complaint, headers={"Authorization": f"Bearer {token}"}
    )
    assert posted.status_code == 201, posted.text
    page.wait_for_function(
        "window.__live.some((e) => e.startsWith('event: task') && e.includes('service_recovery'))", timeout=30_000
    )
    event = page.evaluate("window.__live.find((e) => e.startsWith('event: task'))")
    assert f'"customer_id":"{customer_id}"' in event.replace(" ", "")
