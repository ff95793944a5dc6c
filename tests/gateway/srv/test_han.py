"""HAN SRs through the device service against the DCC's reference data: joins (8.7), unjoins
(8.8), the CHF device log (8.9), the CHF and GPF log restores (8.12.1, 8.12.2) and 8.11
Remove - each command the DCC's, the SMI following a successful answer, and each refusal
synchronous."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from lxml import etree

from gateway.duis.xml import SR_NS
from gateway.errors import ServiceError
from gateway.inventory import Inventory
from gateway.model import DevicePrenotification, RequestId
from gateway.services.device import DeviceCall
from gateway.services.device_han import joined_with
from gateway.srv.catalogue import entry
from gateway.srv.han import (
    JoinService,
    RecordNetworkDataGas,
    RestoreGpfDeviceLog,
    RestoreHanDeviceLog,
    UnjoinService,
    UpdateHanDeviceLog,
    join_use_case,
)
from gateway.srv.reading import ReadImportRegisters
from gateway.users import DEFAULT_NETWORK_OPERATOR as NOP
from gateway.users import MeterPoints
from gbcs import content as gc
from gbcs.codes import ACB, SUPPLIER
from gbcs.devices import DeviceType, Fuel
from gbcs.frames import Message
from tests.gateway.test_device_service import CHF, ESME, GPF, GSME, Harness, hexfile
from tests.gateway.test_device_service import harness as harness  # the fixture

PPMID = bytes.fromhex("00db1234567890a4")
HCALCS_A5 = bytes.fromhex("00db1234567890a5")
OTHERS = {
    "00db12345678909a": DeviceType.HCALCS,
    "00db123456789093": DeviceType.ESME,
    "00db123456789098": DeviceType.PPMID,
    "00db123456789094": DeviceType.GSME,
    "00db12345678909c": DeviceType.GPF,
}


@pytest.fixture
def home(harness: Harness) -> Harness:
    """The harness's home plus the PPMID and HCALCS on its hub, and the other devices the
    DCC's join templates name, pre-notified."""
    items = [
        DevicePrenotification(PPMID, "1D03", "00000004", DeviceType.PPMID),
        DevicePrenotification(HCALCS_A5, "1D03", "00000005", DeviceType.HCALCS),
    ]
    items += [DevicePrenotification(bytes.fromhex(e), "1D03", "01", t) for e, t in OTHERS.items()]
    harness.nondevice.prenotify_shipment(SUPPLIER, items)
    for device in (PPMID, HCALCS_A5):
        harness.nondevice.on_whitelisted(device, CHF)
        harness.nondevice.on_commissioned(device)
    return harness


def _ref(conformance: Path, folder: str, name: str) -> Message:
    return Message.from_bytes(hexfile(conformance, folder, name))


@pytest.mark.parametrize(
    ("stem", "target", "other", "counter"),
    [
        ("CS03A1", ESME, "00db12345678909a", 1000),
        ("CS03A2Critical", HCALCS_A5, "00db123456789093", 1000),
    ],
)
async def test_critical_joins_are_the_reference_pre_commands(
    home: Harness, conformance: Path, stem: str, target: bytes, other: str, counter: int
) -> None:
    request = JoinService(bytes.fromhex(other), critical=True)
    accepted = await home.submit(request, "8.7.1", counter, target, cv=4)
    assert accepted.code == "I0"
    expected = hexfile(conformance, f"8.7.1_{stem}", f"{stem}_8.7.1_SUCCESS_PRECOMMAND_GBCS.HEX")
    assert accepted.precommand == expected


async def test_method_c_join_carries_the_other_devices_certificate_from_the_keystore(
    home: Harness, conformance: Path
) -> None:
    """The reference's PPMID certificate is another issue of the same key than the one in
    the reference keystore: the command is the reference's with the keystore's certificate."""
    other = bytes.fromhex("00db123456789098")
    accepted = await home.submit(JoinService(other, critical=True), "8.7.1", 1004, GSME, cv=4)
    assert accepted.precommand is not None
    ours = Message.from_bytes(accepted.precommand)
    theirs = _ref(
        conformance, "8.7.1_CS03CCritical", "CS03CCritical_8.7.1_SUCCESS_PRECOMMAND_GBCS.HEX"
    )
    assert (ours.message_code, ours.originator_counter, ours.business_target) == (
        theirs.message_code,
        theirs.originator_counter,
        theirs.business_target,
    )
    mine = gc.decode_command(0x00AF, ours.content)
    reference = gc.decode_command(0x00AF, theirs.content)
    assert isinstance(mine, gc.JoinDevice)
    assert isinstance(reference, gc.JoinDevice)
    assert (mine.method, mine.other, mine.other_type) == (3, other, 5)
    assert (reference.method, reference.other, reference.other_type) == (3, other, 5)
    assert mine.certificate is not None
    assert reference.certificate is not None
    key = x509.load_der_x509_certificate(mine.certificate).public_key()
    assert key == x509.load_der_x509_certificate(reference.certificate).public_key()


async def test_method_b_join_is_the_reference_and_the_smi_records_both_logs(
    home: Harness, conformance: Path
) -> None:
    folder = "8.7.2_CS03B"
    gpf = bytes.fromhex("00db12345678909c")
    assert (await home.submit(JoinService(gpf, critical=False), "8.7.2", 1001, GSME)).code == "I99"
    await asyncio.sleep(0.01)
    assert home.sent == [hexfile(conformance, folder, "CS03B_8.7.2_SUCCESS_COMMAND_GBCS.HEX")]
    await home.answer(hexfile(conformance, folder, "CS03B_8.7.2_SUCCESS_RESPONSE_GBCS.HEX"))
    assert [r.request_id for r in home.reports] == [RequestId(SUPPLIER, GSME, 1001)]
    with home.service.storage.transaction() as tx:
        assert joined_with(tx, GSME) == [(gpf, DeviceType.GPF)]
        assert joined_with(tx, gpf) == [(GSME, DeviceType.GSME)]
    # 8.12.2: the old GPF's log (as the SMI holds it) restored into the hub's GPF
    await home.submit(RestoreGpfDeviceLog(gpf), "8.12.2", 1002, GPF)
    await asyncio.sleep(0.01)
    restore = Message.from_bytes(home.sent[-1])
    assert restore.message_code == 0x008C
    assert restore.business_originator == ACB
    command = gc.decode_command(0x008C, restore.content)
    assert command == gc.RestoreGpfDeviceLog(((GSME, 0),))


def _empty_read(srv: str, body: str) -> object:
    """The typed request the catalogue's codec reads from an empty body."""
    codec = entry(srv).codec
    assert codec is not None
    return codec.read(etree.fromstring(f'<sr:{body} xmlns:sr="{SR_NS}"/>'))


async def test_acb_sent_joins_unjoins_and_device_log_reads_carry_the_reference_content(
    home: Harness, conformance: Path
) -> None:
    cases = [
        ("8.7.2", JoinService(bytes.fromhex("00db123456789093"), critical=False), PPMID,
         "8.7.2_CS03A2NonCritical", "CS03A2NonCritical_8.7.2_SUCCESS_COMMAND_GBCS.HEX"),
        ("8.8.2", UnjoinService(bytes.fromhex("0102030405060708")), PPMID,
         "8.8.2_CS04ACNonCritical", "CS04ACNonCritical_8.8.2_SUCCESS_COMMAND_GBCS.HEX"),
        ("8.9", _empty_read("8.9", "ReadDeviceLog"), CHF, "8.9_CCS05CCS04",
         "CCS05CCS04_8.9_SUCCESS_COMMAND_GBCS.HEX"),
    ]  # fmt: skip
    for counter, (srv, request, target, folder, name) in enumerate(cases, start=1000):
        assert (await home.submit(request, srv, counter, target)).code == "I99"
        await asyncio.sleep(0.01)
        ours = Message.from_bytes(home.sent[-1])
        theirs = _ref(conformance, folder, name)
        assert ours.business_originator == ACB == theirs.business_originator
        assert (ours.message_code, ours.business_target) == (
            theirs.message_code,
            theirs.business_target,
        )
        if srv == "8.9":  # DLMS: the invoke id is the ACB's counter
            assert ours.content[5:] == theirs.content[5:]
        else:
            assert ours.content == theirs.content, name


async def test_critical_unjoin_is_the_reference_pre_command(
    home: Harness, conformance: Path
) -> None:
    request = UnjoinService(bytes.fromhex("00db123456789099"))
    accepted = await home.submit(request, "8.8.1", 1001, ESME, cv=4)
    folder = "8.8.1_CS04ACCritical"
    assert accepted.precommand == hexfile(
        conformance, folder, "CS04ACCritical_8.8.1_SUCCESS_PRECOMMAND_GBCS.HEX"
    )


async def test_joins_the_smi_cannot_make_are_refused_synchronously(home: Harness) -> None:
    unknown = bytes.fromhex("0102030405060708")
    HCALCS_9A = bytes.fromhex("00db12345678909a")  # noqa: N806
    refusals = [
        (JoinService(unknown, critical=True), ESME, "join_unknown_device"),
        (JoinService(GPF, critical=True), ESME, "join_incompatible"),
        (JoinService(HCALCS_9A, critical=False), ESME, "join_incompatible"),
    ]  # fmt: skip
    for counter, (request, target, rule) in enumerate(refusals, start=2000):
        srv = "8.7.1" if request.critical else "8.7.2"
        with pytest.raises(ServiceError) as refused:
            await home.submit(request, srv, counter, target, cv=4 if request.critical else 1)
        assert refused.value.rule == rule
        assert refused.value.sentence
    assert home.sent == []
    with pytest.raises(ServiceError) as refused:
        await home.submit(RestoreGpfDeviceLog(GPF), "8.12.2", 2010, GPF)
    assert refused.value.rule == "restore_empty_log"


def test_join_methods_follow_the_gbcs_pairs() -> None:
    t = DeviceType
    assert join_use_case(t.GSME, t.GPF) == "CS03b"
    assert join_use_case(t.GSME, t.PPMID) == join_use_case(t.PPMID, t.GSME) == "CS03c"
    assert join_use_case(t.ESME, t.HCALCS) == "CS03a1"
    assert join_use_case(t.PPMID, t.ESME) == "CS03a2"
    assert join_use_case(t.ESME, t.GPF) is None
    assert join_use_case(t.GSME, t.HCALCS) is None


async def test_remove_takes_the_device_off_the_hub_log_and_it_is_then_refused_at_once(
    home: Harness, conformance: Path
) -> None:
    # a device that is in no log of this hub: refused before anything is sent
    with pytest.raises(ServiceError) as refused:
        await home.submit(UpdateHanDeviceLog(bytes.fromhex("00db1234567890b0"), add=False),
                          "8.11", 1001, CHF)  # fmt: skip
    assert refused.value.rule == "remove_not_in_log"
    assert home.sent == []
    await home.submit(UpdateHanDeviceLog(ESME, add=False), "8.11", 1002, CHF)
    await asyncio.sleep(0.01)
    assert len(home.sent) == 1
    # the reference answer (ACB counter 1302, as the harness's clock gives)
    folder = "8.11_CCS02"
    await home.answer(hexfile(conformance, folder, "CCS02_8.11_SUCCESS_RESPONSE_GBCS.HEX"))
    assert [r.request_id for r in home.reports] == [RequestId(SUPPLIER, CHF, 1002)]
    record = home.nondevice.get_device(ESME)
    assert record is not None
    assert record.chf_id is None
    with pytest.raises(ServiceError) as refused:
        await home.submit(ReadImportRegisters(), "4.1.1", 1003, ESME)
    assert refused.value.rule == "device_no_hub"
    assert len(home.sent) == 1


async def test_a_remove_sent_to_a_meter_is_the_wrong_device_type(home: Harness) -> None:
    with pytest.raises(ServiceError) as refused:
        await home.submit(UpdateHanDeviceLog(GSME, add=False), "8.11", 1001, ESME)
    assert refused.value.rule == "device_wrong_type"
    assert home.sent == []


async def test_gcs31_is_the_reference_command_at_the_reference_time(
    home: Harness, conformance: Path
) -> None:
    # the reference's IssuerEventID is the ZigBee time of 2015-01-01T00:00:00Z
    home.service.clock = lambda: datetime(2015, 1, 1, tzinfo=UTC)
    # the gas transporter of the GSME's meter point sends it
    MeterPoints(home.service.storage).register_meter_point("1234567890", Fuel.GAS, SUPPLIER, NOP)
    call = DeviceCall(NOP, RequestId(NOP, GSME, 1200), 1, "14.1", RecordNetworkDataGas())
    assert (await home.service.submit(call)).code == "I99"
    await asyncio.sleep(0.01)
    ours = Message.from_bytes(home.sent[-1])
    theirs = _ref(conformance, "14.1_GCS31", "GCS31_14.1_SUCCESS_COMMAND_GBCS.HEX")
    assert ours.business_originator == ACB == theirs.business_originator
    assert (ours.message_code, ours.business_target, ours.extensions, ours.content) == (
        theirs.message_code,
        theirs.business_target,
        theirs.extensions,
        theirs.content,
    )


def test_the_restore_han_log_body_names_the_old_chf() -> None:
    codec = entry("8.12.1").codec
    assert codec is not None

    def read(inner: str) -> object:
        return codec.read(
            etree.fromstring(
                f'<sr:RestoreHANDeviceLog xmlns:sr="{SR_NS}">{inner}</sr:RestoreHANDeviceLog>'
            )
        )

    assert read("<sr:OldCHFID>00-DB-12-34-56-78-90-A2</sr:OldCHFID>") == RestoreHanDeviceLog(CHF)
    for inner, words in (
        ("", "OldCHFID"),
        ("<sr:OldCHFID>00-DB-12</sr:OldCHFID>", "OldCHFID is invalid"),
    ):
        with pytest.raises(ServiceError, match=words) as caught:
            read(inner)
        assert caught.value.rule == "duis_invalid_element"


async def test_restore_han_log_sends_the_smis_log_of_the_old_chf_from_the_acb(
    home: Harness,
) -> None:
    """No DCC reference exists for CCS03: the command is checked against the SMI's log."""
    with home.service.storage.transaction() as tx:
        logged = sorted(
            (r.device_id, gc.OTHER_DEVICE_TYPES[r.device_type.value])
            for r in Inventory(tx).on_hub(CHF)
            if r.chf_id == CHF
        )
    assert logged
    assert (await home.submit(RestoreHanDeviceLog(CHF), "8.12.1", 1000, CHF)).code == "I99"
    await asyncio.sleep(0.01)
    sent = Message.from_bytes(home.sent[-1])
    assert (sent.message_code, sent.business_originator, sent.business_target) == (3, ACB, CHF)
    command = gc.decode_command(0x0003, sent.content)
    assert isinstance(command, gc.RestoreChfDeviceLog)
    assert command.extended_pan_id == CHF
    assert list(command.entries) == logged
    # an OldCHFID that is not a CHF: refused at once, nothing sent
    count = len(home.sent)
    with pytest.raises(ServiceError, match="is not a CHF") as caught:
        await home.submit(RestoreHanDeviceLog(GPF), "8.12.1", 1001, CHF)
    assert caught.value.code == "E081202"
    await asyncio.sleep(0.01)
    assert len(home.sent) == count
