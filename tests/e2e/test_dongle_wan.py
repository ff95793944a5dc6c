"""The gateway's WAN for one hub is a serial HAN dongle: DUIS over HTTP, GBCS over a pty pair
to the emulated device served as `smetsim hil serve-device` serves it, the device's answer
back in the inbox. And a far end that is dead or gone gives the user the error it should."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from gateway.duis.signature import XmlSignatureVerifier
from gbcs import content as gc
from gbcs.codes import ACB, CRA, SUPPLIER, KeyPurpose
from gbcs.eui import eui_duis
from gbcs.verify import Check, Verifier
from hil.dongle import LinkTiming
from smetsim.client import DuisClient
from smetsim.commands.hil import (
    DEFAULT_SEED,
    BridgeOptions,
    DeviceServeOptions,
    bridge_lines,
    run_gateway_bridge,
    serve_dongle_device,
)
from smetsim.sandbox import CHF, ESME, Sandbox, SandboxSettings
from tests.e2e.support import SchemaCheck, decrypter, gbcs_of, request, request_id

TIMING = LinkTiming(ack_timeout=0.1, retries=2)
READ = "<sr:ReadInstantaneousImportRegisters/>"


@dataclass
class Bench:
    sandbox: Sandbox
    client: DuisClient
    lines: list[str]


@contextlib.asynccontextmanager
async def serving(
    task: Callable[[Callable[[str], None], asyncio.Event], object],
) -> AsyncIterator[tuple[str, asyncio.Event]]:
    """Run a serving core (announce, stop) as a task; yields what it announced."""
    announced: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()

    def announce(where: str) -> None:
        if not announced.done():
            announced.set_result(where)

    coroutine = task(announce, stop)
    assert asyncio.iscoroutine(coroutine)
    running = asyncio.ensure_future(coroutine)
    try:
        waiting: set[asyncio.Future[Any]] = {running, announced}
        done, _ = await asyncio.wait(waiting, timeout=30, return_when="FIRST_COMPLETED")
        if running in done:
            running.result()  # raises what stopped it
        assert announced.done(), "the serving core did not start"
        yield announced.result(), stop
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)


def settings(tmp_path: Path) -> SandboxSettings:
    base = SandboxSettings.create(
        state=tmp_path / "state", port=0, latency=False, response_timeout=2.0, durability="process"
    )
    return replace(base, gateway=replace(base.gateway, seed=bytes.fromhex(DEFAULT_SEED)))


@contextlib.asynccontextmanager
async def gateway_over(port: str, tmp_path: Path) -> AsyncIterator[Bench]:
    """`smetsim hil bridge --port PORT --device ESME` (the hub: the sandbox's CHF), in-process."""
    options = BridgeOptions(port, [ESME], CHF, settings(tmp_path), timing=TIMING)
    ready: asyncio.Future[Sandbox] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    running = asyncio.ensure_future(run_gateway_bridge(options, ready.set_result, stop))
    try:
        waiting: set[asyncio.Future[Any]] = {running, ready}
        done, _ = await asyncio.wait(waiting, timeout=30, return_when="FIRST_COMPLETED")
        if running in done:
            running.result()
        sandbox = ready.result()
        async with DuisClient(sandbox.url, keys=sandbox.keystore, sign_xml=True, timeout=10) as c:
            yield Bench(sandbox, c, bridge_lines(sandbox, options))
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)


@pytest.fixture
async def device() -> AsyncIterator[str]:
    """The emulated ESME behind a virtual dongle, as `hil serve-device --pty --hub CHF`."""
    options = DeviceServeOptions(pty=True, hub=eui_duis(CHF))
    async with serving(lambda announce, stop: serve_dongle_device(options, announce, stop)) as (
        path,
        _,
    ):
        yield path


async def test_4_1_1_goes_over_the_dongle_and_the_signed_answer_reaches_the_inbox(
    device: str, tmp_path: Path, schema: SchemaCheck
) -> None:
    async with gateway_over(device, tmp_path) as bench:
        sandbox, client = bench.sandbox, bench.client
        assert any(f"through {device}" in line for line in bench.lines)
        assert not any("note:" in line for line in bench.lines)  # the ESME is Commissioned
        xml = request(client, "4.1.1", ESME, READ)
        answer = await client.post(xml)
        assert answer.code == "I99", answer.reason
        schema(answer.body)
        # the inbox, as a user polls it: GET /api/v1/responses?requestId=
        async with client.session.get(
            f"{sandbox.url}/api/v1/responses",
            params={"requestId": request_id(xml), "wait": "5"},
        ) as response:
            assert response.status == 200
            assert response.headers["X-Report-Kind"] == "response"
            assert response.headers["X-DUIS-Response-Code"] == "I0"
            body = await response.read()
        schema(body)
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        certificate = sandbox.keystore.certificate(ACB, KeyPurpose.DS)
        assert certificate is not None
        XmlSignatureVerifier().verify(etree.fromstring(body, parser), certificate)
        message = gbcs_of(body)
        assert message.cra is CRA.RESPONSE
        assert message.message_code == 0x0027  # ECS17b
        assert (message.business_originator, message.business_target) == (ESME, SUPPLIER)
        assert Verifier(sandbox.keystore).verify(message).mac is Check.VALID
        registers = gc.decode_response(0x0027, message.content)
        assert isinstance(registers, gc.ImportRegistersResponse)
        assert registers.registers(decrypter(sandbox.keystore, message)).active_import >= 0
        # it went over the serial line, not through the in-process fleet
        assert sandbox.wan.stats.sent_down == 0
        serial = sandbox.routes[CHF]
        stats = serial.link.stats  # type: ignore[attr-defined]
        assert (stats.sent, stats.received, stats.timeouts) == (1, 1, 0)


async def test_a_dead_far_end_gives_a_dcc_alert_and_a_gone_one_e1001(tmp_path: Path) -> None:
    master, slave = os.openpty()
    try:
        port = os.ttyname(slave)
        async with gateway_over(port, tmp_path) as bench:
            client = bench.client
            # nothing reads the other end: no ACK, the frame is given up after 2 x 0.1 s
            xml = request(client, "4.1.1", ESME, READ)
            outcome = await client.send(xml, wait=True, within=5)
            assert [a.code for a in outcome.answers] == ["I99"]
            assert outcome.final is not None
            assert outcome.final.kind == "dcc-alert"
            assert b"<sr:DCCAlertCode>N12</sr:DCCAlertCode>" in outcome.final.body
            text = outcome.final.body.decode()
            assert request_id(xml) in text
            assert f"communications hub {eui_duis(CHF)} is unreachable" in text
            assert "no acknowledgement" in text
            assert "after 2 attempt(s)" in text
            # the far end goes away (the pty's other side is closed): refused before I99
            os.close(master)
            master = -1
            for _ in range(200):
                if not bench.sandbox.device_wan.reachable(CHF):
                    break
                await asyncio.sleep(0.01)
            answer = await client.post(request(client, "4.1.1", ESME, READ))
            assert answer.code == "E1001", (answer.code, answer.reason)
            assert eui_duis(CHF) in (answer.reason or "")
    finally:
        os.close(slave)
        if master >= 0:
            os.close(master)
