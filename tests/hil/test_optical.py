"""The optical client against the virtual port over pty pairs and socket://, and against a
scripted meter that splits, adds noise, breaks the BCC or says nothing."""

from __future__ import annotations

import datetime as dt
import errno
import os
import stat
from decimal import Decimal

import pytest
import serial

from hil.errors import BccError, NoAnswer, PortError, ProtocolViolation
from hil.framelog import FrameLog
from hil.iec62056_21 import CommandMessage, DataMessage, DataReadout, DataSet, Identification
from hil.link import ByteLink, Framing, Parity
from hil.obis import EXPORT_TOTAL, IMPORT_TOTAL, SERIAL_NUMBER, ObisCode, import_tou
from hil.optical import OpticalClient, Register, open_optical, read_meter, typed_value
from hil.virtual_port import (
    MeterIdentity,
    OpticalMeter,
    OpticalQuirks,
    PtyOpticalPort,
    TcpOpticalPort,
)
from tests.hil.helpers import (
    CLIENT_TIMING,
    CLOCK,
    IDENTITY,
    METER_TIMING,
    SILENT_TIMING,
    ScriptedMeter,
    split,
    static_source,
)


def meter(quirks: OpticalQuirks | None = None, identity: MeterIdentity = IDENTITY) -> OpticalMeter:
    return OpticalMeter(static_source(identity), quirks=quirks, timing=METER_TIMING)


def check_readout_values(readout_registers: dict[str, Register]) -> None:
    assert readout_registers["0-0:96.1.0"].value == "12345678"
    assert readout_registers["1-0:1.8.0"].value == Decimal("1234.567")
    assert readout_registers["1-0:1.8.0"].unit == "kWh"


async def test_pty_readout_in_software_7e1_with_the_baud_switch() -> None:
    async with PtyOpticalPort(meter()) as port:
        assert port.path is not None
        frames = FrameLog()
        readout = await read_meter(port.path, timing=CLIENT_TIMING, frame_log=frames)
        assert port.meter.readouts == 1
        assert port.session.garbled == 0
        assert port.session.parity_errors == 0
    assert readout.identification == Identification("LGZ", "5", "E470SMETS2")
    assert readout.baud == 9600
    assert readout.value(SERIAL_NUMBER) == "12345678"
    assert readout.value(IMPORT_TOTAL) == Decimal("1234.567")
    assert readout.value(import_tou(2)) == Decimal("234.567")
    assert readout.value(EXPORT_TOTAL) == Decimal("12.001")
    assert readout.clock == CLOCK
    dump = frames.dump()
    assert "software 7E1" in dump
    assert "baud 300 -> 9600" in dump
    assert "baud 9600 -> 300" in dump


async def test_a_client_that_forgets_the_baud_switch_gets_garbage_on_a_pty(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with PtyOpticalPort(meter()) as port:
        assert port.path is not None
        link = await open_optical(port.path)
        try:
            monkeypatch.setattr(link, "set_baudrate", lambda baud: None)
            client = OpticalClient(link, timing=SILENT_TIMING)
            with pytest.raises((NoAnswer, ProtocolViolation)):
                await client.read_out()
        finally:
            await link.close()
        assert port.session.garbled == 1


async def test_the_agreed_baud_is_the_lower_of_the_two() -> None:
    fast_meter = MeterIdentity("ISK", "MT174", max_baud=19200, fast_reaction=True, mode_e=True)
    async with PtyOpticalPort(meter(identity=fast_meter)) as port:
        assert port.path is not None
        readout = await read_meter(port.path, timing=CLIENT_TIMING, max_baud=2400)
    assert readout.baud == 2400
    assert readout.identification.fast_reaction
    assert readout.identification.mode_e
    assert readout.identification.to_bytes() == b"/ISk6\\2MT174\r\n"


async def test_socket_url_readout_8n1() -> None:
    async with TcpOpticalPort(lambda: meter()) as server:
        url = await server.open()
        readout = await read_meter(url, timing=CLIENT_TIMING)
        again = await read_meter(url, timing=CLIENT_TIMING)
        assert server.sessions == 2
    assert readout.registers == again.registers
    registers = {r.address: r for r in readout.registers}
    check_readout_values(registers)


async def test_socket_url_with_software_7e1_on_both_ends() -> None:
    async with TcpOpticalPort(lambda: meter(), software_7e1=True) as server:
        url = await server.open()
        readout = await read_meter(url, timing=CLIENT_TIMING, parity=Parity.SOFTWARE)
    assert readout.value(SERIAL_NUMBER) == "12345678"


async def test_wrong_parity_setting_means_no_answer() -> None:
    # 8N1 client, software-7E1 meter: half the characters fail the meter's parity check
    async with PtyOpticalPort(meter()) as port:
        assert port.path is not None
        with pytest.raises(NoAnswer, match="after 2 sign-on attempt"):
            await read_meter(port.path, timing=SILENT_TIMING, parity=Parity.NONE)
        assert port.session.parity_errors > 0


async def test_the_other_way_round_the_codec_points_at_bit_7() -> None:
    async with PtyOpticalPort(meter(), software_7e1=True) as port:
        assert port.path is not None
        link = await ByteLink.open(
            port.path, baudrate=300, framing=Framing.SEVEN_E1, parity=Parity.SOFTWARE
        )
        await link.close()
        assert link.state.software_parity
    # a pty refuses hardware 7E1, and says so when asked for it explicitly
    async with PtyOpticalPort(meter()) as port:
        assert port.path is not None
        with pytest.raises(PortError, match="does not keep 7E1"):
            await open_optical(port.path, parity=Parity.HARDWARE)


async def test_reduced_obis_addresses_still_type_and_match() -> None:
    async with PtyOpticalPort(meter(OpticalQuirks(reduced_obis=True))) as port:
        assert port.path is not None
        readout = await read_meter(port.path, timing=CLIENT_TIMING)
    addresses = [r.address for r in readout.registers]
    assert "C.1.0" in addresses
    assert "1.8.0" in addresses
    assert readout.value(IMPORT_TOTAL) == Decimal("1234.567")
    assert readout.value("C.1.0") == "12345678"
    assert readout.clock == CLOCK


async def test_battery_meter_needs_the_wake_up_sequence() -> None:
    async with PtyOpticalPort(meter(OpticalQuirks(wake_up_required=True))) as port:
        assert port.path is not None
        with pytest.raises(NoAnswer):
            await read_meter(port.path, timing=SILENT_TIMING)
        readout = await read_meter(port.path, timing=CLIENT_TIMING, wake_up=True)
        assert readout.value(SERIAL_NUMBER) == "12345678"
        # it falls asleep again after the readout
        with pytest.raises(NoAnswer):
            await read_meter(port.path, timing=SILENT_TIMING)


async def test_a_meter_that_never_answers_fails_with_the_frame_log() -> None:
    async with PtyOpticalPort(meter(OpticalQuirks(mute=True))) as port:
        assert port.path is not None
        with pytest.raises(NoAnswer, match=r"no answer from /dev/.* after 2 sign-on") as exc:
            await read_meter(port.path, timing=SILENT_TIMING)
    dump = exc.value.frame_log
    assert dump.count("sign-on, attempt") == 2
    assert "timeout waiting for the identification" in dump
    assert "2f 3f 21 0d 0a" in dump  # the sign-on request, in hex


async def test_wrong_bcc_from_the_meter() -> None:
    async with PtyOpticalPort(meter(OpticalQuirks(wrong_bcc=True))) as port:
        assert port.path is not None
        with pytest.raises(ProtocolViolation, match="bad BCC in data readout") as exc:
            await read_meter(port.path, timing=CLIENT_TIMING)
    assert isinstance(exc.value.__cause__, BccError)
    assert "error: bad BCC" in exc.value.frame_log


READOUT = DataReadout(
    (
        DataSet("0.0.0", "87654321"),
        DataSet("1.8.0", "00042.5", "kWh"),
        DataSet("0.9.1", "235959"),
        DataSet("0.9.2", "1240229"),
    )
).to_bytes()


async def test_split_reads_and_noise_before_each_frame() -> None:
    ident = b"/ABC5Split\r\n"
    script = ScriptedMeter(
        on_sign_on=[b"\x00\x7f~~noise~~", *split(ident, 1)],
        on_select=[b"\xff\x00junk", *split(READOUT, 3)],
    )
    async with script:
        readout = await read_meter(script.url, timing=CLIENT_TIMING)
    assert readout.identification.manufacturer == "ABC"
    assert readout.value("1.8.0") == Decimal("42.5")
    assert readout.clock == dt.datetime(2024, 2, 29, 23, 59, 59)
    assert b"\x06050\r\n" in script.received


async def test_an_echoing_half_duplex_head_in_readout_and_programming_mode() -> None:
    operand = CommandMessage.operand("").to_bytes()
    answer = DataMessage((DataSet("1.8.0", "00042.5", "kWh"),)).to_bytes()
    script = ScriptedMeter(
        on_sign_on=[b"/ABC5Echo\r\n"], on_select=[READOUT], on_command=[answer], echo=True
    )
    async with script:
        readout = await read_meter(script.url, timing=CLIENT_TIMING)
        assert readout.value("1.8.0") == Decimal("42.5")
        script.on_select = [operand]
        script.on_command = [b"\x06"]  # the password is accepted
        link = await open_optical(script.url)
        try:
            client = OpticalClient(link, timing=CLIENT_TIMING)
            session = await client.programming("pw")  # its echo holds an STX block
            script.on_command = [answer]
            assert await session.read("1.8.0") == DataSet("1.8.0", "00042.5", "kWh")
            await session.close()
        finally:
            await link.close()


async def test_a_readout_that_stops_half_way() -> None:
    script = ScriptedMeter(on_sign_on=[b"/ABC5Split\r\n"], on_select=[READOUT[:20]])
    async with script:
        with pytest.raises(ProtocolViolation, match="data readout stopped after 20 bytes"):
            await read_meter(script.url, timing=SILENT_TIMING)


async def test_garbage_after_stx_is_reported_not_waited_for() -> None:
    script = ScriptedMeter(on_sign_on=[b"/ABC5Split\r\n"], on_select=[b"\x021.8.0(1)\x07"])
    async with script:
        with pytest.raises(ProtocolViolation, match="unexpected 0x07"):
            await read_meter(script.url, timing=CLIENT_TIMING)


async def test_mode_b_meter_switches_without_option_select() -> None:
    script = ScriptedMeter(on_sign_on=[b"/LGZE B-meter\r\n", READOUT])
    async with script:
        readout = await read_meter(script.url, timing=CLIENT_TIMING)
    assert readout.baud == 9600
    assert b"\x06" not in script.received


async def test_mode_a_meter_stays_at_300() -> None:
    script = ScriptedMeter(on_sign_on=[b"/LGZ#A-meter\r\n", READOUT])
    async with script:
        readout = await read_meter(script.url, timing=CLIENT_TIMING)
    assert readout.baud == 300


async def test_programming_mode_password_read_and_break() -> None:
    async with PtyOpticalPort(
        OpticalMeter(static_source(), timing=METER_TIMING, password="s3cret", operand="1234")
    ) as port:
        assert port.path is not None
        link = await open_optical(port.path)
        try:
            client = OpticalClient(link, timing=CLIENT_TIMING)
            async with await client.programming("s3cret") as session:
                assert session.operand == "1234"
                dataset = await session.read("1-0:1.8.0")
                assert dataset == DataSet("1-0:1.8.0", "1234.567", "kWh")
                assert (await session.read("0.9.1")).value == "005958"
                with pytest.raises(ProtocolViolation, match=r"R1 9\.9\.9 with ER01"):
                    await session.read("9.9.9")
            assert link.baudrate == 300
            with pytest.raises(ProtocolViolation, match="refused the password"):
                await client.programming("wrong")
            # the meter is back at the start: a readout works
            readout = await client.read_out()
            assert readout.value(SERIAL_NUMBER) == "12345678"
        finally:
            await link.close()


async def test_sign_on_with_a_device_address() -> None:
    async with PtyOpticalPort(meter()) as port:
        assert port.path is not None
        readout = await read_meter(port.path, timing=CLIENT_TIMING, address="0012345678")
        assert readout.value(SERIAL_NUMBER) == "12345678"
        with pytest.raises(NoAnswer):
            await read_meter(port.path, timing=SILENT_TIMING, address="999")


async def test_port_errors_name_the_port(
    tmp_path: os.PathLike[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(PortError, match="no such port: /dev/does-not-exist"):
        await read_meter("/dev/does-not-exist")
    with pytest.raises(PortError, match=r"connection refused: socket://127\.0\.0\.1:1"):
        await read_meter("socket://127.0.0.1:1")
    with pytest.raises(PortError, match="unsupported port URL scheme 'rfc2217'"):
        await read_meter("rfc2217://host:1")
    locked = os.path.join(os.fspath(tmp_path), "ttyLOCKED")
    os.close(os.open(locked, os.O_CREAT | os.O_WRONLY, 0))
    assert not os.stat(locked).st_mode & stat.S_IRUSR
    if os.geteuid() == 0:  # root opens anything: make the port refuse as it would refuse a user

        def refuse(self: serial.Serial) -> None:
            raise serial.SerialException(errno.EACCES, f"could not open port {self.port}")

        monkeypatch.setattr(serial.Serial, "open", refuse)
    with pytest.raises(PortError, match=r"permission denied opening .*ttyLOCKED .*dialout"):
        await read_meter(locked)


@pytest.mark.parametrize(
    ("address", "value", "unit", "expected"),
    [
        ("1-0:1.8.0", "001234.567", "kWh", Decimal("1234.567")),
        ("1.8.0", "12", "kWh", Decimal(12)),
        ("1.8.0", "n/a", "kWh", "n/a"),
        ("0-0:96.1.0", "00012345", None, "00012345"),
        ("0.9.1", "12:30:15", None, dt.time(12, 30, 15)),
        ("1-0:0.9.2", "240229", None, dt.date(2024, 2, 29)),
        ("0.9.2", "0991231", None, dt.date(1999, 12, 31)),
        ("0.9.2", "241399", None, "241399"),
        ("F.F", "00", None, "00"),
    ],
)
def test_typed_values(
    address: str, value: str, unit: str | None, expected: Decimal | str | dt.date | dt.time
) -> None:
    register = Register.from_dataset(DataSet(address, value, unit))
    assert register.value == expected
    assert typed_value(ObisCode.try_parse(address), value, unit) == expected


def test_register_json_is_exact() -> None:
    register = Register.from_dataset(DataSet("1-0:1.8.0", "001234.500", "kWh"))
    assert register.to_json() == {
        "address": "1-0:1.8.0",
        "obis": "1-0:1.8.0",
        "value": "1234.500",
        "unit": "kWh",
        "type": "quantity",
    }
