"""Browser tests of the web console: the stack as `make run` starts it, seeded, and a real Chromium.

- `console_system` (this package): PostgreSQL + the broker on free ports, the eight Procfile processes
  and the console server as separate processes (crm_devstack.stack.run_commands), the demo data
  of `crmctl seed` loaded through the apis.
- `console_url`: where the console server listens; `dev_token(subject, role)`: a dev sign-in token.
- `browser` (this package) / `page`: Playwright (PyPI `playwright`) driving Debian's /usr/bin/chromium;
  never `playwright install`. Without Chromium every test fails with one clear line.
- `axe(page)`: runs axe-core (console/node_modules/axe-core) on the page; its serious and critical violations.
- `screenshot(name)`: writes docs/console/<name>.png of `page`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from crm_devstack.stack import ROOT, run_commands
from crm_devstack.supervisor import ProcessSupervisor, wait_until_ready
from crm_devstack.testing import LiveSystem, new_stack

CHROMIUM = Path(os.environ.get("CRM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = ROOT / "console" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "console"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.e2e)


class ConsoleSystem(LiveSystem):
    @property
    def console_url(self) -> str:
        return self.stack.console_url()


def _wait_for_console(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"the console server at {url} did not answer within {timeout}s")
        time.sleep(0.2)


def _seed(stack: Any, token: str) -> None:
    from crmctl.seed import seed

    urls = {service: stack.api_url(service) for service in stack.config.service_ports}
    # In a thread: its own event loop, whatever pytest-asyncio holds.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, seed(urls, token)).result()


@pytest.fixture(scope="package")
def console_system(tmp_path_factory: pytest.TempPathFactory, token: str) -> Iterator[ConsoleSystem]:
    stack = new_stack(tmp_path_factory.mktemp("console"))
    supervisor = ProcessSupervisor(run_commands(), stack.env(), stack.config.data_dir / "logs", ROOT)
    try:
        supervisor.start_all()
        wait_until_ready([stack.api_url(s) for s in stack.config.service_ports])
        _wait_for_console(stack.console_url())
        _seed(stack, token)
        yield ConsoleSystem(stack, supervisor)
    finally:
        supervisor.stop_all()
        stack.stop()


@pytest.fixture(scope="package")
def console_url(console_system: ConsoleSystem) -> str:
    return console_system.console_url


@pytest.fixture(scope="package")
def dev_token(console_url: str) -> Callable[[str, str], str]:
    def mint(subject: str, role: str) -> str:
        answer = httpx.post(f"{console_url}/auth/dev/token", json={"subject": subject, "role": role}, timeout=10)
        answer.raise_for_status()
        token: str = answer.json()["access_token"]
        return token

    return mint


# Package scope, not session: Playwright's sync API keeps an event loop running in this thread
# while it is open, so the suites after this folder (asyncio.run in their stack fixtures) need it
# closed, and the console's own stack stopped, once the browser tests are done.
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium is missing: apt-get install chromium (looked for {CHROMIUM})", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Any, console_url: str) -> Iterator[Any]:
    context = browser.new_context(base_url=console_url, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="session")
def axe() -> Callable[[Any], list[dict[str, Any]]]:
    """axe(page) -> the page's serious and critical accessibility violations (axe-core's own report)."""

    def run(page: Any) -> list[dict[str, Any]]:
        if not AXE.is_file():
            pytest.fail(f"axe-core is missing: {AXE} (make install runs npm ci in console/)", pytrace=False)
        page.add_script_tag(path=str(AXE))
        violations: list[dict[str, Any]] = page.evaluate("async () => (await axe.run(document)).violations")
        return [v for v in violations if v.get("impact") in ("serious", "critical")]

    return run


@pytest.fixture
def screenshot(page: Any) -> Callable[..., Path]:
    """screenshot(name) -> docs/console/<name>.png of the whole `page` (or of `target`, another page)."""

    def take(name: str, target: Any = None) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        (target or page).screenshot(path=str(path), full_page=True)
        return path

    return take
