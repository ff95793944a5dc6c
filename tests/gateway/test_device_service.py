"""The device SR service against the DCC's reference test data: the commands and
pre-commands it builds are byte for byte those of RTDS 4.5.0, and the reference responses
find their requests (and drive the SMI)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway import frame_log
from gateway.errors import ServiceError
from gateway.inventory import MIGRATIONS
from gateway.model import DevicePrenotification, DeviceStatus, RequestId
from gateway.services import NonDeviceService
from gateway.services.device import (
    Accepted,
    DeviceCall,
    DeviceReport,
    DeviceRequest,
    DeviceService,
    ReportKind,
)
from gateway.services.device_types import rid_text
from gateway.srv.configuration import CommissionDevice
from gateway.srv.han import UpdateHanDeviceLog
from gateway.srv.reading import ReadImportRegisters
from gateway.srv.supply import EnableSupply
from gateway.storage import Storage
from gateway.users import MeterPoints, last_request_counter, seed_default_identities
from gateway.wan import InProcessWan
from gbcs.codes import SUPPLIER
from gbcs.devices import DeviceType, Fuel
from gbcs.frames import Message
from gbcs.keystore import Keystore

ESME = bytes.fromhex("00db1234567890a0")
CHF = bytes.fromhex("00db1234567890a2")
GPF = bytes.fromhex("00db1234567890a3")
GSME = bytes.fromhex("00db1234567890a1")
NEW_ESME = bytes.fromhex("00db1234567890b0")
GBCS = "gbcs"


@dataclass
class Harness:
    service: DeviceService
    nondevice: NonDeviceService
    wan: InProcessWan
    sent: list[bytes]
    reports: list[DeviceReport]

    async def submit(
        self, request: DeviceRequest, srv: str, counter: int, target: bytes, cv: int = 1
    ) -> Accepted:
        call = DeviceCall(SUPPLIER, RequestId(SUPPLIER, target, counter), cv, srv, request)
        return await self.service.submit(call)

    async def answer(self, frame: bytes) -> None:
        self.service.on_frame(bytes(8), frame)
        for _ in range(100):
            await asyncio.sleep(0.005)
            if self.reports:
                return


def hexfile(conformance: Path, folder: str, name: str) -> bytes:
    return bytes.fromhex((conformance / GBCS / folder / name).read_text().strip())


_KEYSTORES: dict[Path, Keystore] = {}


def _keystore(conformance: Path) -> Keystore:
    """The reference test data's keys (read once: 480 files)."""
    if conformance not in _KEYSTORES:
        _KEYSTORES[conformance] = Keystore.load(conformance / "keystore")
    return _KEYSTORES[conformance]


@pytest.fixture
async def harness(conformance: Path) -> AsyncIterator[Harness]:
    storage = Storage.open(":memory:", migrations=MIGRATIONS)
    clock = lambda: datetime(1970, 1, 1, 0, 0, 1, 302000, tzinfo=UTC)  # noqa: E731 - ACB counter 1302
    nondevice = NonDeviceService(storage, clock=clock)
    seed_default_identities(storage)
    points = MeterPoints(storage)
    for mpxn, fuel in (("1312345678111", Fuel.ELECTRICITY), ("1312345678222", Fuel.ELECTRICITY),
                       ("1234567890", Fuel.GAS)):  # fmt: skip
        points.register_meter_point(mpxn, fuel, SUPPLIER)
    nondevice.prenotify_shipment(
        SUPPLIER,
        [
            DevicePrenotification(CHF, "7E11", "00C20001", DeviceType.CHF, associated_gpf_id=GPF),
            DevicePrenotification(ESME, "AB01", "010A030B", DeviceType.ESME),
            DevicePrenotification(GSME, "AB01", "020A030B", DeviceType.GSME),
            DevicePrenotification(NEW_ESME, "AB01", "010A030B", DeviceType.ESME),
        ],
    )
    for hub in (CHF, GPF):
        nondevice.on_installed_not_commissioned(hub)
        nondevice.on_commissioned(hub)
    nondevice.on_whitelisted(ESME, CHF, import_mpxn="1312345678111")
    nondevice.on_commissioned(ESME)
    nondevice.on_whitelisted(GSME, CHF, import_mpxn="1234567890")
    nondevice.on_commissioned(GSME)
    wan = InProcessWan()
    sent: list[bytes] = []
    wan.hubs.set_handler(lambda hub, frame: sent.append(frame))
    reports: list[DeviceReport] = []
    keys = _keystore(conformance)
    service = DeviceService(
        storage, nondevice, keys, wan, clock=clock, listener=reports.append, response_timeout=5
    )
    await service.start()
    try:
        yield Harness(service, nondevice, wan, sent, reports)
    finally:
        await service.close()
        await wan.close()
        storage.close()


async def test_ecs17b_command_is_the_reference_command(harness: Harness, conformance: Path) -> None:
    accepted = await harness.submit(ReadImportRegisters(), "4.1.1", 1000, ESME)
    assert accepted.code == "I99"
    await asyncio.sleep(0.01)
    expected = hexfile(conformance, "4.1.1_ECS17b", "ECS17b_4.1.1_SINGLE_SUCCESS_COMMAND_GBCS.HEX")
    assert harness.sent == [expected]
    # and the reference response finds its request
    await harness.answer(
        hexfile(conformance, "4.1.1_ECS17b", "ECS17b_4.1.1_SINGLE_SUCCESS_RESPONSE_GBCS.HEX")
    )
    (report,) = harness.reports
    assert report.request_id == RequestId(SUPPLIER, ESME, 1000)
    assert report.response_id == RequestId(ESME, SUPPLIER, 1000)
    assert harness.service.request_state(report.request_id) == "answered"


async def test_the_frame_log_holds_the_command_sent_and_the_response(
    harness: Harness, conformance: Path
) -> None:
    """The command and the answer are logged as their request's row and response report
    (each written once, not copied into device_frames): the frame log reads back the command
    sent and the response, in that order."""
    await harness.submit(ReadImportRegisters(), "4.1.1", 1000, ESME)
    response = hexfile(conformance, "4.1.1_ECS17b", "ECS17b_4.1.1_SINGLE_SUCCESS_RESPONSE_GBCS.HEX")
    await harness.answer(response)
    rid = rid_text(RequestId(SUPPLIER, ESME, 1000))
    with harness.service.storage.transaction() as tx:
        frames = frame_log.frames_of(tx, rid)
        logged = tx.one("SELECT COUNT(*) FROM device_frames WHERE request_id = ?", (rid,))
    assert frames is not None
    assert [(f.direction, f.device, f.frame) for f in frames] == [
        ("down", ESME, harness.sent[0]),
        ("up", ESME, response),
    ]
    assert frames[0].at == "1970-01-01T00:00:01.302000+00:00"
    assert logged is not None
    assert logged[0] == 0


async def test_gcs13a_command_is_the_reference_command(harness: Harness, conformance: Path) -> None:
    await harness.submit(ReadImportRegisters(), "4.1.1", 1000, GPF)
    await asyncio.sleep(0.01)
    folder = "4.1.1_GCS13a"
    assert harness.sent == [
        hexfile(conformance, folder, "GCS13a_4.1.1_SUCCESS_RELIABLE_GSME_COMMAND_GBCS.HEX")
    ]


async def test_ecs42_pre_command_is_the_reference_pre_command(
    harness: Harness, conformance: Path
) -> None:
    accepted = await harness.submit(EnableSupply(), "7.1", 1000, ESME, cv=4)
    assert accepted.code == "I0"
    assert accepted.precommand == hexfile(
        conformance, "7.1_ECS42", "ECS42_7.1_SUCCESS_PRECOMMAND_GBCS.HEX"
    )
    assert harness.sent == []


async def test_ecs70_commissioning_pre_command_is_the_reference_pre_command(
    harness: Harness, conformance: Path
) -> None:
    # the 8.1.1 template: CurrentDateTime 2014-12-31T23:59:10Z, TolerancePeriod 60
    harness.nondevice.on_whitelisted(NEW_ESME, CHF)
    request = CommissionDevice(datetime(2014, 12, 31, 23, 59, 10, tzinfo=UTC), 60)
    call = DeviceCall(SUPPLIER, RequestId(SUPPLIER, NEW_ESME, 1000), 4, "8.1.1", request)
    accepted = await harness.service.submit(call)
    expected = hexfile(
        conformance, "8.1.1_ECS70Commission", "ECS70Commission_8.1.1_SUCCESS_PRECOMMAND_GBCS.HEX"
    )
    # the reference pre-command is for ...A0; ours for ...B0: the same bytes but the target
    assert accepted.precommand == expected.replace(ESME, NEW_ESME)


async def test_ccs01_is_the_reference_command_and_its_response_whitelists(
    harness: Harness, conformance: Path
) -> None:
    request = UpdateHanDeviceLog(
        ESME,
        add=True,
        join_time_period=90,
        install_code=bytes.fromhex("30313233343536373839414243444546"),
        import_mpxn="1312345678111",
        secondary_import_mpan="1312345678222",
    )
    await harness.submit(request, "8.11", 1002, CHF)
    await asyncio.sleep(0.01)
    folder = "8.11_CCS01"
    # ACB counter 1302 (the clock says 1.302 s after the epoch), supplier counter 1002
    assert harness.sent == [hexfile(conformance, folder, "CCS01_8.11_SUCCESS_COMMAND_GBCS.HEX")]
    # the reference response (ACB counter 1302, MACed CHF -> ACB) answers it
    await harness.answer(hexfile(conformance, folder, "CCS01_8.11_SUCCESS_RESPONSE_GBCS.HEX"))
    (report,) = harness.reports
    assert report.request_id == RequestId(SUPPLIER, CHF, 1002)
    record = harness.nondevice.get_device(ESME)
    assert record is not None
    assert record.status is DeviceStatus.COMMISSIONED  # re-added to a log: stays Commissioned
    assert (record.import_mpxn, record.secondary_import_mpan) == ("1312345678111", "1312345678222")
    assert record.chf_id == CHF


async def test_an_answer_with_a_forged_acb_mac_is_ignored(
    harness: Harness, conformance: Path
) -> None:
    request = UpdateHanDeviceLog(NEW_ESME, add=True, join_time_period=90, install_code=b"0" * 16)
    await harness.submit(request, "8.11", 1002, CHF)
    response = bytearray(hexfile(conformance, "8.11_CCS01", "CCS01_8.11_SUCCESS_RESPONSE_GBCS.HEX"))
    response[-1] ^= 1
    await harness.answer(bytes(response))
    assert harness.reports == []
    assert harness.service.stats["ignored"] == 1
    record = harness.nondevice.get_device(NEW_ESME)
    assert record is not None
    assert record.status is DeviceStatus.PENDING


def _last_counter(harness: Harness) -> int | None:
    with harness.service.storage.transaction() as tx:
        return last_request_counter(tx, SUPPLIER)


async def test_the_request_id_rules_and_a_refusal_consumes_no_counter(harness: Harness) -> None:
    service = harness.service
    stranger = bytes.fromhex("90b3d51f3e0000ff")
    with pytest.raises(ServiceError) as refused:
        await service.submit(
            DeviceCall(stranger, RequestId(stranger, ESME, 5), 1, "4.1.1", ReadImportRegisters())
        )
    assert refused.value.rule == "unknown_user"
    other = bytes.fromhex("90b3d51f30020000")
    with pytest.raises(ServiceError) as refused:
        await service.submit(
            DeviceCall(SUPPLIER, RequestId(other, ESME, 5), 1, "4.1.1", ReadImportRegisters())
        )
    assert refused.value.rule == "originator_not_sender"
    # refused after the counter was taken (no such device): the counter is not consumed
    with pytest.raises(ServiceError) as refused:
        await harness.submit(ReadImportRegisters(), "4.1.1", 2000, bytes(8))
    assert refused.value.rule == "unknown_device"
    assert _last_counter(harness) is None
    assert (await harness.submit(ReadImportRegisters(), "4.1.1", 2000, ESME)).code == "I99"
    assert _last_counter(harness) == 2000
    for counter in (2000, 1999):
        with pytest.raises(ServiceError) as refused:
            await harness.submit(ReadImportRegisters(), "4.1.1", counter, ESME)
        assert refused.value.rule == "request_id_replayed"
    assert _last_counter(harness) == 2000


async def test_reports_are_filed_in_order_and_an_alert_once(harness: Harness) -> None:
    service = harness.service
    await harness.submit(ReadImportRegisters(), "4.1.1", 3000, ESME)
    await harness.submit(ReadImportRegisters(), "4.1.1", 3001, GSME)
    await asyncio.sleep(0.01)
    assert service.open_requests == 2
    service.fail(next(iter(service._open)), "test: no answer")
    service.fail(next(iter(service._open)), "test: no answer")
    for _ in range(100):
        await asyncio.sleep(0.005)
        if len(harness.reports) == 2:
            break
    first, second = harness.reports
    assert (first.kind.value, second.kind.value) == ("dcc-alert", "dcc-alert")
    assert 0 < first.seq < second.seq
    stored = service.reports(recipient=SUPPLIER)
    assert [(r.seq, r.request_id) for r in stored] == [
        (first.seq, first.request_id),
        (second.seq, second.request_id),
    ]
    # a device alert filed twice (a WAN duplicate) is stored once
    alert = dataclasses.replace(
        first,
        kind=ReportKind.ALERT,
        code="8F3D",
        request_id=None,
        response_id=RequestId(ESME, SUPPLIER, 77),
    )
    outcomes = [
        await service.commits.call(lambda tx: service.inbox.insert(tx, alert)) for _ in range(2)
    ]
    assert outcomes[0] is not None
    assert outcomes[0].seq > second.seq
    assert outcomes[1] is None
    assert len(service.reports(recipient=SUPPLIER)) == 3


def test_a_report_refiled_keeps_every_other_field() -> None:
    from gateway.services.device_reports import _refiled

    report = DeviceReport(
        seq=1,
        kind=ReportKind.ALERT,
        recipient=SUPPLIER,
        device=ESME,
        code="8F3D",
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        request_id=RequestId(SUPPLIER, ESME, 1),
        response_id=RequestId(ESME, SUPPLIER, 2),
        service_reference_variant="4.1.1",
        payload=b"\x01",
        alert_code=0x8F3D,
        reason="why",
        body=b"<old/>",
        delivered=True,
    )
    assert _refiled(report, 9, b"<new/>") == dataclasses.replace(report, seq=9, body=b"<new/>")


def test_a_signed_answer_to_the_acb_is_checked_by_its_signature(
    harness: Harness, conformance: Path
) -> None:
    """The answer to a CS02b the ACB signed (SR6.21) is signed by the device, not MACed: the
    service verifies that signature (the DCC's reference response), and a forged one fails."""
    frame = hexfile(
        conformance,
        "6.21_CS02bNOByNOHandover",
        "CS02bNOByNOHandover_6.21_SUCCESS_RESPONSE_GBCS.HEX",
    )
    message = Message.from_bytes(frame)
    assert message.mac is None
    assert message.signature is not None
    assert harness.service._authentic(message)
    forged = dataclasses.replace(message, signature=bytes(len(message.signature)))
    assert not harness.service._authentic(forged)
