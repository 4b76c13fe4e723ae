"""A minimal keep-alive HTTP/1.1 client for the benchmark.

On a 2-core machine the load generator shares the CPU with everything it measures; httpx costs
about 1 ms of CPU per request, which would slow the system under test. This client does only
what the benchmark needs (JSON POST/GET, Content-Length bodies, a pool of connections).
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson


class BenchClient:
    def __init__(self, host: str, port: int, headers: dict[str, str], connections: int = 64) -> None:
        self.host, self.port = host, port
        self.base_headers = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self._idle: asyncio.LifoQueue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.LifoQueue()
        self._slots = asyncio.Semaphore(connections)

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if not self._idle.empty():
            return self._idle.get_nowait()
        return await asyncio.open_connection(self.host, self.port)

    async def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        async with self._slots:
            reader, writer = await self._connection()
            payload = orjson.dumps(body) if body is not None else b""
            extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
            head = (
                f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.base_headers}{extra}"
                f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
            )
            writer.write(head.encode() + payload)
            status_line = await reader.readline()
            if not status_line:  # the server closed an idle keep-alive connection: send again on a new one
                writer.close()
                reader, writer = await asyncio.open_connection(self.host, self.port)
                writer.write(head.encode() + payload)
                status_line = await reader.readline()
            if not status_line:
                writer.close()
                raise ConnectionResetError("the server closed the connection without an answer")
            status = int(status_line.split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            data = await reader.readexactly(length) if length else b""
            self._idle.put_nowait((reader, writer))
            return status, orjson.loads(data) if data else None

    async def close(self) -> None:
        while not self._idle.empty():
            _, writer = self._idle.get_nowait()
            writer.close()
