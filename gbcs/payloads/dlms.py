"""DLMS/COSEM payloads of GBCS: Access-Request (``D9``), Access-Response (``DA``) and
Data-Notification (``0F``). Byte-exact both ways.

ESMEs and the CHF speak DLMS inside GBCS. An Access-Request carries a list of request
specifications (get / set / action on a COSEM object: class id, OBIS code, attribute or
method) and a list of data, one per specification; the Access-Response mirrors it with a
list of data and a list of results. Alerts from an ESME are Data-Notifications.

The data values (A-XDR, DLMS Green Book) and the COSEM date-time are
:mod:`gbcs.payloads.axdr`; every name of it is importable from here too.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, ClassVar

from gbcs.errors import DecodeError, EncodeError
from gbcs.payloads._buf import Reader, axdr_length
from gbcs.payloads.axdr import (
    NULL,
    Array,
    BitString,
    Boolean,
    CompactArray,
    CosemDateTime,
    Data,
    DataType,
    DontCare,
    Fixed,
    Integer,
    Null,
    OctetString,
    Structure,
    array,
    boolean,
    decode_data,
    double_long,
    double_long_unsigned,
    enum,
    integer,
    long,
    long64,
    long64_unsigned,
    long_unsigned,
    octet_string,
    read_data,
    structure,
    unsigned,
    visible_string,
)

__all__ = [
    "NULL",
    "RESULT_NAMES",
    "TAG_ACCESS_REQUEST",
    "TAG_ACCESS_RESPONSE",
    "TAG_DATA_NOTIFICATION",
    "AccessKind",
    "AccessRequest",
    "AccessResponse",
    "AccessResult",
    "AccessSpec",
    "Array",
    "BitString",
    "Boolean",
    "CompactArray",
    "CosemDateTime",
    "Data",
    "DataNotification",
    "DataType",
    "DlmsApdu",
    "DontCare",
    "Fixed",
    "Integer",
    "Null",
    "Obis",
    "OctetString",
    "Structure",
    "action",
    "array",
    "boolean",
    "decode_data",
    "decode_dlms",
    "decode_dlms_exact",
    "double_long",
    "double_long_unsigned",
    "enum",
    "get",
    "integer",
    "invoke_id_for",
    "long",
    "long64",
    "long64_unsigned",
    "long_unsigned",
    "octet_string",
    "read_data",
    "set_",
    "structure",
    "unsigned",
    "visible_string",
]

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


# --------------------------------------------------------------------------- the APDUs


class AccessKind(IntEnum):
    """Access-Request-Specification / Access-Response-Specification choices."""

    GET = 1
    SET = 2
    ACTION = 3
    GET_WITH_SELECTION = 4
    SET_WITH_SELECTION = 5


_ACCESS_KINDS: dict[int, AccessKind] = {int(k): k for k in AccessKind}
_SERVICES: dict[int, str] = {k: k.name.lower().replace("_", "-") for k in AccessKind}
_RESULT_SERVICES: dict[int, str] = {k: k.name.lower() for k in AccessKind}
"""By tag and kind: a dict lookup costs a fraction of an enum call or ``.name``."""


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
            "service": _SERVICES[self.kind],
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
        kind = _ACCESS_KINDS.get(tag)
        if kind is None:
            raise DecodeError(f"unknown access request specification 0x{tag:02x}", start)
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
            "service": _RESULT_SERVICES[self.kind],
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
        return cls.read(Reader(data))

    @classmethod
    def read(cls, r: Reader) -> AccessRequest:
        """The APDU spanning all of ``r``."""
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
        return cls.read(Reader(data))

    @classmethod
    def read(cls, r: Reader) -> AccessResponse:
        """The APDU spanning all of ``r``."""
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
        return cls.read(Reader(data))

    @classmethod
    def read(cls, r: Reader) -> DataNotification:
        """The APDU spanning all of ``r``."""
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
    return decode_dlms_exact(data)[0]


def decode_dlms_exact(data: bytes) -> tuple[DlmsApdu, bool]:
    """:func:`decode_dlms`, and whether the APDU's ``to_bytes()`` gives ``data`` back.

    The decoder takes any form of an A-XDR length and the encoder writes the minimal one;
    everything else it reads (fixed-width integers, booleans 00 / FF, tags, the OPTIONAL
    flag, a compact array's type description kept as its bytes) is written back as read. So
    the APDU re-encodes exactly when every length it read was minimal, which the reader
    tracks - no second pass to encode and compare."""
    if not data:
        raise DecodeError("empty DLMS payload", 0)
    r = Reader(data)
    tag = data[0]
    apdu: DlmsApdu
    if tag == TAG_ACCESS_REQUEST:
        apdu = AccessRequest.read(r)
    elif tag == TAG_ACCESS_RESPONSE:
        apdu = AccessResponse.read(r)
    elif tag == TAG_DATA_NOTIFICATION:
        apdu = DataNotification.read(r)
    else:
        raise DecodeError(f"not a DLMS APDU tag: 0x{tag:02x}", 0)
    return apdu, r.minimal


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
