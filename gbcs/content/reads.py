"""The DLMS read use cases beyond ECS17b: what a read asks for, as GBCS's use-case tables list
it, in two command shapes, the generic responses that carry the answer, and the period
(:class:`Span`) every log read shares (the GBZ reads are :mod:`gbcs.content.reads_gbz`).

* :class:`ProtectedRead` - the IC 30 (data protection) ``get_protected_attributes`` action of
  the sensitive ESME reads (TOU registers, prepayment values, billing, daily and profile logs):
  the objects to read (a profile's entries restricted by date-time range where the use case
  reads a log) and the parties the response is encrypted for.
* :class:`DlmsRead` - plain DLMS GETs of a fixed object list, a profile restricted by a range
  of seconds since 2000-01-01 (the GB-specific UTC clock object ``0-0:94.44.100.255``) where
  the use case reads a log.

The object lists are tables keyed by message code (:data:`PROTECTED_READS`,
:data:`DLMS_READS`), so adding a read is adding a row.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass

from gbcs.content._common import (
    Outcome,
    _check_exact,
    _counter_of,
    _items,
    _octets,
    _parse_request,
    _request,
    _sequence,
    register,
)
from gbcs.content.reading import (
    ImportRegistersResponse,
    _parse_protection,
    _protection_parameters,
)
from gbcs.errors import DecodeError, EncodeError
from gbcs.payloads import asn1, dlms
from gbcs.payloads.dlms import (
    NULL,
    AccessKind,
    AccessResponse,
    AccessResult,
    AccessSpec,
    CosemDateTime,
    Data,
    Obis,
)

EPOCH_2000 = _dt.datetime(2000, 1, 1, tzinfo=_dt.UTC)
"""The origin of the GB-specific UTC clock (seconds since 2000-01-01 UTC; ZigBee UTCTime too)."""
LAST_SECOND = 0xFFFF_FFFE
"""The latest time a 32-bit UTC field carries (0xFFFFFFFF means "not specified")."""
UTC_SECONDS = bytes.fromhex("00005e2c64ff")
"""0-0:94.44.100.255 (class 1, attribute 2): the restricting object of a range read."""


@dataclass(frozen=True, slots=True)
class Span:
    """The period a log read asks for: from ``start`` to ``end`` (UTC, inclusive)."""

    start: _dt.datetime
    end: _dt.datetime

    def seconds(self) -> tuple[int, int]:
        """Both ends in seconds since 2000-01-01 UTC; an end beyond what 32 bits hold (the
        DCC's templates ask up to the year 3000) is the last second they hold."""
        return utc_seconds(self.start), min(utc_seconds(self.end), LAST_SECOND)


def utc_seconds(when: _dt.datetime) -> int:
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.UTC)
    return int((when - EPOCH_2000).total_seconds())


def from_utc_seconds(value: int) -> _dt.datetime:
    return EPOCH_2000 + _dt.timedelta(seconds=value)


def _cosem(when: _dt.datetime) -> bytes:
    return CosemDateTime.from_datetime(when).to_bytes()


def _cosem_time(raw: bytes, what: str) -> _dt.datetime:
    when = CosemDateTime.from_bytes(raw).to_datetime()
    if when is None:
        raise DecodeError(f"{what}: date-time not fully specified")
    return when if when.tzinfo is not None else when.replace(tzinfo=_dt.UTC)


# =========================================================================== protected reads


@dataclass(frozen=True, slots=True)
class ProtectedObject:
    """One object a protected read asks for (a profile's buffer where ``ranged``)."""

    class_id: int
    obis: bytes
    attribute: int = 2


@dataclass(frozen=True, slots=True)
class ProtectedReadKind:
    method_obis: str
    """The IC 30 data-protection object the action is on."""
    objects: tuple[ProtectedObject, ...]
    ranged: bool


def _profile(obis: str) -> ProtectedObject:
    return ProtectedObject(7, bytes.fromhex(obis))


def _register(obis: str) -> ProtectedObject:
    return ProtectedObject(1, bytes.fromhex(obis))


PROTECTED_READS: dict[int, ProtectedReadKind] = {
    0x0029: ProtectedReadKind("0-0:43.2.9.255", (_register("00005e2c2201"),), False),  # ECS17d
    0x002A: ProtectedReadKind("0-0:43.2.10.255", (_register("00005e2c2202"),), False),  # ECS17e
    0x002D: ProtectedReadKind("0-0:43.2.1.255", (_register("00005e2c221e"),), False),  # ECS19
    0x0030: ProtectedReadKind(  # ECS20c: billing calendar log, both elements
        "0-0:43.2.2.255", (_profile("0000620100ff"), _profile("0000620101ff")), True
    ),
    0x002F: ProtectedReadKind("0-0:43.2.3.255", (_profile("0000620102ff"),), True),  # ECS20b
    0x0033: ProtectedReadKind("0-0:43.2.5.255", (_profile("0000620109ff"),), True),  # ECS21a
    0x0034: ProtectedReadKind("0-0:43.2.6.255", (_profile("0000620108ff"),), True),  # ECS21b
    0x0037: ProtectedReadKind("0-0:43.2.7.255", (_profile("0000630100ff"),), True),  # ECS22b
    0x0060: ProtectedReadKind("0-0:43.2.4.255", (_profile("0000630103ff"),), True),  # ECS66
}
"""Message code -> what its ``get_protected_attributes`` reads (GBCS use-case tables)."""


@dataclass(frozen=True, slots=True)
class ProtectedRead:
    """A sensitive ESME read: IC 30 ``get_protected_attributes`` of the use case's objects
    (restricted to ``span`` for a log), the response encrypted for ``requester``."""

    message_code: int
    counter: int
    requester: bytes
    device: bytes
    span: Span | None = None

    def kind(self) -> ProtectedReadKind:
        return PROTECTED_READS[self.message_code]

    def specs(self) -> tuple[AccessSpec, ...]:
        return (dlms.action(30, self.kind().method_obis, 1),)

    def kinds(self) -> tuple[AccessKind, ...]:
        return (AccessKind.ACTION,)

    def _access(self) -> Data:
        if not self.kind().ranged:
            return dlms.structure(dlms.enum(0), NULL)
        if self.span is None:
            raise EncodeError("this read takes a date-time range")
        return dlms.structure(
            dlms.enum(1),
            dlms.structure(
                dlms.octet_string(_cosem(self.span.start)), dlms.octet_string(_cosem(self.span.end))
            ),
        )

    def encode(self) -> bytes:
        kind = self.kind()
        if kind.ranged != (self.span is not None):
            raise EncodeError("a range goes with the log reads only")
        access = self._access()
        objects = dlms.array(
            *(
                dlms.structure(
                    dlms.long_unsigned(o.class_id),
                    dlms.octet_string(o.obis),
                    dlms.integer(o.attribute),
                    dlms.long_unsigned(0),
                    access,
                )
                for o in kind.objects
            )
        )
        protection = dlms.array(_protection_parameters(self.counter, self.requester, self.device))
        return _request(self.counter, self.specs(), [dlms.structure(objects, protection)])

    @classmethod
    def decoder(cls, message_code: int) -> Callable[[bytes], ProtectedRead]:
        def decode(content: bytes) -> ProtectedRead:
            kind = PROTECTED_READS[message_code]
            low, (value,) = _parse_request(content, (dlms.action(30, kind.method_obis, 1),))
            objects, protection = _items(value, "get_protected_attributes request", 2)
            first = _items(_items(objects, "objects")[0], "object", 5)
            span = None
            if kind.ranged:
                _selector, bounds = _items(first[4], "access selection", 2)
                start, end = _items(bounds, "range", 2)
                span = Span(
                    _cosem_time(_octets(start, "from"), "from"),
                    _cosem_time(_octets(end, "to"), "to"),
                )
            (params,) = _items(protection, "protection parameters list", 1)
            counter, requester, device = _parse_protection(params)
            if counter & 0xFF_FFFF != low:
                raise DecodeError("transaction id and invoke id disagree")
            found = cls(message_code, counter, requester, device, span)
            _check_exact(found, content)
            return found

        return decode


ProtectedResponse = ImportRegistersResponse
"""The answer to a protected read: the protection parameters and the encrypted data (the
plaintext is the DLMS data of the objects read, in their order)."""


# =========================================================================== DLMS reads


@dataclass(frozen=True, slots=True)
class Get:
    """One attribute a DLMS read GETs; a ``ranged`` one is a profile's buffer restricted to
    the read's period."""

    class_id: int
    obis: str
    attribute: int = 2
    ranged: bool = False


def _gets(class_id: int, obis: str, *attributes: int) -> tuple[Get, ...]:
    return tuple(Get(class_id, obis, a) for a in attributes)


_LOG = 7  # profile generic


def _network_data(phase: int) -> tuple[Get, ...]:
    """A phase's RMS voltage counters (under, over: value and scaler) and its average RMS
    voltage profile (the period's entries, its capture period)."""
    return (
        *_gets(3, f"1-0:{phase}.32.0.4", 2, 3),
        *_gets(3, f"1-0:{phase}.36.0.4", 2, 3),
        Get(_LOG, f"1-0:{phase}.24.0.255", ranged=True),
        Get(_LOG, f"1-0:{phase}.24.0.255", 4),
    )


DLMS_READS: dict[int, tuple[Get, ...]] = {
    0x0028: (Get(1, "0-0:94.44.34.20"),),  # ECS17c active power import
    0x0059: (Get(1, "0-0:0.2.1.255"),),  # ECS52 firmware version (served by reading.py)
    0x003A: (  # ECS24 tariff (primary element)
        *_gets(3, "0-0:94.44.1.7", 2, 3),
        *_gets(20, "0-0:13.0.0.255", 3, 4, 5),
        Get(11, "0-0:11.0.0.255"),
        *(Get(21, f"0-0:16.0.{n}.255") for n in range(11, 19)),
        Get(9000, "0-0:94.44.2.0"),
        Get(113, "0-0:19.20.4.255", 5),
        Get(113, "0-0:19.20.0.255", 5),
    ),
    0x00BD: (  # ECS24b tariff (secondary element)
        Get(113, "0-0:19.20.5.255", 5),
        *_gets(3, "0-0:94.44.1.8", 2, 3),
        Get(11, "0-0:11.0.1.255"),
        *_gets(20, "0-0:13.0.1.255", 3, 4, 5),
    ),
    0x002C: (  # ECS18b maximum demand import
        Get(1, "0-0:94.44.5.0"),
        Get(1, "0-0:94.44.5.1"),
        *_gets(4, "1-0:1.6.0.255", 2, 3, 5),
        *_gets(4, "1-0:1.6.1.255", 2, 3, 5),
        Get(10, "0-0:12.0.0.255"),
    ),
    0x002B: (Get(1, "0-0:94.44.5.2"), *_gets(4, "1-0:2.6.0.255", 2, 3, 5)),  # ECS18a
    0x003B: (  # ECS26a prepayment configuration
        Get(113, "0-0:19.20.1.255", 5),
        Get(11, "0-0:11.0.2.255"),
        Get(113, "0-0:19.20.1.255", 8),
        Get(113, "0-0:19.20.1.255", 5),
        Get(113, "0-0:19.20.2.255", 5),
        Get(113, "0-0:19.20.2.255", 8),
        Get(113, "0-0:19.20.2.255", 5),
        Get(113, "0-0:19.20.3.255", 13),
        Get(9000, "0-0:94.44.2.10"),
        Get(21, "0-0:16.0.1.255"),
        Get(9000, "0-0:94.44.2.20"),
        *_gets(111, "0-0:19.0.0.255", 16, 18, 19),
        *_gets(112, "0-0:19.10.1.255", 9, 10),
        Get(10, "0-0:12.0.1.255"),
        Get(111, "0-0:19.0.0.255", 11),
    ),
    0x0042: (  # ECS27 load limit data
        Get(9000, "0-0:94.44.0.3"),
        *_gets(3, "0-0:94.44.42.255", 2, 3),
        *_gets(71, "0-0:17.0.0.255", 4, 6, 7),
    ),
    0x0069: (Get(112, "0-0:19.10.0.255"),),  # ECS82 meter balance
    0x003C: (  # ECS26b voltage configuration
        *(g for n in range(1, 5) for g in _gets(71, f"0-0:17.0.{n}.255", 4, 6)),
        Get(1, "1-0:32.35.0.4"),
        Get(1, "1-0:32.31.0.4"),
    ),
    0x00C6: (  # ECS26k voltage configuration, polyphase
        *(g for n in range(1, 5) for g in _gets(71, f"0-0:17.0.{n}.255", 4, 6)),
        Get(1, "1-0:32.35.0.4"),
        Get(1, "1-0:32.31.0.4"),
        Get(1, "1-0:52.31.0.4"),
        Get(1, "1-0:52.35.0.4"),
        Get(1, "1-0:72.31.0.4"),
        Get(1, "1-0:72.35.0.4"),
    ),
    0x003D: (Get(1, "0-0:94.44.0.0"), Get(1, "0-0:94.44.0.2"), Get(1, "0-0:94.44.0.1")),  # 26c
    0x003E: (Get(22, "0-0:15.0.0.255", 4),),  # ECS26d billing calendar
    0x00D9: (Get(22, "0-0:15.0.0.255", 4),),  # ECS26l billing calendar
    0x0092: (Get(1, "0-0:96.1.1.255"), Get(1, "0-0:96.1.4.255"), Get(1, "0-0:96.1.6.255")),
    0x00FA: (Get(1, "0-0:96.1.4.255"), Get(1, "0-0:96.1.6.255")),  # ECS26n
    0x0040: (Get(21, "0-0:16.0.0.255"),),  # ECS26f power thresholds
    0x004E: (Get(1, "0-0:94.44.34.11"), Get(1, "1-0:0.0.2.255")),  # ECS40 MPAN
    0x0038: (Get(_LOG, "0-0:99.1.2.255", ranged=True),),  # ECS22c reactive import profile
    0x0036: (Get(_LOG, "0-0:99.1.1.255", ranged=True),),  # ECS22a export profile
    0x0048: (Get(_LOG, "0-0:99.98.0.255", ranged=True),),  # ECS35a event log
    0x0049: (Get(_LOG, "0-0:99.98.1.255", ranged=True),),  # ECS35b security log
    0x0093: (Get(_LOG, "0-0:99.98.0.255", ranged=True),),  # ECS35c hub event log
    0x00FD: (Get(_LOG, "0-17:99.98.2.255", ranged=True),),  # ECS35g ALCS event log
    0x005E: (  # ECS61c boost button details
        Get(1, "0-0:94.44.7.255"),
        Get(_LOG, "0-0:99.98.20.255", ranged=True),
        *(Get(1, f"0-0:94.44.6.{n}") for n in range(1, 6)),
    ),
    0x00BB: (  # ECS61a HC ALCS / ALCS data: labels, types, special days, calendar, states
        *(Get(1, f"0-0:94.44.0.{n}") for n in range(11, 16)),
        *(Get(1, f"0-0:94.44.0.{n}") for n in range(21, 26)),
        Get(11, "0-0:11.0.3.255"),
        Get(10, "0-0:12.0.2.255"),
        *(Get(70, f"0-{n}:96.3.10.255") for n in range(1, 6)),
    ),
    0x011C: (  # ECS61d auxiliary controller configuration
        *(Get(1, f"0-0:94.44.0.{n}") for n in range(11, 16)),
        Get(11, "0-0:11.0.3.255"),
        Get(10, "0-0:12.0.2.255"),
    ),
    0x010C: (Get(1, "0-0:94.44.10.0"),),  # DBCH03 sub GHz configuration
    0x010B: (Get(_LOG, "0-0:94.44.10.3", ranged=True),),  # DBCH02 sub GHz channel log
    0x0026: (*_gets(3, "1-0:2.8.0.255", 2, 3), *_gets(3, "1-0:4.8.0.255", 2, 3)),  # ECS17a
    0x0039: _network_data(32),  # ECS23 network data
    # ECS23b, polyphase: ECS23's objects for each phase (L1, L2, L3: 32, 52, 72), those
    # ECS29b configures - this project's reading, no reference command being shared.
    0x00BC: (*_network_data(32), *_network_data(52), *_network_data(72)),
    0x0052: (Get(70, "0-0:96.3.10.255", 3),),  # ECS45 load switch (disconnect control) state
    0x002E: (Get(_LOG, "0-0:98.1.4.255", ranged=True),),  # ECS20a debt payments log
    0x00C9: (Get(_LOG, "0-0:98.1.5.255", ranged=True),),  # ECS20d prepayment credits log
    0x0035: (Get(_LOG, "0-0:98.1.10.255", ranged=True),),  # ECS21c export daily read log
    0x00BE: (Get(111, "0-0:19.0.0.255"),),  # ECS26j payment mode
    0x011D: tuple(Get(1, f"0-0:94.44.0.{n}") for n in (21, 22, 23, 24, 25, 31, 32, 33, 34, 35)),
    0x010A: (Get(1, "0-0:94.44.10.2"),),  # DBCH01 sub GHz channel
    0x00F9: (  # ECS26m identity
        Get(1, "0-0:96.1.2.255"),
        Get(1, "0-0:96.1.4.255"),
        Get(1, "0-0:96.1.6.255"),
        Get(1, "0-0:94.44.0.4"),
    ),
    0x00EE: tuple(Get(1, f"0-30:97.98.{n}.255") for n in (15, 16, 17, 18)),  # ECS25r1
    0x00EF: (Get(1, "0-33:97.98.15.255"), Get(1, "0-33:97.98.18.255")),  # ECS25r2
    0x0094: (Get(_LOG, "0-0:99.98.1.255", ranged=True),),  # ECS35d hub security log
    0x00B9: (Get(_LOG, "0-0:99.98.4.255", ranged=True),),  # ECS35e power event log
    0x0004: (Get(104, "0-0:30.3.0.255", 4),),  # CCS05/CCS04 CHF device log
    0x010F: (Get(104, "0-0:30.3.0.255", 4),),  # CCS06 CHF device log, HAN check
}
"""Message code -> the attributes its DLMS read GETs, in order (GBCS use-case tables)."""


def _range_parameters(span: Span) -> Data:
    start, end = span.seconds()
    return dlms.structure(
        dlms.structure(
            dlms.long_unsigned(1),
            dlms.octet_string(UTC_SECONDS),
            dlms.integer(2),
            dlms.long_unsigned(0),
        ),
        dlms.double_long_unsigned(start),
        dlms.double_long_unsigned(end),
        dlms.array(),
    )


@dataclass(frozen=True, slots=True)
class DlmsRead:
    """A DLMS read of the use case's attributes; its profiles restricted to ``span``."""

    message_code: int
    counter: int
    span: Span | None = None

    def gets(self) -> tuple[Get, ...]:
        return DLMS_READS[self.message_code]

    def specs(self) -> tuple[AccessSpec, ...]:
        out = []
        for g in self.gets():
            obis = Obis.parse(g.obis)
            if not g.ranged:
                out.append(AccessSpec(AccessKind.GET, g.class_id, obis, g.attribute))
                continue
            if self.span is None:
                raise EncodeError("this read takes a date-time range")
            out.append(
                AccessSpec(
                    AccessKind.GET_WITH_SELECTION,
                    g.class_id,
                    obis,
                    g.attribute,
                    1,
                    _range_parameters(self.span),
                )
            )
        return tuple(out)

    def kinds(self) -> tuple[AccessKind, ...]:
        return (AccessKind.GET,) * len(self.gets())

    def encode(self) -> bytes:
        if self.span is not None and not any(g.ranged for g in self.gets()):
            raise EncodeError("a range goes with the log reads only")
        specs = self.specs()
        return _request(self.counter, specs, [NULL] * len(specs))

    @classmethod
    def decoder(cls, message_code: int) -> Callable[[bytes], DlmsRead]:
        def decode(content: bytes) -> DlmsRead:
            apdu = dlms.decode_dlms(content)
            if not isinstance(apdu, dlms.AccessRequest):
                raise DecodeError("expected a DLMS Access-Request")
            span = None
            for spec in apdu.specs:
                if spec.kind == AccessKind.GET_WITH_SELECTION and spec.parameters is not None:
                    fields = _items(spec.parameters, "range", 4)
                    span = Span(
                        from_utc_seconds(_int_of(fields[1])), from_utc_seconds(_int_of(fields[2]))
                    )
                    break
            found = cls(message_code, _counter_of(apdu.invoke_id), span)
            _check_exact(found, content)
            return found

        return decode


def _int_of(value: Data) -> int:
    if not isinstance(value, dlms.Integer):
        raise DecodeError("expected an integer")
    return value.value


@dataclass(frozen=True, slots=True)
class DlmsReadResponse:
    """The answer to a :class:`DlmsRead`: one data value and result per attribute asked."""

    counter: int
    data: tuple[Data, ...]
    results: tuple[AccessResult, ...]

    @classmethod
    def for_command(cls, command: DlmsRead, data: tuple[Data, ...]) -> DlmsReadResponse:
        if len(data) != len(command.gets()):
            raise EncodeError(f"{len(data)} values for {len(command.gets())} attributes")
        results = tuple(AccessResult(AccessKind.GET, 0) for _ in data)
        return cls(command.counter, data, results)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def encode(self) -> bytes:
        return AccessResponse(dlms.invoke_id_for(self.counter), self.data, self.results).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> DlmsReadResponse:
        apdu = dlms.decode_dlms(content)
        if not isinstance(apdu, AccessResponse) or apdu.specs is not None:
            raise DecodeError("expected a DLMS Access-Response")
        if all(d == NULL for d in apdu.data):
            raise DecodeError("a read answer carries data (null-data throughout is an outcome)")
        found = cls(_counter_of(apdu.invoke_id), apdu.data, apdu.results)
        _check_exact(found, content)
        return found


# =========================================================================== ASN.1 reads

ASN1_READS: dict[int, str] = {
    0x0013: "CS07",  # read a device's device log (ESME, GSME)
    0x0129: "CS08",  # read the PPMID / HCALCS firmware version
}
"""Message code -> the ASN.1 reads whose command is an ASN.1 NULL (the use case says all)."""

_ASN1_NULL = b"\x05\x00"


@dataclass(frozen=True, slots=True)
class AsnRead:
    """A read whose command content is an ASN.1 NULL."""

    message_code: int

    def encode(self) -> bytes:
        return _ASN1_NULL

    @classmethod
    def decoder(cls, message_code: int) -> Callable[[bytes], AsnRead]:
        def decode(content: bytes) -> AsnRead:
            found = cls(message_code)
            _check_exact(found, content)
            return found

        return decode


@dataclass(frozen=True, slots=True)
class AsnReadResponse:
    """The answer to an :class:`AsnRead`: a DER SEQUENCE whose first INTEGER is the status
    (0 success) - CS08: version and status; CS07: status and the device log."""

    der: asn1.Der

    @property
    def ok(self) -> bool:
        for child in self.der.children or ():
            if child.tag == asn1.INTEGER:
                return child.int_value() == 0
        return False

    def encode(self) -> bytes:
        return self.der.to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> AsnReadResponse:
        found = cls(_sequence(content))
        if not any(c.tag == asn1.INTEGER for c in found.der.children or ()):
            raise DecodeError("an ASN.1 read answer carries its status")
        _check_exact(found, content)
        return found


# =========================================================================== credentials

CREDENTIAL_READS = {0x0008: "CS02a", 0x011B: "CS02f"}
"""Message code -> the reads of the remote parties' credentials a device holds."""
ACB_ROLE = 4
KEY_AGREEMENT = asn1.Der(asn1.BIT_STRING, b"\x03\x08")
"""keyUsage with only keyAgreement set (the DCC's references carry it so)."""


@dataclass(frozen=True, slots=True)
class CredentialsRead:
    """CS02a / CS02f Provide Security Credential Details: the roles (GBCS remote party role
    numbers) whose credentials the device is to list, asked with the ACB's key-agreement
    credential."""

    message_code: int
    roles: tuple[int, ...]

    def encode(self) -> bytes:
        if not self.roles:
            raise EncodeError("at least one remote party role")
        asker = asn1.der_sequence(asn1.der_integer(ACB_ROLE), KEY_AGREEMENT)
        roles = asn1.der_sequence(*(asn1.der_integer(r) for r in self.roles))
        return asn1.der_sequence(asker, roles).to_bytes()

    @classmethod
    def decoder(cls, message_code: int) -> Callable[[bytes], CredentialsRead]:
        def decode(content: bytes) -> CredentialsRead:
            node = _sequence(content, 2)
            assert node.children is not None
            roles = node.children[1].children or ()
            found = cls(message_code, tuple(r.int_value() for r in roles))
            _check_exact(found, content)
            return found

        return decode


@dataclass(frozen=True, slots=True)
class CredentialsResponse:
    """The answer to a :class:`CredentialsRead`: per role, its number, a status (ENUMERATED,
    0 success) and the credentials; the read failed when any status is not 0."""

    der: asn1.Der

    @property
    def ok(self) -> bool:
        return all(_status(entry) == 0 for entry in self.der.children or ())

    def encode(self) -> bytes:
        return self.der.to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> CredentialsResponse:
        found = cls(_sequence(content))
        for entry in found.der.children or ():
            if entry.tag != asn1.SEQUENCE or _status(entry) is None:
                raise DecodeError("each role's entry carries its number and status")
        _check_exact(found, content)
        return found


def _status(entry: asn1.Der) -> int | None:
    for child in entry.children or ():
        if child.tag == asn1.ENUMERATED:
            return child.int_value()
    return None


# =========================================================================== registry

Command = ProtectedRead | DlmsRead | AsnRead | CredentialsRead
Response = DlmsReadResponse | AsnReadResponse | CredentialsResponse

for _code in CREDENTIAL_READS:
    register(_code, CredentialsRead.decoder(_code), CredentialsResponse.decode)
for _code in ASN1_READS:
    register(_code, AsnRead.decoder(_code), AsnReadResponse.decode)
for _code in PROTECTED_READS:
    register(_code, ProtectedRead.decoder(_code), ProtectedResponse.decode, Outcome.decode)
for _code in DLMS_READS:
    if _code != 0x0059:  # ECS52 has its own classes
        register(_code, DlmsRead.decoder(_code), DlmsReadResponse.decode, Outcome.decode)

__all__ = [
    "ASN1_READS",
    "CREDENTIAL_READS",
    "DLMS_READS",
    "PROTECTED_READS",
    "AsnRead",
    "AsnReadResponse",
    "CredentialsRead",
    "CredentialsResponse",
    "DlmsRead",
    "DlmsReadResponse",
    "ProtectedRead",
    "ProtectedResponse",
    "Span",
    "from_utc_seconds",
    "utc_seconds",
]
