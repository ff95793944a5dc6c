"""Typed content: conformance and RTDS contents decode to typed values that re-encode byte for
byte; every type round-trips; encrypted responses decrypt to the real register values."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gbcs import content as c
from gbcs import usecases
from gbcs.codes import CRA, KeyPurpose
from gbcs.content import _common
from gbcs.crypto import SharedSecretCache, decrypt_payload, derive_key, encrypt_payload, other_info
from gbcs.errors import DecodeError, EncodeError
from gbcs.frames import Message
from gbcs.keystore import Keystore
from gbcs.payloads import Raw, decode_content, dlms
from gbcs.payloads.dlms import CosemDateTime
from tests.gbcs.rtds import ECS01A_IMMEDIATE_TOU_COMMAND, ECS01A_IMMEDIATE_TOU_RESPONSE
from tests.gbcs.untyped import UNTYPED, decode_typed, typed_bytes, untyped_key
from tests.gbcs.vectors import CONFORMANCE_MESSAGES, read_message

UTC = dt.UTC
ESME = bytes.fromhex("00db1234567890a0")
SUPPLIER = bytes.fromhex("90b3d51f30010000")
KEY = bytes(range(16))


def _encrypt(pt: bytes) -> bytes:
    return encrypt_payload(KEY, ESME, pt)


def _decrypt(framed: bytes) -> bytes:
    return decrypt_payload(KEY, ESME, framed)


@pytest.mark.parametrize("name", CONFORMANCE_MESSAGES)
def test_conformance_contents_are_typed_exactly(conformance: Path, name: str) -> None:
    message = Message.from_bytes(read_message(conformance, name))
    if untyped_key(message) in UNTYPED:
        # No typed codec: the generic tree decodes and re-encodes byte for byte, and the
        # typed decoder really refuses it (so the listed set stays exact).
        payload = decode_content(message.message_code, message.cra, message.content)
        assert not isinstance(payload, Raw), payload
        assert payload.to_bytes() == message.content
        with pytest.raises(DecodeError):
            decode_typed(message)
        return
    typed = decode_typed(message)
    if message.cra == CRA.COMMAND:
        assert isinstance(typed, c.Command)
        assert typed.message_code == message.message_code
    elif message.cra == CRA.RESPONSE:
        assert isinstance(typed, c.Response)
        # A future-dated firmware activation's response only acknowledges the schedule; its
        # failure is reported by the 8F67 alert (CS06 FUTURE_DATED_ERROR). GCS05's
        # FUTURE_DATED_ERROR answers with failing Default Responses.
        assert typed.ok == (
            "SUCCESS" in name
            or ("FUTURE_DATED_ERROR" in name and "GCS05" not in name)
            or ("ERROR_RESPONSE" in name and ("GCS13a" in name or "GCS13c" in name))
        )
    assert typed_bytes(typed) == message.content


@pytest.mark.skipif(not CONFORMANCE_MESSAGES, reason="conformance data (../shared) absent")
def test_the_untyped_set_is_exact_and_counted(conformance: Path) -> None:
    keys = [
        untyped_key(Message.from_bytes(read_message(conformance, n))) for n in CONFORMANCE_MESSAGES
    ]
    assert set(keys) >= UNTYPED, sorted(UNTYPED - set(keys))  # no stale entry
    counts = Counter(cra for key, cra in ((k, k[1]) for k in UNTYPED))
    assert (counts[CRA.COMMAND], counts[CRA.RESPONSE], counts[CRA.ALERT]) == (0, 0, 0)
    untyped_messages = sum(key in UNTYPED for key in keys)
    assert (untyped_messages, len(keys) - untyped_messages) == (0, 863)


def _payload_key(conformance: Path, message: Message) -> bytes:
    store = Keystore.load(conformance / "keystore")
    z = SharedSecretCache().z(
        store.private_key(message.business_target, KeyPurpose.KA),
        store.public_key(message.business_originator, KeyPurpose.KA),
    )
    info = other_info(
        message.business_originator, 4, message.originator_counter, message.business_target
    )
    return derive_key(z, info)


@pytest.mark.parametrize(
    ("name", "secondary"),
    [
        ("4.1.1_ECS17b/ECS17b_4.1.1_SINGLE_SUCCESS_RESPONSE_GBCS.HEX", None),
        ("4.1.1_ECS17b/ECS17b_4.1.1_TWIN_SUCCESS_RESPONSE_GBCS.HEX", 10),
    ],
)
def test_ecs17b_registers_from_the_real_response(
    conformance: Path, name: str, secondary: int | None
) -> None:
    message = Message.from_bytes(read_message(conformance, name))
    response = c.decode_response(message.message_code, message.content)
    assert isinstance(response, c.ImportRegistersResponse)
    key = _payload_key(conformance, message)
    registers = response.registers(lambda f: decrypt_payload(key, message.business_originator, f))
    assert registers == c.ImportRegisters(10, 10, secondary)
    assert registers.active_import_wh == 10.0
    rebuilt = c.ImportRegistersResponse(
        response.counter,
        response.device,
        response.requester,
        encrypt_payload(key, message.business_originator, registers.to_plaintext()),
    )
    assert rebuilt.encode() == message.content


@pytest.mark.parametrize(
    ("name", "volume"),
    [
        ("4.1.1_GCS13a/GCS13a_4.1.1_SUCCESS_RELIABLE_GSME_RESPONSE_GBCS.HEX", 12345),
        ("4.1.1_GCS13a/GCS13a_4.1.1_ERROR_RESPONSE_GBCS.HEX", 12345),
    ],
)
def test_gcs13a_register_from_the_real_response(conformance: Path, name: str, volume: int) -> None:
    message = Message.from_bytes(read_message(conformance, name))
    response = c.decode_response(message.message_code, message.content)
    assert isinstance(response, c.GasRegisterResponse)
    key = _payload_key(conformance, message)
    register = response.register(lambda f: decrypt_payload(key, message.business_originator, f))
    assert register.volume == volume
    if "ERROR" in name:
        assert register.divisor is None
        assert register.volume_m3 is None
    else:
        assert register.volume_m3 == pytest.approx(12.345)


# Contents of DCC reference test data (RTDS 4.5.0) messages beyond the five in ../shared.
RTDS_COMMANDS = {
    0x0050: "d9200003e8000103000900000a006aff0101120034",
    0x0051: "d9200003e8000103000900000a006aff0101120036",
    0x0059: "d9200003e800010100010000000201ff020100",
    0x0012: "30260420aa758690730934ff0685aa758690730934ff0685657788990011223344556677020203e8",
    0x0081: "010901010702001501000b00000000804a371c00000000000000000001",
    0x0085: "010901010702001501000b00000000804a371c00000000000000000101",
    0x0082: "0109010107020007000000050214" + "00",
    0x007F: "3022180f32303134313233313233333030305a180f32303135303130313030333030305a",
    0x0002: "d920000516000103006800001e0300ff0201090800db1234567890a0",
}
RTDS_RESPONSES = [
    (0x0059, "da200003e800000109040123abcd010100", True),
    (0x0059, "da200003ea00000100010101", False),
    (0x0012, "300902010004040123abce", True),
    (0x0012, "300902010104040123abcf", False),
    (0x0012, "0500", True),
    (0x0081, "010901010702001009000c00000000804a371c0000000000", True),
    (0x0081, "010901010702000508000b0bc0", False),
    (0x0085, "010901010702001009000c00000000804a371c0000000001", True),
    (0x0082, "010901010702000e080001050200216400140000300" + "2", True),
    (0x007F, "3014180f32303135303130313030303030305a020102", False),
    (0x0002, "da20000516000001000103" + "00", True),
]


@pytest.mark.parametrize(("code", "hexstr"), sorted(RTDS_COMMANDS.items()))
def test_rtds_commands(code: int, hexstr: str) -> None:
    command = c.decode_command(code, bytes.fromhex(hexstr))
    assert command.encode().hex() == hexstr
    assert code in c.SUPPORTED_COMMANDS


@pytest.mark.parametrize(("code", "hexstr", "ok"), RTDS_RESPONSES)
def test_rtds_responses(code: int, hexstr: str, ok: bool) -> None:
    response = c.decode_response(code, bytes.fromhex(hexstr))
    assert response.encode().hex() == hexstr
    assert response.ok == ok


RTDS_ALERTS = [
    (0x00CA, "30250203008f66180f32303330303131353039303030305a020203e9300902010004040123abcf"),
    (
        0x00CC,
        "0f200007df000203128f66090c07ee010fff090000008000ff0913001900000000000003f0"
        "00710000131404ff07",
    ),
    (0x00CD, "0109018f66388188900e006b00000000000003ed07000905"),
]


@pytest.mark.parametrize(("code", "hexstr"), RTDS_ALERTS)
def test_rtds_alerts(code: int, hexstr: str) -> None:
    alert = c.decode_alert(code, bytes.fromhex(hexstr))
    data = alert.to_bytes() if isinstance(alert, c.GbzAlert) else alert.encode()
    assert data.hex() == hexstr


def test_future_dated_dlms_alert_matches_rtds() -> None:
    when = dt.datetime(2030, 1, 15, 9, tzinfo=UTC)
    alert = c.DlmsAlert.future_dated(
        0x7DF,
        executed=True,
        when=when,
        message_code=0x0019,
        command_counter=0x3F0,
        spec=dlms.AccessSpec(dlms.AccessKind.SET, 113, dlms.Obis.parse("0-0:19.20.4.255"), 7),
    )
    assert alert.encode().hex() == RTDS_ALERTS[1][1]


NOW = dt.datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)
HASH = bytes(range(32))

COMMANDS: list[c.Command] = [
    c.ReadImportRegisters(1000, SUPPLIER, ESME),
    c.SupplyEnable(7),
    c.SupplyDisable(8),
    c.SupplyArm(9),
    c.SetClock.around(10, NOW),
    c.SetGasClock.around(NOW),
    c.AddDeviceLogEntry(11, ESME, b"0123456789ABCDEF"),
    c.AddDeviceLogEntry(12, ESME, bytes(16), join_timeout=30, device_type=2, enable_joining=False),
    c.RemoveDeviceLogEntry(13, ESME),
    c.ReadFirmwareVersion(14),
    c.ActivateFirmware(HASH, 15),
    c.ActivateFirmware(HASH, 16, NOW),
    c.ReadGasRegister(),
    c.ValveClose(0x1C374A80),
    c.ValveArm(1, implementation_time=5, request_time=4, provider_id=3, control_bits=0),
    c.ReadValve(),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda x: type(x).__name__)
def test_every_command_round_trips(command: c.Command) -> None:
    content = command.encode()
    assert c.decode_command(command.message_code, content) == command


def test_every_response_round_trips() -> None:
    enable = c.SupplyEnable(7)
    clock = c.SetClock.around(10, NOW)
    read = c.ReadImportRegisters(1000, SUPPLIER, ESME)
    version = c.ReadFirmwareVersion(14)
    close = c.ValveClose(42)
    responses: list[tuple[int, c.Response]] = [
        (0x004F, c.Outcome.for_command(enable)),
        (0x004F, c.Outcome.for_command(enable, 1)),
        (0x0001, c.Outcome.for_command(c.AddDeviceLogEntry(11, ESME, bytes(16)), [0, 1, 250])),
        (0x0062, c.ClockSet.for_command(clock, NOW)),
        (0x0062, c.ClockSet.for_command(clock, None, status=None, results=(0, 0, 0, 1, 250))),
        (0x007F, c.GasClockSet(NOW)),
        (0x0059, c.FirmwareVersion.for_command(version, b"\x01\x02\x03\x04")),
        (0x0012, c.FirmwareActivated(0, b"\x01\x02\x03\x04")),
        (0x0012, c.FirmwareActivationScheduled()),
        (
            0x0027,
            c.ImportRegistersResponse.build(read, c.ImportRegisters(123456, 7, 9, -1, 2), _encrypt),
        ),
        (0x0027, c.Outcome.for_command(read, 1)),
        (0x0074, c.GasRegisterResponse.build(c.GasRegister(987654), _encrypt)),
        (0x0081, c.ValveState.for_command(close, c.SupplyStatus.OFF)),
        (0x0081, c.ZclFailure(0x0B, 0xC0)),
        (0x0082, c.ValveStatus(c.SupplyStatus.ARMED, 365)),
    ]
    for code, response in responses:
        assert c.decode_response(code, response.encode()) == response, response
    rsp = responses[9][1]
    assert isinstance(rsp, c.ImportRegistersResponse)
    assert rsp.registers(_decrypt) == c.ImportRegisters(123456, 7, 9, -1, 2)
    gas = responses[11][1]
    assert isinstance(gas, c.GasRegisterResponse)
    assert gas.register(_decrypt).volume_m3 == pytest.approx(987.654)
    assert c.Outcome.for_command(enable).ok
    assert not c.Outcome.for_command(enable, 3).ok
    with pytest.raises(EncodeError):
        c.Outcome.for_command(enable, [0, 0])


def test_alerts_round_trip() -> None:
    dlms_alert = c.DlmsAlert(5, 0x8F30, NOW)
    assert c.decode_alert(0x1000, dlms_alert.encode()) == dlms_alert
    detailed = c.DlmsAlert(5, 0x8F12, NOW, dlms.octet_string(ESME))
    assert c.decode_alert(0x1000, detailed.encode()) == detailed
    gbz = c.gbz_alert(0x810E, NOW)
    assert c.decode_alert(0x1001, gbz.to_bytes()) == gbz
    fw = c.firmware_verification_alert(ok=True, when=NOW, image_hash=HASH)
    assert c.decode_alert(0x1000, fw.to_bytes()) == fw
    future = c.FutureDatedFirmwareAlert(False, NOW, 16, c.FirmwareActivated(1, b"\x00\x00\x00\x01"))
    assert c.decode_alert(0x00CA, future.encode()) == future
    assert c.alert_message_code(0x8F30) == 0x1000
    assert c.alert_message_code(0x810E) == 0x1001
    with pytest.raises(EncodeError):
        c.firmware_verification_alert(ok=False, when=NOW, image_hash=b"short")


def test_clock_tolerance() -> None:
    cmd = c.SetClock.around(1, NOW, dt.timedelta(seconds=10))
    assert cmd.accepts(NOW + dt.timedelta(seconds=10))
    assert not cmd.accepts(NOW + dt.timedelta(seconds=11))
    gas = c.SetGasClock.around(NOW)
    assert gas.accepts(NOW - dt.timedelta(minutes=30))
    assert not gas.accepts(NOW + dt.timedelta(hours=1))


def test_counter_low_bits_travel() -> None:
    big = 1_700_000_000_123
    content = c.SupplyEnable(big).encode()
    decoded = c.decode_command(0x004F, content)
    assert isinstance(decoded, c.SupplyEnable)
    assert decoded.counter == big & 0xFFFFFF
    assert c.Outcome.for_command(decoded).encode()[1:5] == content[1:5]


@pytest.mark.parametrize(
    ("code", "content", "message"),
    [
        (0x004F, c.SupplyDisable(1).encode(), "script"),
        (0x0050, c.SupplyEnable(1).encode(), "script"),
        (0x0059, c.SupplyEnable(1).encode(), "objects"),
        (0xBEEF, b"", "no typed command"),
        (0x0012, bytes.fromhex("3006040100020101"), "32 bytes"),
        (0x0074, c.ReadValve().encode(), "form"),
        (0x0081, c.ValveArm(1).encode(), "proposed"),
        (0x004F, bytes.fromhex("d9c00003e8000103000900000a006aff0101120033"), "invoke id"),
    ],
)
def test_wrong_content_is_a_decode_error(code: int, content: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        c.decode_command(code, content)


def test_wrong_responses_are_decode_errors() -> None:
    with pytest.raises(DecodeError, match="no typed response"):
        c.decode_response(0xBEEF, b"")
    with pytest.raises(DecodeError):
        c.decode_response(0x0062, c.Outcome(1, ()).encode())
    with pytest.raises(DecodeError):
        c.decode_response(0x0027, bytes.fromhex("da200003e80000010901aa010300"))
    with pytest.raises(EncodeError):
        c.ActivateFirmware(b"x", 1)


@settings(max_examples=150, deadline=None)
@given(
    code=st.sampled_from(sorted(c.SUPPORTED_COMMANDS)),
    cra=st.sampled_from(["command", "response", "alert"]),
    content=st.binary(max_size=60),
)
def test_typed_decoders_only_raise_decode_error(code: int, cra: str, content: bytes) -> None:
    decoder = {"command": c.decode_command, "response": c.decode_response}.get(cra, c.decode_alert)
    try:
        found = decoder(code, content)
    except DecodeError:
        return
    data = found.to_bytes() if isinstance(found, c.GbzAlert) else found.encode()
    assert data == content


@settings(max_examples=100, deadline=None)
@given(
    active=st.integers(0, 2**32 - 1),
    reactive=st.integers(0, 2**32 - 1),
    secondary=st.none() | st.integers(0, 2**32 - 1),
    scaler=st.integers(-128, 127),
)
def test_import_registers_plaintext_round_trips(
    active: int, reactive: int, secondary: int | None, scaler: int
) -> None:
    registers = c.ImportRegisters(
        active, reactive, secondary, scaler, -scaler if scaler > -128 else 0
    )
    assert c.ImportRegisters.from_plaintext(registers.to_plaintext()) == registers


def test_ecs01a_reference_tariff() -> None:
    tariff = c.decode_command(0x0019, ECS01A_IMMEDIATE_TOU_COMMAND)
    assert isinstance(tariff, c.UpdateTariff)
    assert tariff.encode() == ECS01A_IMMEDIATE_TOU_COMMAND
    assert tariff.problems() == []
    assert [s.name for s in tariff.seasons] == [b"winter", b"summer"]
    assert tariff.week_profiles[0].days == (1, 1, 1, 1, 1, 3, 3)
    assert tariff.day_profiles[0].switches == (
        c.TariffSwitch(dt.time(0, 0), 2),
        c.TariffSwitch(dt.time(7, 0), 3),
    )
    assert tariff.standing_charge == 20000
    assert tariff.tou_prices[:4] == (2121, 3127, 4744, 0)
    assert tariff.activate_at is None
    response = c.decode_response(0x0019, ECS01A_IMMEDIATE_TOU_RESPONSE)
    assert isinstance(response, c.Outcome)
    assert response.ok
    assert c.Outcome.for_command(tariff).encode() == ECS01A_IMMEDIATE_TOU_RESPONSE


def _simple_tariff(**changes: object) -> c.UpdateTariff:
    base = c.UpdateTariff(
        counter=21,
        seasons=(c.Season(b"all", CosemDateTime.from_datetime(NOW).to_bytes(), b"\x01"),),
        week_profiles=(c.WeekProfile(b"\x01", (1, 1, 1, 1, 1, 1, 1)),),
        day_profiles=(
            c.DayProfile(1, (c.TariffSwitch(dt.time(0), 1), c.TariffSwitch(dt.time(7), 2))),
        ),
        standing_charge=4500,
        tou_prices=(2500, 1200) + (0,) * 46,
        special_days=(c.SpecialDay(1, bytes.fromhex("ffff0c19ff"), 1),),
        activate_at=NOW,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_tariff_round_trips_and_validates() -> None:
    tariff = _simple_tariff()
    assert tariff.problems() == []
    assert c.decode_command(0x0019, tariff.encode()) == tariff
    bad = _simple_tariff(
        seasons=(c.Season(b"x", bytes(12), b"\x09"),),
        day_profiles=(
            c.DayProfile(1, (c.TariffSwitch(dt.time(7), 49), c.TariffSwitch(dt.time(6), 1))),
        ),
        tou_prices=(1,),
        standing_charge=-1,
    )
    problems = " | ".join(bad.problems())
    assert "unknown week profile" in problems
    assert "not strictly increasing" in problems
    assert "rate 49" in problems
    assert "1 TOU prices" in problems
    assert "negative" in problems
    assert "exceeds 32767" in _simple_tariff(standing_charge=45000).problems()[0]
    assert "unknown day profile" in _simple_tariff(day_profiles=()).problems()[0]


def test_top_ups_round_trip() -> None:
    utrn = "73941569907863060480"
    esme = c.TopUp(30, utrn)
    assert c.decode_command(0x0007, esme.encode()) == esme
    assert c.decode_response(0x0007, c.Outcome.for_command(esme).encode()).ok
    gas = c.TopUpGas(utrn)
    assert c.decode_command(0x0097, gas.encode()) == gas
    accepted = c.GasTopUpResult(c.TopUpResult.ACCEPTED, 1000, 2500)
    assert c.decode_response(0x0097, accepted.encode()) == accepted
    assert accepted.ok
    duplicate = c.GasTopUpResult(c.TopUpResult.REJECTED_DUPLICATE, 1000, 1500)
    assert not c.decode_response(0x0097, duplicate.encode()).ok
    with pytest.raises(EncodeError, match="20 decimal digits"):
        c.TopUp(1, "12345")
    with pytest.raises(DecodeError, match="CS01a"):
        c.decode_command(0x0007, c.TopUp(1, utrn).encode().replace(b"7394", b"x394"))


def test_registering_a_message_code_twice_is_refused_and_changes_nothing() -> None:
    before = dict(_common.RESPONSE_DECODERS)
    with pytest.raises(ValueError, match="0x0027 is registered twice"):
        _common.register(0x0027, c.SetClock.decode, c.ClockSet.decode)
    with pytest.raises(ValueError, match="needs at least one response decoder"):
        _common.register(0xFFFE, c.SetClock.decode)
    assert before == _common.RESPONSE_DECODERS
    assert 0xFFFE not in _common.COMMAND_DECODERS
    assert c.decode_command(0x0027, c.ReadImportRegisters(5, SUPPLIER, ESME).encode()).counter == 5


def test_every_family_registers_commands_of_the_use_case_table() -> None:
    for code in c.SUPPORTED_COMMANDS:
        uc = usecases.use_case(code)
        assert uc is not None
        assert not uc.alert


def test_a_tariff_cancellation_round_trips() -> None:
    content = c.decode_command(0x0019, ECS01A_IMMEDIATE_TOU_COMMAND)
    assert isinstance(content, c.UpdateTariff)
    cancel = dataclasses.replace(content, cancel_pending=True)
    assert cancel.encode().count(bytes.fromhex("090cffffffffffffffffff8000ff")) == 6
    assert c.decode_command(0x0019, cancel.encode()) == cancel
    at = dt.datetime(2030, 1, 1, tzinfo=UTC)
    with pytest.raises(EncodeError, match="no activation time"):
        dataclasses.replace(cancel, activate_at=at).encode()
