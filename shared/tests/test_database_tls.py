"""Integration: with `<SERVICE>_DATABASE_SSL_MODE=verify-full`, the services' connections are
encrypted and check the server's certificate against the configured CA and its host name.

The session's PostgreSQL behind a TLS front speaking PostgreSQL's SSLRequest (certificates from a
throwaway CA), because the embedded server is built without SSL.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import text

from crm_devstack.certs import Issued, TestCA
from crm_shared.config import ServiceSettings
from crm_shared.db import create_engine, database_ssl
from crm_shared.wakeup import WakeUp

pytestmark = pytest.mark.integration


class TlsFront:
    """PostgreSQL's TLS, in front of the session's server (the embedded build has no SSL): answers
    the client's SSLRequest with 'S', does the TLS handshake with a certificate from `ca`, then
    relays the protocol to the real server. `sessions` counts completed handshakes."""

    def __init__(self, target_port: int, certificate: Issued) -> None:
        self.target_port = target_port
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(certificate.cert, certificate.key)
        self.sessions = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await reader.readexactly(8)
            if struct.unpack("!ii", request) != (8, 80877103):  # SSLRequest
                return
            writer.write(b"S")
            await writer.drain()
            await writer.start_tls(self.context)
            self.sessions += 1
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
            await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError):
            pass  # a client that refused our certificate hangs up mid-handshake
        finally:
            writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


class Server:
    def __init__(self, front: TlsFront, port: int, ca: TestCA, other_ca: TestCA) -> None:
        self.front, self.port, self.ca, self.other_ca = front, port, ca, other_ca

    def settings(self, mode: str, ca: TestCA | None = None, host: str = "127.0.0.1") -> ServiceSettings:
        return ServiceSettings(
            database_url=f"postgresql+asyncpg://postgres@{host}:{self.port}/postgres",
            database_ssl_mode=mode,
            database_ssl_root_cert=str((ca or self.ca).files.cert),
        )


@pytest_asyncio.fixture(scope="module")
async def tls_postgres(dev_stack, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    folder: Path = tmp_path_factory.mktemp("pg-tls")
    ca, other_ca = TestCA(folder / "ca"), TestCA(folder / "other-ca", name="someone else's CA")
    # The certificate names 127.0.0.1 only: "localhost" passes the chain check but not the name.
    front = TlsFront(dev_stack.config.pg_port, ca.issue("server", hosts=("127.0.0.1",)))
    port = await front.start()
    try:
        yield Server(front, port, ca, other_ca)
    finally:
        await front.stop()


async def encrypted(server: Server, settings: ServiceSettings) -> bool:
    """Connects with the settings' TLS, runs a query; True if it went through a TLS session."""
    before = server.front.sessions
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await engine.dispose()
    return server.front.sessions > before


async def test_verify_full_connects_encrypted_to_the_server_its_ca_signed(tls_postgres: Server) -> None:
    assert await encrypted(tls_postgres, tls_postgres.settings("verify-full"))


async def test_verify_full_refuses_a_server_signed_by_another_ca(tls_postgres: Server) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        await encrypted(tls_postgres, tls_postgres.settings("verify-full", ca=tls_postgres.other_ca))
    # `require` only encrypts: it would have connected (what verify-full exists to prevent).
    assert await encrypted(tls_postgres, tls_postgres.settings("require", ca=tls_postgres.other_ca))


async def test_verify_full_checks_the_host_name_and_verify_ca_does_not(tls_postgres: Server) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match=r"(?i)hostname|match"):
        await encrypted(tls_postgres, tls_postgres.settings("verify-full", host="localhost"))
    assert await encrypted(tls_postgres, tls_postgres.settings("verify-ca", host="localhost"))


async def test_the_listen_connection_of_the_timers_uses_the_same_tls(tls_postgres: Server) -> None:
    settings = tls_postgres.settings("verify-full", ca=tls_postgres.other_ca)
    wake = WakeUp(
        settings.database_url, "crm_test", log=logging.getLogger("test"), cannot_listen="x", tls=database_ssl(settings)
    )
    await wake.listen()
    assert wake.listener is None  # refused: the server's certificate is not from the configured CA
    good = tls_postgres.settings("verify-full")
    wake = WakeUp(
        good.database_url, "crm_test", log=logging.getLogger("test"), cannot_listen="x", tls=database_ssl(good)
    )
    await wake.listen()
    assert wake.listener is not None
    await wake.listener.close()
