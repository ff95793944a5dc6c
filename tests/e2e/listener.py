"""A DCC User's response endpoint for the end-to-end tests: an HTTP server the sandbox POSTs
its DUIS responses and alerts to, and the admin call that points a user at it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web
from cryptography.hazmat.primitives.serialization import Encoding

from gbcs.codes import SUPPLIER, KeyPurpose
from smetsim.client import DuisClient
from smetsim.sandbox import Sandbox


class Listener:
    """What the endpoint received, in order; ``fail_first`` answers that many with 503 (the
    gateway retries)."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.arrived = asyncio.Event()
        self.fail_first = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.fail_first > 0:
            self.fail_first -= 1
            return web.Response(status=503)
        self.bodies.append(body)
        self.arrived.set()
        return web.Response(status=200)

    def alerts(self, code: str) -> list[bytes]:
        """The device alerts received with DUIS ``AlertCode`` ``code``."""
        marker = f"<sr:AlertCode>{code}</sr:AlertCode>".encode()
        return [b for b in self.bodies if b"DeviceAlertMessage" in b and marker in b]

    async def wait_for(self, count: int, within: float = 5) -> None:
        """Until ``count`` bodies have arrived."""
        async with asyncio.timeout(within):
            while len(self.bodies) < count:
                self.arrived.clear()
                await self.arrived.wait()


@contextlib.asynccontextmanager
async def listening() -> AsyncIterator[tuple[Listener, str]]:
    """A :class:`Listener` served on a free loopback port, and its URL."""
    found = Listener()
    app = web.Application()
    app.router.add_post("/duis/responses", found.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield found, f"http://127.0.0.1:{port}/duis/responses"
    finally:
        await runner.cleanup()


async def register(sandbox: Sandbox, client: DuisClient, url: str, user: bytes = SUPPLIER) -> None:
    """Point the sandbox's supplier ``user`` (IS/GS, its DS certificate) at ``url``."""
    certificate = sandbox.keystore.certificate(user, KeyPurpose.DS)
    assert certificate is not None
    async with client.session.post(
        sandbox.url + "/admin/users",
        json={
            "eui": user.hex("-").upper(),
            "roles": ["IS", "GS"],
            "certificate": certificate.public_bytes(Encoding.PEM).decode(),
            "response_url": url,
        },
    ) as answer:
        assert answer.status == 200, await answer.text()
