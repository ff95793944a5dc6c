from __future__ import annotations

import pytest

from gbcs.eui import eui_duis, eui_hex, parse_eui

RAW = bytes.fromhex("00db1234567890a0")


@pytest.mark.parametrize(
    "text",
    ["00-DB-12-34-56-78-90-A0", "00db1234567890a0", "00DB1234567890A0", RAW, " 00db1234567890a0 "],
)
def test_parse_eui_accepts_every_spelling(text: str | bytes) -> None:
    assert parse_eui(text) == RAW


@pytest.mark.parametrize(
    "bad",
    [
        "00db1234567890a",
        "00-DB-12-34-56-78-90",
        "zz" * 8,
        "",
        b"\x00" * 7,
        "00:db:12:34:56:78:90:a0",
    ],
)
def test_parse_eui_names_the_bad_value(bad: str | bytes) -> None:
    with pytest.raises(ValueError, match="EUI-64"):
        parse_eui(bad)


def test_spellings() -> None:
    assert eui_hex(RAW) == "00db1234567890a0"
    assert eui_duis(RAW) == "00-DB-12-34-56-78-90-A0"
    assert parse_eui(eui_duis(RAW)) == parse_eui(eui_hex(RAW)) == RAW
