"""A-XDR data of DLMS/COSEM (DLMS Green Book): the ``Data`` CHOICE values GBCS carries in
its DLMS payloads, and the 12-byte COSEM date-time. Byte-exact both ways.

A data value is a tag byte then its value; arrays, structures and strings carry a length
(one byte below 0x80, else ``0x8N`` then N bytes). The decoder accepts any length form; the
encoder writes the minimal one, and :func:`gbcs.payloads.decode_content` falls back to a raw
payload when the two differ, so what it returns always re-encodes to the input.

The APDUs that carry these values are :mod:`gbcs.payloads.dlms` (which re-exports every
name here).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any, ClassVar

from gbcs.errors import DecodeError, EncodeError
from gbcs.payloads._buf import Reader, axdr_length

if TYPE_CHECKING:  # imported where used: decoding a message rarely needs it
    import datetime as _dt


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

_INT_BOUNDS: dict[DataType, tuple[int, int]] = {
    t: ((-(1 << (8 * w - 1)), (1 << (8 * w - 1)) - 1) if signed else (0, (1 << (8 * w)) - 1))
    for t, (w, signed) in _INT_WIDTHS.items()
}
"""The range of each integer type, made once: every decoded or built integer is checked."""

_STRING_TYPES = (DataType.OCTET_STRING, DataType.VISIBLE_STRING, DataType.UTF8_STRING)


_TYPE_NAMES: dict[int, str] = {t: t.name.lower().replace("_", "-") for t in DataType}
_BY_TAG: dict[int, DataType] = {int(t): t for t in DataType}
_INT_TAGS: dict[int, tuple[DataType, int, bool]] = {
    int(t): (t, width, signed) for t, (width, signed) in _INT_WIDTHS.items()
}
_STRING_TAGS: dict[int, DataType] = {int(t): t for t in _STRING_TYPES}
_BYTE = tuple(bytes([b]) for b in range(0x100))
"""Each byte value as bytes: a tag, or a length below 0x80 (its minimal A-XDR form)."""
"""Lookups in the decoder's hot path (an enum call or ``.name`` costs several times more)."""


def _type_name(t: DataType) -> str:
    return _TYPE_NAMES[t]


def integer_type(tag: int) -> tuple[DataType, int, bool] | None:
    """(type, width in bytes, signed) of an integer type's tag; None for any other tag."""
    return _INT_TAGS.get(tag)


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
        bounds = _INT_BOUNDS.get(self.type)
        if bounds is None:
            raise EncodeError(f"{self.type!r} is not an integer type")
        if not bounds[0] <= self.value <= bounds[1]:
            raise EncodeError(f"{self.value} does not fit a DLMS {_type_name(self.type)}")

    def to_bytes(self) -> bytes:
        width, signed = _INT_WIDTHS[self.type]
        return _BYTE[self.type] + self.value.to_bytes(width, "big", signed=signed)

    def as_tree(self) -> dict[str, Any]:
        return {"type": _TYPE_NAMES[self.type], "value": self.value}


@dataclass(frozen=True, slots=True)
class OctetString:
    """``octet-string`` (09), ``visible-string`` (0A) or ``utf8-string`` (0C)."""

    value: bytes
    type: DataType = DataType.OCTET_STRING

    def __post_init__(self) -> None:
        if self.type not in _STRING_TYPES:
            raise EncodeError(f"{self.type!r} is not a string type")

    def to_bytes(self) -> bytes:
        n = len(self.value)
        return _BYTE[self.type] + (_BYTE[n] if n < 0x80 else axdr_length(n)) + self.value

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
        n = len(self.items)
        head = b"\x01" + (_BYTE[n] if n < 0x80 else axdr_length(n))
        return head + b"".join([i.to_bytes() for i in self.items])

    def as_tree(self) -> dict[str, Any]:
        return {"type": "array", "items": [i.as_tree() for i in self.items]}


@dataclass(frozen=True, slots=True)
class Structure:
    """``structure`` (02) of data."""

    items: tuple[Data, ...] = ()
    type: ClassVar[DataType] = DataType.STRUCTURE

    def to_bytes(self) -> bytes:
        n = len(self.items)
        head = b"\x02" + (_BYTE[n] if n < 0x80 else axdr_length(n))
        return head + b"".join([i.to_bytes() for i in self.items])

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
_TRUE = Boolean(True)
_FALSE = Boolean(False)


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
    # The values GBCS content is made of (integers, strings and structures or arrays of them,
    # with one-byte lengths) are read here without the reader's per-field calls; anything
    # else, and any value that would not fit, takes _read_data, which says what is wrong.
    data = r.data
    pos = r.pos
    end = r.end
    if pos < end and depth <= _MAX_DEPTH:
        tag = data[pos]
        integer = _INT_TAGS.get(tag)
        if integer is not None:
            t, width, signed = integer
            stop = pos + 1 + width
            if stop <= end:
                r.pos = stop
                return Integer(t, int.from_bytes(data[pos + 1 : stop], "big", signed=signed))
        elif tag == 0x00:
            r.pos = pos + 1
            return NULL
        elif pos + 1 < end and data[pos + 1] < 0x80:
            n = data[pos + 1]
            if tag == 0x02 or tag == 0x01:  # structure, array
                if n <= end - pos - 2:  # every element takes at least one byte
                    r.pos = pos + 2
                    items = tuple([read_data(r, depth + 1) for _ in range(n)])
                    return Structure(items) if tag == 0x02 else Array(items)
            elif tag in _STRING_TAGS:
                stop = pos + 2 + n
                if stop <= end:
                    r.pos = stop
                    return OctetString(data[pos + 2 : stop], _STRING_TAGS[tag])
            elif tag == 0x03:  # boolean: n is its value byte
                if n == 0x00:
                    r.pos = pos + 2
                    return _FALSE
            elif tag == 0x04:  # bit-string: n is its number of bits
                stop = pos + 2 + (n + 7) // 8
                if stop <= end:
                    r.pos = stop
                    return BitString(n, data[pos + 2 : stop])
        elif tag == 0x03 and pos + 1 < end and data[pos + 1] == 0xFF:
            r.pos = pos + 2
            return _TRUE
    return _read_data(r, depth)


def _read_data(r: Reader, depth: int) -> Data:
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
        minimal = r.minimal
        _skip_description(r, depth + 1)
        r.minimal = minimal  # the description is kept as its bytes, whatever its lengths' form
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
            import datetime as _dt

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
        import datetime as _dt

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
