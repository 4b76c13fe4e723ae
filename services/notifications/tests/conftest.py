"""Real peers for the notifications worker: an SMTP server (aiosmtpd) and an HTTP receiver
(SMS gateway and webhook endpoints), each in a thread on a free port.

They start when this conftest is registered, at collection, and their addresses go into the
NOTIFICATIONS_* environment then: the session `services` fixture builds the worker's settings
from the environment when it first starts, which may be for another folder's test, but never
before collection ends. Short retry backoff and a low attempt limit keep the retry tests fast.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from crm_devstack.testing import free_port

MAX_ATTEMPTS = 5


class Inbox:
    """What the SMTP server received (aiosmtpd handler)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.mails: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.mails.append((list(envelope.rcpt_tos), message_from_bytes(envelope.original_content)))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        with self.lock:
            return [mail for rcpts, mail in self.mails if address in rcpts]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP endpoint that records every POST and answers from a per-path script."""

    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: list[Received] = field(default_factory=list)
    scripts: dict[str, list[int]] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, path: str, statuses: list[int]) -> None:
        """The next requests to `path` get these statuses, in order; then 200."""
        with self.lock:
            self.scripts[path] = list(statuses)

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def _respond(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            script = self.scripts.get(path) or []
            status = script.pop(0) if script else 200
            self.requests.append(Received(path, headers, body, status))
            return status


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            status = receiver._respond(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@dataclass
class Peers:
    inbox: Inbox
    receiver: Receiver
    smtp: Controller
    http: ThreadingHTTPServer


_peers: Peers | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _peers
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    receiver = Receiver()
    http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    http.daemon_threads = True
    receiver.port = http.server_address[1]
    threading.Thread(target=http.serve_forever, name="test-http-receiver", daemon=True).start()
    _peers = Peers(inbox, receiver, smtp, http)
    os.environ.update(
        {
            "NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
            "NOTIFICATIONS_SMTP_PORT": str(smtp.port),
            "NOTIFICATIONS_SMTP_FROM": "crm@crm.example",
            "NOTIFICATIONS_SMTP_STARTTLS": "false",  # the test mail sink speaks plain SMTP
            "NOTIFICATIONS_SMS_GATEWAY_URL": receiver.url("/sms"),
            "NOTIFICATIONS_SMS_GATEWAY_TOKEN": "sms-test-token",
            "NOTIFICATIONS_DELIVERY_BACKOFF_SECONDS": "0.05",
            "NOTIFICATIONS_DELIVERY_BACKOFF_MAX_SECONDS": "0.2",
            "NOTIFICATIONS_DELIVERY_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
            "NOTIFICATIONS_DELIVERY_TIMEOUT_SECONDS": "3",
        }
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    if _peers is not None:
        _peers.smtp.stop()
        _peers.http.shutdown()
        _peers.http.server_close()


@pytest.fixture(scope="session")
def inbox() -> Inbox:
    assert _peers is not None
    return _peers.inbox


@pytest.fixture(scope="session")
def receiver() -> Receiver:
    assert _peers is not None
    return _peers.receiver
