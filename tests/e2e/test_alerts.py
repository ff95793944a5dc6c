"""SR 6.22 through HTTP and device alerts to the inbox: the DCC's template in, the ESME keeps
the behaviour, answers in the reference shape and SR 6.2.10 reads it back; an alert disabled
with ECS25a is not sent, and once enabled again the meter's alert arrives as a DUIS device
alert; the network operator's alerts go to its inbox. To the GSME (GCS20), an event's WAN
alert switched off is not sent until switched on again."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from emulator.usecases.alerts import disabled, gas_behaviour, integrity_warning, supply_outage
from gbcs import content as gc
from gbcs.codes import NETWORK_OPERATOR, SUPPLIER
from gbcs.payloads.dlms import BitString
from smetsim.client import DuisClient
from smetsim.sandbox import ESME, GSME, Sandbox, SandboxSettings
from tests.e2e.support import SchemaCheck, gbcs_of, request, template


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    """The e2e sandbox, its fleet ticking every 0.1 s (an alert raised between two messages
    leaves at the next tick)."""
    settings = SandboxSettings.create(
        state=tmp_path / "state", port=0, latency=False, response_timeout=2.0, durability="process"
    )
    sb = await Sandbox.start(dataclasses.replace(settings, tick_interval=0.1))
    try:
        yield sb
    finally:
        await sb.close()


async def _final(client: DuisClient, xml: bytes, schema: SchemaCheck) -> gc.Outcome:
    outcome = await client.send(xml, wait=True, within=5)
    for answer in outcome.answers:
        assert answer.code in ("I0", "I99"), (answer.code, answer.reason)
    assert outcome.final is not None, "no answer in time"
    assert outcome.final.kind == "response", outcome.final.body
    schema(outcome.final.body)
    message = gbcs_of(outcome.final.body)
    response = gc.decode_response(message.message_code, message.content)
    assert isinstance(response, gc.Outcome)
    return response


def _integrity_alerts(sandbox: Sandbox) -> list[str]:
    return [
        r.code
        for r in sandbox.devices.reports(recipient=SUPPLIER)
        if r.kind.value == "alert" and r.code == "81A0"
    ]


async def _raise_and_tick(sandbox: Sandbox, device: bytes = ESME) -> None:
    """The meter finds an integrity issue; wait for the sandbox's tick to take the alert."""
    meter = sandbox.fleet.device(device, int(sandbox.clock().timestamp()))
    integrity_warning(meter, 0x0005)
    async with asyncio.timeout(5):
        while meter.queued:  # noqa: ASYNC110  (device state, no event to wait on)
            await asyncio.sleep(0.05)


def _setting(value: str) -> str:
    return (
        "<sr:ConfigureAlertBehaviour><sr:ElectricitySupplierAlerts><sr:SupplierESMECommon>"
        f"<sr:x81A0>{value}</sr:x81A0></sr:SupplierESMECommon></sr:ElectricitySupplierAlerts>"
        "</sr:ConfigureAlertBehaviour>"
    )


async def test_6_22_template_sets_the_han_behaviours(
    sandbox: Sandbox, client: DuisClient, conformance: Path, schema: SchemaCheck
) -> None:
    xml = client.with_counter(template(conformance, "ECS25a1_6.22_SUCCESS_REQUEST_DUIS.XML"))
    assert (await _final(client, xml, schema)).ok
    meter = sandbox.fleet.device(ESME, int(sandbox.clock().timestamp()))
    assert disabled(meter, "ECS25a1") == {0x8119, 0x8168}


async def test_a_disabled_alert_stays_on_the_meter_until_enabled(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    assert (await _final(client, request(client, "6.22", ESME, _setting("Disable")), schema)).ok
    await _raise_and_tick(sandbox)
    await asyncio.sleep(0.2)  # anything sent would be filed by now
    assert _integrity_alerts(sandbox) == []

    assert (await _final(client, request(client, "6.22", ESME, _setting("Enable")), schema)).ok
    await _raise_and_tick(sandbox)
    async with asyncio.timeout(5):
        while not _integrity_alerts(sandbox):  # noqa: ASYNC110  (the inbox, polled)
            await asyncio.sleep(0.05)
    assert _integrity_alerts(sandbox) == ["81A0"]


async def test_a_supply_outage_reaches_the_network_operators_inbox(sandbox: Sandbox) -> None:
    """ECS80 is the network operator's alert: filed for it, not for the supplier."""
    meter = sandbox.fleet.device(ESME, int(sandbox.clock().timestamp()))
    end = int(sandbox.clock().timestamp())
    supply_outage(meter, end - 600, end)

    def outages(recipient: bytes) -> list[str]:
        reports = sandbox.devices.reports(recipient=recipient)
        return [r.code for r in reports if r.kind.value == "alert" and r.code == "8F36"]

    async with asyncio.timeout(5):
        while not outages(NETWORK_OPERATOR):  # noqa: ASYNC110  (the inbox, polled)
            await asyncio.sleep(0.05)
    assert outages(NETWORK_OPERATOR) == ["8F36"]
    assert outages(SUPPLIER) == []


async def test_6_2_10_reads_back_what_6_22_set(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    assert (await _final(client, request(client, "6.22", ESME, _setting("Disable")), schema)).ok
    xml = request(client, "6.2.10", ESME, "<sr:ReadDeviceConfigurationEventAndAlertBehaviours/>")
    outcome = await client.send(xml, wait=True, within=5)
    assert outcome.final is not None, "no answer in time"
    schema(outcome.final.body)
    message = gbcs_of(outcome.final.body)
    assert message.message_code == 0x00EE  # ECS25r1
    response = gc.decode_response(message.message_code, message.content)
    assert isinstance(response, gc.DlmsReadResponse)
    alerts, *others = response.data
    assert isinstance(alerts, BitString)
    everything = (1 << 256) - 1
    assert int.from_bytes(alerts.data, "big") == everything & ~(1 << 0xA0)
    assert all(
        isinstance(o, BitString) and int.from_bytes(o.data, "big") == everything for o in others
    )


def _gas_setting(wan: str) -> str:
    return (
        "<sr:ConfigureAlertBehaviour><sr:GasSupplierAlertEventSettings><sr:x81A0>"
        f"<sr:WANAlert>{wan}</sr:WANAlert><sr:HANAlert>Disable</sr:HANAlert>"
        "<sr:EventLog>Enable</sr:EventLog><sr:Alarm>Disable</sr:Alarm>"
        "</sr:x81A0></sr:GasSupplierAlertEventSettings></sr:ConfigureAlertBehaviour>"
    )


async def _gas_final(client: DuisClient, xml: bytes, schema: SchemaCheck) -> gc.ZclStatus:
    outcome = await client.send(xml, wait=True, within=5)
    assert outcome.answers[-1].code == "I99", outcome
    assert outcome.final is not None, "no answer in time"
    assert outcome.final.kind == "response", outcome.final.body
    schema(outcome.final.body)
    message = gbcs_of(outcome.final.body)
    assert message.message_code == gc.GasEventBehaviours.message_code
    response = gc.decode_response(message.message_code, message.content)
    assert isinstance(response, gc.ZclStatus)
    return response


async def test_6_22_to_the_gsme_switches_its_wan_alert(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    """GCS20: the GSME keeps the event's behaviour and stops sending the alert over the WAN
    until it is enabled again."""
    answer = await _gas_final(
        client, request(client, "6.22", GSME, _gas_setting("Disable")), schema
    )
    assert answer.ok
    meter = sandbox.fleet.device(GSME, int(sandbox.clock().timestamp()))
    assert gas_behaviour(meter, 0x81A0) == gc.EventBehaviour(
        wan=False, han=False, log=True, alarm=False
    )
    await _raise_and_tick(sandbox, GSME)
    await asyncio.sleep(0.2)  # anything sent would be filed by now
    assert _integrity_alerts(sandbox) == []

    answer = await _gas_final(client, request(client, "6.22", GSME, _gas_setting("Enable")), schema)
    assert answer.ok
    await _raise_and_tick(sandbox, GSME)
    async with asyncio.timeout(5):
        while not _integrity_alerts(sandbox):  # noqa: ASYNC110  (the inbox, polled)
            await asyncio.sleep(0.05)
    assert _integrity_alerts(sandbox) == ["81A0"]
