"""The test stack's own plumbing: ports and start-up errors a CI run must not turn into flakes."""

import socket

import pytest
import uvicorn

from crm_devstack.testing import _ephemeral_range, _serve, free_port


def test_free_ports_are_distinct_bindable_and_never_ephemeral() -> None:
    low, _ = _ephemeral_range()
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == len(ports)
    assert all(port < low for port in ports)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", ports[-1]))


async def test_an_api_that_cannot_bind_is_an_error_naming_it_not_a_process_exit() -> None:
    async def app(scope, receive, send) -> None:  # pragma: no cover - never reached
        raise AssertionError("the server must not start")

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free_port()))
        taken.listen()
        port = taken.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical", lifespan="off"))
        with pytest.raises(RuntimeError, match="the contacts api could not start"):
            await _serve("contacts", server)
