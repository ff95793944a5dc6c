"""A gas meter's installation (8.11 Add then 8.1.1 with GCS28), its removal from the CHF's log
(8.11 Remove, CCS02), a gas top-up (2.2, CS01b), and a restart with a request in flight."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from emulator.metering import PaymentMode
from gateway.model import DeviceStatus
from gateway.wan import Direction, WanFaults
from gbcs import content as gc
from gbcs.codes import SUPPLIER
from gbcs.utrn import make_utrn
from smetsim.client import DuisClient
from smetsim.sandbox import CHF, ESME, GSME, PENDING_GSME, PENDING_MPRN, Sandbox, SandboxSettings
from tests.e2e.support import gbcs_of, request, request_id


def _log(device: str, add: bool) -> str:
    inner = (
        "<sr:AddDeviceToCHFWhitelist><sr:JoinTimePeriod>30</sr:JoinTimePeriod>"
        "<sr:InstallCode>0102030405060708</sr:InstallCode>"
        f"<sr:ImportMPxN>{PENDING_MPRN}</sr:ImportMPxN></sr:AddDeviceToCHFWhitelist>"
        if add
        else ""
    )
    kind = "Add" if add else "Remove"
    return (
        f"<sr:UpdateHANDeviceLog><sr:DeviceID>{device}</sr:DeviceID>"
        f"<sr:RequestType>{kind}</sr:RequestType>{inner}</sr:UpdateHANDeviceLog>"
    )


async def test_install_commission_and_remove_a_gas_meter(
    sandbox: Sandbox, client: DuisClient
) -> None:
    gsme = "00-DB-12-34-56-78-90-B1"
    outcome = await client.send(request(client, "8.11", CHF, _log(gsme, True)), wait=True)
    assert outcome.ok, outcome
    record = sandbox.gateway.service.get_device(PENDING_GSME)
    assert record is not None
    assert record.status is DeviceStatus.WHITELISTED
    assert "00db1234567890b1" in sandbox.fleet.device(CHF, 0).to_json()["device_log"]
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = (
        f"<sr:CommissionDeviceSynchroniseClock><sr:CurrentDateTime>{now}</sr:CurrentDateTime>"
        "<sr:TolerancePeriod>120</sr:TolerancePeriod></sr:CommissionDeviceSynchroniseClock>"
    )
    outcome = await client.send(request(client, "8.1.1", PENDING_GSME, body, cv=4), wait=True)
    assert outcome.ok, outcome
    assert outcome.final is not None
    assert gbcs_of(outcome.final.body).message_code == 0x007F  # GCS28
    record = sandbox.gateway.service.get_device(PENDING_GSME)
    assert record is not None
    assert record.status is DeviceStatus.COMMISSIONED
    point = sandbox.gateway.meter_points.get(PENDING_MPRN)
    assert point is not None
    assert point.service_flag == "A"
    outcome = await client.send(request(client, "8.11", CHF, _log(gsme, False)), wait=True)
    assert outcome.ok, outcome
    assert outcome.final is not None
    assert gbcs_of(outcome.final.body).message_code == 0x0002  # CCS02
    assert "00db1234567890b1" not in (
        sandbox.fleet.device(CHF, 0).to_json().get("device_log") or {}
    )


async def test_gas_top_up(sandbox: Sandbox, client: DuisClient) -> None:
    meter = sandbox.fleet.device(GSME, int(sandbox.clock().timestamp()))
    meter.meter.mode = PaymentMode.PREPAYMENT  # type: ignore[attr-defined]  # a GSME
    utrn = make_utrn(sandbox.keystore, supplier=SUPPLIER, device=GSME, counter=7 << 32, value=500)
    body = f"<sr:TopUpDevice><sr:UTRN>{utrn}</sr:UTRN></sr:TopUpDevice>"
    outcome = await client.send(request(client, "2.2", GSME, body), wait=True)
    assert outcome.ok, outcome
    assert outcome.final is not None
    message = gbcs_of(outcome.final.body)
    assert message.message_code == 0x0097  # CS01b
    result = gc.decode_response(0x0097, message.content)
    assert isinstance(result, gc.GasTopUpResult)
    assert result.ok
    assert result.value == 500


async def test_a_request_in_flight_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state"
    settings = SandboxSettings.create(
        state=state, port=0, latency=False, response_timeout=1.0, durability="full"
    )
    first = await Sandbox.start(settings)
    try:
        async with DuisClient(first.url, keys=first.keystore) as client:
            first.wan.faults = WanFaults(delay=30.0, direction=Direction.UP)  # answers held back
            xml = request(client, "11.2", ESME, "<sr:ReadFirmwareVersion/>")
            assert (await client.post(xml)).code == "I99"
            done = request(client, "11.2", CHF, "<sr:ReadFirmwareVersion/>")
            first.wan.faults = WanFaults()
            assert (await client.send(done, wait=True, within=5)).ok
    finally:
        await first.close()  # the held-back answer is lost with the process
    second = await Sandbox.start(settings)
    try:
        async with DuisClient(second.url, keys=second.keystore) as client:
            # what was answered is still in the inbox; what was open fails on its deadline
            kept = await client.wait(request_id(done), 1)
            assert kept is not None
            assert kept.kind == "response"
            failed = await client.wait(request_id(xml), 5)
            assert failed is not None
            assert failed.kind == "dcc-alert"
            assert failed.code == "N12"
            # and the counters survived: the same request again is a replay
            assert (await client.post(xml)).code == "E21"
    finally:
        await second.close()
