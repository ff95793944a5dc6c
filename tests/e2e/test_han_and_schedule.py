"""The HAN and the gateway's schedule in a whole sandbox, on a clock the test moves: a
future-dated DSP read held and sent when the clock passes its time (and not before), a
cancellation, the hub's 8.14 status, 8.11 Remove taking the ESME off the hub's log so that
the next request is refused at once, and SR11.3 future-dated to the ESME."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smetsim.client import DuisClient
from smetsim.sandbox import ESME, Sandbox
from tests.e2e.support import MovableClock, recorded_firmware, start_clocked

TEMPLATES = "duis/templates"


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


def _template(conformance: Path, name: str) -> bytes:
    return (conformance / TEMPLATES / f"{name}_REQUEST_DUIS.XML").read_bytes()


def _at(xml: bytes, when: datetime) -> bytes:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.00Z").encode()
    return re.sub(rb"<sr:ExecutionDateTime>[^<]*</sr:ExecutionDateTime>",
                  b"<sr:ExecutionDateTime>" + stamp + b"</sr:ExecutionDateTime>", xml)  # fmt: skip


async def test_a_future_dated_read_runs_when_the_clock_passes_its_time(
    home: Sandbox, clock: MovableClock, conformance: Path
) -> None:
    async with DuisClient(home.url, keys=home.keystore, sign_xml=True, timeout=10) as client:
        xml = _template(conformance, "ECS17b_4.1.1_DSP_FUTURE_DATED")
        when = clock.now + timedelta(hours=1)
        never = datetime(3000, 12, 31, tzinfo=UTC)  # DUIS's cancellation
        cancelled = await client.post(client.with_counter(_at(xml, when)))
        assert cancelled.code == "I99", cancelled.reason
        cancel = await client.post(client.with_counter(_at(xml, never)))
        assert cancel.code == "I0", cancel.reason
        held = await client.post(client.with_counter(_at(xml, when)))
        assert held.code == "I99", held.reason
        assert await client.wait(held.request_id, within=0.3) is None  # not before its time
        clock.now = when + timedelta(seconds=1)
        final = await client.wait(held.request_id, within=5)
        assert final is not None
        assert final.ok, final
        assert final.payload is not None
        assert await client.wait(cancelled.request_id, within=0.3) is None  # never sent
        nothing = await client.post(client.with_counter(_at(xml, never)))
        assert nothing.code == "E42"
        assert "has none of SR 4.1.1" in (nothing.reason or "")


async def test_remove_then_a_request_to_the_removed_esme_is_refused_at_once(
    home: Sandbox, conformance: Path
) -> None:
    async with DuisClient(home.url, keys=home.keystore, sign_xml=True, timeout=10) as client:
        remove = await client.post(
            client.with_counter(_template(conformance, "CCS02_8.11_SUCCESS"))
        )
        assert remove.code == "I99", remove.reason
        final = await client.wait(remove.request_id, within=5)
        assert final is not None
        assert final.ok, final
        read = _template(conformance, "ECS17b_4.1.1_SINGLE_SUCCESS")
        refused = await client.post(client.with_counter(read))
        assert refused.code == "E49", refused.reason
        # the hub's status updates: it is commissioned, so a return is refused with a sentence
        hub = await client.post(
            client.with_counter(
                _template(conformance, "8.14.3_COMMUNICATIONS_HUB_STATUS_UPDATE_FAULT_RETURN")
            )
        )
        assert hub.code == "E081405", hub.reason
        assert "Commissioned" in (hub.reason or "")


async def test_a_locally_delivered_read_is_answered_through_8_13(
    home: Sandbox, conformance: Path
) -> None:
    async with DuisClient(home.url, keys=home.keystore, sign_xml=True, timeout=10) as client:
        read = _template(conformance, "ECS17b_4.1.1_SINGLE_SUCCESS").replace(
            b"<sr:CommandVariant>1</sr:CommandVariant>", b"<sr:CommandVariant>2</sr:CommandVariant>"
        )
        local = await client.post(client.with_counter(read))
        assert local.code == "I0", local.reason
        assert local.payload is not None
        # the installer's hand terminal delivers it; the meter answers over the optical port
        (answer,) = home.fleet.handle(ESME, local.payload, home.clock())
        xml = _template(conformance, "8.13_RETURN_LOCAL_COMMAND_RESPONSE_CS06")
        xml = re.sub(
            rb"<sr:OriginalRequestID>[^<]*<",
            b"<sr:OriginalRequestID>" + local.request_id.encode() + b"<",
            xml,
        )
        xml = re.sub(
            rb"<sr:DeviceGBCSResponse>[^<]*<",
            b"<sr:DeviceGBCSResponse>" + base64.b64encode(answer) + b"<",
            xml,
        )
        filed = await client.post(client.with_counter(xml))
        assert filed.code == "I0", filed.reason
        final = await client.wait(local.request_id, within=5)
        assert final is not None
        assert final.ok, final
        assert final.payload == answer
        again = await client.post(client.with_counter(xml))
        assert again.code == "E081302", again.reason


async def test_a_firmware_update_future_dated_runs_on_the_meter_and_the_smi_follows(
    home: Sandbox, clock: MovableClock, conformance: Path
) -> None:
    """The image reaches the ESME over the HAN (as the hub distributes SR11.1's image), then
    11.3 future-dated: the meter accepts, activates when its clock passes the time, alerts
    0x00CA, and the SMI records the new version; the meter is now the AD variant (MP125)."""
    new = "00020000"
    profile = home.fleet.spec(ESME).profile
    receipt = home.fleet.distribute_firmware(ESME, profile.image(new), clock())
    for frame in receipt:
        home.wan.hubs.send_up(ESME, frame, 0.0)
    when = clock.now + timedelta(hours=2)
    xml = _template(conformance, "CS06_11.3_FUTURE_DATED_SUCCESS")
    xml = _at(xml, when).replace(
        b"AA758690730934FF0685AA758690730934FF0685657788990011223344556677",
        profile.image_hash(new).hex().upper().encode(),
    )
    async with DuisClient(home.url, keys=home.keystore, sign_xml=True, timeout=10) as client:
        outcome = await client.send(xml, fresh=True, wait=True, within=5)
        assert outcome.ok, outcome
        record = home.gateway.service.get_device(ESME)
        assert record is not None
        assert record.firmware_version != new  # accepted, not executed yet
        clock.now = when + timedelta(minutes=1)
        for out in home.fleet.advance(clock()):
            home.wan.hubs.send_up(out.eui, out.frame, 0.0)
        record = await recorded_firmware(home, ESME, new)
        assert record.firmware_version == new
    assert home.fleet.device(ESME, clock()).firmware.esme_variant == "AD"
