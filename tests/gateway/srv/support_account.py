"""Transforms of DCC templates through the catalogue's codecs, without a gateway: the body
read by the codec, the use case chosen for the device's type, the content built with the
clock the DCC made its reference data with."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

from gateway.duis.xml import is_element
from gateway.srv.catalogue import entry
from gateway.srv.spec import Command
from gbcs.codes import SUPPLIER
from gbcs.devices import DeviceType
from gbcs.frames import Message
from gbcs.usecases import by_name

DCC_CLOCK = datetime(2015, 1, 1, tzinfo=UTC)
"""The DCC's clock when it made its reference commands (the ZCL issuer event ids say so)."""

DEVICES = {
    "A0": DeviceType.ESME,
    "A1": DeviceType.GSME,
    "A3": DeviceType.GPF,
}
"""The DCC test environment's devices the templates name, by the last byte of their EUI."""

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def template_body(xml: bytes) -> tuple[str, int, bytes, etree._Element]:
    """(SRV, RequestID counter, target device, body element) of a DUIS request."""
    root = etree.fromstring(xml, _PARSER)
    srv = (root.findtext(".//{*}ServiceReferenceVariant") or "").strip()
    request_id = (root.findtext(".//{*}RequestID") or "").strip()
    _, target, counter = request_id.split(":")
    body = next(c for c in root.find(".//{*}Body") if is_element(c))  # type: ignore[union-attr]
    return srv, int(counter), bytes.fromhex(target.replace("-", "")), body


def transform(
    xml: bytes, now: datetime = DCC_CLOCK, esme_variant: str | None = None
) -> tuple[str, bytes]:
    """(use case name, command content) the catalogue makes of a template (sent to an ESME
    of ``esme_variant``: ``B`` twin element)."""
    srv, counter, device, body = template_body(xml)
    found = entry(srv)
    assert found.codec is not None, srv
    request = found.codec.read(body)
    name = found.use_case(DEVICES[device.hex()[-2:].upper()], request, device)
    command = Command(
        request, by_name(name), counter, SUPPLIER, device, now, esme_variant=esme_variant
    )
    return name, found.codec.build(command)


def reference_content(conformance: Path, name: str) -> Message:
    (path,) = conformance.glob(f"gbcs/*/{name}")
    return Message.from_bytes(bytes.fromhex(path.read_text().strip()))
