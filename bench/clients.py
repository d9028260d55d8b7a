"""HTTP clients for the load (bench/loads.py): a minimal HTTP/1.1 client on asyncio streams, and
httpx's AsyncClient. Both answer ``send(method, path, body, headers) → (status, body)`` and raise
:class:`ClientError` when no HTTP answer came."""

import asyncio
from typing import Any
from urllib.parse import urlparse


class ClientError(Exception):
    """A request that got no HTTP answer (refused, reset, timed out)."""


class HttpxClient:
    """httpx's AsyncClient (connection pool, keep-alive when the server allows it)."""

    def __init__(
        self, base_url: str, *, connections: int, transport: Any = None, timeout: float = 60
    ) -> None:
        import httpx

        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self.client = httpx.AsyncClient(
            base_url=base_url, limits=limits, timeout=timeout, trust_env=False, transport=transport
        )

    async def send(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        import httpx

        try:
            response = await self.client.request(method, path, content=body or None, headers=headers)
        except httpx.HTTPError as exc:
            raise ClientError(f"{type(exc).__name__}: {exc}") from exc
        return response.status_code, response.content

    async def close(self) -> None:
        await self.client.aclose()


class RawClient:
    """A minimal HTTP/1.1 client on asyncio streams, for the load: a fraction of httpx's CPU per
    request, which matters when the client shares two cores with the server and the database.
    Keeps a connection alive unless the server says ``Connection: close`` (gunicorn's sync
    workers do); a kept connection the server dropped meanwhile is retried once on a new one."""

    def __init__(self, base_url: str, *, timeout: float = 60) -> None:
        url = urlparse(base_url)
        self.host, self.port, self.timeout = url.hostname, url.port or 80, timeout
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def send(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        request = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{head}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        for attempt in (1, 2):
            reused = bool(self.idle)
            reader, writer = self.idle.pop() if reused else await self._connect()
            try:
                return await asyncio.wait_for(self._exchange(reader, writer, request), self.timeout)
            except (ConnectionError, asyncio.IncompleteReadError, EOFError) as exc:
                writer.close()
                if reused and attempt == 1:
                    continue  # the server had closed the kept connection: it never saw this request
                raise ClientError(f"{type(exc).__name__}: {exc}") from exc
            except (TimeoutError, OSError, ValueError) as exc:
                writer.close()
                raise ClientError(f"{type(exc).__name__}: {exc}") from exc
        raise AssertionError("unreachable")

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            return await asyncio.wait_for(asyncio.open_connection(self.host, self.port), self.timeout)
        except (OSError, TimeoutError) as exc:
            raise ClientError(f"connect: {type(exc).__name__}: {exc}") from exc

    async def _exchange(self, reader, writer, request: bytes) -> tuple[int, bytes]:
        writer.write(request)
        status_line = await reader.readline()
        if not status_line:
            raise EOFError("connection closed before the answer")
        status = int(status_line.split(b" ", 2)[1])
        length, keep = 0, not status_line.startswith(b"HTTP/1.0")
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                keep = value.strip().lower() != b"close"
            elif name == b"transfer-encoding":
                raise ValueError("chunked answers are not expected from this server")
        payload = await reader.readexactly(length)
        if keep:
            self.idle.append((reader, writer))
        else:
            writer.close()
        return status, payload

    async def close(self) -> None:
        for _reader, writer in self.idle:
            writer.close()
        self.idle.clear()
