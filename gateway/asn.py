"""Advance Shipment Notification (ASN) files: a whole shipment pre-notified at once (SR12.2).

A manufacturer's ASN lists each device of a shipment (MP125); the installing supplier uses
it to pre-notify the devices. This module reads two formats (``docs/asn.md``):

- **CSV**: a header row naming the columns by their DUIS element names (``DeviceID``,
  ``DeviceManufacturer``, ``DeviceModel``, ``DeviceType``, ``SMETSCHTSVersion``,
  ``FirmwareVersion``, ``ESMEVariant``, ``AssociatedGPFDeviceID``; any case, any order), then
  one device a row. Blank lines and lines starting with ``#`` are skipped.
- **XML**: ``<AdvanceShipmentNotification>`` holding ``<Device>`` elements whose children carry
  the same names (any namespace, or none).

Each device becomes a :class:`DevicePrenotification`; :func:`import_shipment` applies the SR12.2
rules to all of them in ONE transaction: **all or nothing**. The first bad row is named - its
number (the CSV line, or the ``<Device>``'s position and line) and the field - and nothing
of the shipment goes in.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from lxml import etree

from gateway.errors import GatewayError
from gateway.model import DevicePrenotification
from gateway.services.nondevice import NonDeviceService, ShipmentError
from gbcs.devices import DeviceType
from gbcs.eui import parse_eui

FIELDS: Final = DevicePrenotification.ELEMENTS
REQUIRED: Final = ("DeviceID", "DeviceManufacturer", "DeviceModel", "DeviceType")
MAX_BYTES: Final = 64 * 1024 * 1024

_RULE_FIELDS: Final = {
    "prenotify_duplicate": "DeviceID",
    "prenotify_esme_variant": "ESMEVariant",
    "prenotify_gpf": "AssociatedGPFDeviceID",
}


class AsnError(GatewayError):
    """The ASN file is unreadable, or a row is bad; ``row`` and ``field`` say where."""

    def __init__(self, message: str, *, row: str | None = None, field: str | None = None) -> None:
        self.row = row
        self.field = field
        where = ", ".join(p for p in (row, f"field {field}" if field else None) if p)
        super().__init__(f"{where}: {message}" if where else message)


@dataclass(frozen=True, slots=True)
class AsnRow:
    """One device of the shipment and where it was in the file (``"row 3 (line 4)"``)."""

    where: str
    device: DevicePrenotification


def parse_asn(data: bytes, *, name: str = "ASN") -> list[AsnRow]:
    """The devices of an ASN file (XML if it starts with ``<``, else CSV). Raises AsnError."""
    if len(data) > MAX_BYTES:
        raise AsnError(f"{name} is {len(data)} bytes, more than the {MAX_BYTES}-byte limit")
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    rows = _parse_xml(data) if head.startswith(b"<") else _parse_csv(data, name)
    if not rows:
        raise AsnError(f"{name} lists no device")
    return rows


def _device(where: str, values: dict[str, str]) -> AsnRow:
    for field in REQUIRED:
        if not values.get(field):
            raise AsnError("is missing (required)", row=where, field=field)

    def eui(field: str) -> bytes | None:
        text = values.get(field)
        if not text:
            return None
        try:
            return parse_eui(text)
        except ValueError as exc:
            raise AsnError(str(exc), row=where, field=field) from None

    device_id = eui("DeviceID")
    assert device_id is not None
    try:
        device_type = DeviceType(values["DeviceType"])
    except ValueError:
        raise AsnError(
            f"{values['DeviceType']!r} is not one of {', '.join(DeviceType)}",
            row=where,
            field="DeviceType",
        ) from None
    return AsnRow(
        where,
        DevicePrenotification(
            device_id=device_id,
            manufacturer=values["DeviceManufacturer"],
            model=values["DeviceModel"],
            device_type=device_type,
            smets_chts_version=values.get("SMETSCHTSVersion") or None,
            firmware_version=values.get("FirmwareVersion") or None,
            esme_variant=values.get("ESMEVariant") or None,
            associated_gpf_id=eui("AssociatedGPFDeviceID"),
        ),
    )


def _parse_csv(data: bytes, name: str) -> list[AsnRow]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AsnError(f"{name} is not UTF-8 text: {exc}") from None
    lines = [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise AsnError(f"{name} lists no device")
    header_line, header_text = lines[0]
    header = [h.strip() for h in next(csv.reader([header_text]))]
    by_name = {f.casefold(): f for f in FIELDS}
    columns: list[str] = []
    for title in header:
        field = by_name.get(title.casefold())
        if field is None:
            raise AsnError(
                f"unknown column {title!r}: expected {', '.join(FIELDS)}",
                row=f"header (line {header_line})",
            )
        if field in columns:
            raise AsnError(f"column {title!r} appears twice", row=f"header (line {header_line})")
        columns.append(field)
    for field in REQUIRED:
        if field not in columns:
            raise AsnError(
                f"the header has no {field} column (required)", row=f"header (line {header_line})"
            )
    rows: list[AsnRow] = []
    for index, (number, line) in enumerate(lines[1:], start=1):
        where = f"row {index} (line {number})"
        (cells,) = list(csv.reader(io.StringIO(line)))
        if len(cells) != len(columns):
            raise AsnError(f"has {len(cells)} fields, the header {len(columns)}", row=where)
        rows.append(_device(where, {c: v.strip() for c, v in zip(columns, cells, strict=True)}))
    return rows


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _parse_xml(data: bytes) -> list[AsnRow]:
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise AsnError(f"the ASN is not well-formed XML: {exc}") from None
    docinfo: Any = root.getroottree().docinfo  # lxml-stubs lack DocInfo.doctype
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise AsnError("the ASN has a DOCTYPE declaration: DTDs and entities are refused")
    if _local(root.tag) != "AdvanceShipmentNotification":
        raise AsnError(f"the root element is {_local(root.tag)!r}, not AdvanceShipmentNotification")
    rows: list[AsnRow] = []
    index = 0
    for element in root:
        if not isinstance(element.tag, str):
            continue  # a processing instruction
        if _local(element.tag) != "Device":
            raise AsnError(
                f"unexpected element {_local(element.tag)!r} (line {element.sourceline}): "
                "the ASN holds Device elements only"
            )
        index += 1
        where = f"row {index} (line {element.sourceline})"
        values: dict[str, str] = {}
        for child in element:
            if not isinstance(child.tag, str):
                continue
            field = _local(child.tag)
            if field not in FIELDS:
                raise AsnError(
                    f"unknown element (line {child.sourceline}): expected {', '.join(FIELDS)}",
                    row=where,
                    field=field,
                )
            if field in values:
                raise AsnError("appears twice", row=where, field=field)
            values[field] = (child.text or "").strip()
        rows.append(_device(where, values))
    return rows


def import_shipment(service: NonDeviceService, sender: bytes, rows: list[AsnRow]) -> int:
    """Pre-notify every row as ``sender`` in one transaction; returns the devices added.

    Raises AsnError naming the row and field of the first rule broken; nothing went in.
    """
    try:
        return service.prenotify_shipment(sender, [r.device for r in rows])
    except ShipmentError as exc:
        error = exc.error
        field = error.fields.get("field") if error.rule == "prenotify_invalid" else None
        field = str(field) if field is not None else _RULE_FIELDS.get(error.rule)
        if error.rule in ("unknown_user", "role_not_eligible"):
            raise AsnError(f"{error.code}: {error.sentence}") from None
        raise AsnError(
            f"{error.code}: {error.sentence}", row=rows[exc.index].where, field=field
        ) from None


def import_file(service: NonDeviceService, sender: bytes, path: Path) -> int:
    """Read ``path`` and import it (see :func:`import_shipment`)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AsnError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    return import_shipment(service, sender, parse_asn(data, name=str(path)))
