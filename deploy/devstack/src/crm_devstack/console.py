"""Builds the web console (console/ -> console/dist) for `make run` when its sources changed.

`npm ci` when node_modules is missing or older than package-lock.json, `npm run build` when any
source is newer than dist/index.html. Without console/ or npm, it says so and the console server
serves its placeholder page.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

log = logging.getLogger("crm_devstack")

CONSOLE_DIR = Path(__file__).resolve().parents[4] / "console"

# What the build reads besides src/ and public/ (vite and TypeScript configs, the page shell).
_INPUTS = ("index.html", "package.json", "package-lock.json", "tsconfig.json", "vite.config.ts", "vite.config.js")


def _newest(paths: list[Path]) -> float:
    newest = 0.0
    for path in paths:
        if path.is_dir():
            newest = max([newest, *(f.stat().st_mtime for f in path.rglob("*") if f.is_file())])
        elif path.is_file():
            newest = max(newest, path.stat().st_mtime)
    return newest


def sources(console: Path) -> list[Path]:
    return [console / "src", console / "public", *(console / name for name in _INPUTS)]


def needs_build(console: Path) -> bool:
    index = console / "dist" / "index.html"
    return not index.is_file() or _newest(sources(console)) > index.stat().st_mtime


def needs_install(console: Path) -> bool:
    modules = console / "node_modules"
    lock = console / "package-lock.json"
    marker = modules / ".package-lock.json"  # npm writes it on every install
    return not marker.is_file() or (lock.is_file() and lock.stat().st_mtime > marker.stat().st_mtime)


def ensure_built(console: Path) -> bool:
    """Build console/dist if needed; True when dist is up to date afterwards."""
    if not (console / "package.json").is_file():
        log.warning("no console/ app yet: the console server shows a placeholder page")
        return False
    if not needs_build(console):
        return True
    npm = shutil.which("npm")
    if npm is None:
        log.warning("console/dist is missing or stale and npm is not installed (install Node.js 20+)")
        return False
    if needs_install(console):
        log.info("console: npm ci")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=console, check=True)
    log.info("console: npm run build")
    subprocess.run([npm, "run", "build"], cwd=console, check=True)
    return True


def main() -> int:
    """`python -m crm_devstack.console` (make install): dependencies and build, when needed."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s devstack %(message)s")
    try:
        ensure_built(CONSOLE_DIR)
    except subprocess.CalledProcessError as exc:
        log.error("console: %s failed (exit %s)", " ".join(map(str, exc.cmd)), exc.returncode)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
