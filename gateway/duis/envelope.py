"""The DUIS request envelope: root, header, body and signature reference, as typed values.

:func:`parse_request` reads a parsed document (see :mod:`gateway.duis.xml`) written as the
conformance templates are, and checks what the router needs even when no schema is loaded:
the namespace, the schema version (5.x), the header fields and their formats, one body
element. Errors are :class:`~gateway.errors.ServiceError` with the ``duis_*`` rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final

from lxml import etree

from gateway.duis.catalogue import CommandVariant, ServiceReferenceVariant
from gateway.duis.xml import SR_NS, ds, local_name, sr
from gateway.errors import ServiceError
from gateway.model import RequestId

_EUI_TEXT: Final = r"[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){7}"
_REQUEST_ID: Final = re.compile(rf"({_EUI_TEXT}):({_EUI_TEXT}):(0|[1-9][0-9]{{0,19}})")
_EUI: Final = re.compile(_EUI_TEXT)
MAX_COUNTER: Final = 2**64 - 1

PLACEHOLDER_SIGNATURE: Final = "ZGVmYXVsdA=="
"""The base64 of ``default``: the placeholder signature of the DUIS templates."""

_SR_PREFIX: Final = f"{{{SR_NS}}}"
_SR_PREFIX_LENGTH: Final = len(_SR_PREFIX)
_HEADER_BODY: Final = [sr("Header"), sr("Body")]
_SIGNATURE: Final = ds("Signature")

_HEADER_ORDER: Final = (
    "RequestID",
    "FirstInSequence",
    "PrecedingServiceRequestID",
    "CommandVariant",
    "ServiceReference",
    "ServiceReferenceVariant",
)


def parse_request_id(text: str) -> RequestId:
    """``"90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:1000"`` -> :class:`RequestId`.

    Raises :class:`ValueError` naming the value when it is not of that form.
    """
    match = _REQUEST_ID.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"{text!r} is not originatorEUI:targetEUI:counter "
            "(e.g. 90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:1000)"
        )
    counter = int(match.group(3))
    if counter > MAX_COUNTER:
        raise ValueError(f"counter {counter} of {text!r} is over 2^64-1")
    return RequestId(
        originator=bytes.fromhex(match.group(1).replace("-", "")),
        target=bytes.fromhex(match.group(2).replace("-", "")),
        counter=counter,
    )


def format_request_id(request_id: RequestId) -> str:
    """The DUIS text of a :class:`RequestId` (uppercase hex, as the templates write it)."""
    return (
        f"{request_id.originator.hex('-').upper()}:{request_id.target.hex('-').upper()}"
        f":{request_id.counter}"
    )


def parse_eui_text(text: str | None, element: str) -> bytes:
    """An ``sr:EUI`` value (``00-DB-12-34-56-78-90-A0``) as 8 bytes, or ``duis_invalid_element``."""
    value = (text or "").strip()
    if not _EUI.fullmatch(value):
        raise ServiceError(
            "duis_invalid_element",
            element=element,
            reason=f"{value!r} is not an EUI-64 written as 8 hyphenated hex pairs",
        )
    return bytes.fromhex(value.replace("-", ""))


@dataclass(frozen=True, slots=True)
class RequestHeader:
    """The ``sr:Header`` of a request."""

    request_id: RequestId
    command_variant: CommandVariant
    service_reference: str
    service_reference_variant: ServiceReferenceVariant
    first_in_sequence: bool | None = None
    preceding_request_id: RequestId | None = None


@dataclass(frozen=True, slots=True)
class KeyReference:
    """``ds:KeyInfo/ds:X509Data/ds:X509IssuerSerial`` of a signature: which certificate signed."""

    issuer: str
    serial: int


_SIGNED_INFO: Final = ds("SignedInfo")
_VALUE: Final = ds("SignatureValue")
_KEY_INFO: Final = ds("KeyInfo")
_X509_DATA: Final = ds("X509Data")
_ISSUER_SERIAL: Final = ds("X509IssuerSerial")
_ISSUER_NAME: Final = ds("X509IssuerName")
_SERIAL_NUMBER: Final = ds("X509SerialNumber")
_ISSUER_SERIAL_PATH: Final = f"{_KEY_INFO}/{_X509_DATA}/{_ISSUER_SERIAL}"


def _profile_issuer_serial(signature: etree._Element) -> etree._Element | None:
    """``X509IssuerSerial`` when the signature has the DUIS profile's layout (SignedInfo,
    SignatureValue, KeyInfo/X509Data/X509IssuerSerial/(X509IssuerName, X509SerialNumber), each
    the only one of its name: the element the general search would find), else ``None``."""
    if len(signature) != 3 or signature[0].tag != _SIGNED_INFO or signature[1].tag != _VALUE:
        return None
    key_info = signature[2]
    if key_info.tag != _KEY_INFO or len(key_info) != 1:
        return None
    data = key_info[0]
    if data.tag != _X509_DATA or len(data) != 1:
        return None
    issuer_serial = data[0]
    if (
        issuer_serial.tag != _ISSUER_SERIAL
        or len(issuer_serial) != 2
        or issuer_serial[0].tag != _ISSUER_NAME
        or issuer_serial[1].tag != _SERIAL_NUMBER
    ):
        return None
    return issuer_serial


@dataclass(frozen=True, slots=True)
class DuisRequest:
    """A parsed DUIS request. ``body`` is the one element inside ``sr:Body`` (e.g.
    ``sr:ReadInventory``); ``root`` is the whole document, ``signature`` the ``ds:Signature``
    element (``None`` when unsigned)."""

    schema_version: str
    header: RequestHeader
    body: etree._Element
    root: etree._Element
    signature: etree._Element | None

    @property
    def body_name(self) -> str:
        """The local name of the body element (``"ReadInventory"``)."""
        return local_name(self.body)

    @property
    def is_placeholder_signed(self) -> bool:
        """True when the signature is the templates' placeholder (``ZGVmYXVsdA==``)."""
        signature = self.signature
        if signature is None:
            return False
        if len(signature) > 1 and signature[0].tag == _SIGNED_INFO and signature[1].tag == _VALUE:
            value: str | None = signature[1].text or ""  # the first SignatureValue
        else:
            value = signature.findtext(_VALUE)
        return value is not None and value.strip() == PLACEHOLDER_SIGNATURE

    def key_reference(self) -> KeyReference | None:
        """The issuer and serial of the signing certificate, or ``None`` when absent/invalid."""
        signature = self.signature
        if signature is None:
            return None
        issuer_serial = _profile_issuer_serial(signature)
        if issuer_serial is not None:
            # The profile's layout: each element below is the only one of its name.
            issuer = (issuer_serial[0].text or "").strip()
            serial_text = (issuer_serial[1].text or "").strip()
        else:
            issuer_serial = signature.find(_ISSUER_SERIAL_PATH)
            if issuer_serial is None:
                return None
            issuer = (issuer_serial.findtext(ds("X509IssuerName")) or "").strip()
            serial_text = (issuer_serial.findtext(ds("X509SerialNumber")) or "").strip()
        if not issuer or not serial_text.isdigit():
            return None
        return KeyReference(issuer=issuer, serial=int(serial_text))


def peek_header(root: etree._Element) -> tuple[str | None, str | None, str | None]:
    """Best-effort ``(RequestID, ServiceReference, ServiceReferenceVariant)`` texts of a request
    that may be invalid: what an error response can echo. Never raises."""
    header = root.find(sr("Header"))
    if header is None:
        return None, None, None
    return (
        _stripped(header.findtext(sr("RequestID"))),
        _stripped(header.findtext(sr("ServiceReference"))),
        _stripped(header.findtext(sr("ServiceReferenceVariant"))),
    )


def _stripped(text: str | None) -> str | None:
    return None if text is None else text.strip()


_REQUEST_TAG: Final = sr("Request")
_VERSIONS_SEEN: set[str] = set()
"""``schemaVersion`` values found to be 5.x (each is checked with :class:`Decimal` once)."""


def check_root(root: etree._Element) -> str:
    """Check the root is a DUIS 5.x ``sr:Request``; return its ``schemaVersion``."""
    if root.tag != _REQUEST_TAG:
        qname = etree.QName(root)
        if qname.namespace != SR_NS or qname.localname != "Request":
            found = (
                f"{{{qname.namespace}}}{qname.localname}" if qname.namespace else qname.localname
            )
            raise ServiceError("duis_wrong_namespace", found=found)
    version = (root.get("schemaVersion") or "").strip()
    if version in _VERSIONS_SEEN:
        return version
    try:
        number = Decimal(version)
    except InvalidOperation:
        raise ServiceError("duis_schema_version", version=version or "(absent)") from None
    if not (Decimal(5) <= number < Decimal(6)):
        raise ServiceError("duis_schema_version", version=version)
    if len(_VERSIONS_SEEN) < 64:
        _VERSIONS_SEEN.add(version)
    return version


def parse_request(root: etree._Element) -> DuisRequest:
    """Read the envelope of a parsed request document.

    Checks, whether or not the schema is loaded: namespace and version of the root, the header
    fields in schema order with valid values (RequestID form, a known CommandVariant,
    ServiceReference and ServiceReferenceVariant, the variant belonging to the reference), one
    body element, at most one ``ds:Signature`` after the body.
    """
    schema_version = check_root(root)
    # Elements only (no comment, processing instruction or entity), each tag read once: lxml
    # builds a new string on every read of ``tag``.
    children = list(root.iterchildren(etree.Element))
    names = [child.tag for child in children]
    if names[:2] != _HEADER_BODY or len(names) > 3 or (len(names) == 3 and names[2] != _SIGNATURE):
        shown = ", ".join(local_name(c) for c in children) or "nothing"
        raise ServiceError(
            "duis_invalid_element",
            element="Request",
            reason=f"it must hold Header, Body and an optional ds:Signature, not {shown}",
        )
    header = _parse_header(children[0])
    body_children = list(children[1].iterchildren(etree.Element))
    if len(body_children) != 1 or not str(body_children[0].tag).startswith(_SR_PREFIX):
        raise ServiceError(
            "duis_invalid_element",
            element="Body",
            reason=f"it must hold exactly one DUIS element, not {len(body_children)}",
        )
    return DuisRequest(
        schema_version=schema_version,
        header=header,
        body=body_children[0],
        root=root,
        signature=children[2] if len(children) == 3 else None,
    )


def _parse_header(header: etree._Element) -> RequestHeader:
    fields: dict[str, str] = {}
    order: list[str] = []
    for child in header.iterchildren(etree.Element):
        tag = str(child.tag)
        name = tag[_SR_PREFIX_LENGTH:]
        if not tag.startswith(_SR_PREFIX) or name not in _HEADER_ORDER:
            raise ServiceError(
                "duis_invalid_element",
                element="Header",
                reason=f"unexpected element {local_name(child)}",
            )
        if name in fields:
            raise ServiceError("duis_invalid_element", element=name, reason="it appears twice")
        fields[name] = (child.text or "").strip()
        order.append(name)
    if order != [name for name in _HEADER_ORDER if name in fields]:
        raise ServiceError(
            "duis_invalid_element",
            element="Header",
            reason="its elements must come in the order " + ", ".join(_HEADER_ORDER),
        )
    for required in ("RequestID", "CommandVariant", "ServiceReference", "ServiceReferenceVariant"):
        if required not in fields:
            raise ServiceError("duis_invalid_element", element=required, reason="it is missing")
    try:
        request_id = parse_request_id(fields["RequestID"])
    except ValueError as exc:
        raise ServiceError("duis_invalid_element", element="RequestID", reason=str(exc)) from None
    preceding = None
    if "PrecedingServiceRequestID" in fields:
        try:
            preceding = parse_request_id(fields["PrecedingServiceRequestID"])
        except ValueError as exc:
            raise ServiceError(
                "duis_invalid_element", element="PrecedingServiceRequestID", reason=str(exc)
            ) from None
    first = None
    if "FirstInSequence" in fields:
        text = fields["FirstInSequence"]
        if text not in ("true", "false", "1", "0"):
            raise ServiceError(
                "duis_invalid_element",
                element="FirstInSequence",
                reason=f"{text!r} is not a boolean",
            )
        first = text in ("true", "1")
    cv_text = fields["CommandVariant"]
    try:
        command_variant = CommandVariant(int(cv_text))
    except ValueError:
        raise ServiceError(
            "duis_invalid_element",
            element="CommandVariant",
            reason=f"{cv_text!r} is not a command variant a user may send (1 to 8)",
        ) from None
    reference = fields["ServiceReference"]
    variant_text = fields["ServiceReferenceVariant"]
    try:
        variant = ServiceReferenceVariant(variant_text)
    except ValueError:
        raise ServiceError("duis_unknown_sr", srv=variant_text) from None
    if variant.service_reference != reference:
        raise ServiceError(
            "duis_invalid_element",
            element="ServiceReference",
            reason=(
                f"{reference!r} does not match ServiceReferenceVariant {variant_text} "
                f"(which belongs to {variant.service_reference})"
            ),
        )
    return RequestHeader(
        request_id=request_id,
        command_variant=command_variant,
        service_reference=reference,
        service_reference_variant=variant,
        first_in_sequence=first,
        preceding_request_id=preceding,
    )
