"""ASN.1 DER payloads of GBCS (the CS use cases: CS02x security credentials, CS03x/CS04x
joins, CS06 activate firmware, CS07 join details, GCS28 set clock, the future-dated and
firmware alerts). Byte-exact both ways.

The generic layer is a DER tree (:class:`Der`): identifier, then either primitive bytes
or nested children. Lengths must be definite; GBCS devices write some in a longer form
than DER's minimal one (``30 82 00 83``), so an element keeps the size of its length field
(``length_size``) and re-encodes byte for byte. Builders for the few universal types GBCS
uses are below (INTEGER, OCTET STRING, ENUMERATED, GeneralizedTime, SEQUENCE, BOOLEAN, BIT STRING).
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from gbcs.errors import DecodeError, EncodeError
from gbcs.payloads._buf import Reader, axdr_length

# Universal tags (identifier octets).
BOOLEAN = 0x01
INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
NULL = 0x05
OID = 0x06
ENUMERATED = 0x0A
UTF8_STRING = 0x0C
SEQUENCE = 0x30
SET = 0x31
PRINTABLE_STRING = 0x13
IA5_STRING = 0x16
UTC_TIME = 0x17
GENERALIZED_TIME = 0x18

_TAG_NAMES = {
    BOOLEAN: "BOOLEAN",
    INTEGER: "INTEGER",
    BIT_STRING: "BIT STRING",
    OCTET_STRING: "OCTET STRING",
    NULL: "NULL",
    OID: "OBJECT IDENTIFIER",
    ENUMERATED: "ENUMERATED",
    UTF8_STRING: "UTF8String",
    SEQUENCE: "SEQUENCE",
    SET: "SET",
    PRINTABLE_STRING: "PrintableString",
    IA5_STRING: "IA5String",
    UTC_TIME: "UTCTime",
    GENERALIZED_TIME: "GeneralizedTime",
}

_MAX_DEPTH = 32


@dataclass(frozen=True, slots=True)
class Der:
    """One DER element. ``tag`` is the identifier octets as an integer (one byte for the
    low tag numbers GBCS uses; multi-byte identifiers are kept whole). A constructed
    element (bit 0x20 of the first identifier byte) has ``children``; a primitive one has
    ``value``."""

    tag: int
    value: bytes = b""
    children: tuple[Der, ...] | None = None
    length_size: int | None = None
    """Bytes of the length field when it is longer than the minimal form (``82 00 83`` is
    3); None for the minimal form, which is what builders make."""

    kind: ClassVar[str] = "asn1"

    def __post_init__(self) -> None:
        if self.constructed != (self.children is not None):
            raise EncodeError(f"DER tag 0x{self.tag:x}: children iff constructed")
        if self.children is not None and self.value:
            raise EncodeError("a constructed DER element has children, not a value")
        if self.length_size is not None and not 2 <= self.length_size <= 5:
            raise EncodeError(f"a long-form length field has 2 to 5 bytes, not {self.length_size}")

    @property
    def _tag_bytes(self) -> bytes:
        tag = self.tag
        if tag < 0x100:
            return _ONE_BYTE[tag]
        return tag.to_bytes((tag.bit_length() + 7) // 8, "big")

    @property
    def constructed(self) -> bool:
        tag = self.tag
        first = tag if tag < 0x100 else tag >> (8 * ((tag.bit_length() - 1) // 8))
        return bool(first & 0x20)

    def content_bytes(self) -> bytes:
        if self.children is not None:
            return b"".join(c.to_bytes() for c in self.children)
        return self.value

    def to_bytes(self) -> bytes:
        body = self.content_bytes()
        return self._tag_bytes + _length_field(len(body), self.length_size) + body

    @classmethod
    def from_bytes(cls, data: bytes) -> Der:
        r = Reader(data)
        node = read_der(r)
        r.expect_end("DER element")
        return node

    # Typed views -------------------------------------------------------------------
    def int_value(self) -> int:
        if self.tag not in (INTEGER, ENUMERATED) and self.tag & 0xE0 != 0x80:
            raise DecodeError(f"expected INTEGER, found tag 0x{self.tag:02x}")
        if not self.value:
            raise DecodeError("empty INTEGER")
        return int.from_bytes(self.value, "big", signed=True)

    def time_value(self) -> _dt.datetime:
        text = self.value.decode("ascii", errors="replace")
        # Read by hand: strptime's first call imports and compiles its locale tables, a
        # tenth of a whole `smetsim decode` run over the conformance set.
        pattern = _GENERALIZED if self.tag == GENERALIZED_TIME else _UTC_TIME
        match = pattern.fullmatch(text)
        if match is not None:
            year, month, day, hour, minute, second = (int(part) for part in match.groups())
            if self.tag != GENERALIZED_TIME:
                year += 2000 if year < 50 else 1900  # RFC 5280's UTCTime window
            try:
                return _dt.datetime(year, month, day, hour, minute, second, tzinfo=_dt.UTC)
            except ValueError:
                pass
        raise DecodeError(f"not a GBCS time: {text!r}")

    def child(self, index: int) -> Der:
        if self.children is None or not 0 <= index < len(self.children):
            raise DecodeError(f"DER element has no child {index}")
        return self.children[index]

    def as_tree(self) -> dict[str, Any]:
        name = _TAG_NAMES.get(self.tag)
        if name is None:
            cls_bits = self._tag_bytes[0] & 0xC0
            number = self._tag_bytes[0] & 0x1F
            prefix = {0x80: "[", 0xA0: "[", 0x40: "[APPLICATION ", 0xC0: "[PRIVATE "}.get(
                cls_bits, "[UNIVERSAL "
            )
            name = f"{prefix}{number}]" if len(self._tag_bytes) == 1 else f"tag {self.tag:x}"
        tree: dict[str, Any] = {"tag": name}
        if self.children is not None:
            tree["children"] = [c.as_tree() for c in self.children]
            return tree
        tree["hex"] = self.value.hex()
        try:
            if self.tag in (INTEGER, ENUMERATED):
                tree["value"] = self.int_value()
            elif self.tag in (GENERALIZED_TIME, UTC_TIME):
                tree["time"] = self.time_value().strftime("%Y-%m-%dT%H:%M:%SZ")
            elif self.tag in (UTF8_STRING, PRINTABLE_STRING, IA5_STRING):
                tree["text"] = self.value.decode("utf-8", errors="replace")
            elif self.tag == BOOLEAN and len(self.value) == 1:
                tree["value"] = self.value != b"\x00"
        except DecodeError:
            pass
        return tree


_GENERALIZED = re.compile(r"(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z")
_UTC_TIME = re.compile(r"(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z")
_ONE_BYTE = tuple(bytes([b]) for b in range(0x100))


def _minimal_length_size(n: int) -> int:
    """Bytes of the minimal definite length field of ``n``."""
    return 1 if n < 0x80 else 1 + (n.bit_length() + 7) // 8


def _length_field(n: int, size: int | None) -> bytes:
    minimal = axdr_length(n)
    if size is None or size == len(minimal):
        return minimal
    if size < len(minimal):
        raise EncodeError(f"length {n} does not fit a {size}-byte length field")
    return bytes([0x80 | (size - 1)]) + n.to_bytes(size - 1, "big")


def read_der(r: Reader, depth: int = 0) -> Der:
    # An element with a one-byte identifier and a length of up to two bytes (a certificate
    # is made of them) is read here without the reader's per-field calls; anything else, and
    # any element that would not fit, takes _read_der, which says what is wrong.
    data = r.data
    pos = r.pos
    end = r.end
    if depth <= _MAX_DEPTH and pos + 1 < end:
        first = data[pos]
        length_byte = data[pos + 1]
        if first & 0x1F != 0x1F:
            size: int | None = None
            if length_byte < 0x80:
                n = length_byte
                body = pos + 2
            elif length_byte == 0x81 and pos + 2 < end:
                n = data[pos + 2]
                body = pos + 3
                size = None if n >= 0x80 else 2
            elif length_byte == 0x82 and pos + 3 < end:
                n = (data[pos + 2] << 8) | data[pos + 3]
                body = pos + 4
                size = None if n >= 0x100 else 3
            else:
                return _read_der(r, depth)
            stop = body + n
            if stop <= end:
                if first & 0x20:
                    sub = Reader(data, body, stop)
                    children = []
                    while sub.pos < stop:
                        children.append(read_der(sub, depth + 1))
                    r.pos = stop
                    return Der(first, children=tuple(children), length_size=size)
                r.pos = stop
                return Der(first, data[body:stop], length_size=size)
    return _read_der(r, depth)


def _read_der(r: Reader, depth: int) -> Der:
    if depth > _MAX_DEPTH:
        raise DecodeError("ASN.1 nested too deeply", r.pos)
    start = r.pos
    first = r.u8("ASN.1 identifier")
    tag = first
    if first & 0x1F == 0x1F:  # high tag number form
        tag_bytes = bytes([first])
        while True:
            b = r.u8("ASN.1 identifier")
            tag_bytes += bytes([b])
            if not b & 0x80:
                break
            if len(tag_bytes) > 4:
                raise DecodeError("ASN.1 identifier too long", start)
        tag = int.from_bytes(tag_bytes, "big")
    length_byte = r.peek()
    if length_byte == 0x80:
        raise DecodeError("indefinite length is not DER", r.pos)
    length_start = r.pos
    n = r.axdr_length("ASN.1 length")
    field = r.pos - length_start
    size = field if field != _minimal_length_size(n) else None
    if first & 0x20:
        if n > r.remaining:
            raise DecodeError(f"ASN.1 element of {n} bytes, {r.remaining} left", start)
        sub = Reader(r.data, r.pos, r.pos + n)
        children = []
        while not sub.at_end():
            children.append(read_der(sub, depth + 1))
        r.pos += n
        return Der(tag, children=tuple(children), length_size=size)
    return Der(tag, r.take(n, "ASN.1 value"), length_size=size)


def decode_der(data: bytes) -> Der:
    """Decode one DER element spanning all of ``data``."""
    return Der.from_bytes(data)


# --------------------------------------------------------------------------- builders


def der_integer(value: int, tag: int = INTEGER) -> Der:
    """INTEGER (or ``tag``, e.g. an implicit context tag) in minimal two's complement."""
    size = max(1, (value.bit_length() + 8) // 8)
    return Der(tag, value.to_bytes(size, "big", signed=True))


def der_enumerated(value: int) -> Der:
    return der_integer(value, ENUMERATED)


def der_octet_string(value: bytes, tag: int = OCTET_STRING) -> Der:
    return Der(tag, value)


def der_boolean(value: bool) -> Der:
    return Der(BOOLEAN, b"\xff" if value else b"\x00")


def der_generalized_time(when: _dt.datetime) -> Der:
    """GeneralizedTime ``YYYYMMDDHHMMSSZ`` (UTC, whole seconds), as GBCS writes it."""
    if when.tzinfo is not None:
        when = when.astimezone(_dt.UTC)
    return Der(GENERALIZED_TIME, when.strftime("%Y%m%d%H%M%SZ").encode("ascii"))


def der_sequence(*children: Der, tag: int = SEQUENCE) -> Der:
    return Der(tag, children=tuple(children))
