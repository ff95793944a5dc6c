"""Nothing acknowledged is lost: SIGKILL `smetsim gateway` in the middle of a stream of signed
non-device requests, restart it on the same state, and find every acknowledged (I0) change -
and nothing half-done."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
from lxml import etree

from gateway.duis.xml import SR_NS
from gateway.inventory import MIGRATIONS
from gateway.model import DeviceStatus
from gateway.services.nondevice import NonDeviceService
from gateway.storage import Storage
from tests.gateway.duis.support import (
    prenotification_body,
    read_inventory_body,
    request_document,
    signer_for,
    state_with_pki,
)

S1 = bytes.fromhex("90b3d51f30010000")
S2 = bytes.fromhex("90b3d51f30030000")
ROOT = Path(__file__).resolve().parents[2]


@contextlib.asynccontextmanager
async def gateway_process(state: Path) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """`smetsim gateway` as a child process; yields it and its URL; killed if still running."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smetsim.cli", "gateway", "--state", str(state), "--port", "0",
        "--log-level", "warning",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        match = re.search(r"listening on (http://\S+)", line)
        assert match, f"the gateway did not start: {line!r}"
        yield process, match.group(1)
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


def code_of(body: bytes) -> str:
    return etree.fromstring(body).findtext(f"{{{SR_NS}}}Header/{{{SR_NS}}}ResponseCode") or "?"


def details(device: bytes, firmware: str) -> str:
    return (
        f"<sr:UpdateInventory><sr:DeviceID>{device.hex('-').upper()}</sr:DeviceID>"
        f"<sr:UpdateDeviceDetails><sr:FirmwareVersion>{firmware}</sr:FirmwareVersion>"
        "</sr:UpdateDeviceDetails></sr:UpdateInventory>"
    )


class Sender:
    """One DCC User streaming requests in order: pre-notify a device, then update its firmware."""

    def __init__(self, user: bytes, prefix: int) -> None:
        self.user = user
        self.prefix = prefix
        self.counter = 0
        self.prenotified: set[bytes] = set()  # acknowledged (I0)
        self.firmware: dict[bytes, str] = {}  # acknowledged firmware of each device
        self.in_flight: tuple[str, bytes, str] | None = None  # sent, outcome unknown

    def document(self, srv: str, body: str) -> bytes:
        self.counter += 1
        plain = request_document(originator=self.user, counter=self.counter, srv=srv, body=body)
        return signer_for(self.user).sign_bytes(plain)

    async def stream(self, session: aiohttp.ClientSession, url: str) -> None:
        n = 0
        while True:
            device = bytes.fromhex(f"00db{self.prefix:04x}{n:08x}")
            steps = (
                ("12.2", prenotification_body(device), "0002012F"),
                ("8.4", details(device, f"{n % 9999:08X}"), ""),
            )
            for srv, body, firmware in steps:
                firmware = firmware or f"{n % 9999:08X}"
                self.in_flight = (srv, device, firmware)
                async with session.post(
                    f"{url}/api/v1/serviceD", data=self.document(srv, body)
                ) as r:
                    answer = await r.read()
                assert code_of(answer) == "I0", answer
                self.in_flight = None
                if srv == "12.2":
                    self.prenotified.add(device)
                self.firmware[device] = firmware
            n += 1


async def test_sigkill_mid_stream_loses_nothing_acknowledged(tmp_path: Path) -> None:
    state = state_with_pki(tmp_path / "state")
    senders = [Sender(S1, 1), Sender(S2, 2)]
    async with gateway_process(state) as (process, url), aiohttp.ClientSession() as session:
        tasks = [asyncio.create_task(s.stream(session, url)) for s in senders]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while sum(len(s.prenotified) for s in senders) < 30 and loop.time() < deadline:
            await asyncio.sleep(0.05)
            for task in tasks:
                if task.done():
                    task.result()  # a sender failed before the kill: show why
        process.send_signal(signal.SIGKILL)
        await process.wait()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, aiohttp.ClientError) for r in results), results
    acknowledged = sum(len(s.prenotified) for s in senders)
    assert acknowledged >= 30

    # Restart on the same state: it serves again, and counters carry on from what was committed.
    async with gateway_process(state) as (process, url), aiohttp.ClientSession() as session:
        for sender in senders:
            sender.counter += 10  # past anything that may have been committed unacknowledged
            some = sorted(sender.prenotified)[0]
            async with session.post(
                f"{url}/api/v1/serviceD", data=sender.document("8.2", read_inventory_body(some))
            ) as r:
                assert code_of(await r.read()) == "I0"
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 15) == 0

    with Storage.open(state / "gateway.db", migrations=MIGRATIONS) as storage:
        service = NonDeviceService(storage, clock=lambda: dt.datetime.now(dt.UTC))
        for sender in senders:
            for device in sender.prenotified:
                record = service.get_device(device)
                assert record is not None, f"acknowledged pre-notification of {device.hex()} lost"
                assert record.status is DeviceStatus.PENDING
                assert record.installing_supplier == sender.user
                allowed = {sender.firmware[device]}
                if sender.in_flight is not None and sender.in_flight[1] == device:
                    allowed.add(sender.in_flight[2])  # sent, unacknowledged: either outcome
                assert record.firmware_version in allowed, (device.hex(), record, allowed)
            if sender.in_flight is not None and sender.in_flight[0] == "12.2":
                # Half-done is impossible: the unacknowledged device is either whole or absent.
                record = service.get_device(sender.in_flight[1])
                assert record is None or (
                    record.manufacturer == "AB01" and record.firmware_version == "0002012F"
                )
