"""DLMS/COSEM payloads of GBCS: Access-Request (``D9``), Access-Response (``DA``) and
Data-Notification (``0F``), with their A-XDR data. Byte-exact both ways.

ESMEs and the CHF speak DLMS inside GBCS. An Access-Request carries a list of request
specifications (get / set / action on a COSEM object: class id, OBIS code, attribute or
method) and a list of data, one per specification; the Access-Response mirrors it with a
list of data and a list of results. Alerts from an ESME are Data-Notifications.

Encoding follows the DLMS Green Book (A-XDR): a data value is a tag byte then its value;
arrays, structures and strings carry a length (one byte below 0x80, else ``0x8N`` then N
bytes). The decoder accepts any length form; the encoder writes the minimal one, and
:func:`gbcs.payloads.decode_content` falls back to a raw payload when the two differ, so
what it returns always re-encodes to the input.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, ClassVar

from gbcs.errors import DecodeError, EncodeError
from gbcs.payloads._buf import Reader, axdr_length

TAG_ACCESS_REQUEST = 0xD9
TAG_ACCESS_RESPONSE = 0xDA
TAG_DATA_NOTIFICATION = 0x0F


def invoke_id_for(counter: int) -> int:
    """The long-invoke-id-and-priority GBCS puts in a DLMS APDU for an originator counter.

    The real messages carry ``0x20`` in the top byte and the counter's low three bytes
    below it (``0x200003E8`` for counter 1000); a response echoes the command's.
    """
    return 0x2000_0000 | (counter & 0x00FF_FFFF)


# --------------------------------------------------------------------------- OBIS codes


@dataclass(frozen=True, slots=True)
class Obis:
    """A COSEM logical name: six bytes, written ``A-B:C.D.E.F``."""

    raw: bytes

    def __post_init__(self) -> None:
        if len(self.raw) != 6:
            raise EncodeError(f"an OBIS code is 6 bytes, not {len(self.raw)}: {self.raw.hex()}")

    @classmethod
    def parse(cls, text: str) -> Obis:
        """``"0-0:10.0.106.255"`` -> Obis; ValueError naming the text if malformed."""
        try:
            ab, cdef = text.split(":")
            a, b = ab.split("-")
            c, d, e, f = cdef.split(".")
            values = [int(x) for x in (a, b, c, d, e, f)]
            return cls(bytes(values))
        except (ValueError, EncodeError) as exc:
            raise ValueError(f"not an OBIS code: {text!r}") from exc

    def __str__(self) -> str:
        a, b, c, d, e, f = self.raw
        return f"{a}-{b}:{c}.{d}.{e}.{f}"


# --------------------------------------------------------------------------- A-XDR data


class DataType(IntEnum):
    """A-XDR data tags (DLMS Green Book, ``Data`` CHOICE)."""

    NULL = 0x00
    ARRAY = 0x01
    STRUCTURE = 0x02
    BOOLEAN = 0x03
    BIT_STRING = 0x04
    DOUBLE_LONG = 0x05
    DOUBLE_LONG_UNSIGNED = 0x06
    OCTET_STRING = 0x09
    VISIBLE_STRING = 0x0A
    UTF8_STRING = 0x0C
    BCD = 0x0D
    INTEGER = 0x0F
    LONG = 0x10
    UNSIGNED = 0x11
    LONG_UNSIGNED = 0x12
    COMPACT_ARRAY = 0x13
    LONG64 = 0x14
    LONG64_UNSIGNED = 0x15
    ENUM = 0x16
    FLOAT32 = 0x17
    FLOAT64 = 0x18
    DATE_TIME = 0x19
    DATE = 0x1A
    TIME = 0x1B
    DONT_CARE = 0xFF


_INT_WIDTHS: dict[DataType, tuple[int, bool]] = {
    DataType.INTEGER: (1, True),
    DataType.LONG: (2, True),
    DataType.DOUBLE_LONG: (4, True),
    DataType.LONG64: (8, True),
    DataType.UNSIGNED: (1, False),
    DataType.LONG_UNSIGNED: (2, False),
    DataType.DOUBLE_LONG_UNSIGNED: (4, False),
    DataType.LONG64_UNSIGNED: (8, False),
    DataType.ENUM: (1, False),
    DataType.BCD: (1, False),
}

_FIXED_WIDTHS: dict[DataType, int] = {
    DataType.FLOAT32: 4,
    DataType.FLOAT64: 8,
    DataType.DATE_TIME: 12,
    DataType.DATE: 5,
    DataType.TIME: 4,
}

_STRING_TYPES = (DataType.OCTET_STRING, DataType.VISIBLE_STRING, DataType.UTF8_STRING)


_TYPE_NAMES: dict[int, str] = {t: t.name.lower().replace("_", "-") for t in DataType}
_BY_TAG: dict[int, DataType] = {int(t): t for t in DataType}
"""Lookups in the decoder's hot path (an enum call or ``.name`` costs several times more)."""


def _type_name(t: DataType) -> str:
    return _TYPE_NAMES[t]


@dataclass(frozen=True, slots=True)
class Null:
    """``null-data`` (tag 00)."""

    type: ClassVar[DataType] = DataType.NULL

    def to_bytes(self) -> bytes:
        return b"\x00"

    def as_tree(self) -> dict[str, Any]:
        return {"type": "null-data"}


@dataclass(frozen=True, slots=True)
class DontCare:
    """``dont-care`` (tag FF)."""

    type: ClassVar[DataType] = DataType.DONT_CARE

    def to_bytes(self) -> bytes:
        return b"\xff"

    def as_tree(self) -> dict[str, Any]:
        return {"type": "dont-care"}


@dataclass(frozen=True, slots=True)
class Boolean:
    """``boolean`` (tag 03): encoded FF for true, 00 for false."""

    value: bool
    type: ClassVar[DataType] = DataType.BOOLEAN

    def to_bytes(self) -> bytes:
        return bytes([0x03, 0xFF if self.value else 0x00])

    def as_tree(self) -> dict[str, Any]:
        return {"type": "boolean", "value": self.value}


@dataclass(frozen=True, slots=True)
class Integer:
    """Any A-XDR integer: integer, long, double-long, long64 and their unsigned forms,
    enum and bcd. ``type`` says which (and so the width and signedness)."""

    type: DataType
    value: int

    def __post_init__(self) -> None:
        if self.type not in _INT_WIDTHS:
            raise EncodeError(f"{self.type!r} is not an integer type")
        width, signed = _INT_WIDTHS[self.type]
        lo, hi = (
            (-(1 << (8 * width - 1)), (1 << (8 * width - 1)) - 1)
            if signed
            else (
                0,
                (1 << (8 * width)) - 1,
            )
        )
        if not lo <= self.value <= hi:
            raise EncodeError(f"{self.value} does not fit a DLMS {_type_name(self.type)}")

    def to_bytes(self) -> bytes:
        width, signed = _INT_WIDTHS[self.type]
        return bytes([self.type]) + self.value.to_bytes(width, "big", signed=signed)

    def as_tree(self) -> dict[str, Any]:
        return {"type": _type_name(self.type), "value": self.value}


@dataclass(frozen=True, slots=True)
class OctetString:
    """``octet-string`` (09), ``visible-string`` (0A) or ``utf8-string`` (0C)."""

    value: bytes
    type: DataType = DataType.OCTET_STRING

    def __post_init__(self) -> None:
        if self.type not in _STRING_TYPES:
            raise EncodeError(f"{self.type!r} is not a string type")

    def to_bytes(self) -> bytes:
        return bytes([self.type]) + axdr_length(len(self.value)) + self.value

    def as_tree(self) -> dict[str, Any]:
        tree: dict[str, Any] = {"type": _type_name(self.type), "hex": self.value.hex()}
        if self.type != DataType.OCTET_STRING or _printable(self.value):
            tree["text"] = self.value.decode("utf-8", errors="replace")
        if self.type == DataType.OCTET_STRING and len(self.value) == 12:
            stamp = CosemDateTime.from_bytes(self.value)
            if stamp.plausible():
                tree["date_time"] = str(stamp)
        return tree


@dataclass(frozen=True, slots=True)
class BitString:
    """``bit-string`` (04): ``bits`` significant bits in ``data``."""

    bits: int
    data: bytes
    type: ClassVar[DataType] = DataType.BIT_STRING

    def __post_init__(self) -> None:
        if len(self.data) != (self.bits + 7) // 8:
            raise EncodeError(
                f"a bit-string of {self.bits} bits takes {(self.bits + 7) // 8} bytes"
            )

    def to_bytes(self) -> bytes:
        return b"\x04" + axdr_length(self.bits) + self.data

    def as_tree(self) -> dict[str, Any]:
        return {"type": "bit-string", "bits": self.bits, "hex": self.data.hex()}


@dataclass(frozen=True, slots=True)
class Fixed:
    """Fixed-width values kept as their bytes: float32, float64, date-time, date, time."""

    type: DataType
    raw: bytes

    def __post_init__(self) -> None:
        width = _FIXED_WIDTHS.get(self.type)
        if width is None:
            raise EncodeError(f"{self.type!r} is not a fixed-width type")
        if len(self.raw) != width:
            raise EncodeError(f"a DLMS {_type_name(self.type)} is {width} bytes")

    def to_bytes(self) -> bytes:
        return bytes([self.type]) + self.raw

    def as_tree(self) -> dict[str, Any]:
        tree: dict[str, Any] = {"type": _type_name(self.type), "hex": self.raw.hex()}
        if self.type == DataType.FLOAT32:
            tree["value"] = struct.unpack(">f", self.raw)[0]
        elif self.type == DataType.FLOAT64:
            tree["value"] = struct.unpack(">d", self.raw)[0]
        elif self.type == DataType.DATE_TIME:
            tree["date_time"] = str(CosemDateTime.from_bytes(self.raw))
        return tree


@dataclass(frozen=True, slots=True)
class Array:
    """``array`` (01) of data."""

    items: tuple[Data, ...] = ()
    type: ClassVar[DataType] = DataType.ARRAY

    def to_bytes(self) -> bytes:
        return b"\x01" + axdr_length(len(self.items)) + b"".join(i.to_bytes() for i in self.items)

    def as_tree(self) -> dict[str, Any]:
        return {"type": "array", "items": [i.as_tree() for i in self.items]}


@dataclass(frozen=True, slots=True)
class Structure:
    """``structure`` (02) of data."""

    items: tuple[Data, ...] = ()
    type: ClassVar[DataType] = DataType.STRUCTURE

    def to_bytes(self) -> bytes:
        return b"\x02" + axdr_length(len(self.items)) + b"".join(i.to_bytes() for i in self.items)

    def as_tree(self) -> dict[str, Any]:
        return {"type": "structure", "items": [i.as_tree() for i in self.items]}


@dataclass(frozen=True, slots=True)
class CompactArray:
    """``compact-array`` (13): a type description, then the values without their tags (GBCS
    profile, log and billing reads). Kept as its bytes; :mod:`gbcs.payloads.compact` reads
    the values for the tree."""

    description: bytes
    contents: bytes
    type: ClassVar[DataType] = DataType.COMPACT_ARRAY

    def to_bytes(self) -> bytes:
        return b"\x13" + self.description + axdr_length(len(self.contents)) + self.contents

    def as_tree(self) -> dict[str, Any]:
        # Imported here: compact reads each value with this module's read_data.
        from gbcs.payloads.compact import decode_tree

        try:
            tree: dict[str, Any] = decode_tree(self.to_bytes())
        except DecodeError as exc:
            return {
                "type": "compact-array",
                "description": self.description.hex(),
                "contents": self.contents.hex(),
                "error": str(exc),
            }
        return tree


Data = (
    Null
    | DontCare
    | Boolean
    | Integer
    | OctetString
    | BitString
    | Fixed
    | Array
    | Structure
    | CompactArray
)
"""Any A-XDR data value."""

NULL = Null()


_PRINTABLE = re.compile(rb"[\x20-\x7e]+")


def _printable(value: bytes) -> bool:
    return _PRINTABLE.fullmatch(value) is not None


# Small constructors, so content code reads like the specification tables.
def integer(v: int) -> Integer:
    return Integer(DataType.INTEGER, v)


def unsigned(v: int) -> Integer:
    return Integer(DataType.UNSIGNED, v)


def long(v: int) -> Integer:
    return Integer(DataType.LONG, v)


def long_unsigned(v: int) -> Integer:
    return Integer(DataType.LONG_UNSIGNED, v)


def double_long(v: int) -> Integer:
    return Integer(DataType.DOUBLE_LONG, v)


def double_long_unsigned(v: int) -> Integer:
    return Integer(DataType.DOUBLE_LONG_UNSIGNED, v)


def long64(v: int) -> Integer:
    return Integer(DataType.LONG64, v)


def long64_unsigned(v: int) -> Integer:
    return Integer(DataType.LONG64_UNSIGNED, v)


def enum(v: int) -> Integer:
    return Integer(DataType.ENUM, v)


def octet_string(v: bytes) -> OctetString:
    return OctetString(v)


def visible_string(v: bytes) -> OctetString:
    return OctetString(v, DataType.VISIBLE_STRING)


def boolean(v: bool) -> Boolean:
    return Boolean(v)


def structure(*items: Data) -> Structure:
    return Structure(tuple(items))


def array(*items: Data) -> Array:
    return Array(tuple(items))


_MAX_DEPTH = 32


def _skip_description(r: Reader, depth: int) -> None:
    """Step over a compact-array type description (a simple tag, ``01`` count(2) and one
    description, or ``02`` count and that many descriptions)."""
    if depth > _MAX_DEPTH:
        raise DecodeError("compact-array type description nested too deeply", r.pos)
    start = r.pos
    tag = r.u8("type description")
    if tag == DataType.ARRAY:
        r.u16("compact-array element count")
        _skip_description(r, depth + 1)
    elif tag == DataType.STRUCTURE:
        n = r.axdr_length("structure description count")
        if n > r.remaining:
            raise DecodeError(f"structure description of {n} types in {r.remaining} bytes", start)
        for _ in range(n):
            _skip_description(r, depth + 1)
    elif tag == DataType.COMPACT_ARRAY or tag not in DataType._value2member_map_:
        raise DecodeError(f"unknown type 0x{tag:02x} in a compact-array description", start)


def read_data(r: Reader, depth: int = 0) -> Data:
    """Decode one A-XDR data value at the reader's position."""
    if depth > _MAX_DEPTH:
        raise DecodeError("A-XDR data nested too deeply", r.pos)
    start = r.pos
    tag = r.u8("data tag")
    t = _BY_TAG.get(tag)
    if t is None:
        raise DecodeError(f"unknown A-XDR data tag 0x{tag:02x}", start)
    if t == DataType.NULL:
        return NULL
    if t == DataType.DONT_CARE:
        return DontCare()
    if t == DataType.BOOLEAN:
        b = r.u8("boolean")
        if b not in (0x00, 0xFF):
            raise DecodeError(f"boolean 0x{b:02x} is neither 00 nor FF", start)
        return Boolean(b == 0xFF)
    if t in _INT_WIDTHS:
        width, signed = _INT_WIDTHS[t]
        return Integer(t, int.from_bytes(r.take(width, _type_name(t)), "big", signed=signed))
    if t in _STRING_TYPES:
        n = r.axdr_length("string length")
        return OctetString(r.take(n, _type_name(t)), t)
    if t == DataType.BIT_STRING:
        bits = r.axdr_length("bit-string length")
        return BitString(bits, r.take((bits + 7) // 8, "bit-string"))
    if t in _FIXED_WIDTHS:
        return Fixed(t, r.take(_FIXED_WIDTHS[t], _type_name(t)))
    if t in (DataType.ARRAY, DataType.STRUCTURE):
        n = r.axdr_length("element count")
        if n > r.remaining:  # every element takes at least one byte
            raise DecodeError(f"{_type_name(t)} of {n} elements in {r.remaining} bytes", start)
        items = tuple(read_data(r, depth + 1) for _ in range(n))
        return Array(items) if t == DataType.ARRAY else Structure(items)
    if t == DataType.COMPACT_ARRAY:
        described = r.pos
        _skip_description(r, depth + 1)
        description = r.data[described : r.pos]
        n = r.axdr_length("compact-array contents length")
        return CompactArray(description, r.take(n, "compact-array contents"))
    raise DecodeError(f"A-XDR data tag 0x{tag:02x} is not supported", start)  # pragma: no cover


def decode_data(data: bytes) -> Data:
    """Decode exactly one A-XDR data value spanning all of ``data``."""
    r = Reader(data)
    value = read_data(r)
    r.expect_end("A-XDR data")
    return value


# --------------------------------------------------------------------------- COSEM date-time


@dataclass(frozen=True, slots=True)
class CosemDateTime:
    """The 12-byte COSEM date-time (Blue Book 4.1.6.1), every field as sent.

    ``0xFF`` (``0xFFFF`` for the year) means *not specified*; deviation ``0x8000`` means
    *not specified* too. GBCS sends UTC with deviation ``0x8000``.
    """

    year: int
    month: int
    day: int
    weekday: int
    hour: int
    minute: int
    second: int
    hundredths: int
    deviation: int
    status: int

    UNSPECIFIED: ClassVar[bytes] = bytes.fromhex("ffffffffffffffffff8000ff")

    @classmethod
    def from_bytes(cls, raw: bytes) -> CosemDateTime:
        if len(raw) != 12:
            raise DecodeError(f"a COSEM date-time is 12 bytes, not {len(raw)}")
        return cls(
            int.from_bytes(raw[0:2], "big"),
            raw[2],
            raw[3],
            raw[4],
            raw[5],
            raw[6],
            raw[7],
            raw[8],
            int.from_bytes(raw[9:11], "big"),
            raw[11],
        )

    @classmethod
    def from_datetime(
        cls, when: _dt.datetime, *, weekday: bool = False, status: int = 0xFF
    ) -> CosemDateTime:
        """A UTC date-time as GBCS sends it (day of week 0xFF, deviation not specified,
        status 0xFF, unless asked); naive datetimes are taken as UTC."""
        if when.tzinfo is not None:
            when = when.astimezone(_dt.UTC).replace(tzinfo=None)
        return cls(
            when.year,
            when.month,
            when.day,
            when.isoweekday() if weekday else 0xFF,
            when.hour,
            when.minute,
            when.second,
            when.microsecond // 10_000,
            0x8000,
            status,
        )

    def to_bytes(self) -> bytes:
        return (
            self.year.to_bytes(2, "big")
            + bytes([self.month, self.day, self.weekday, self.hour, self.minute])
            + bytes([self.second, self.hundredths])
            + self.deviation.to_bytes(2, "big")
            + bytes([self.status])
        )

    def plausible(self) -> bool:
        """True when every specified field is in range (used to label octet-strings)."""
        return (
            (self.year == 0xFFFF or 1900 <= self.year <= 2200)
            and (self.month in (0xFF, 0xFD, 0xFE) or 1 <= self.month <= 12)
            and (self.day in (0xFF, 0xFD, 0xFE) or 1 <= self.day <= 31)
            and (self.weekday == 0xFF or 1 <= self.weekday <= 7)
            and (self.hour == 0xFF or self.hour < 24)
            and (self.minute == 0xFF or self.minute < 60)
            and (self.second == 0xFF or self.second < 60)
            and (self.hundredths == 0xFF or self.hundredths < 100)
        )

    def to_datetime(self) -> _dt.datetime | None:
        """The UTC instant, or None when a field is not specified or out of range."""
        fields = (self.month, self.day, self.hour, self.minute, self.second)
        if self.year == 0xFFFF or 0xFF in fields:
            return None
        try:
            return _dt.datetime(
                self.year,
                self.month,
                self.day,
                self.hour,
                self.minute,
                self.second,
                0 if self.hundredths == 0xFF else self.hundredths * 10_000,
                tzinfo=_dt.UTC,
            )
        except ValueError:
            return None

    def __str__(self) -> str:
        when = self.to_datetime()
        if when is not None:
            return when.strftime("%Y-%m-%dT%H:%M:%S") + "Z"
        if self.to_bytes() == self.UNSPECIFIED:
            return "not specified"
        return "unspecified fields: " + self.to_bytes().hex()


# --------------------------------------------------------------------------- the APDUs


class AccessKind(IntEnum):
    """Access-Request-Specification / Access-Response-Specification choices."""

    GET = 1
    SET = 2
    ACTION = 3
    GET_WITH_SELECTION = 4
    SET_WITH_SELECTION = 5


@dataclass(frozen=True, slots=True)
class AccessSpec:
    """One request specification: a get / set / action on a COSEM object.

    ``index`` is the attribute id (get, set) or the method id (action). The with-selection
    forms carry ``selector`` and ``parameters`` (the selective access descriptor).
    """

    kind: AccessKind
    class_id: int
    obis: Obis
    index: int
    selector: int | None = None
    parameters: Data | None = None

    def __post_init__(self) -> None:
        selective = self.kind in (AccessKind.GET_WITH_SELECTION, AccessKind.SET_WITH_SELECTION)
        if selective != (self.selector is not None and self.parameters is not None):
            raise EncodeError(f"{self.kind.name} takes a selector and parameters iff selective")
        if not 0 <= self.class_id <= 0xFFFF or not 0 <= self.index <= 0xFF:
            raise EncodeError(f"class id {self.class_id} / index {self.index} out of range")

    def to_bytes(self) -> bytes:
        out = (
            bytes([self.kind])
            + self.class_id.to_bytes(2, "big")
            + self.obis.raw
            + bytes([self.index])
        )
        if self.selector is not None and self.parameters is not None:
            out += bytes([self.selector]) + self.parameters.to_bytes()
        return out

    def as_tree(self) -> dict[str, Any]:
        tree: dict[str, Any] = {
            "service": self.kind.name.lower().replace("_", "-"),
            "class_id": self.class_id,
            "obis": str(self.obis),
            ("method" if self.kind == AccessKind.ACTION else "attribute"): self.index,
        }
        if self.selector is not None and self.parameters is not None:
            tree["selector"] = self.selector
            tree["parameters"] = self.parameters.as_tree()
        return tree

    @classmethod
    def read(cls, r: Reader) -> AccessSpec:
        start = r.pos
        tag = r.u8("request specification")
        try:
            kind = AccessKind(tag)
        except ValueError:
            raise DecodeError(f"unknown access request specification 0x{tag:02x}", start) from None
        class_id = r.u16("class id")
        obis = Obis(r.take(6, "OBIS code"))
        index = r.u8("attribute or method id")
        if kind in (AccessKind.GET_WITH_SELECTION, AccessKind.SET_WITH_SELECTION):
            selector = r.u8("access selector")
            return cls(kind, class_id, obis, index, selector, read_data(r))
        return cls(kind, class_id, obis, index)


@functools.lru_cache(maxsize=1024, typed=True)
def _spec(kind: AccessKind, class_id: int, obis: str, index: int) -> AccessSpec:
    # Specifications are immutable: the use cases ask for the same few again and again,
    # so the parsed OBIS code and the checked spec are made once (errors are not cached).
    return AccessSpec(kind, class_id, Obis.parse(obis), index)


def get(class_id: int, obis: str, attribute: int) -> AccessSpec:
    return _spec(AccessKind.GET, class_id, obis, attribute)


def set_(class_id: int, obis: str, attribute: int) -> AccessSpec:
    return _spec(AccessKind.SET, class_id, obis, attribute)


def action(class_id: int, obis: str, method: int) -> AccessSpec:
    return _spec(AccessKind.ACTION, class_id, obis, method)


@dataclass(frozen=True, slots=True)
class AccessResult:
    """One Access-Response-Specification: the service and its result code
    (Data-Access-Result for get and set, Action-Result for action; 0 is success)."""

    kind: AccessKind
    result: int = 0

    def to_bytes(self) -> bytes:
        return bytes([self.kind, self.result])

    @property
    def ok(self) -> bool:
        return self.result == 0

    def as_tree(self) -> dict[str, Any]:
        return {
            "service": self.kind.name.lower(),
            "result": self.result,
            "meaning": RESULT_NAMES.get(self.result, "unknown"),
        }


RESULT_NAMES: dict[int, str] = {
    0: "success",
    1: "hardware-fault",
    2: "temporary-failure",
    3: "read-write-denied",
    4: "object-undefined",
    9: "object-class-inconsistent",
    11: "object-unavailable",
    12: "type-unmatched",
    13: "scope-of-access-violated",
    14: "data-block-unavailable",
    15: "long-get-aborted",
    16: "no-long-get-in-progress",
    17: "long-set-aborted",
    18: "no-long-set-in-progress",
    19: "data-block-number-invalid",
    250: "other-reason",
}
"""Data-Access-Result names (Action-Result shares 0-4, 9, 11-13 and 250)."""


def _read_invoke_and_time(r: Reader) -> tuple[int, bytes]:
    invoke_id = r.u32("long-invoke-id-and-priority")
    n = r.axdr_length("date-time length")
    return invoke_id, r.take(n, "date-time")


def _time_tree(date_time: bytes) -> Any:
    if not date_time:
        return None
    if len(date_time) == 12:
        return str(CosemDateTime.from_bytes(date_time))
    return date_time.hex()


@dataclass(frozen=True, slots=True)
class AccessRequest:
    """``D9`` Access-Request: a list of specifications and one data value for each."""

    invoke_id: int
    specs: tuple[AccessSpec, ...]
    data: tuple[Data, ...]
    date_time: bytes = b""

    kind: ClassVar[str] = "dlms-access-request"

    def to_bytes(self) -> bytes:
        return (
            bytes([TAG_ACCESS_REQUEST])
            + self.invoke_id.to_bytes(4, "big")
            + axdr_length(len(self.date_time))
            + self.date_time
            + axdr_length(len(self.specs))
            + b"".join(s.to_bytes() for s in self.specs)
            + axdr_length(len(self.data))
            + b"".join(d.to_bytes() for d in self.data)
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> AccessRequest:
        r = Reader(data)
        if r.u8("APDU tag") != TAG_ACCESS_REQUEST:
            raise DecodeError("not a DLMS Access-Request (D9)", 0)
        invoke_id, date_time = _read_invoke_and_time(r)
        specs = tuple(AccessSpec.read(r) for _ in range(_count(r, "specifications")))
        values = tuple(read_data(r) for _ in range(_count(r, "data")))
        r.expect_end("Access-Request")
        return cls(invoke_id, specs, values, date_time)

    def as_tree(self) -> dict[str, Any]:
        return {
            "apdu": "access-request",
            "invoke_id": f"0x{self.invoke_id:08x}",
            "date_time": _time_tree(self.date_time),
            "requests": [
                {**s.as_tree(), "data": d.as_tree()}
                for s, d in zip(self.specs, _padded(self.data, len(self.specs)), strict=True)
            ],
            **(
                {"extra_data": [d.as_tree() for d in self.data[len(self.specs) :]]}
                if len(self.data) > len(self.specs)
                else {}
            ),
        }


@dataclass(frozen=True, slots=True)
class AccessResponse:
    """``DA`` Access-Response: a list of data and a list of results (and, rarely, the
    request specifications echoed back)."""

    invoke_id: int
    data: tuple[Data, ...]
    results: tuple[AccessResult, ...]
    date_time: bytes = b""
    specs: tuple[AccessSpec, ...] | None = None

    kind: ClassVar[str] = "dlms-access-response"

    def to_bytes(self) -> bytes:
        out = (
            bytes([TAG_ACCESS_RESPONSE])
            + self.invoke_id.to_bytes(4, "big")
            + axdr_length(len(self.date_time))
            + self.date_time
        )
        if self.specs is None:
            out += b"\x00"
        else:
            out += (
                b"\x01" + axdr_length(len(self.specs)) + b"".join(s.to_bytes() for s in self.specs)
            )
        return (
            out
            + axdr_length(len(self.data))
            + b"".join(d.to_bytes() for d in self.data)
            + axdr_length(len(self.results))
            + b"".join(x.to_bytes() for x in self.results)
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> AccessResponse:
        r = Reader(data)
        if r.u8("APDU tag") != TAG_ACCESS_RESPONSE:
            raise DecodeError("not a DLMS Access-Response (DA)", 0)
        invoke_id, date_time = _read_invoke_and_time(r)
        present = r.u8("access-request-specification presence")
        specs: tuple[AccessSpec, ...] | None
        if present == 0:
            specs = None
        elif present == 1:
            specs = tuple(AccessSpec.read(r) for _ in range(_count(r, "specifications")))
        else:
            raise DecodeError(f"bad OPTIONAL flag 0x{present:02x}", r.pos - 1)
        values = tuple(read_data(r) for _ in range(_count(r, "data")))
        results = []
        for _ in range(_count(r, "results", width=2)):
            start = r.pos
            tag = r.u8("response specification")
            if tag not in (1, 2, 3):
                raise DecodeError(f"unknown access response specification 0x{tag:02x}", start)
            results.append(AccessResult(AccessKind(tag), r.u8("result")))
        r.expect_end("Access-Response")
        return cls(invoke_id, values, tuple(results), date_time, specs)

    @property
    def ok(self) -> bool:
        return all(x.ok for x in self.results)

    def as_tree(self) -> dict[str, Any]:
        tree: dict[str, Any] = {
            "apdu": "access-response",
            "invoke_id": f"0x{self.invoke_id:08x}",
            "date_time": _time_tree(self.date_time),
        }
        if self.specs is not None:
            tree["requests"] = [s.as_tree() for s in self.specs]
        tree["responses"] = [
            {**x.as_tree(), "data": d.as_tree()}
            for x, d in zip(self.results, _padded(self.data, len(self.results)), strict=True)
        ]
        if len(self.data) > len(self.results):
            tree["extra_data"] = [d.as_tree() for d in self.data[len(self.results) :]]
        return tree


@dataclass(frozen=True, slots=True)
class DataNotification:
    """``0F`` Data-Notification (DLMS alerts): one data value, usually a structure."""

    invoke_id: int
    body: Data
    date_time: bytes = b""

    kind: ClassVar[str] = "dlms-data-notification"

    def to_bytes(self) -> bytes:
        return (
            bytes([TAG_DATA_NOTIFICATION])
            + self.invoke_id.to_bytes(4, "big")
            + axdr_length(len(self.date_time))
            + self.date_time
            + self.body.to_bytes()
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> DataNotification:
        r = Reader(data)
        if r.u8("APDU tag") != TAG_DATA_NOTIFICATION:
            raise DecodeError("not a DLMS Data-Notification (0F)", 0)
        invoke_id, date_time = _read_invoke_and_time(r)
        body = read_data(r)
        r.expect_end("Data-Notification")
        return cls(invoke_id, body, date_time)

    def as_tree(self) -> dict[str, Any]:
        return {
            "apdu": "data-notification",
            "invoke_id": f"0x{self.invoke_id:08x}",
            "date_time": _time_tree(self.date_time),
            "body": self.body.as_tree(),
        }


DlmsApdu = AccessRequest | AccessResponse | DataNotification


def decode_dlms(data: bytes) -> DlmsApdu:
    """Decode a DLMS APDU by its tag; raises :class:`DecodeError` on anything else."""
    if not data:
        raise DecodeError("empty DLMS payload", 0)
    tag = data[0]
    if tag == TAG_ACCESS_REQUEST:
        return AccessRequest.from_bytes(data)
    if tag == TAG_ACCESS_RESPONSE:
        return AccessResponse.from_bytes(data)
    if tag == TAG_DATA_NOTIFICATION:
        return DataNotification.from_bytes(data)
    raise DecodeError(f"not a DLMS APDU tag: 0x{tag:02x}", 0)


def _count(r: Reader, what: str, width: int = 1) -> int:
    start = r.pos
    n = r.axdr_length(f"{what} count")
    if n * width > r.remaining:
        raise DecodeError(f"{n} {what} cannot fit in {r.remaining} bytes", start)
    return n


def _padded(values: Sequence[Data], n: int) -> list[Data | _Missing]:
    out: list[Data | _Missing] = list(values[:n])
    out.extend(_MISSING for _ in range(n - len(out)))
    return out


@dataclass(frozen=True, slots=True)
class _Missing:
    """Stands in for a data value the APDU did not carry (trees only)."""

    placeholder: bool = field(default=True)

    def as_tree(self) -> dict[str, Any]:
        return {"type": "absent"}


_MISSING = _Missing()
