"""The benchmarks' HTTP client: one persistent HTTP/1.1 connection, one exchange at a time.

Deliberately minimal, so that a benchmark's client costs little CPU on the same cores as the
server it measures: request bytes are built before the timed window (:func:`http_post`), and
a response is read as its head plus ``Content-Length`` bytes (aiohttp's server sends one for
every answer the benchmarks ask for)."""

from __future__ import annotations

import asyncio
import contextlib
import re

_CONTENT_LENGTH = re.compile(rb"(?i)\r\ncontent-length:\s*(\d+)")


def http_post(host: str, path: str, body: bytes) -> bytes:
    """The bytes of one keep-alive ``POST`` of ``body`` to ``host`` (``H:P``)."""
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/xml\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def status_of(head: bytes) -> int:
    """The status code of a response head (``HTTP/1.1 200 OK...``)."""
    return int(head.split(b" ", 2)[1])


class KeepAliveClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, url: str) -> KeepAliveClient:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        return cls(reader, writer)

    async def exchange(self, raw_request: bytes) -> tuple[bytes, bytes]:
        """Send ``raw_request``; the response's head (status line and headers) and body."""
        self.writer.write(raw_request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        match = _CONTENT_LENGTH.search(head)
        if match is None:
            raise RuntimeError(f"response without Content-Length: {head!r}")
        return head, await self.reader.readexactly(int(match.group(1)))

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()
