"""The reading family end to end: SR4.8.1 to the emulated ESME answers the half hours the
meter recorded in the period asked, encrypted for the supplier, in the DCC's shape."""

from __future__ import annotations

from pathlib import Path

from emulator.usecases.reading import UNIX_2000
from gbcs import content as gc
from gbcs.codes import CRA
from gbcs.explain import explain
from gbcs.payloads.read_values import read_daily_plaintext, read_pairs_plaintext
from smetsim.client import DuisClient
from smetsim.sandbox import Sandbox
from tests.e2e.support import SchemaCheck, decrypter, request
from tests.e2e.test_device_srs import ESME, SUPPLIER, call


def _period(start: str, end: str) -> str:
    return (
        "<sr:ReadActiveImportProfileData><sr:ReadLogPeriod>"
        f"<sr:StartDateTime>{start}</sr:StartDateTime><sr:EndDateTime>{end}</sr:EndDateTime>"
        "</sr:ReadLogPeriod></sr:ReadActiveImportProfileData>"
    )


async def test_4_8_1_returns_the_recorded_half_hours_in_range(
    sandbox: Sandbox, client: DuisClient, conformance: Path, schema: SchemaCheck
) -> None:
    now = int(sandbox.clock().timestamp())
    meter = sandbox.fleet.device(ESME, now).meter
    meter.accounted_to -= 6 * 1800  # six half hours the meter has yet to record
    meter.advance(now)
    held = meter.half_hours()
    assert len(held) >= 6
    first, last = held[-4][0] + 1800, held[-1][0] + 1800  # the last four capture times
    start = gc.from_utc_seconds(first - UNIX_2000).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = gc.from_utc_seconds(last - UNIX_2000).strftime("%Y-%m-%dT%H:%M:%SZ")
    message = await call(client, request(client, "4.8.1", ESME, _period(start, end)), schema)
    assert message.cra is CRA.RESPONSE
    assert message.message_code == 0x0037
    assert (message.business_originator, message.business_target) == (ESME, SUPPLIER)
    response = gc.decode_response(0x0037, message.content)
    assert isinstance(response, gc.ProtectedResponse)
    plaintext = decrypter(sandbox.keystore, message)(response.encrypted)
    entries = read_pairs_plaintext(plaintext)
    assert entries == [(b + 1800 - UNIX_2000, used) for b, used in held[-4:]]


async def test_6_13_security_log_holds_the_read_the_supplier_just_made(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    now = int(sandbox.clock().timestamp())
    esme = sandbox.fleet.device(ESME, now)
    await call(
        client, request(client, "4.1.1", ESME, "<sr:ReadInstantaneousImportRegisters/>"), schema
    )
    start = gc.from_utc_seconds(esme.device_time(now) - UNIX_2000 - 60)
    end = gc.from_utc_seconds(esme.device_time(now) - UNIX_2000 + 3600)
    body = (
        "<sr:ReadEventOrSecurityLog><sr:ReadLogPeriod>"
        f"<sr:StartDateTime>{start:%Y-%m-%dT%H:%M:%SZ}</sr:StartDateTime>"
        f"<sr:EndDateTime>{end:%Y-%m-%dT%H:%M:%SZ}</sr:EndDateTime>"
        "</sr:ReadLogPeriod><sr:LogToRead>Security</sr:LogToRead></sr:ReadEventOrSecurityLog>"
    )
    message = await call(client, request(client, "6.13", ESME, body), schema)
    assert message.message_code == 0x0049
    found = explain(message.to_bytes(), sandbox.keystore)
    assert any(v.endswith("event 0x0027") for v in found.values), found.values


async def test_4_6_1_daily_read_log_through_the_gateway(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    now = int(sandbox.clock().timestamp())
    meter = sandbox.fleet.device(ESME, now).meter
    meter.accounted_to -= 3 * 86_400  # three days the meter has yet to record
    meter.advance(now)
    midnight = now - now % 86_400
    first = gc.from_utc_seconds(midnight - UNIX_2000 - 2 * 86_400)
    last = gc.from_utc_seconds(midnight - UNIX_2000)
    body = (
        "<sr:RetrieveImportDailyReadLog><sr:ReadLogPeriod>"
        f"<sr:StartDateTime>{first:%Y-%m-%dT%H:%M:%SZ}</sr:StartDateTime>"
        f"<sr:EndDateTime>{last:%Y-%m-%dT%H:%M:%SZ}</sr:EndDateTime>"
        "</sr:ReadLogPeriod></sr:RetrieveImportDailyReadLog>"
    )
    message = await call(client, request(client, "4.6.1", ESME, body), schema)
    assert message.message_code == 0x0033
    response = gc.decode_response(0x0033, message.content)
    assert isinstance(response, gc.ProtectedResponse)
    days = read_daily_plaintext(decrypter(sandbox.keystore, message)(response.encrypted))
    assert [t + UNIX_2000 for t, _, _ in days] == [
        midnight - 2 * 86_400,
        midnight - 86_400,
        midnight,
    ]
    since = sum(q for b, q in meter.half_hours() if b >= midnight)
    assert days[-1][1] + since == meter.total
