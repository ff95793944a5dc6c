"""The IEC 62056-21 codec: golden bytes, round trips, split input, noise, bad BCC, fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hil.errors import BccError, Iec62056DecodeError, Iec62056EncodeError
from hil.iec62056_21 import (
    FROM_METER,
    Acknowledge,
    AckOptionSelect,
    CommandId,
    CommandMessage,
    DataMessage,
    DataReadout,
    DataSet,
    Decoder,
    Identification,
    Message,
    MessageType,
    ModeControl,
    NegativeAcknowledge,
    ProtocolControl,
    ProtocolMode,
    SignOnRequest,
    bcc,
    mode_c_baud_char,
)

# Wire strings as they are widely documented for real meters.
GOLDEN: list[tuple[Message, bytes]] = [
    (SignOnRequest(), b"/?!\r\n"),
    (SignOnRequest("12345678"), b"/?12345678!\r\n"),
    (Identification("LGZ", "5", "ZMD310CT"), b"/LGZ5ZMD310CT\r\n"),
    (Identification("ISk", "5", "MT174-0001", ("2",)), b"/ISk5\\2MT174-0001\r\n"),
    (
        AckOptionSelect(ProtocolControl.NORMAL, "5", ModeControl.READOUT),
        b"\x06050\r\n",
    ),
    (
        AckOptionSelect(ProtocolControl.NORMAL, "5", ModeControl.PROGRAMMING),
        b"\x06051\r\n",
    ),
    (CommandMessage.break_(), b"\x01B0\x03q"),
    (CommandMessage.password("00000000"), b"\x01P1\x02(00000000)\x03a"),
    (Acknowledge(), b"\x06"),
    (NegativeAcknowledge(), b"\x15"),
]


def decode_all(data: bytes, expect: set[MessageType]) -> list[Message]:
    decoder = Decoder()
    decoder.feed(data)
    out = []
    while (message := decoder.next_message(expect)) is not None:
        out.append(message)
    return out


@pytest.mark.parametrize(("message", "wire"), GOLDEN)
def test_golden_bytes_encode_and_decode(message: Message, wire: bytes) -> None:
    assert message.to_bytes() == wire
    assert decode_all(wire, {type(message)}) == [message]


def readout_bytes() -> bytes:
    return DataReadout(
        (
            DataSet("0-0:96.1.0", "12345678"),
            DataSet("1-0:1.8.0", "001234.567", "kWh"),
            DataSet("1-0:1.8.1", "000234.500", "kWh"),
            DataSet("1-0:2.8.0", "000000.000", "kWh"),
        )
    ).to_bytes()


def test_data_readout_layout_and_bcc() -> None:
    wire = readout_bytes()
    assert wire.startswith(b"\x020-0:96.1.0(12345678)\r\n1-0:1.8.0(001234.567*kWh)\r\n")
    assert wire[-5:-1] == b"!\r\n\x03"
    assert wire[-1] == bcc(wire[1:-1])
    [readout] = decode_all(wire, {DataReadout})
    assert isinstance(readout, DataReadout)
    assert readout.datasets[1] == DataSet("1-0:1.8.0", "001234.567", "kWh")


def test_split_reads_byte_by_byte_give_one_message() -> None:
    wire = b"/LGZ5ZMD\r\n"
    decoder = Decoder()
    for i in range(len(wire) - 1):
        decoder.feed(wire[i : i + 1])
        assert decoder.next_message({Identification}) is None
    decoder.feed(wire[-1:])
    assert decoder.next_message({Identification}) == Identification("LGZ", "5", "ZMD")
    decoder = Decoder()
    readout = readout_bytes()
    for byte in readout[:-1]:
        decoder.feed(bytes([byte]))
        assert decoder.next_message({DataReadout}) is None
    decoder.feed(readout[-1:])
    assert isinstance(decoder.next_message({DataReadout}), DataReadout)


def test_noise_before_the_frame_is_skipped_and_counted() -> None:
    decoder = Decoder()
    decoder.feed(b"\x00\x00\xff\x7fline noise?!\r\n/ISk5\\2MT174\r\n")
    message = decoder.next_message({Identification})
    assert message == Identification("ISk", "5", "MT174", ("2",))
    assert decoder.noise == len(b"\x00\x00\xff\x7fline noise?!\r\n")


def test_an_echoed_sign_on_is_noise_to_an_hhu_waiting_for_the_identification() -> None:
    # half-duplex optical heads often echo what the HHU sent
    assert decode_all(b"/?!\r\n/LGZ5ZMD\r\n", {Identification}) == [
        Identification("LGZ", "5", "ZMD")
    ]


def test_wrong_bcc_is_a_bcc_error_naming_both_values() -> None:
    wire = bytearray(readout_bytes())
    wire[-1] ^= 0x55
    decoder = Decoder()
    decoder.feed(bytes(wire))
    with pytest.raises(BccError, match=r"bad BCC in data readout: received 0x.., computed") as e:
        decoder.next_message({DataReadout})
    assert e.value.received == wire[-1]
    assert e.value.computed == wire[-1] ^ 0x55


def test_bit_7_set_points_at_the_parity_setting() -> None:
    decoder = Decoder()
    decoder.feed(b"/LGZ\xb5ZMD\r\n")
    with pytest.raises(Iec62056DecodeError, match="7E1"):
        decoder.next_message({Identification})


@pytest.mark.parametrize(
    ("wire", "expect", "needle"),
    [
        (b"/L9Z5X\r\n", {Identification}, "manufacturer letter"),
        (b"/LGZ5ZMD\rX", {Identification}, "CR not followed by LF"),
        (b"/LGZ7ZMD\r\n", {Identification}, "reserved baud"),
        (b"/?12#!\r\n", {SignOnRequest}, "unexpected '#'"),
        (b"/?!\rX", {SignOnRequest}, "CR LF"),
        (b"\x06X50\r\n", {AckOptionSelect}, "digit expected"),
        (b"\x06059\r\n", {AckOptionSelect}, "mode control"),
        (b"\x02 1.8.0(1)\x07", {DataReadout}, "unexpected 0x07"),
        (b"\x021.8.0(1)\x03\x38", {DataReadout}, "does not end with '!'"),
        (b"\x021.8.0(1\r\n!\r\n\x03\x5b", {DataReadout}, "no '\\)'"),
        (b"\x01X1\x02(x)\x03\x00", {CommandMessage}, "unknown command"),
        (b"\x01P1(x)\x03\x00", {CommandMessage}, "STX or ETX expected"),
    ],
)
def test_malformed_input_fails_at_once_with_a_clear_message(
    wire: bytes, expect: set[MessageType], needle: str
) -> None:
    decoder = Decoder()
    decoder.feed(fix_bcc(wire))
    with pytest.raises(Iec62056DecodeError, match=needle):
        decoder.next_message(expect)


def fix_bcc(wire: bytes) -> bytes:
    """Give STX/SOH messages their right BCC so that the test reaches the structural error."""
    if wire[:1] in (b"\x02", b"\x01") and wire[-2:-1] in (b"\x03", b"\x04"):
        return wire[:-1] + bytes([bcc(wire[1:-1])])
    return wire


def test_a_frame_that_never_ends_is_an_error_not_a_wait() -> None:
    decoder = Decoder(max_message_size=256)
    decoder.feed(b"\x02" + b"1.8.0(0)\r\n" * 40)
    with pytest.raises(Iec62056DecodeError, match="longer than 256"):
        decoder.next_message({DataReadout})


def test_identification_properties() -> None:
    fast = Identification("ISk", "5", "MT174", ("2",))
    assert fast.fast_reaction
    assert fast.mode_e
    assert fast.protocol_mode is ProtocolMode.C
    assert fast.max_baud == 9600
    slow = Identification("LGZ", "E", "ZMD")
    assert not slow.fast_reaction
    assert not slow.mode_e
    assert slow.protocol_mode is ProtocolMode.B
    assert slow.max_baud == 9600
    mode_a = Identification("ABC", "x", "old")
    assert mode_a.protocol_mode is ProtocolMode.A
    assert mode_a.max_baud == 300
    assert mode_c_baud_char(19200) == "6"
    with pytest.raises(ValueError, match="115200"):
        mode_c_baud_char(115200)


def test_programming_mode_messages_round_trip() -> None:
    messages: list[Message] = [
        CommandMessage.operand("12345678"),
        CommandMessage.password("secret"),
        CommandMessage.read("1.8.0"),
        CommandMessage.write("0.9.1", "120000"),
        CommandMessage.break_(),
        DataMessage((DataSet("1.8.0", "001234.567", "kWh"),)),
        DataMessage((DataSet("", "ER02"),)),
        DataMessage((DataSet("P.01", "1"),), partial=True),
    ]
    wire = b"".join(m.to_bytes() for m in messages)
    decoded = decode_all(wire, {CommandMessage, DataMessage})
    assert decoded == messages
    password = decoded[1]
    assert isinstance(password, CommandMessage)
    assert password.command is CommandId.PASSWORD
    assert password.parenthesised == "secret"
    read = decoded[2]
    assert isinstance(read, CommandMessage)
    assert read.address == "1.8.0"
    error = decoded[6]
    assert isinstance(error, DataMessage)
    assert error.error == "ER02"


@pytest.mark.parametrize(
    "build",
    [
        lambda: SignOnRequest("x" * 33),
        lambda: SignOnRequest("a!b"),
        lambda: Identification("L1Z", "5", "x"),
        lambda: Identification("LGZ", "5", "has/slash"),
        lambda: Identification("LGZ", "5", "x" * 17).to_bytes(),
        lambda: DataSet("1.8.0", "1(2)").to_text(),
        lambda: CommandMessage(CommandId.READ, "x"),
        lambda: CommandMessage.password("a)b"),
    ],
)
def test_building_a_message_the_standard_forbids_is_a_local_error(build: object) -> None:
    assert callable(build)
    with pytest.raises(Iec62056EncodeError):
        build()


EXPECTATIONS: list[set[MessageType]] = [
    {Identification},
    {DataReadout},
    {DataMessage, CommandMessage, Acknowledge, NegativeAcknowledge},
    {SignOnRequest},
    {AckOptionSelect},
    {CommandMessage},
    set(FROM_METER),
]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(EXPECTATIONS))
def test_only_the_codec_error_escapes_on_garbage(data: bytes, expect: set[MessageType]) -> None:
    decoder = Decoder(max_message_size=128)
    decoder.feed(data)
    for _ in range(len(data) + 1):
        try:
            if decoder.next_message(expect) is None:
                break
        except Iec62056DecodeError:
            continue  # resynchronise: the decoder dropped the bad start


ADDRESS = st.text("0123456789ABCFLP.:-", min_size=1, max_size=16)
VALUE = st.text("0123456789.,: -abcXYZ", max_size=32)
UNIT = st.none() | st.text("kWhVArz3", min_size=1, max_size=8)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(ADDRESS, VALUE, UNIT), max_size=10), st.integers(1, 7))
def test_any_readout_survives_any_split(
    rows: list[tuple[str, str, str | None]], chunk: int
) -> None:
    readout = DataReadout(tuple(DataSet(a, v, u) for a, v, u in rows))
    wire = b"junk" + readout.to_bytes()
    decoder = Decoder()
    got: Message | None = None
    for i in range(0, len(wire), chunk):
        decoder.feed(wire[i : i + chunk])
        got = decoder.next_message({DataReadout}) or got
    assert got == readout
