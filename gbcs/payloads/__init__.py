"""The content of GBCS messages: DLMS (ESME, CHF), GBZ (GSME, GPF) and ASN.1 DER (the CS
use cases), each byte-exact.

:func:`decode_content` is the entry point: it picks the codec from the use case (or, for
a message code it does not know, from the first bytes) and never raises for content it
cannot parse - it returns :class:`Raw`. Whatever it returns re-encodes with
``to_bytes()`` to exactly the input, and ``as_tree()`` gives nested dicts and lists of
JSON-able values (what ``smetsim decode`` prints).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from gbcs.codes import CRA
from gbcs.errors import DecodeError, EncodeError
from gbcs.usecases import PayloadKind, use_case

if TYPE_CHECKING:
    from gbcs.payloads.asn1 import Der
    from gbcs.payloads.dlms import AccessRequest, AccessResponse, DataNotification
    from gbcs.payloads.gbz import GbzAlert, GbzPayload

# The codecs are imported when content of their kind is first decoded (a DLMS message never
# loads GBZ or ASN.1): a one-message `smetsim decode` pays only for its own codec. The first
# bytes that tell the kinds apart are facts of the formats (the codecs' own constants).
_DLMS_TAGS: frozenset[int] = frozenset({0xD9, 0xDA, 0x0F})
"""access-request (D9), access-response (DA) and data-notification (0F) (a test checks them
against :mod:`gbcs.payloads.dlms`)."""
_GBZ_PROFILE_ID = 0x0109
"""The profile id that opens a GBZ payload (checked against :mod:`gbcs.payloads.gbz`)."""
_LAZY = {
    "AccessRequest": "dlms",
    "AccessResponse": "dlms",
    "DataNotification": "dlms",
    "Der": "asn1",
    "GbzAlert": "gbz",
    "GbzPayload": "gbz",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "AccessRequest",
    "AccessResponse",
    "DataNotification",
    "Der",
    "GbzAlert",
    "GbzPayload",
    "Payload",
    "Raw",
    "decode_content",
    "sniff_kind",
]


@dataclass(frozen=True, slots=True)
class Raw:
    """Content kept as its bytes: not understood, or not in the canonical form this
    package re-encodes. ``reason`` says why (it is not part of the bytes)."""

    content: bytes
    reason: str = ""

    kind: ClassVar[str] = "raw"

    def to_bytes(self) -> bytes:
        return self.content

    def as_tree(self) -> dict[str, Any]:
        return {"raw": self.content.hex(), "reason": self.reason}


if TYPE_CHECKING:
    Payload = AccessRequest | AccessResponse | DataNotification | GbzPayload | GbzAlert | Der | Raw
    """What :func:`decode_content` returns."""


def sniff_kind(content: bytes) -> PayloadKind | None:
    """Guess the payload kind from the first bytes (for message codes not in the table)."""
    if not content:
        return None
    if content[0] in _DLMS_TAGS:
        return PayloadKind.DLMS
    if len(content) >= 2 and int.from_bytes(content[:2], "big") == _GBZ_PROFILE_ID:
        return PayloadKind.GBZ
    if content[0] == 0x30 or content[0] & 0xE0 == 0xA0:
        return PayloadKind.ASN1
    return None


def decode_content(message_code: int, cra: CRA | int, content: bytes) -> Payload:
    """Decode the content of a GBCS message; never raises: unknown content is :class:`Raw`.

    The use case table says which codec applies; when the content does not look like
    that kind (or the code is unknown) the first bytes decide. The result re-encodes to
    ``content`` exactly (anything that would not is returned as :class:`Raw`).
    """
    if not content:
        return Raw(content, "empty content")
    sniffed = sniff_kind(content)
    uc = use_case(message_code)
    expected = uc.kind if uc is not None else None
    kind = expected if expected is not None and expected == sniffed else sniffed
    if sniffed is None and expected == PayloadKind.ASN1:
        # Some CS responses and commands are a bare INTEGER, OCTET STRING or NULL
        # (CS03x/CS04x results, CS06 and CS08), which no first byte marks as ASN.1.
        kind = expected
    if kind is None:
        return Raw(content, "content is not DLMS, GBZ or ASN.1 DER")
    try:
        payload: Payload
        if kind == PayloadKind.DLMS:
            from gbcs.payloads.dlms import decode_dlms_exact

            # The reader knows whether the APDU re-encodes exactly: no second pass.
            payload, exact = decode_dlms_exact(content)
            if not exact:
                return Raw(content, f"{kind.value} content not in canonical form; kept raw")
            return payload
        if kind == PayloadKind.GBZ:
            from gbcs.payloads.gbz import decode_gbz

            payload = decode_gbz(content, alert=int(cra) == CRA.ALERT)
        else:
            from gbcs.payloads.asn1 import decode_der

            # A DER tree keeps each identifier whole and each length field's size, so it
            # re-encodes to its input by construction: no second pass to compare.
            return decode_der(content)
        if payload.to_bytes() != content:
            return Raw(content, f"{kind.value} content not in canonical form; kept raw")
        return payload
    except (DecodeError, EncodeError) as exc:
        return Raw(content, f"{kind.value}: {exc}")
