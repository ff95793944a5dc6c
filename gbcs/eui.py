"""EUI-64 identifiers: parsing and the two spellings used on the wire and in DUIS."""

from __future__ import annotations

import re

__all__ = ["eui_duis", "eui_hex", "parse_eui"]

_HEX16 = re.compile(r"[0-9A-Fa-f]{16}")
_DUIS = re.compile(r"(?:[0-9A-Fa-f]{2}-){7}[0-9A-Fa-f]{2}")


def parse_eui(text: str | bytes) -> bytes:
    """An EUI-64 as 8 bytes, from ``"00-DB-12-34-56-78-90-A0"``, ``"00db1234567890a0"``
    (either case) or 8 raw bytes.

    Raises :class:`ValueError` naming the value when it is none of those.
    """
    if isinstance(text, bytes | bytearray | memoryview):
        raw = bytes(text)
        if len(raw) == 8:
            return raw
        raise ValueError(f"an EUI-64 is 8 bytes, got {len(raw)}: {raw.hex()!r}")
    if not isinstance(text, str):
        raise ValueError(f"not an EUI-64: {text!r}")
    candidate = text.strip()
    if _HEX16.fullmatch(candidate):
        return bytes.fromhex(candidate)
    if _DUIS.fullmatch(candidate):
        return bytes.fromhex(candidate.replace("-", ""))
    raise ValueError(
        f"not an EUI-64: {text!r} (expected 16 hex digits, e.g. 00DB1234567890A0, "
        "or 8 dash-separated pairs, e.g. 00-DB-12-34-56-78-90-A0)"
    )


def eui_hex(eui: bytes) -> str:
    """``b"\\x00\\xdb..."`` -> ``"00db1234567890a0"`` (the keystore file spelling)."""
    return eui.hex()


def eui_duis(eui: bytes) -> str:
    """``b"\\x00\\xdb..."`` -> ``"00-DB-12-34-56-78-90-A0"`` (the DUIS spelling)."""
    return eui.hex("-").upper()
