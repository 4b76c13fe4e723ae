"""The web console's own unit tests (Vitest: i18n, phone numbers, SSE parsing, PKCE, API retries with one
Idempotency-Key, work-queue order...), run by `make test` and `make test-unit` through npm."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

CONSOLE = Path(__file__).resolve().parents[2] / "console"


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: the console's unit tests need Node 20 and npm")
    return npm


def test_console_unit_tests_pass() -> None:
    npm = _npm()
    env = {**os.environ, "CI": "true", "NO_COLOR": "1", "FORCE_COLOR": "0"}
    if not (CONSOLE / "node_modules" / ".package-lock.json").exists():
        install = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=CONSOLE, env=env, capture_output=True, text=True, timeout=600
        )
        assert install.returncode == 0, f"npm ci failed:\n{install.stdout}\n{install.stderr}"
    result = subprocess.run([npm, "test"], cwd=CONSOLE, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"npm test (vitest run) failed:\n{result.stdout}\n{result.stderr}"
