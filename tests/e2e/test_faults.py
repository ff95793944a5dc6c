"""Faults: a device that does not answer, a hub whose WAN is down, duplicates and corruption
on the WAN, a replayed RequestID. Nothing hangs, nothing is applied twice."""

from __future__ import annotations

import asyncio

from gateway.wan import Direction, WanFaults
from gbcs.codes import SUPPLIER
from smetsim.client import DuisClient
from smetsim.sandbox import CHF, ESME, PENDING_ESME, PENDING_MPAN, Sandbox
from tests.e2e.support import SchemaCheck, request, request_id


def _read(client: DuisClient) -> bytes:
    return request(client, "11.2", ESME, "<sr:ReadFirmwareVersion/>")


async def test_a_device_that_does_not_answer_yields_a_command_failure(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    sandbox.devices.response_timeout = 0.3
    sandbox.wan.faults = WanFaults(drop_rate=1.0, direction=Direction.UP)
    xml = _read(client)
    outcome = await client.send(xml, wait=True, within=5)
    assert outcome.answers[0].code == "I99"
    final = outcome.final
    assert final is not None
    assert final.kind == "dcc-alert"
    assert final.code == "N12"
    schema(final.body)
    assert b"<sr:CommandFailure>" in final.body
    assert request_id(xml).encode() in final.body
    assert b"did not answer within 0.3 s" in final.body
    assert sandbox.devices.request_state(request_id(xml)) == "failed"
    assert sandbox.devices.open_requests == 0


async def test_a_late_answer_after_the_failure_is_not_applied(
    sandbox: Sandbox, client: DuisClient
) -> None:
    sandbox.devices.response_timeout = 0.2
    sandbox.wan.faults = WanFaults(delay=0.3, direction=Direction.UP)
    xml = _read(client)
    outcome = await client.send(xml, wait=True, within=5)
    assert outcome.final is not None
    assert outcome.final.kind == "dcc-alert"
    await asyncio.sleep(0.5)  # the answer arrives after the deadline
    reports = sandbox.devices.reports(request_id=request_id(xml))
    assert [r.kind.value for r in reports] == ["dcc-alert"]
    assert sandbox.devices.stats["ignored"] >= 1


async def test_a_hub_whose_wan_is_down_is_reported_at_once(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    sandbox.wan.faults.link_down(CHF)
    xml = _read(client)
    answer = await client.post(xml)
    assert answer.code == "E1001"
    assert "00-DB-12-34-56-78-90-A2" in (answer.reason or "")
    schema(answer.body)
    assert sandbox.wan.stats.sent_down == 0
    # refused, so nothing was consumed: the same RequestID goes through once the link is up
    sandbox.wan.faults.link_up(CHF)
    outcome = await client.send(xml, wait=True, within=5)
    assert outcome.ok


async def test_a_duplicate_request_id_is_refused_and_sent_once(
    sandbox: Sandbox, client: DuisClient
) -> None:
    xml = _read(client)
    first = await client.send(xml, wait=True, within=5)
    assert first.ok
    again = await client.post(xml)
    assert again.code == "E21"
    assert sandbox.wan.stats.sent_down == 1


async def test_duplicated_answers_are_applied_once(sandbox: Sandbox, client: DuisClient) -> None:
    sandbox.wan.faults = WanFaults(duplicate_rate=1.0, direction=Direction.UP)
    body = (
        "<sr:UpdateHANDeviceLog><sr:DeviceID>00-DB-12-34-56-78-90-B0</sr:DeviceID>"
        "<sr:RequestType>Add</sr:RequestType><sr:AddDeviceToCHFWhitelist>"
        "<sr:JoinTimePeriod>60</sr:JoinTimePeriod>"
        "<sr:InstallCode>30313233343536373839414243444546</sr:InstallCode>"
        f"<sr:ImportMPxN>{PENDING_MPAN}</sr:ImportMPxN>"
        "</sr:AddDeviceToCHFWhitelist></sr:UpdateHANDeviceLog>"
    )
    xml = request(client, "8.11", CHF, body)
    outcome = await client.send(xml, wait=True, within=5)
    assert outcome.ok, outcome
    await asyncio.sleep(0.1)
    assert len(sandbox.devices.reports(request_id=request_id(xml))) == 1
    assert sandbox.devices.stats["answered"] == 1
    assert sandbox.devices.stats["ignored"] >= 1
    record = sandbox.gateway.service.get_device(PENDING_ESME)
    assert record is not None
    assert record.status.value == "Whitelisted"
    assert record.import_mpxn == PENDING_MPAN
    # the CHF's "device log changed" alert came twice on the WAN, and is filed once
    alerts = [r for r in sandbox.devices.reports(recipient=SUPPLIER) if r.kind.value == "alert"]
    assert len({r.response_id for r in alerts}) == len(alerts)


async def test_a_corrupted_command_is_refused_by_the_device_with_an_alert(
    sandbox: Sandbox, client: DuisClient, schema: SchemaCheck
) -> None:
    sandbox.devices.response_timeout = 0.3
    sandbox.wan.faults = WanFaults(corrupt_rate=1.0, direction=Direction.DOWN)
    xml = _read(client)
    outcome = await client.send(xml, wait=True, within=5)
    assert outcome.final is not None
    assert outcome.final.kind == "dcc-alert"  # the device sent no response...
    alerts = [r for r in sandbox.devices.reports(recipient=SUPPLIER) if r.kind.value == "alert"]
    assert alerts, "the device raised no alert"  # ...but an authentication-failure alert
    assert alerts[-1].device == ESME
    assert alerts[-1].code == "8F3D"  # trusted source authentication failure
    assert alerts[-1].body is not None
    schema(alerts[-1].body)
