"""Building DUIS responses that validate against the DUIS 5.4 schema.

A response is ``sr:Response`` (``schemaVersion``) holding ``sr:Header`` (optional RequestID,
optional ResponseID, ResponseCode, ResponseDateTime) and ``sr:Body/sr:ResponseMessage``
(ServiceReference, ServiceReferenceVariant, then at most one content element such as
``sr:DSPInventory``, ``sr:GBCSPayload`` or ``sr:PreCommand``). Signing is separate
(:class:`gateway.duis.signature.XmlSigner`).

The schema has no place for free text, so the sentence explaining an error travels as an XML
comment at the top of the response (and in the ``X-DUIS-Reason`` HTTP header, see
:mod:`gateway.server`).
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from lxml import etree

from gateway.duis.xml import DS_NS, RA_NS, SR_NS, sr
from gateway.model import DeviceRecord

RESPONSE_SCHEMA_VERSION: Final = "5.4"
FALLBACK_SERVICE_REFERENCE: Final = ("8.2", "8.2")
"""What an error response names when the request's own ServiceReference(Variant) could not be
read: the schema requires both, and 8.2 (Read Inventory) changes nothing."""

MAX_INVENTORY_DEVICES: Final = 17
"""The schema's ``DSPInventory`` holds at most 17 ``Device`` elements."""

_NSMAP: Final = {"sr": SR_NS, "ds": DS_NS, "ra": RA_NS}


def duis_datetime(moment: datetime) -> str:
    """``2022-08-12T06:43:49.844Z``: UTC, milliseconds, as the DCC writes ResponseDateTime."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # isoformat is C (strftime plus an f-string cost several times more): "...T06:43:49.844+00:00"
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def comment_text(sentence: str) -> str:
    """``sentence`` made safe for an XML comment (no ``--``, no trailing ``-``)."""
    text = sentence.replace("\r", " ").replace("\n", " ")
    while "--" in text:
        text = text.replace("--", "- -")
    return f" {text} "


def build_response(
    *,
    code: str,
    service_reference: str,
    service_reference_variant: str,
    date_time: datetime,
    request_id: str | None = None,
    response_id: str | None = None,
    content: etree._Element | None = None,
    reason: str | None = None,
    schema_version: str = RESPONSE_SCHEMA_VERSION,
) -> etree._Element:
    """An unsigned ``sr:Response``. ``content`` is the ResponseMessage's choice element."""
    root = etree.Element(sr("Response"), nsmap=_NSMAP)
    root.set("schemaVersion", schema_version)
    if reason:
        root.append(etree.Comment(comment_text(f"{code}: {reason}")))
    header = etree.SubElement(root, sr("Header"))
    if request_id is not None:
        etree.SubElement(header, sr("RequestID")).text = request_id
    if response_id is not None:
        etree.SubElement(header, sr("ResponseID")).text = response_id
    etree.SubElement(header, sr("ResponseCode")).text = code
    etree.SubElement(header, sr("ResponseDateTime")).text = duis_datetime(date_time)
    body = etree.SubElement(root, sr("Body"))
    message = etree.SubElement(body, sr("ResponseMessage"))
    etree.SubElement(message, sr("ServiceReference")).text = service_reference
    etree.SubElement(message, sr("ServiceReferenceVariant")).text = service_reference_variant
    if content is not None:
        message.append(content)
    return root


# --- the plain response (no content, no reason) written from a template ----------------------

_SAFE_VALUE: Final = re.compile(r"[0-9A-Za-z.:_-]{1,100}")
"""Values that both serialisations write as they are (nothing to escape): the template path
takes only these; anything else goes through :func:`build_response`."""

_MARKS: Final = {
    "code": "MARKCODEQ",
    "service_reference": "MARKSRQ",
    "service_reference_variant": "MARKSRVQ",
    "date_time": "MARKDTQ",
    "request_id": "MARKRIDQ",
    "schema_version": "MARKVERQ",
}
_MARK_PATTERN: Final = re.compile(b"(" + b"|".join(m.encode() for m in _MARKS.values()) + b")")
_FIELD_OF_MARK: Final = {mark.encode(): field for field, mark in _MARKS.items()}


@dataclass(frozen=True, slots=True)
class _Cut:
    """Bytes cut around the marks: ``parts[0] + v0 + parts[1] + v1 + ... + parts[-1]``."""

    parts: tuple[bytes, ...]
    fields: tuple[str, ...]

    @classmethod
    def of(cls, octets: bytes) -> _Cut:
        pieces = _MARK_PATTERN.split(octets)
        return cls(tuple(pieces[0::2]), tuple(_FIELD_OF_MARK[m] for m in pieces[1::2]))

    def fill(self, values: dict[str, bytes]) -> bytes:
        out = [self.parts[0]]
        for field, part in zip(self.fields, self.parts[1:], strict=True):
            out.append(values[field])
            out.append(part)
        return b"".join(out)


@functools.lru_cache(maxsize=256)
def _token(value: str) -> bytes | None:
    """``value`` in ASCII when it is a plain token (:data:`_SAFE_VALUE`), else None: the codes,
    references and versions of responses, which repeat (a RequestID is checked each time)."""
    return value.encode("ascii") if _SAFE_VALUE.fullmatch(value) is not None else None


@functools.lru_cache(maxsize=4)
def _plain_template(with_request_id: bool) -> tuple[_Cut, _Cut]:
    """The serialisation and the exclusive C14N of :func:`build_response`'s own tree (so the
    bytes are lxml's, not hand-written), cut around the values."""
    root = build_response(
        code=_MARKS["code"],
        service_reference=_MARKS["service_reference"],
        service_reference_variant=_MARKS["service_reference_variant"],
        date_time=datetime(2000, 1, 1, tzinfo=UTC),
        request_id=_MARKS["request_id"] if with_request_id else None,
        schema_version=_MARKS["schema_version"],
    )
    stamp = root.find(f"{sr('Header')}/{sr('ResponseDateTime')}")
    assert stamp is not None
    stamp.text = _MARKS["date_time"]
    return (
        _Cut.of(etree.tostring(root, encoding="UTF-8")),
        _Cut.of(etree.tostring(root, method="c14n", exclusive=True, with_comments=False)),
    )


def plain_response_bytes(
    *,
    code: str,
    service_reference: str,
    service_reference_variant: str,
    date_time: datetime,
    request_id: str | None = None,
    schema_version: str = RESPONSE_SCHEMA_VERSION,
    content: etree._Element | None = None,
) -> tuple[bytes, bytes] | None:
    """``(etree.tostring(root, encoding="UTF-8"), its exclusive C14N)`` of
    ``build_response(...)`` with no response ID or reason, written from a template without
    building the response's tree (``content``, given away, is serialised on its own); ``None``
    when a value is not a plain token (the caller then builds the tree)."""
    code_octets = _token(code)
    reference = _token(service_reference)
    variant = _token(service_reference_variant)
    version = _token(schema_version)
    if code_octets is None or reference is None or variant is None or version is None:
        return None
    octets = {
        "code": code_octets,
        "service_reference": reference,
        "service_reference_variant": variant,
        "schema_version": version,
        "date_time": duis_datetime(date_time).encode("ascii"),
    }
    if request_id is not None:
        if _SAFE_VALUE.fullmatch(request_id) is None:
            return None
        octets["request_id"] = request_id.encode("ascii")
    document, c14n = _plain_template(request_id is not None)
    if content is None:
        return document.fill(octets), c14n.fill(octets)
    # The content serialised under a root declaring the response's namespaces: the bytes it
    # has inside the response (lxml writes no declaration the root already made; exclusive
    # C14N renders on it what no ancestor rendered, as inside sr:ResponseMessage).
    wrapper = etree.Element(sr("ResponseMessage"), nsmap=_NSMAP)
    wrapper.append(content)
    inner = etree.tostring(wrapper, encoding="UTF-8")
    inner = inner[inner.index(b">") + 1 : inner.rindex(b"</")]
    inner_c14n = etree.tostring(wrapper, method="c14n", exclusive=True, with_comments=False)
    inner_c14n = inner_c14n[inner_c14n.index(b">") + 1 : inner_c14n.rindex(b"</")]
    whole, whole_c14n = document.fill(octets), c14n.fill(octets)
    at, at_c14n = whole.rindex(_MESSAGE_END), whole_c14n.rindex(_MESSAGE_END)
    return (
        whole[:at] + inner + whole[at:],
        whole_c14n[:at_c14n] + inner_c14n + whole_c14n[at_c14n:],
    )


_MESSAGE_END: Final = b"</sr:ResponseMessage>"


def gbcs_payload_element(payload: bytes, *, tag: str = "GBCSPayload") -> etree._Element:
    """``sr:GBCSPayload`` (or another base64 element) holding ``payload``."""
    element = etree.Element(sr(tag))
    element.text = base64.b64encode(payload).decode("ascii")
    return element


GBCS_VERSION: Final = "4.0"
"""What the ``PreCommand/GBCSVersion`` of a CV4 answer names: the GBCS version whose
message formats this gateway builds (the reference data's)."""


def precommand_element(payload: bytes, *, gbcs_version: str = GBCS_VERSION) -> etree._Element:
    """``sr:PreCommand`` (``GBCSVersion``, ``GBCSPayload``): the CV4 answer to a critical SR."""
    element = etree.Element(sr("PreCommand"))
    etree.SubElement(element, sr("GBCSVersion")).text = gbcs_version
    element.append(gbcs_payload_element(payload))
    return element


def _eui_text(eui: bytes) -> str:
    return eui.hex("-").upper()


def _text(parent: etree._Element, name: str, value: str | None) -> None:
    if value is not None:
        etree.SubElement(parent, sr(name)).text = value


def device_element(record: DeviceRecord) -> etree._Element:
    """One ``sr:Device`` of a ``DSPInventory``, in the schema's element order."""
    device = etree.Element(sr("Device"))
    _text(device, "DeviceID", _eui_text(record.device_id))
    _text(device, "DeviceType", record.device_type.value)
    _text(device, "DeviceStatus", record.status.value)
    _text(device, "DeviceManufacturer", record.manufacturer)
    _text(device, "DeviceModel", record.model)
    _text(device, "SMETSCHTSVersion", record.smets_chts_version or None)
    _text(device, "DeviceFirmwareVersion", record.firmware_version or None)
    if record.date_commissioned is not None:
        _text(device, "DateCommissioned", record.date_commissioned.isoformat())
    _text(device, "ImportMPxN", record.import_mpxn)
    _text(device, "SecondaryImportMPAN", record.secondary_import_mpan)
    _text(device, "ExportMPAN", record.export_mpan)
    _text(device, "ESMEVariant", record.esme_variant)
    _text(device, "UPRN", record.uprn)
    if record.property_filter is not None:
        pf = etree.SubElement(device, sr("PropertyFilter"))
        _text(pf, "PostCode", record.property_filter.postcode)
        _text(pf, "AddressIdentifier", record.property_filter.address_identifier)
    return device


def inventory_element(records: Sequence[DeviceRecord]) -> etree._Element:
    """``sr:DSPInventory`` of 1 to 17 records (the service refuses bigger answers)."""
    if not 1 <= len(records) <= MAX_INVENTORY_DEVICES:
        raise ValueError(
            f"a DSPInventory holds 1 to {MAX_INVENTORY_DEVICES} devices, not {len(records)}"
        )
    inventory = etree.Element(sr("DSPInventory"))
    for record in records:
        inventory.append(device_element(record))
    return inventory


def serialise(root: etree._Element) -> bytes:
    """UTF-8 bytes with an XML declaration."""
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)
