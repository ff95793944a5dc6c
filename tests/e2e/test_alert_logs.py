"""The alerts carrying a device's log, through the whole sandbox on a clock the test moves:
the ESME's billing period ends (the first of the month, its factory billing calendar) and the
supplier receives ECS68 0x8F0A as a signed DUIS device alert whose encrypted entry is the one
the meter logged; an SR 8.11 Add changes the CHF's device log and the supplier receives CS14
0x8F12 holding the log with the new device and its install code; an SR 11.4 image runs on
the PPMID (CS09 0x8F8B) and the hub reports the transfer (CCS08 0x8F8A). The last three are
addressed to the DCC's ACB, which forwards them to the supplier."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from emulator.devices.chf import Chf
from gateway.duis.signature import XmlSignatureVerifier
from gbcs import content as c
from gbcs.codes import ACB, SUPPLIER, KeyPurpose
from gbcs.explain import explain
from smetsim.client import DuisClient
from smetsim.requests import write_request
from smetsim.sandbox import (
    CHF,
    ESME,
    PENDING_ESME,
    PENDING_MPAN,
    PPMID,
    Sandbox,
)
from tests.e2e.listener import Listener, listening
from tests.e2e.listener import register as _register
from tests.e2e.support import MovableClock, gbcs_of, request, start_clocked

INSTALL_CODE = "30313233343536373839414243444546"
NEW_PPMID = "00000200"


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def sandbox(tmp_path: Path, clock: MovableClock) -> AsyncIterator[Sandbox]:
    sb = await start_clocked(tmp_path, clock)
    try:
        yield sb
    finally:
        await sb.close()


@pytest.fixture
async def listener() -> AsyncIterator[tuple[Listener, str]]:
    async with listening() as found:
        yield found


async def _wait(found: Listener, code: str, count: int = 1) -> list[bytes]:
    async with asyncio.timeout(10):
        while len(found.alerts(code)) < count:  # noqa: ASYNC110  (the listener, polled)
            await asyncio.sleep(0.02)
    return found.alerts(code)


def _verify_signed(sandbox: Sandbox, body: bytes) -> None:
    certificate = sandbox.keystore.certificate(ACB, KeyPurpose.DS)
    assert certificate is not None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    XmlSignatureVerifier().verify(etree.fromstring(body, parser), certificate)


def _tick(sandbox: Sandbox, clock: MovableClock) -> None:
    for out in sandbox.fleet.advance(clock()):
        sandbox.wan.hubs.send_up(out.eui, out.frame, 0.0)


async def test_the_end_of_a_billing_period_reaches_the_supplier(
    sandbox: Sandbox, client: DuisClient, clock: MovableClock, listener: tuple[Listener, str]
) -> None:
    found, url = listener
    await _register(sandbox, client, url)
    outcome = await client.send(
        request(client, "11.2", ESME, "<sr:ReadFirmwareVersion/>"), wait=True, within=5
    )
    assert outcome.final is not None
    assert outcome.final.kind == "response"
    _tick(sandbox, clock)
    assert found.alerts("8F0A") == []
    month = clock.now.replace(day=1, hour=0, minute=0, second=0)
    billing_date = (month + timedelta(days=32)).replace(day=1)
    clock.now = billing_date + timedelta(minutes=5)
    _tick(sandbox, clock)
    clock.now += timedelta(minutes=1)  # the meter has now accounted past the date
    _tick(sandbox, clock)
    (body,) = await _wait(found, "8F0A")
    _verify_signed(sandbox, body)
    message = gbcs_of(body)
    assert message.message_code == 0x0061
    assert message.business_originator == ESME
    assert message.business_target == SUPPLIER
    alert = c.decode_alert(message.message_code, message.content)
    assert isinstance(alert, c.BillingDataLogAlert)
    # The supplier decrypts the entry with its own key.
    (block,) = explain(message.to_bytes(), sandbox.keystore).decrypted
    assert block.error is None
    entry = block.tree["items"][0]["items"][0]["items"]
    time, total = entry[0]["value"], entry[1]["value"]
    tou = [v["value"] for v in entry[2]["items"]]
    (logged,) = sandbox.fleet.device(ESME, clock()).family_state("reading")["billing"]
    assert [time, total, *tou] == [v & 0xFFFF_FFFF for v in logged[:50]]
    assert datetime.fromtimestamp(time + 946_684_800, UTC) == billing_date


async def test_a_device_log_change_reaches_the_supplier_with_the_log(
    sandbox: Sandbox, client: DuisClient, listener: tuple[Listener, str]
) -> None:
    found, url = listener
    await _register(sandbox, client, url)
    body = (
        f"<sr:UpdateHANDeviceLog><sr:DeviceID>{PENDING_ESME.hex('-').upper()}</sr:DeviceID>"
        "<sr:RequestType>Add</sr:RequestType><sr:AddDeviceToCHFWhitelist>"
        "<sr:JoinTimePeriod>60</sr:JoinTimePeriod>"
        f"<sr:InstallCode>{INSTALL_CODE}</sr:InstallCode>"
        f"<sr:ImportMPxN>{PENDING_MPAN}</sr:ImportMPxN>"
        "</sr:AddDeviceToCHFWhitelist></sr:UpdateHANDeviceLog>"
    )
    assert (await client.post(request(client, "8.11", CHF, body))).code == "I99"
    (posted,) = await _wait(found, "8F12")
    _verify_signed(sandbox, posted)
    message = gbcs_of(posted)
    assert message.message_code == 0x0018
    assert message.business_originator == CHF
    assert message.business_target == ACB  # forwarded to the supplier (the listener's)
    assert message.mac is not None
    alert = c.decode_alert(message.message_code, message.content)
    assert isinstance(alert, c.DeviceLogAlert)
    assert (PENDING_ESME, bytes.fromhex(INSTALL_CODE)) in alert.entries
    hub = sandbox.fleet.device(CHF, int(sandbox.clock().timestamp()))
    assert isinstance(hub, Chf)
    assert alert.entries == hub.log_entries()


async def test_11_4_the_ppmid_runs_its_image_and_the_hub_reports_the_transfer(
    sandbox: Sandbox, client: DuisClient, clock: MovableClock, listener: tuple[Listener, str]
) -> None:
    found, url = listener
    await _register(sandbox, client, url)
    profile = sandbox.fleet.spec(PPMID).profile
    before = sandbox.fleet.device(PPMID, clock()).firmware.version
    xml = write_request(
        "11.4",
        fields={
            "FirmwareImage": base64.b64encode(profile.image(NEW_PPMID)).decode(),
            "FirmwareVersion": NEW_PPMID,
        },
        counter=client.fresh_counter(),
    )
    answer = await client.post(xml)
    assert answer.code == "I99", answer.reason
    (activated,) = await _wait(found, "8F8B")
    _tick(sandbox, clock)  # the hub's report leaves at its next tick
    (transferred,) = await _wait(found, "8F8A")
    for body in (activated, transferred):
        _verify_signed(sandbox, body)
    cs09 = gbcs_of(activated)
    assert (cs09.message_code, cs09.business_originator) == (0x012B, PPMID)
    assert cs09.business_target == ACB  # forwarded to the supplier (the listener's)
    report = c.decode_alert(cs09.message_code, cs09.content)
    assert isinstance(report, c.PpmidActivationAlert)
    assert report.version == bytes.fromhex(NEW_PPMID)
    assert report.outcome == 0
    ccs08 = gbcs_of(transferred)
    assert (ccs08.message_code, ccs08.business_originator) == (0x0128, CHF)
    assert ccs08.business_target == ACB
    transfer = c.decode_alert(ccs08.message_code, ccs08.content)
    assert isinstance(transfer, c.FirmwareTransferAlert)
    assert (transfer.device, transfer.version) == (PPMID, bytes.fromhex(NEW_PPMID))
    assert before != NEW_PPMID
    assert sandbox.fleet.device(PPMID, clock()).firmware.version == NEW_PPMID
