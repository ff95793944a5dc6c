"""Alerts GBCS addresses to the DCC's ACB, forwarded by the gateway as the DCC does: one whose
other-information names a user (ECS100 for a supplementary remote party) reaches that user
and nobody else; a hub's alert (DBCH07) reaches the supplier responsible for the devices on
the hub; either one with a bad MAC or signature is dropped. Each filed alert is a DUIS device
alert carrying the frame the device sent (to the ACB)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from emulator.devices.families import Alert
from emulator.usecases.sub_ghz import channel_changed
from gateway.services.device_types import DeviceReport
from gbcs.alerts import AlertCode
from gbcs.codes import ACB, NETWORK_OPERATOR, SUPPLIER
from gbcs.frames import Message
from gbcs.usecases import by_name
from smetsim.sandbox import CHF, ESME, Sandbox, SandboxSettings
from tests.e2e.support import SchemaCheck, gbcs_of

ECS100 = by_name("ECS100").code


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    """The sandbox with no periodic tick: the test sends each alert itself."""
    settings = SandboxSettings.create(
        state=tmp_path / "state", port=0, latency=False, response_timeout=2.0, durability="process"
    )
    sb = await Sandbox.start(dataclasses.replace(settings, tick_interval=0))
    try:
        yield sb
    finally:
        await sb.close()


def _now(sandbox: Sandbox) -> int:
    return int(sandbox.clock().timestamp())


def _raise(sandbox: Sandbox) -> list[bytes]:
    """Let the fleet send what it has queued; the frames (not yet sent)."""
    return [out.frame for out in sandbox.fleet.advance(_now(sandbox))]


def _alerts(sandbox: Sandbox, recipient: bytes, code: str) -> list[DeviceReport]:
    reports = sandbox.devices.reports(recipient=recipient)
    return [r for r in reports if r.kind.value == "alert" and r.code == code]


async def _filed(sandbox: Sandbox, recipient: bytes, code: str) -> DeviceReport:
    async with asyncio.timeout(5):
        while not _alerts(sandbox, recipient, code):  # noqa: ASYNC110  (the inbox, polled)
            await asyncio.sleep(0.02)
    (report,) = _alerts(sandbox, recipient, code)
    return report


async def _settled(sandbox: Sandbox, ignored: int) -> None:
    async with asyncio.timeout(5):
        while sandbox.devices.stats["ignored"] < ignored:  # noqa: ASYNC110  (polled)
            await asyncio.sleep(0.02)


def _not_supported_for(sandbox: Sandbox, user: bytes) -> bytes:
    """The ESME refuses a command the ACB sent for ``user`` (ECS100, naming it and its
    request's counter in the other-information): the alert's frame, to the ACB."""
    meter = sandbox.fleet.device(ESME, _now(sandbox))
    named = (0x011C).to_bytes(2, "big") + (7).to_bytes(8, "big")
    alert = Alert(
        AlertCode.COMMAND_NOT_SUPPORTED,
        message_code=ECS100,
        detail=named,
        target=meter.trust.acb,
        extensions=user + (7).to_bytes(8, "big"),
    )
    meter.queued = [alert]
    (frame,) = _raise(sandbox)
    return frame


def _tampered(frame: bytes) -> bytes:
    """``frame`` with its last byte (in the signature or MAC) changed."""
    return frame[:-1] + bytes([frame[-1] ^ 0x01])


async def test_an_alert_naming_a_user_reaches_that_user_only(
    sandbox: Sandbox, schema: SchemaCheck
) -> None:
    frame = _not_supported_for(sandbox, NETWORK_OPERATOR)
    sent = Message.from_bytes(frame)
    assert sent.business_target == ACB
    sandbox.wan.hubs.send_up(ESME, frame, 0.0)
    report = await _filed(sandbox, NETWORK_OPERATOR, "8F85")
    assert report.response_id is not None
    assert (report.response_id.originator, report.response_id.target) == (ESME, NETWORK_OPERATOR)
    assert report.body is not None
    schema(report.body)
    delivered = gbcs_of(report.body)
    assert delivered.to_bytes() == frame  # the device's own frame, its signature intact
    assert delivered.extensions[:8] == NETWORK_OPERATOR
    assert _alerts(sandbox, SUPPLIER, "8F85") == []
    assert _alerts(sandbox, ACB, "8F85") == []


async def test_a_hub_alert_reaches_the_supplier_responsible_for_its_devices(
    sandbox: Sandbox, schema: SchemaCheck
) -> None:
    hub = sandbox.fleet.device(CHF, _now(sandbox))
    channel_changed(hub, 0x0800_0010, 0x01)
    (frame,) = _raise(sandbox)
    assert Message.from_bytes(frame).business_target == ACB
    assert sandbox.devices.smi.responsible_suppliers(CHF) == {SUPPLIER}
    sandbox.wan.hubs.send_up(CHF, frame, 0.0)
    report = await _filed(sandbox, SUPPLIER, "8F26")
    assert report.body is not None
    schema(report.body)
    delivered = gbcs_of(report.body)
    assert (delivered.business_originator, delivered.business_target) == (CHF, ACB)
    assert delivered.mac is not None
    assert _alerts(sandbox, NETWORK_OPERATOR, "8F26") == []


async def test_an_alert_to_the_acb_that_does_not_verify_is_dropped(sandbox: Sandbox) -> None:
    signed = _not_supported_for(sandbox, NETWORK_OPERATOR)
    hub = sandbox.fleet.device(CHF, _now(sandbox))
    channel_changed(hub, 0x0800_0020, 0x02)
    (maced,) = _raise(sandbox)
    before = sandbox.devices.stats["ignored"]
    sandbox.wan.hubs.send_up(ESME, _tampered(signed), 0.0)
    sandbox.wan.hubs.send_up(CHF, _tampered(maced), 0.0)
    await _settled(sandbox, before + 2)
    assert _alerts(sandbox, NETWORK_OPERATOR, "8F85") == []
    assert _alerts(sandbox, SUPPLIER, "8F26") == []
    # The genuine frames still go through: nothing was recorded of the bad ones.
    sandbox.wan.hubs.send_up(ESME, signed, 0.0)
    sandbox.wan.hubs.send_up(CHF, maced, 0.0)
    await _filed(sandbox, NETWORK_OPERATOR, "8F85")
    await _filed(sandbox, SUPPLIER, "8F26")
