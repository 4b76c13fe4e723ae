"""`make install` / `make run` build the web console only when its sources changed (no npm here: file times)."""

from __future__ import annotations

import os
from pathlib import Path

from crm_devstack import console
from crm_devstack.stack import procfile_commands, run_commands


def _touch(path: Path, mtime: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(path.name)
    os.utime(path, (mtime, mtime))


def test_dist_is_rebuilt_only_when_a_source_is_newer(tmp_path: Path) -> None:
    _touch(tmp_path / "package.json", 100)
    _touch(tmp_path / "src" / "main.ts", 100)
    assert console.needs_build(tmp_path), "no dist yet"
    _touch(tmp_path / "dist" / "index.html", 200)
    assert not console.needs_build(tmp_path)
    _touch(tmp_path / "src" / "views" / "tasks.ts", 300)
    assert console.needs_build(tmp_path), "a changed source"
    _touch(tmp_path / "dist" / "index.html", 400)
    _touch(tmp_path / "node_modules" / "left-pad" / "index.js", 500)
    assert not console.needs_build(tmp_path), "node_modules is not a source"


def test_dependencies_are_installed_when_missing_or_the_lock_changed(tmp_path: Path) -> None:
    _touch(tmp_path / "package-lock.json", 100)
    assert console.needs_install(tmp_path)
    _touch(tmp_path / "node_modules" / ".package-lock.json", 200)
    assert not console.needs_install(tmp_path)
    _touch(tmp_path / "package-lock.json", 300)
    assert console.needs_install(tmp_path)


def test_without_the_app_nothing_is_built_and_the_server_shows_its_placeholder(tmp_path: Path) -> None:
    assert console.ensure_built(tmp_path) is False
    assert not (tmp_path / "dist").exists()


def test_make_run_starts_the_console_server_beside_the_eight_processes() -> None:
    commands = run_commands()
    assert commands.items() >= procfile_commands().items()
    assert set(commands) - set(procfile_commands()) == {"console"}
    assert commands["console"] == "exec crm-console"
