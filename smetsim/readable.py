"""Answers as a person reads them: ``smetsim send --wait`` without ``--tree``.

Registers become labelled values in their units with the device's scaling applied (kWh and
kvarh from DLMS scaler-units, m3 from the ZCL multiplier and divisor, credit in GBP), times
become ISO 8601 dates, and an 8.2 answer's ``DSPInventory`` becomes a table. What has no
reading of its own here gets ``None``, and the caller shows the decoded tree instead.
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime
from typing import Final

from lxml import etree

from gbcs import content as gc
from gbcs.errors import DecodeError
from gbcs.explain import Explanation, iso_date_time
from gbcs.payloads.dlms import RESULT_NAMES, AccessResult

__all__ = ["inventory_table", "reading_lines"]

_PARSER: Final = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_COLUMNS: Final = (
    ("DeviceID", "device"),
    ("DeviceType", "type"),
    ("DeviceStatus", "status"),
    ("DeviceManufacturer", "manufacturer"),
    ("DeviceModel", "model"),
    ("DeviceFirmwareVersion", "firmware"),
    ("ImportMPxN", "MPxN"),
    ("ESMEVariant", "variant"),
    ("DateCommissioned", "commissioned"),
)


def _number(value: float, digits: int = 3) -> str:
    return f"{value:,.{digits}f}"


def _plaintexts(explanation: Explanation) -> list[bytes]:
    return [d.plaintext for d in explanation.decrypted if d.plaintext is not None]


def reading_lines(explanation: Explanation) -> list[str] | None:
    """Labelled values of a device's answer, or None when there is no reading of it here
    (an undecoded message, a use case with no typed content, a block not decrypted)."""
    message = explanation.message
    if message is None or explanation.error is not None:
        return None
    code = f"0x{message.message_code:04X}"
    lines = [f"use case: {explanation.use_case or code} ({code})"]
    if explanation.use_case_title:
        lines[0] += f" {explanation.use_case_title}"
    v = explanation.verification
    if v is not None:
        lines.append(f"MAC: {v.mac.value}, signature: {v.signature.value}")
    if message.date_time is not None:
        when = iso_date_time(message.date_time.hex())
        if when is not None:
            lines.append(f"date-time: {when}")
    values = _values(explanation, message.message_code, message.content)
    if values is None:
        return None
    return lines + values


def _values(explanation: Explanation, code: int, content: bytes) -> list[str] | None:
    plaintexts = _plaintexts(explanation)
    if explanation.use_case == "ECS17b":
        if not plaintexts:
            return None
        registers = gc.ImportRegisters.from_plaintext(plaintexts[0])
        lines = [
            f"active import: {_number(registers.active_import_wh / 1000)} kWh",
            "reactive import: "
            f"{_number(registers.reactive_import * 10.0**registers.reactive_scaler / 1000)} kvarh",
        ]
        if registers.secondary_active_import is not None:
            secondary = registers.secondary_active_import * 10.0**registers.active_scaler / 1000
            lines.append(f"secondary active import: {_number(secondary)} kWh")
        return lines
    if explanation.use_case == "GCS13a":
        if not plaintexts:
            return None
        gas = gc.GasRegister.from_plaintext(plaintexts[0])
        volume = gas.volume_m3
        return [f"volume: {'not read' if volume is None else _number(volume)} m3"]
    try:
        response = gc.decode_response(code, content)
    except DecodeError:
        return None
    lines = []
    for f in dataclasses.fields(response):
        lines.append(f"{f.name.replace('_', ' ')}: {_field(f.name, getattr(response, f.name))}")
    return lines


def _field(name: str, value: object) -> str:
    if isinstance(value, tuple | list):
        return ", ".join(_field(name, item) for item in value) or "none"
    if isinstance(value, AccessResult):
        meaning = RESULT_NAMES.get(value.result, "unknown")
        return f"{value.kind.name.lower()} {meaning}" + ("" if value.ok else f" ({value.result})")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        parts = (
            f"{f.name} {_field(f.name, getattr(value, f.name))}" for f in dataclasses.fields(value)
        )
        return f"({', '.join(parts)})"
    if isinstance(value, enum.Enum):
        return value.name.lower().replace("_", " ")
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, bytes):
        when = iso_date_time(value.hex())
        return when if when is not None else value.hex()
    if isinstance(value, int) and not isinstance(value, bool) and "credit" in name:
        return f"{value / 100:,.2f} GBP"  # the meter counts credit in pence
    return str(value)


def inventory_table(body: bytes) -> list[str] | None:
    """The devices of a response's ``DSPInventory`` as aligned columns, or None when the
    response holds none."""
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError:
        return None
    devices = list(root.iter("{*}Device"))
    if not devices:
        return None
    rows: list[list[str]] = []
    for device in devices:
        found = {etree.QName(child).localname: (child.text or "").strip() for child in device}
        rows.append([found.get(tag, "-") or "-" for tag, _ in _COLUMNS])
    used = [i for i in range(len(_COLUMNS)) if any(row[i] != "-" for row in rows)]
    table = [[_COLUMNS[i][1] for i in used], *([row[i] for i in used] for row in rows)]
    widths = [max(len(r[c]) for r in table) for c in range(len(used))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
            for r in table]  # fmt: skip
