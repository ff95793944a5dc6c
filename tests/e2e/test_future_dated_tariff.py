"""A future-dated 1.1.1 (Device pattern) to the ESME and to the GSME in a whole sandbox, on a
clock the test moves: the DCC's templates (their execution date-time an hour ahead) are
accepted and the meters answer at once, keep their tariffs until the clock passes that
time, then switch and send the future-dated execution alerts - six 8F66 from the ESME
(0x00CC, one an activation time of the ECS01a) and five from the GSME (0x00CD, one a
component of the GCS01a block tariff) - which the user receives as signed DUIS device alerts
at its response URL, each naming its command (message code and counter)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from emulator.devices.meter import MeterDevice
from gateway.duis.signature import XmlSignatureVerifier
from gbcs import content as c
from gbcs.codes import ACB, KeyPurpose
from gbcs.frames import Message
from gbcs.payloads import gbz
from gbcs.payloads.dlms import OctetString
from smetsim.client import DuisClient
from smetsim.sandbox import ESME, GSME, Sandbox
from tests.e2e.listener import Listener, listening, register
from tests.e2e.support import MovableClock, gbcs_of, start_clocked, template


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def home(tmp_path: Path, clock: MovableClock) -> AsyncIterator[Sandbox]:
    sandbox = await start_clocked(tmp_path, clock)
    try:
        yield sandbox
    finally:
        await sandbox.close()


@pytest.fixture
async def listener() -> AsyncIterator[tuple[Listener, str]]:
    async with listening() as found:
        yield found


async def _register(home: Sandbox, client: DuisClient, url: str) -> None:
    await register(home, client, url)


def _at(xml: bytes, when: datetime) -> bytes:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.00Z").encode()
    return re.sub(rb"<sr:ExecutionDateTime>[^<]*</sr:ExecutionDateTime>",
                  b"<sr:ExecutionDateTime>" + stamp + b"</sr:ExecutionDateTime>", xml)  # fmt: skip


def _meter(home: Sandbox, eui: bytes, clock: MovableClock) -> MeterDevice:
    device = home.fleet.device(eui, clock())
    assert isinstance(device, MeterDevice)
    return device


def _names(message: Message) -> tuple[int, int]:
    """(the command's message code, its counter) an 8F66 alert names."""
    alert = c.decode_alert(message.message_code, message.content)
    if isinstance(alert, c.DlmsAlert):
        assert isinstance(alert.details, OctetString)
        raw = alert.details.value
    else:
        assert isinstance(alert, gbz.GbzAlert)
        raw = alert.extra[1:]
    return int.from_bytes(raw[:2], "big"), int.from_bytes(raw[2:10], "big")


async def test_a_future_dated_tariff_runs_on_both_meters_and_alerts_the_user(
    home: Sandbox, clock: MovableClock, listener: tuple[Listener, str], conformance: Path
) -> None:
    found, url = listener
    when = clock.now + timedelta(hours=1)
    names = (
        "ECS01a_1.1.1_FUTURE_DATED_TOU_BLOCK_SUCCESS_REQUEST_DUIS.XML",
        "GCS01a_1.1.1_FUTURE_DATED_BLOCK_SUCCESS_REQUEST_DUIS.XML",
    )
    counters: dict[bytes, int] = {}
    async with DuisClient(home.url, keys=home.keystore, sign_xml=True, timeout=10) as client:
        await _register(home, client, url)
        tariffs = {eui: _meter(home, eui, clock).meter.tariff for eui in (ESME, GSME)}
        for name, eui in zip(names, (ESME, GSME), strict=True):
            outcome = await client.send(_at(template(conformance, name), when), fresh=True,
                                        wait=True, within=5)  # fmt: skip
            assert outcome.ok, outcome
            assert outcome.final is not None
            answered = gbcs_of(outcome.final.body)
            assert answered.business_originator == eui
            counters[eui] = answered.originator_counter
        # accepted and held: the tariffs are the old ones, nothing executed
        assert {eui: _meter(home, eui, clock).meter.tariff for eui in (ESME, GSME)} == tariffs
        assert found.alerts("8F66") == []

        clock.now = when + timedelta(minutes=1)
        for out in home.fleet.advance(clock()):
            home.wan.hubs.send_up(out.eui, out.frame, 0.0)
        async with asyncio.timeout(10):
            while len(found.alerts("8F66")) < 11:  # noqa: ASYNC110  (the listener, polled)
                await asyncio.sleep(0.02)

    for eui in (ESME, GSME):
        assert _meter(home, eui, clock).meter.tariff != tariffs[eui]
    by_meter: dict[bytes, list[Message]] = {ESME: [], GSME: []}
    for body in found.alerts("8F66"):
        message = gbcs_of(body)
        by_meter[message.business_originator].append(message)
    assert [m.message_code for m in by_meter[ESME]] == [0x00CC] * 6
    assert [m.message_code for m in by_meter[GSME]] == [0x00CD] * 5
    assert {_names(m) for m in by_meter[ESME]} == {(0x0019, counters[ESME])}
    assert {_names(m) for m in by_meter[GSME]} == {(0x006B, counters[GSME])}
    certificate = home.keystore.certificate(ACB, KeyPurpose.DS)
    assert certificate is not None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    for body in found.alerts("8F66"):
        XmlSignatureVerifier().verify(etree.fromstring(body, parser), certificate)
