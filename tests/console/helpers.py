"""Helpers of the console's browser tests: sign in, wait, read the api as a test user."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

TOKEN_KEY = "crm.session.token"


def sign_in(page: Any, token: str, path: str = "/") -> None:
    """Opens the console already signed in with `token` (as the sign-in page leaves it)."""
    page.add_init_script(f"sessionStorage.setItem({json.dumps(TOKEN_KEY)}, {json.dumps(token)})")
    page.goto(path)


def api(console_url: str, token: str) -> httpx.Client:
    """The four apis through the console server's proxy, as the browser calls them."""
    return httpx.Client(base_url=f"{console_url}/api", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def poll(check: Any, *, timeout: float = 20.0, interval: float = 0.1) -> Any:
    """check() until it returns something truthy; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s: {check}")
        time.sleep(interval)


def describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['impact']}: {v['id']} ({v['help']}) at {[n['target'] for n in v['nodes']][:5]}" for v in violations
    )
