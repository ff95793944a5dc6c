from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from gbcs.codes import CRA
from gbcs.errors import DecodeError, EncodeError
from gbcs.frames import (
    GbtBlock,
    GbtReassembler,
    Message,
    ber_length,
    decode_ber_length,
    gbt_blocks,
    is_gbt_block,
    reassemble_gbt,
)
from tests.gbcs.vectors import CONFORMANCE_MESSAGES, V18_4, read_message

FIELDS = [f.name for f in dataclasses.fields(Message) if f.init]
GBT_FIELDS = [f.name for f in dataclasses.fields(GbtBlock) if f.init]


def rebuilt(message: Message) -> Message:
    """The same message made from its fields (no cached encoding)."""
    return Message(**{name: getattr(message, name) for name in FIELDS})


@pytest.mark.parametrize("name", CONFORMANCE_MESSAGES)
def test_conformance_vector_round_trips_byte_for_byte(conformance: Path, name: str) -> None:
    data = read_message(conformance, name)
    message = Message.from_bytes(data)
    assert message.to_bytes() == data
    assert rebuilt(message).to_bytes() == data


@pytest.mark.parametrize("name", CONFORMANCE_MESSAGES)
def test_conformance_vector_shape_matches_its_file_name(conformance: Path, name: str) -> None:
    message = Message.from_bytes(read_message(conformance, name))
    # The kind is one word of the name, not always the last: alerts often end in the detail of
    # what they report (``..._8F66_FUTURE_DATED_SUCCESS_ALERT_PAYMENT_MODE_GBCS.HEX``).
    expected_cra = {
        "COMMAND": CRA.COMMAND,
        "PRECOMMAND": CRA.COMMAND,
        "RESPONSE": CRA.RESPONSE,
        "ALERT": CRA.ALERT,
    }
    (kind,) = (word for word in name.split("/")[1].split("_") if word in expected_cra)
    assert message.cra is expected_cra[kind]
    if kind == "ALERT":
        # A critical alert is signed by the device, a non-critical one MAC'd: one, never both.
        assert (message.signature is None) != (message.mac is None)
    if kind == "PRECOMMAND":
        assert message.signature_omitted
        assert message.mac is None
        assert message.signature is None
    else:
        assert not message.signature_omitted
    # Signed-only shape exactly when there is a signature and no command MAC on top (responses).
    if message.mac is None and kind == "RESPONSE":
        assert message.signature is not None


def test_gbcs_18_4_vector_fields() -> None:
    message = Message.from_bytes(V18_4)
    assert message.cra is CRA.COMMAND
    assert message.originator_counter == 1
    assert message.business_originator == bytes.fromhex("123456789abcdef0")
    assert message.business_target == bytes.fromhex("fffffffffffffffe")
    assert message.date_time is None
    assert message.message_code == 0x00B3
    assert message.extensions == b""
    assert message.content[:1] == b"\xd9"
    assert len(message.content) == 0x35
    assert message.signature is not None
    assert len(message.signature) == 64
    assert message.mac == V18_4[-12:]
    assert message.transaction_id == bytes.fromhex("010000000000000001")
    assert message.to_bytes() == V18_4
    apdu = message.general_signing_apdu()
    assert apdu[0] == 0xDF
    assert V18_4.endswith(apdu + message.mac)
    assert message.signed_bytes() == apdu[1:-65]


def test_signed_bytes_for_each_signature_form() -> None:
    base = Message.from_bytes(V18_4)
    unsigned = dataclasses.replace(base, signature=None)
    omitted = dataclasses.replace(base, signature=None, signature_omitted=True, mac=None)
    assert unsigned.general_signing_apdu()[-1] == 0
    assert unsigned.signed_bytes() == base.signed_bytes() == omitted.signed_bytes()
    assert omitted.to_bytes() == omitted.general_signing_apdu()
    assert Message.from_bytes(omitted.to_bytes()) == omitted


def test_replace_does_not_reuse_a_stale_encoding() -> None:
    message = Message.from_bytes(V18_4)
    changed = dataclasses.replace(message, originator_counter=2)
    assert changed.to_bytes() != V18_4
    assert Message.from_bytes(changed.to_bytes()).originator_counter == 2


def test_long_content_uses_two_byte_length_and_other_info_extensions_survive() -> None:
    message = Message(
        cra=CRA.ALERT,
        originator_counter=(1 << 64) - 1,
        business_originator=bytes(range(8)),
        business_target=bytes(range(8, 16)),
        date_time=bytes(range(12)),
        message_code=0x1001,
        extensions=bytes(range(24)),
        content=bytes(300),
        signature=None,
        mac=bytes(12),
    )
    data = message.to_bytes()
    apdu = b"".join(
        (
            bytes.fromhex("df 09 03 ffffffffffffffff 08"),
            bytes(range(8)),
            b"\x08",
            bytes(range(8, 16)),
            b"\x0c",
            bytes(range(12)),
            bytes.fromhex("1a 1001"),  # other-information: 26 bytes, the code, then extensions
            bytes(range(24)),
            bytes.fromhex("82 012c"),  # the content length 300 takes two bytes
            bytes(300),
            b"\x00",  # no signature
        )
    )
    assert len(apdu) == 373
    # General-Ciphering: six empty elements, length 5 + 373 + 12 = 390, security header, MAC.
    expected = bytes.fromhex("dd 000000000000 820186 11 00000000") + apdu + bytes(12)
    assert data == expected
    assert Message.from_bytes(data) == message


@pytest.mark.parametrize(
    ("n", "encoded"),
    [
        (0, "00"),
        (0x7F, "7f"),
        (0x80, "8180"),
        (0xFF, "81ff"),
        (0x100, "820100"),
        (0xFFFF, "82ffff"),
    ],
)
def test_ber_lengths(n: int, encoded: str) -> None:
    assert ber_length(n).hex() == encoded
    assert decode_ber_length(bytes.fromhex(encoded), 0) == (n, len(encoded) // 2)


@pytest.mark.parametrize("bad", ["817f", "8200ff", "83010000", "80", "81", "8201", ""])
def test_bad_ber_lengths_are_decode_errors(bad: str) -> None:
    with pytest.raises(DecodeError):
        decode_ber_length(bytes.fromhex(bad), 0)


def test_ber_length_too_long_is_an_encode_error() -> None:
    with pytest.raises(EncodeError):
        ber_length(0x10000)


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda d: b"", "empty"),
        (lambda d: b"\x00" + d[1:], "starts with 00"),
        (lambda d: d[:-1], "truncated"),
        (lambda d: d + b"\x00", "unexpected bytes"),
        (lambda d: d[:1] + b"\x01" + d[2:], "General-Ciphering header"),
        (lambda d: d[:10] + b"\x12" + d[11:], "security header"),
        (lambda d: d[:16] + b"\x04" + d[17:], "CRA flag"),
    ],
)
def test_malformed_messages_raise_decode_error_with_a_sentence(mutate: object, match: str) -> None:
    assert callable(mutate)
    with pytest.raises(DecodeError, match=match):
        Message.from_bytes(mutate(V18_4))


def test_bare_general_signing_with_trailing_bytes_is_rejected() -> None:
    apdu = Message.from_bytes(V18_4).general_signing_apdu()
    assert Message.from_bytes(apdu).mac is None
    with pytest.raises(DecodeError, match="unexpected bytes"):
        Message.from_bytes(apdu + b"\x00")


@pytest.mark.parametrize(
    "changes",
    [
        {"cra": 4},
        {"originator_counter": -1},
        {"originator_counter": 1 << 64},
        {"business_originator": b"\x00" * 7},
        {"date_time": b"\x00" * 11},
        {"message_code": 0x10000},
        {"signature": b"\x00" * 63},
        {"mac": b"\x00" * 11},
        {"content": bytearray(3)},
    ],
)
def test_invalid_fields_are_encode_errors(changes: dict[str, object]) -> None:
    with pytest.raises(EncodeError):
        dataclasses.replace(Message.from_bytes(V18_4), **changes)  # type: ignore[arg-type]


def test_signature_and_omitted_signature_conflict() -> None:
    with pytest.raises(EncodeError, match="omit"):
        dataclasses.replace(Message.from_bytes(V18_4), signature_omitted=True)


# ---- GBT -----------------------------------------------------------------------------------


def test_gbt_split_and_reassemble_in_any_order() -> None:
    message = Message.from_bytes(V18_4)
    blocks = gbt_blocks(message, block_size=50)
    assert len(blocks) == 4
    assert all(is_gbt_block(b) for b in blocks)
    parsed = [GbtBlock.from_bytes(b) for b in blocks]
    assert [p.block_number for p in parsed] == [1, 2, 3, 4]
    assert [p.last for p in parsed] == [False, False, False, True]
    assert all(p.to_bytes() == b for p, b in zip(parsed, blocks, strict=True))
    for p in parsed:
        assert (p.cra, p.originator_counter) == (message.cra, message.originator_counter)
        assert (p.business_originator, p.business_target) == (
            message.business_originator,
            message.business_target,
        )
        assert p.message_code == message.message_code
        assert GbtBlock(**{f: getattr(p, f) for f in GBT_FIELDS}).to_bytes() == p.to_bytes()
    assert b"".join(p.data for p in parsed) == V18_4
    assert reassemble_gbt(reversed(blocks)) == V18_4
    reassembler = GbtReassembler()
    assert [reassembler.add(b) for b in (blocks[3], blocks[0], blocks[2])] == [None] * 3
    assert len(reassembler) == 1
    assert reassembler.add(blocks[1]) == V18_4
    assert len(reassembler) == 0


def test_gbt_block_layout() -> None:
    block = GbtBlock(
        cra=CRA.RESPONSE,
        originator_counter=0x3E8,
        business_originator=bytes.fromhex("00db1234567890a0"),
        business_target=bytes.fromhex("90b3d51f30010000"),
        message_code=0x0027,
        block_number=1,
        block_control=0x80,
        data=b"\xab" * 3,
    )
    assert block.to_bytes().hex() == (
        "dd"
        "09"
        "02"
        "00000000000003e8"
        "08"
        "00db1234567890a0"
        "08"
        "90b3d51f30010000"
        "00"
        "02"
        "0027"
        "00"
        "0f"
        "00"
        "00000000"
        "e0"
        "80"
        "0001"
        "0000"
        "03"
        "ababab"
    )


def test_gbt_block_is_not_a_message() -> None:
    block = gbt_blocks(Message.from_bytes(V18_4))[0]
    with pytest.raises(DecodeError, match="GBT block"):
        Message.from_bytes(block)


def test_gbt_errors() -> None:
    blocks = gbt_blocks(Message.from_bytes(V18_4), block_size=60)
    with pytest.raises(DecodeError, match="incomplete"):
        reassemble_gbt(blocks[1:])
    with pytest.raises(DecodeError):
        GbtBlock.from_bytes(blocks[0][:-1])
    reassembler = GbtReassembler()
    reassembler.add(blocks[0])
    first = GbtBlock.from_bytes(blocks[0])
    with pytest.raises(DecodeError, match="twice"):
        reassembler.add(dataclasses.replace(first, data=b"x" + first.data[1:]))
    with pytest.raises(DecodeError, match="start at 1"):
        GbtReassembler().add(dataclasses.replace(first, block_number=0))
    tiny = GbtReassembler(max_bytes=100)
    tiny.add(blocks[0])
    with pytest.raises(DecodeError, match="too large"):
        tiny.add(blocks[1])
