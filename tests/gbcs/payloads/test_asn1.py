"""ASN.1 DER: real CS06 / GCS28 / alert shapes and the builders round-trip."""

from __future__ import annotations

import datetime as dt

import pytest

from gbcs.errors import DecodeError, EncodeError
from gbcs.payloads.asn1 import (
    Der,
    decode_der,
    der_boolean,
    der_enumerated,
    der_generalized_time,
    der_integer,
    der_octet_string,
    der_sequence,
)

# Contents of DCC reference test data (RTDS 4.5.0): CS06 command (immediate and future
# dated), CS06 response, GCS28 command and error response, 0x00CA 8F66 alert.
RTDS_DER = [
    "30260420AA758690730934FF0685AA758690730934FF0685657788990011223344556677020203E8",
    "30370420AA758690730934FF0685AA758690730934FF0685657788990011223344556677020203E9"
    "180F32303330303131353039303030305A",
    "300902010004040123ABCE",
    "3022180F32303134313233313233333030305A180F32303135303130313030333030305A",
    "3014180F32303135303130313030303030305A020102",
    "30250203008F66180F32303330303131353039303030305A020203E9300902010004040123ABCF",
]


@pytest.mark.parametrize("hexstr", RTDS_DER)
def test_rtds_der_round_trips(hexstr: str) -> None:
    data = bytes.fromhex(hexstr)
    node = decode_der(data)
    assert node.to_bytes() == data
    assert node.as_tree()["tag"] == "SEQUENCE"


def test_builders() -> None:
    when = dt.datetime(2030, 1, 15, 9, tzinfo=dt.UTC)
    node = der_sequence(
        der_octet_string(bytes(32)),
        der_integer(1001),
        der_generalized_time(when),
        der_integer(0x8F66),
        der_integer(-1),
        der_enumerated(2),
        der_boolean(True),
        Der(0x80, b"\x01"),
        der_sequence(tag=0xA1),
    )
    again = decode_der(node.to_bytes())
    assert again == node
    assert again.child(1).int_value() == 1001
    assert again.child(2).time_value() == when
    assert again.child(3).value == b"\x00\x8f\x66"
    assert again.child(4).int_value() == -1
    tree = again.as_tree()
    assert tree["children"][2]["time"] == "2030-01-15T09:00:00Z"
    assert tree["children"][7]["tag"] == "[0]"
    with pytest.raises(DecodeError):
        again.child(99)
    with pytest.raises(DecodeError):
        again.child(0).int_value()


def test_constructed_flag_must_agree() -> None:
    with pytest.raises(EncodeError):
        Der(0x30, b"x")
    with pytest.raises(EncodeError):
        Der(0x04, children=())


@pytest.mark.parametrize("hexstr", ["", "30", "3080", "3005020101", "0203", "1f", "300102"])
def test_bad_der_is_a_decode_error(hexstr: str) -> None:
    with pytest.raises(DecodeError):
        decode_der(bytes.fromhex(hexstr))


def test_a_long_form_length_wider_than_minimal_is_kept() -> None:
    # GBCS devices write 30 82 00 03 where DER would write 30 03.
    data = bytes.fromhex("30820003020105")
    node = decode_der(data)
    assert node.length_size == 3
    assert node.child(0).length_size is None
    assert node.to_bytes() == data
    assert decode_der(bytes.fromhex("3003020105")).length_size is None


def test_a_length_field_too_small_is_refused() -> None:
    with pytest.raises(EncodeError, match="does not fit"):
        Der(0x04, bytes(300), length_size=2).to_bytes()
    with pytest.raises(EncodeError, match="2 to 5 bytes"):
        Der(0x04, b"", length_size=1)
