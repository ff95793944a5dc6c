"""The reads answered by reading_device / reading_logs, end to end: each DUIS request
reaches the emulated device, which answers from what it holds, and the gateway delivers the
DCC's response shape."""

from __future__ import annotations

import struct

from emulator.supply import SupplyEvent
from emulator.usecases.reading import UNIX_2000
from emulator.usecases.reading_device import CONTROL_STATE, voltage_profile
from gbcs import content as gc
from gbcs.codes import CRA
from gbcs.payloads import dlms
from gbcs.payloads.gbz import ReadAttributesResponse, ZclFrame
from smetsim.client import DuisClient
from smetsim.sandbox import Sandbox
from tests.e2e.support import SchemaCheck, request
from tests.e2e.test_device_srs import ESME, GSME, call


def _period(start: int, end: int) -> str:
    """A ReadLogPeriod of Unix seconds."""
    a = gc.from_utc_seconds(start - UNIX_2000).strftime("%Y-%m-%dT%H:%M:%SZ")
    b = gc.from_utc_seconds(end - UNIX_2000).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"<sr:ReadLogPeriod><sr:StartDateTime>{a}</sr:StartDateTime>"
        f"<sr:EndDateTime>{b}</sr:EndDateTime></sr:ReadLogPeriod>"
    )


async def test_7_4_to_the_esme_reads_its_load_switch(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    esme = sandbox.fleet.device(ESME, int(sandbox.clock().timestamp()))
    esme.meter.operate_supply(SupplyEvent.REMOTE_DISABLE)  # type: ignore[attr-defined]
    message = await call(client, request(client, "7.4", ESME, "<sr:ReadSupplyStatus/>"), schema)
    assert message.cra is CRA.RESPONSE
    assert message.message_code == 0x0052
    response = gc.decode_response(0x0052, message.content)
    assert isinstance(response, gc.DlmsReadResponse)
    assert response.data == (dlms.enum(CONTROL_STATE[esme.meter.supply]),)  # type: ignore[attr-defined]
    assert response.data == (dlms.enum(0),)


async def test_4_10_to_the_esme_returns_the_voltage_profile_of_the_period(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    now = int(sandbox.clock().timestamp())
    esme = sandbox.fleet.device(ESME, now)
    meter = esme.meter  # type: ignore[attr-defined]
    # The meter has run the last ten hours (its record restarted then).
    meter.hh_count = 0
    meter.accounted_to = now - now % 1800 - 10 * 3600
    meter.advance(now)
    start = now - now % 1800 - 6 * 3600
    body = f"<sr:ReadNetworkData>{_period(start, start + 3 * 3600)}</sr:ReadNetworkData>"
    message = await call(client, request(client, "4.10", ESME, body), schema)
    assert message.message_code == 0x0039
    response = gc.decode_response(0x0039, message.content)
    assert isinstance(response, gc.DlmsReadResponse)
    assert response.ok
    profile = response.data[4]
    assert isinstance(profile, dlms.CompactArray)
    rows = list(struct.iter_unpack(">II", profile.contents))
    expected = voltage_profile(esme, 32, start, start + 3 * 3600)
    assert rows == [(t - UNIX_2000, v) for t, v in expected]
    assert len(rows) == 7  # the half hours' ends from the start to three hours on, both ends


async def test_6_2_4_to_the_gsme_reads_its_identity(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    body = "<sr:ReadDeviceConfigurationIdentityExcMPxN/>"
    message = await call(client, request(client, "6.2.4", GSME, body), schema)
    assert message.cra is CRA.RESPONSE
    response = gc.decode_response(message.message_code, message.content)
    assert isinstance(response, gc.GbzReadResponse)
    assert response.ok
    gsme = sandbox.fleet.device(GSME, int(sandbox.clock().timestamp()))
    basic = response.payload.components[0]
    assert isinstance(basic.frame, ZclFrame)
    records = ReadAttributesResponse.from_bytes(basic.frame.payload).records
    assert records[0].value is not None
    assert records[0].value.value == gsme.profile.manufacturer.encode()
