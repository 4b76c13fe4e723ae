"""pytest fixtures for integration and end-to-end tests: the real PostgreSQL and broker.

- `dev_stack` (session): PostgreSQL + Apache Kafka (Tansu where Java/Maven are missing) on free ports in a temp folder, databases migrated,
  topics created, and the services' env variables pointing at them.
- `services` (session): the four apis (uvicorn, real sockets) and four workers running inside
  the test process, so integration tests drive real HTTP and real Kafka without process spawns.
- `token`, `auth_headers`: a dev token with every scope.
- `kafka_events`: reads what a topic holds, to assert on published events.
- `console_server` (session): the web console's server (crm_console) in-process on a free port,
  in front of the `services` apis; `console` is an httpx client for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import random
import signal
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest
import pytest_asyncio
import uvicorn
from aiokafka import AIOKafkaConsumer

from crm_devstack.stack import ROOT, SERVICES, DevStack, StackConfig, procfile_commands
from crm_devstack.supervisor import ProcessSupervisor, wait_until_ready
from crm_shared.messaging.topics import partitions_of


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # the Linux default


_handed_out: set[int] = set()


def free_port() -> int:
    """A port nothing listens on, below the kernel's ephemeral range.

    A port the kernel picked for `bind(0)` is an ephemeral one: between our probe and the server's
    bind, any outgoing connection (asyncpg, aiokafka, the broker's own) may take it as its local
    port, and the api then dies with "address already in use" (a rare, machine-dependent flake).
    Ports below the ephemeral range are only ever taken by an explicit bind.
    """
    low, _ = _ephemeral_range()
    start, stop = (20000, low) if low > 21000 else (low // 2, low)
    for _ in range(200):
        port = random.randrange(start, stop)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port found between {start} and {stop}")


def _stop_the_run(what: str, error: Exception) -> NoReturn:
    """Every integration test needs this fixture: say why once and stop, rather than fail hundreds.

    (pytest 9.1+ also reports the tests after a fixture whose dependency failed with a bare
    internal AssertionError, which would hide the cause at the end of a CI log.)
    """
    pytest.exit(f"{what}: {type(error).__name__}: {error}", returncode=3)


def new_stack(tmp_dir: Any) -> DevStack:
    config = StackConfig(
        data_dir=tmp_dir,
        pg_port=free_port(),
        kafka_port=free_port(),
        kafka_controller_port=free_port(),
        service_ports={service: free_port() for service in SERVICES},
        metrics_ports={service: free_port() for service in SERVICES},
        console_port=free_port(),
    )
    stack = DevStack(config)
    stack.start()
    return stack


@pytest.fixture(scope="session")
def dev_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    try:
        stack = new_stack(tmp_path_factory.mktemp("stack"))
    except Exception as exc:
        _stop_the_run("the dev stack (PostgreSQL + broker) could not start", exc)
    saved = dict(os.environ)
    os.environ.update({k: v for k, v in stack.env().items() if k != "PATH"})
    try:
        yield stack
    finally:
        os.environ.clear()
        os.environ.update(saved)
        stack.stop()


class RunningServices:
    """Clients for the in-process apis of every installed service, plus the workers' consumers for inspection."""

    def __init__(self, stack: DevStack, clients: dict[str, httpx.AsyncClient], workers: dict[str, Any]) -> None:
        self.stack = stack
        self.clients = clients
        self.workers = workers

    def __getattr__(self, service: str) -> httpx.AsyncClient:
        try:
            return self.clients[service]
        except KeyError as exc:
            raise AttributeError(service) from exc


@pytest_asyncio.fixture(scope="session")
async def services(dev_stack: DevStack, token: str) -> AsyncIterator[RunningServices]:
    from crm_shared.services import service_manifests
    from crm_shared.worker import Worker

    # Every installed service (its manifest), by the shape all share: main, worker, config.
    modules = {
        m.name: (
            importlib.import_module(f"{m.name}.main"),
            importlib.import_module(f"{m.name}.worker"),
            importlib.import_module(f"{m.name}.config").Settings,
        )
        for m in service_manifests()
    }
    stop = asyncio.Event()
    servers: list[uvicorn.Server] = []
    tasks: list[asyncio.Task[Any]] = []
    workers: dict[str, Worker] = {}
    for service, (main, worker_module, settings_cls) in modules.items():
        settings = settings_cls()
        server = uvicorn.Server(
            uvicorn.Config(
                main.create_app(settings), host="127.0.0.1", port=settings.port, log_level="warning", access_log=False
            )
        )
        servers.append(server)
        tasks.append(asyncio.create_task(_serve(service, server)))
        worker = Worker(settings, worker_module.consumers(), getattr(worker_module, "background", list)())
        workers[service] = worker
        tasks.append(asyncio.create_task(worker.run(stop)))
    try:
        await _until_started(servers, tasks)
    except Exception as exc:
        stop.set()
        for server in servers:
            server.should_exit = True
        await asyncio.wait(tasks, timeout=30)
        _stop_the_run("the in-process services could not start", exc)
    clients = {
        service: httpx.AsyncClient(
            base_url=dev_stack.api_url(service), headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        for service in modules
    }
    try:
        yield RunningServices(dev_stack, clients, workers)
    finally:
        for client in clients.values():
            await client.aclose()
        stop.set()
        for server in servers:
            server.should_exit = True
        await asyncio.wait(tasks, timeout=30)


@pytest_asyncio.fixture(scope="session")
async def console_server(services: RunningServices) -> AsyncIterator[str]:
    """The console server (what `make run` serves on :8000) before the in-process apis; its URL."""
    from crm_console.app import create_app
    from crm_console.settings import ConsoleSettings

    stack = services.stack
    urls = {f"{service}_url": stack.api_url(service) for service in stack.config.service_ports}
    settings = ConsoleSettings(env="dev", host="127.0.0.1", port=free_port(), **urls)
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host=settings.host, port=settings.port, log_level="warning")
    )
    task = asyncio.create_task(_serve("console", server))
    try:
        await _until_started([server], [task])
    except Exception as exc:
        server.should_exit = True
        _stop_the_run("the console server could not start", exc)
    try:
        yield f"http://{settings.host}:{settings.port}"
    finally:
        server.should_exit = True
        await asyncio.wait([task], timeout=10)


@pytest_asyncio.fixture
async def console(console_server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=console_server, timeout=10) as client:
        yield client


async def _serve(service: str, server: uvicorn.Server) -> None:
    """uvicorn exits the process (SystemExit) when its bind or the app's startup fails: here that
    is an ordinary error of the task, so the fixture reports it instead of pytest aborting the test."""
    try:
        await server.serve()
    except SystemExit as exc:
        raise RuntimeError(
            f"the {service} api could not start (uvicorn exit code {exc.code}); see the log above"
        ) from None


async def _until_started(servers: list[uvicorn.Server], tasks: list[asyncio.Task[Any]]) -> None:
    """Wait for every api to listen; a server or worker that dies first is a clear error.

    uvicorn answers a failed bind with `sys.exit(1)`: a SystemExit that pytest would not cache
    as the fixture's error, so every later test would see only an internal AssertionError.
    """
    deadline = asyncio.get_running_loop().time() + 60
    while not all(server.started for server in servers):
        for task in tasks:
            if task.done():
                error = task.exception() if not task.cancelled() else None
                raise RuntimeError(f"an in-process api or worker stopped while starting: {error!r}") from error
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError("the in-process apis did not start within 60 s")
        await asyncio.sleep(0.02)


class LiveSystem:
    """The stack as `make run` starts it: every Procfile process separate, killable one by one."""

    def __init__(self, stack: DevStack, supervisor: ProcessSupervisor) -> None:
        self.stack = stack
        self.supervisor = supervisor

    def url(self, service: str) -> str:
        return self.stack.api_url(service)

    def client(self, service: str, token: str) -> httpx.AsyncClient:
        """An HTTP client for one service's api, authenticated with `token`."""
        return httpx.AsyncClient(base_url=self.url(service), headers={"Authorization": f"Bearer {token}"}, timeout=10)

    def restart(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill one process (SIGKILL by default) and start it again; waits for an api to be ready."""
        self.stop(name, sig)
        self.start(name)

    def stop(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill one process and leave it down (to test what happens while it is away)."""
        self.supervisor.kill(name, sig)

    def start(self, name: str) -> None:
        """Start a stopped process again; waits for an api to be ready."""
        self.supervisor.start(name)
        if name.endswith("-api"):
            wait_until_ready([self.url(name.removesuffix("-api"))])


@pytest.fixture(scope="module")
def live_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSystem]:
    stack = new_stack(tmp_path_factory.mktemp("live"))
    supervisor = ProcessSupervisor(procfile_commands(), stack.env(), stack.config.data_dir / "logs", ROOT)
    try:
        supervisor.start_all()
        wait_until_ready([stack.api_url(s) for s in stack.config.service_ports])
        yield LiveSystem(stack, supervisor)
    finally:
        supervisor.stop_all()
        stack.stop()


@pytest.fixture(scope="session")
def token() -> str:
    from crm_shared.config import AuthSettings
    from crm_shared.http.auth import mint_token

    return mint_token(AuthSettings(), subject="tests")


@pytest.fixture(scope="session")
def auth_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def envelopes(records: list[Any]) -> list[Any]:
    """The records that are events; a topic may also hold the poison messages a test put there."""
    from pydantic import ValidationError

    from crm_shared.contracts import Envelope

    events = []
    for record in records:
        try:
            events.append(Envelope.model_validate_json(record.value or b""))
        except ValidationError:
            continue
    return events


async def read_topic(bootstrap: str, topic: str, *, timeout: float = 2.0) -> list[Any]:
    """Every record the topic holds now (from the beginning, no consumer group)."""
    # The stack's fetch wait (Tansu: short, it holds a fetch; Kafka: its default, it answers at once).
    fetch_max_wait_ms = int(os.environ.get("CRM_KAFKA_FETCH_MAX_WAIT_MS", "500"))
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=fetch_max_wait_ms,
    )
    await consumer.start()
    try:
        tps = await partitions_of(consumer, topic)
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        records: list[Any] = []
        deadline = asyncio.get_running_loop().time() + timeout
        while any([await consumer.position(tp) < end[tp] for tp in tps]):
            if asyncio.get_running_loop().time() > deadline:
                break
            batch = await consumer.getmany(timeout_ms=200)
            for items in batch.values():
                records.extend(items)
        return records
    finally:
        await consumer.stop()


async def eventually(check: Any, *, timeout: float = 20.0, interval: float = 0.05) -> Any:
    """Poll an async check until it returns a truthy value (event-driven work is asynchronous)."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: Any = None
    while True:
        with contextlib.suppress(AssertionError):
            last = await check()
            if last:
                return last
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value: {last!r})")
        await asyncio.sleep(interval)


def unique_phone() -> str:
    """A valid, unique US number (555-01xx numbers are reserved; use random subscriber parts)."""
    n = uuid.uuid4().int
    return f"+1 212 {200 + n % 800:03d} {n // 800 % 10000:04d}"


def unique_email(prefix: str = "customer") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:12]}@example.com"
