"""UTRN generation and verification (gbcs.utrn) against the public reference values."""

from __future__ import annotations

from pathlib import Path

import pytest

from gbcs.codes import SUPPLIER
from gbcs.errors import DecodeError, EncodeError
from gbcs.keystore import Keystore, generate_test_pki
from gbcs.utrn import ValueClass, make_utrn, parse_utrn, verhoeff_digit, verify_utrn

A0 = bytes.fromhex("00db1234567890a0")
A1 = bytes.fromhex("00db1234567890a1")


@pytest.mark.parametrize(
    "utrn",
    [
        "73943333457189043313",
        "74301825837596672005",
        "73946144332040217315",
        "73947252416745201637",
    ],
)
def test_check_digit_matches_reference_utrns(utrn: str) -> None:
    assert verhoeff_digit(utrn[:-1]) == utrn[-1]


@pytest.mark.parametrize(
    ("counter", "value", "value_class", "expected"),
    [
        (0x1_0000_0000, 100, ValueClass.POUNDS, "73943333457189043313"),
        (0x4_0000_0000, 1234, ValueClass.PENNIES, "73947252416745201637"),
    ],
)
def test_utrns_match_the_reference_tool_with_the_conformance_keys(
    conformance: Path, counter: int, value: int, value_class: ValueClass, expected: str
) -> None:
    keys = Keystore.load(conformance / "keystore")
    made = make_utrn(
        keys, supplier=SUPPLIER, device=A0, counter=counter, value=value, value_class=value_class
    )
    assert made == expected


def test_a_device_verifies_its_utrn_and_rebuilds_the_counter() -> None:
    pki = generate_test_pki(b"utrn", devices=[A0, A1])
    counter = (5 << 42) | (7 << 32)
    utrn = make_utrn(pki, supplier=SUPPLIER, device=A0, counter=counter, value=2500)
    token = verify_utrn(pki, utrn, supplier=SUPPLIER, device=A0, reference=5 << 42)
    assert token is not None
    assert (token.counter, token.value, token.pence) == (counter, 2500, 2500)
    # Not for another device, and not when the meter has moved past that counter.
    assert verify_utrn(pki, utrn, supplier=SUPPLIER, device=A1) is None
    assert verify_utrn(pki, utrn, supplier=SUPPLIER, device=A0, reference=counter + 1) is None


def test_bad_utrns_are_decode_errors_and_bad_inputs_encode_errors() -> None:
    with pytest.raises(DecodeError, match="20 decimal digits"):
        parse_utrn("1234")
    with pytest.raises(DecodeError, match="check digit"):
        parse_utrn("73943333457189043310")
    pki = generate_test_pki(b"utrn")
    with pytest.raises(EncodeError, match="low 32 bits"):
        make_utrn(pki, supplier=SUPPLIER, device=A0, counter=1, value=1)
    with pytest.raises(EncodeError, match="value"):
        make_utrn(pki, supplier=SUPPLIER, device=A0, counter=1 << 32, value=8192)
