"""Load limiting, tamper, randomisation and the Sub GHz channel scan through HTTP: DUIS in,
the critical ones through CV4 (pre-command) and CV5 (the signed pre-command back), the ESME
or CHF acts, a later read shows it, a bad body changes nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from emulator.usecases.configuration import FAMILY, setting
from gbcs import content as gc
from gbcs.codes import SUPPLIER
from gbcs.payloads import dlms
from gbcs.verify import Check, Verifier
from smetsim.client import DuisClient
from smetsim.sandbox import CHF, ESME, Sandbox
from tests.e2e.support import SchemaCheck, gbcs_of, request

_LOAD_LIMIT = (
    "<sr:UpdateDeviceConfigurationLoadLimitingGeneralSettings>"
    "<sr:LoadLimitPeriod>600</sr:LoadLimitPeriod>"
    "<sr:LoadLimitPowerThreshold>{threshold}</sr:LoadLimitPowerThreshold>"
    "<sr:LoadLimitRestorationPeriod>120</sr:LoadLimitRestorationPeriod>"
    "<sr:LoadLimitSupplyState>Disable</sr:LoadLimitSupplyState>"
    "</sr:UpdateDeviceConfigurationLoadLimitingGeneralSettings>"
)


async def _critical(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck, srv: str, body: str
) -> int:
    outcome = await client.send(request(client, srv, ESME, body, cv=4), wait=True, within=5)
    assert [a.code for a in outcome.answers] == ["I0", "I99"], outcome.answers[-1].reason
    assert gbcs_of(outcome.answers[0].body).signature_omitted  # the pre-command
    message = schema.response(outcome)
    assert Verifier(sandbox.keystore).verify(message).signature is Check.VALID
    assert gc.decode_response(message.message_code, message.content).ok  # type: ignore[union-attr]
    return message.message_code


async def test_6_4_1_sets_the_load_limit_and_4_15_reads_it_back(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    body = _LOAD_LIMIT.format(threshold=9000)
    assert await _critical(sandbox, client, schema, "6.4.1", body) == 0x0043
    outcome = await client.send(
        request(client, "4.15", ESME, "<sr:ReadLoadLimitData/>"), wait=True, within=5
    )
    read = gc.decode_response(0x0042, schema.response(outcome).content)
    assert isinstance(read, gc.DlmsReadResponse)
    assert read.data[0] == dlms.boolean(True)
    assert read.data[3:] == (
        dlms.double_long_unsigned(9000),
        dlms.double_long_unsigned(600),
        dlms.double_long_unsigned(120),
    )


async def test_6_25_and_7_12_reach_the_esme(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    tamper = (
        "<sr:SetElectricitySupplyTamperState><sr:SupplyTamperState>Locked</sr:SupplyTamperState>"
        "</sr:SetElectricitySupplyTamperState>"
    )
    assert await _critical(sandbox, client, schema, "6.25", tamper) == 0x0068
    offset = (
        "<sr:SetRandomisedOffsetLimit><sr:RandomisedOffsetLimit>1200</sr:RandomisedOffsetLimit>"
        "</sr:SetRandomisedOffsetLimit>"
    )
    assert await _critical(sandbox, client, schema, "7.12", offset) == 0x004B
    device = sandbox.fleet.device(ESME, 0)
    assert setting(device, "set 1 0-0:94.44.0.4/2") == dlms.boolean(True)
    assert setting(device, "set 1 0-0:94.44.0.1/2") == dlms.long_unsigned(1200)


async def test_a_load_limit_out_of_range_is_refused_and_changes_nothing(
    sandbox: Sandbox, client: DuisClient
) -> None:
    answer = await client.post(
        request(client, "6.4.1", ESME, _LOAD_LIMIT.format(threshold=0), cv=4)
    )
    assert answer.code == "E42", (answer.code, answer.reason)
    assert "0 W" in (answer.reason or "")
    assert setting(sandbox.fleet.device(ESME, 0), "set 71 0-0:17.0.0.255/4") is None


async def test_6_29_the_chf_scans_and_says_so(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    xml = request(client, "6.29", CHF, "<sr:RequestCHFSubGHzChannelScan/>")
    outcome = await client.send(xml, wait=True, within=5)
    message = schema.response(outcome)
    assert message.message_code == 0x010E
    assert gc.decode_response(0x010E, message.content).ok  # type: ignore[union-attr]
    assert sandbox.fleet.device(CHF, 0).family_state(FAMILY)["channel_scans"]


async def _load_limit_read(client: DuisClient, schema: SchemaCheck) -> tuple[dlms.Data, ...]:
    outcome = await client.send(
        request(client, "4.15", ESME, "<sr:ReadLoadLimitData/>"), wait=True, within=5
    )
    read = gc.decode_response(0x0042, schema.response(outcome).content)
    assert isinstance(read, gc.DlmsReadResponse)
    return read.data


async def test_a_future_dated_6_4_1_is_held_by_the_esme_then_applied_with_its_alerts(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    assert await _critical(sandbox, client, schema, "6.4.1", _LOAD_LIMIT.format(threshold=9000))
    at = sandbox.clock() + timedelta(hours=1)
    when = f"<sr:ExecutionDateTime>{at:%Y-%m-%dT%H:%M:%S}.00Z</sr:ExecutionDateTime>"
    body = _LOAD_LIMIT.format(threshold=7000).replace(
        "GeneralSettings>", "GeneralSettings>" + when, 1
    )
    assert await _critical(sandbox, client, schema, "6.4.1", body) == 0x0043
    assert (await _load_limit_read(client, schema))[3] == dlms.double_long_unsigned(9000)

    sandbox.clock.forward(timedelta(hours=2).total_seconds())
    for out in sandbox.fleet.advance(sandbox.clock()):
        sandbox.wan.hubs.send_up(out.eui, out.frame, 0.0)
    found: list[str] = []
    for _ in range(500):
        found = [
            r.code
            for r in sandbox.devices.reports(recipient=SUPPLIER)
            if r.kind.value == "alert" and r.device == ESME
        ]
        if found.count("8F66") >= 4:
            break
        await asyncio.sleep(0.01)
    assert found.count("8F66") == 4, found  # one per future-dated object
    assert (await _load_limit_read(client, schema))[3] == dlms.double_long_unsigned(7000)
