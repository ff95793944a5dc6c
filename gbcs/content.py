"""Typed content of the GBCS use cases the emulated devices speak: the one code path the
gateway (DUIS -> command content, response content -> facts) and the devices (command
content -> action, action -> response content) share.

Every command, response and alert content here is a frozen dataclass with ``encode() ->
bytes``; :func:`decode_command`, :func:`decode_response` and :func:`decode_alert` turn
content bytes back into them. The shapes are those of the DCC reference test data (RTDS
4.5.0): same DLMS/GBZ/ASN.1 structure, OBIS codes, attributes and ZCL commands, so what
the emulator sends looks like what a real meter sends. A decoder only accepts content in
the exact form its encoder writes (it re-encodes and compares), so decoding then encoding
is always byte-exact; anything else is a :class:`gbcs.errors.DecodeError` (the generic
:func:`gbcs.payloads.decode_content` still shows it).

DLMS contents carry ``counter``: the originator counter, of which only the low 24 bits
travel (in the DLMS long-invoke-id ``0x20nnnnnn``); a decoded ``counter`` is those bits.
A response to a DLMS command must echo its invoke id, so build it ``for_command(cmd)``.

Encrypted responses (ECS17b, GCS13a) take an ``encrypt`` callable (plaintext -> ``31``
framing) to build and a ``decrypt`` callable (``31`` framing -> plaintext) to read; the
key lives in :mod:`gbcs.builders` (``Builder.encrypt_payload`` / ``decrypt_payload``),
never here. This module does no I/O and no cryptography.
"""

from __future__ import annotations

import datetime as _dt
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, Protocol

from gbcs.alerts import is_critical_alert
from gbcs.errors import DecodeError, EncodeError
from gbcs.payloads import asn1, dlms, gbz
from gbcs.payloads._buf import Reader, axdr_length
from gbcs.payloads.dlms import (
    NULL,
    AccessKind,
    AccessRequest,
    AccessResponse,
    AccessResult,
    AccessSpec,
    CosemDateTime,
    Data,
    DataNotification,
    Obis,
    OctetString,
    Structure,
)
from gbcs.payloads.gbz import (
    CONTROL_ENCRYPTED,
    CONTROL_LAST,
    AttributeRecord,
    Cluster,
    DefaultResponse,
    EncryptedZcl,
    GbzAlert,
    GbzComponent,
    GbzPayload,
    ReadAttributes,
    ReadAttributesResponse,
    ZclFrame,
    ZclType,
    ZclValue,
)

Encrypt = Callable[[bytes], bytes]
"""plaintext -> ``31 ‖ counter ‖ ciphertext ‖ tag`` (the device's side of the payload key)."""
Decrypt = Callable[[bytes], bytes]
"""``31``-framed blob -> plaintext; raises :class:`DecodeError` when the tag fails."""


# =========================================================================== DLMS helpers


def _request(counter: int, specs: Sequence[AccessSpec], data: Sequence[Data]) -> bytes:
    return AccessRequest(dlms.invoke_id_for(counter), tuple(specs), tuple(data)).to_bytes()


def _counter_of(invoke_id: int) -> int:
    if invoke_id & 0xFF00_0000 != 0x2000_0000:
        raise DecodeError(f"DLMS invoke id 0x{invoke_id:08x} is not of the GBCS form 0x20nnnnnn")
    return invoke_id & 0x00FF_FFFF


def _parse_request(content: bytes, specs: Sequence[AccessSpec]) -> tuple[int, tuple[Data, ...]]:
    """The counter and data of an Access-Request with exactly these specifications."""
    apdu = dlms.decode_dlms(content)
    if not isinstance(apdu, AccessRequest):
        raise DecodeError("expected a DLMS Access-Request")
    if apdu.specs != tuple(specs):
        raise DecodeError("the Access-Request does not address the objects of this use case")
    if len(apdu.data) != len(specs):
        raise DecodeError(f"{len(apdu.data)} data values for {len(specs)} requests")
    return _counter_of(apdu.invoke_id), apdu.data


def _parse_response(content: bytes, kinds: Sequence[AccessKind]) -> AccessResponse:
    apdu = dlms.decode_dlms(content)
    if not isinstance(apdu, AccessResponse):
        raise DecodeError("expected a DLMS Access-Response")
    if tuple(x.kind for x in apdu.results) != tuple(kinds):
        raise DecodeError("the Access-Response does not answer the requests of this use case")
    if len(apdu.data) != len(kinds):
        raise DecodeError(f"{len(apdu.data)} data values for {len(kinds)} results")
    _counter_of(apdu.invoke_id)
    return apdu


def _octets(value: Data, what: str) -> bytes:
    if not isinstance(value, OctetString) or value.type != dlms.DataType.OCTET_STRING:
        raise DecodeError(f"{what}: expected an octet-string")
    return value.value


def _int(value: Data, what: str, *types: dlms.DataType) -> int:
    if not isinstance(value, dlms.Integer) or (types and value.type not in types):
        raise DecodeError(f"{what}: expected {'/'.join(t.name for t in types) or 'an integer'}")
    return value.value


def _items(value: Data, what: str, n: int | None = None) -> tuple[Data, ...]:
    if not isinstance(value, Structure | dlms.Array):
        raise DecodeError(f"{what}: expected a structure or array")
    if n is not None and len(value.items) != n:
        raise DecodeError(f"{what}: expected {n} elements, found {len(value.items)}")
    return value.items


def _stamp(when: _dt.datetime) -> OctetString:
    return dlms.octet_string(CosemDateTime.from_datetime(when).to_bytes())


def _when(value: Data, what: str) -> _dt.datetime:
    raw = _octets(value, what)
    if len(raw) != 12:
        raise DecodeError(f"{what}: a COSEM date-time is 12 bytes")
    when = CosemDateTime.from_bytes(raw).to_datetime()
    if when is None:
        raise DecodeError(f"{what}: date-time not fully specified")
    return when


class _Encodable(Protocol):
    def encode(self) -> bytes: ...


def _check_exact(decoded: _Encodable, content: bytes) -> None:
    if decoded.encode() != content:
        raise DecodeError(
            f"{type(decoded).__name__}: content is not in the form GBCS devices send; kept raw"
        )


class DlmsCommand:
    """Base of the DLMS commands: ``specs()`` lists the objects addressed."""

    __slots__ = ()
    counter: int
    message_code: ClassVar[int]

    def specs(self) -> tuple[AccessSpec, ...]:
        raise NotImplementedError

    def kinds(self) -> tuple[AccessKind, ...]:
        """The response kinds answering :meth:`specs` (with-selection answered as plain)."""
        plain = {
            AccessKind.GET_WITH_SELECTION: AccessKind.GET,
            AccessKind.SET_WITH_SELECTION: AccessKind.SET,
        }
        return tuple(plain.get(s.kind, s.kind) for s in self.specs())


@dataclass(frozen=True, slots=True)
class Outcome:
    """The response to a DLMS command that returns no data: one result per request
    (0 = success; DLMS Data-Access-Result / Action-Result codes otherwise). The data list
    is ``null-data`` throughout, as in every reference response of this shape."""

    counter: int
    results: tuple[AccessResult, ...]

    @classmethod
    def for_command(cls, command: DlmsCommand, result: int | Sequence[int] = 0) -> Outcome:
        kinds = command.kinds()
        codes = [result] * len(kinds) if isinstance(result, int) else list(result)
        if len(codes) != len(kinds):
            raise EncodeError(f"{len(codes)} result codes for {len(kinds)} requests")
        return cls(
            command.counter, tuple(AccessResult(k, c) for k, c in zip(kinds, codes, strict=True))
        )

    @property
    def ok(self) -> bool:
        return all(x.ok for x in self.results)

    def encode(self) -> bytes:
        # The bytes AccessResponse(invoke id, (NULL,) * n, results).to_bytes() writes.
        results = self.results
        n = len(results)
        count = axdr_length(n)
        return b"".join(
            (
                b"\xda",
                dlms.invoke_id_for(self.counter).to_bytes(4, "big"),
                b"\x00\x00",  # no date-time, no specifications
                count,
                b"\x00" * n,
                count,
                *[x.to_bytes() for x in results],
            )
        )

    def _encode_tree(self) -> bytes:
        """The reference encoder (:meth:`encode` writes the same bytes directly)."""
        return AccessResponse(
            dlms.invoke_id_for(self.counter), (NULL,) * len(self.results), self.results
        ).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> Outcome:
        fast = _outcome_fields(content)
        if fast is not None:
            return cls(*fast)
        return cls._decode_tree(content)

    @classmethod
    def _decode_tree(cls, content: bytes) -> Outcome:
        """The reference decoder (the fast path takes exactly what :meth:`encode` writes)."""
        apdu = dlms.decode_dlms(content)
        if not isinstance(apdu, AccessResponse) or apdu.specs is not None:
            raise DecodeError("expected a DLMS Access-Response")
        if any(d != NULL for d in apdu.data) or len(apdu.data) != len(apdu.results):
            raise DecodeError("an outcome carries null-data only")
        return cls(_counter_of(apdu.invoke_id), apdu.results)


_RESULT_BY_BYTES: dict[bytes, AccessResult] = {
    bytes((kind, code)): AccessResult(kind, code)
    for kind in (AccessKind.GET, AccessKind.SET, AccessKind.ACTION)
    for code in range(256)
}
"""Every Access-Response-Specification (immutable, so shared) by its two bytes."""


def _outcome_fields(content: bytes) -> tuple[int, tuple[AccessResult, ...]] | None:
    """(counter, results) when ``content`` is exactly what :meth:`Outcome.encode` writes
    for them (a short list), else None."""
    if content[:2] != b"\xda\x20" or content[5:7] != b"\x00\x00" or len(content) < 9:
        return None
    n = content[7]
    if n >= 0x80 or len(content) != 9 + 3 * n or content[8 + n] != n:
        return None
    if content[8 : 8 + n] != bytes(n):
        return None
    results = []
    for at in range(9 + n, len(content), 2):
        found = _RESULT_BY_BYTES.get(content[at : at + 2])
        if found is None:
            return None
        results.append(found)
    return int.from_bytes(content[2:5], "big"), tuple(results)


def _fixed_request_counter(content: bytes, body: bytes) -> int | None:
    """The counter of a DLMS request whose bytes after the invoke id never vary, when
    ``content`` is exactly that request, else None."""
    if len(content) != 5 + len(body) or content[:2] != b"\xd9\x20" or content[5:] != body:
        return None
    return int.from_bytes(content[2:5], "big")


# =========================================================================== ECS17b


ECS17B_OBJECT = Obis(bytes.fromhex("00005e2c220a"))
"""The GB-specific object ECS17b reads (class 1, attribute 2) through data protection."""
DATA_PROTECTION = "0-0:43.2.8.255"


def _protection_parameters(counter: int, originator: bytes, recipient: bytes) -> Structure:
    """DLMS data-protection parameters as GBCS sends them: encryption with an agreed key
    (C(0e, 2s)), transaction id ``04 ‖ counter``, the two system titles."""
    return dlms.structure(
        dlms.enum(2),
        dlms.structure(
            dlms.octet_string(b"\x04" + counter.to_bytes(8, "big")),
            dlms.octet_string(originator),
            dlms.octet_string(recipient),
            dlms.octet_string(b""),
            dlms.structure(
                dlms.enum(2), dlms.structure(dlms.octet_string(b"\x02"), dlms.octet_string(b""))
            ),
        ),
    )


def _parse_protection(value: Data) -> tuple[int, bytes, bytes]:
    _kind, options = _items(value, "protection parameters", 2)
    fields = _items(options, "protection options", 5)
    transaction = _octets(fields[0], "transaction id")
    if len(transaction) != 9 or transaction[0] != 4:
        raise DecodeError("transaction id is not 04 ‖ counter")
    return (
        int.from_bytes(transaction[1:], "big"),
        _octets(fields[1], "originator system title"),
        _octets(fields[2], "recipient system title"),
    )


@dataclass(frozen=True, slots=True)
class ReadImportRegisters(DlmsCommand):
    """ECS17b Read ESME Energy Registers (Import Energy): IC 30 ``get_protected_attributes``
    asking for the import registers, encrypted for ``requester``."""

    counter: int
    requester: bytes
    device: bytes
    message_code: ClassVar[int] = 0x0027

    def specs(self) -> tuple[AccessSpec, ...]:
        return (dlms.action(30, DATA_PROTECTION, 1),)

    def encode(self) -> bytes:
        fast = _ecs17b_request_bytes(self.counter, self.requester, self.device)
        return self._encode_tree() if fast is None else fast

    def _encode_tree(self) -> bytes:
        """The reference encoder (generic A-XDR tree); :meth:`encode` writes the same bytes
        from a template when the fields allow (tests hold the two to the same output)."""
        objects = dlms.array(
            dlms.structure(
                dlms.long_unsigned(1),
                dlms.octet_string(ECS17B_OBJECT.raw),
                dlms.integer(2),
                dlms.long_unsigned(0),
                dlms.structure(dlms.enum(0), NULL),
            )
        )
        protection = dlms.array(_protection_parameters(self.counter, self.requester, self.device))
        return _request(self.counter, self.specs(), [dlms.structure(objects, protection)])

    @classmethod
    def decode(cls, content: bytes) -> ReadImportRegisters:
        fields = _ecs17b_request_fields(content)
        if fields is not None:
            return cls(*fields)
        return cls._decode_tree(content)

    @classmethod
    def _decode_tree(cls, content: bytes) -> ReadImportRegisters:
        """The reference decoder; :meth:`decode` takes a template fast path for content in
        exactly the form :meth:`encode` writes, and comes here for anything else."""
        low, (value,) = _parse_request(content, (dlms.action(30, DATA_PROTECTION, 1),))
        _, protection = _items(value, "get_protected_attributes request", 2)
        (params,) = _items(protection, "protection parameters list", 1)
        counter, requester, device = _parse_protection(params)
        if counter & 0xFF_FFFF != low:
            raise DecodeError("ECS17b transaction id and invoke id disagree")
        return cls(counter, requester, device)


# ECS17b fast paths. The request and response are fixed A-XDR templates around a few
# fields; these write and read them with byte operations. A fast decoder only accepts
# content that its fast encoder reproduces byte for byte (anything else goes to the
# reference tree decoder, which gives the same result or the same error), and the fast
# encoders are held to the reference tree encoders by tests over arbitrary fields.

_ECS17B_REQUEST_HEAD = bytes.fromhex(
    "0001"  # no date-time; one request specification
    "03001e00002b0208ff01"  # action IC 30 0-0:43.2.8.255 method 1
    "01"  # one data value
    "0202"  # structure {
    "01010205 1200 01 0906 00005e2c220a 0f02 1200 00 0202 1600 00"  # the object to read
    "01010202 1602 0205"  # array { structure { enum 2, structure of 5 {
    "0909 04"  # octet-string 9: 04 || counter
)
_ECS17B_PROTECTION_TAIL = bytes.fromhex("0900 0202 1602 0202 0901 02 0900")
"""After the two system titles: the empty octet-string and the key-agreement options."""


def _short_octets(value: bytes) -> bytes | None:
    """``09 len value`` for a short octet-string (None for the rare long one)."""
    n = len(value)
    return b"\x09" + _LENGTH_BYTE[n] + value if n < 0x80 else None


_LENGTH_BYTE = tuple(bytes((n,)) for n in range(0x80))


def _invoke_id_bytes(counter: int) -> bytes:
    return (0x2000_0000 | (counter & 0x00FF_FFFF)).to_bytes(4, "big")


def _protection_bytes(counter: object, originator: object, recipient: object) -> bytes | None:
    """The end of the protection parameters from the counter on (see
    :func:`_protection_parameters`), or None when a field is outside the template."""
    if (
        type(counter) is not int
        or not 0 <= counter < 1 << 64
        or type(originator) is not bytes
        or type(recipient) is not bytes
    ):
        return None
    first = _short_octets(originator)
    second = _short_octets(recipient)
    if first is None or second is None:
        return None
    return b"".join((counter.to_bytes(8, "big"), first, second, _ECS17B_PROTECTION_TAIL))


def _ecs17b_request_bytes(counter: object, requester: object, device: object) -> bytes | None:
    protection = _protection_bytes(counter, requester, device)
    if protection is None:
        return None
    assert type(counter) is int
    return b"".join((b"\xd9", _invoke_id_bytes(counter), _ECS17B_REQUEST_HEAD, protection))


def _two_short_octets(content: bytes, pos: int) -> tuple[bytes, bytes, int] | None:
    """Two short octet-strings (``09 len value``, len < 0x80) at ``pos``: their values and
    the position after them; None when the bytes there are anything else."""
    values = []
    for _ in range(2):
        header = content[pos : pos + 2]
        if len(header) != 2 or header[0] != 0x09 or header[1] >= 0x80:
            return None
        pos += 2
        value = content[pos : pos + header[1]]
        if len(value) != header[1]:
            return None
        values.append(value)
        pos += header[1]
    return values[0], values[1], pos


_ECS17B_COUNTER_AT = 5 + len(_ECS17B_REQUEST_HEAD)
_ECS17B_EUI_REQUEST_LENGTH = _ECS17B_COUNTER_AT + 8 + 2 * 10 + len(_ECS17B_PROTECTION_TAIL)


def _ecs17b_request_fields(content: bytes) -> tuple[int, bytes, bytes] | None:
    """(counter, requester, device) when ``content`` is exactly what
    :meth:`ReadImportRegisters.encode` writes for them, else None: every byte is checked
    against the template (tests hold this to ``_ecs17b_request_bytes(...) == content``)."""
    at = _ECS17B_COUNTER_AT
    if content[5:at] != _ECS17B_REQUEST_HEAD:
        return None
    counter = int.from_bytes(content[at : at + 8], "big")
    if (
        len(content) == _ECS17B_EUI_REQUEST_LENGTH
        and content[at + 8 : at + 10] == b"\x09\x08"
        and content[at + 18 : at + 20] == b"\x09\x08"
    ):  # the usual case: two EUIs
        if content[at + 28 :] != _ECS17B_PROTECTION_TAIL or content[
            :5
        ] != b"\xd9" + _invoke_id_bytes(counter):
            return None
        return counter, content[at + 10 : at + 18], content[at + 20 : at + 28]
    titles = _two_short_octets(content, at + 8)
    if titles is None:
        return None
    requester, device, end = titles
    if content[end:] != _ECS17B_PROTECTION_TAIL or content[:5] != b"\xd9" + _invoke_id_bytes(
        counter
    ):
        return None
    return counter, requester, device


UNIT_WH = 30
UNIT_VARH = 32


@dataclass(frozen=True, slots=True)
class ImportRegisters:
    """The plaintext of an ECS17b response: the import registers (RTDS shape: active import
    in Wh with its scaler, reactive import in varh with its scaler, and for a twin-element
    ESME the secondary element's active import). Values are register counts; the energy
    is ``value * 10**scaler``."""

    active_import: int
    reactive_import: int
    secondary_active_import: int | None = None
    active_scaler: int = 0
    reactive_scaler: int = 0

    def to_plaintext(self) -> bytes:
        fast = _registers_bytes(self)
        return self._plaintext_tree() if fast is None else fast

    def _plaintext_tree(self) -> bytes:
        """The reference encoder; :meth:`to_plaintext` packs the same bytes directly."""
        items: list[Data] = [
            dlms.double_long_unsigned(self.active_import),
            dlms.structure(dlms.integer(self.active_scaler), dlms.enum(UNIT_WH)),
            dlms.double_long_unsigned(self.reactive_import),
            dlms.structure(dlms.integer(self.reactive_scaler), dlms.enum(UNIT_VARH)),
        ]
        if self.secondary_active_import is not None:
            items.append(dlms.double_long_unsigned(self.secondary_active_import))
        return dlms.structure(dlms.structure(*items)).to_bytes()

    @classmethod
    def from_plaintext(cls, plaintext: bytes) -> ImportRegisters:
        fast = _registers_fields(plaintext)
        if fast is not None:
            return fast
        return cls._from_plaintext_tree(plaintext)

    @classmethod
    def _from_plaintext_tree(cls, plaintext: bytes) -> ImportRegisters:
        """The reference decoder (the fast path takes exactly what to_plaintext writes)."""
        (inner,) = _items(dlms.decode_data(plaintext), "ECS17b registers", 1)
        items = _items(inner, "ECS17b registers")
        if len(items) not in (4, 5):
            raise DecodeError(f"ECS17b registers: 4 or 5 elements, found {len(items)}")
        dlu = dlms.DataType.DOUBLE_LONG_UNSIGNED
        active_su = _items(items[1], "active scaler-unit", 2)
        reactive_su = _items(items[3], "reactive scaler-unit", 2)
        found = cls(
            _int(items[0], "active import", dlu),
            _int(items[2], "reactive import", dlu),
            _int(items[4], "secondary active import", dlu) if len(items) == 5 else None,
            _int(active_su[0], "active scaler", dlms.DataType.INTEGER),
            _int(reactive_su[0], "reactive scaler", dlms.DataType.INTEGER),
        )
        if found.to_plaintext() != plaintext:
            raise DecodeError("ECS17b registers not in the GBCS form")
        return found

    @property
    def active_import_wh(self) -> float:
        return self.active_import * 10.0**self.active_scaler


_REGISTERS_4 = struct.Struct(">4sBIBBBbBBBIBBBbBB")
_REGISTERS_5 = struct.Struct(">4sBIBBBbBBBIBBBbBBBI")
_REGISTERS_HEAD_4 = bytes.fromhex("02010204")
_REGISTERS_HEAD_5 = bytes.fromhex("02010205")
_DLU = dlms.DataType.DOUBLE_LONG_UNSIGNED
_U32 = 1 << 32


def _registers_bytes(r: ImportRegisters) -> bytes | None:
    active, reactive, secondary = r.active_import, r.reactive_import, r.secondary_active_import
    a_scaler, r_scaler = r.active_scaler, r.reactive_scaler
    if (
        type(active) is not int
        or type(reactive) is not int
        or type(a_scaler) is not int
        or type(r_scaler) is not int
        or not 0 <= active < _U32
        or not 0 <= reactive < _U32
        or not -128 <= a_scaler < 128
        or not -128 <= r_scaler < 128
    ):
        return None
    fixed = (_DLU, active, 2, 2, 0x0F, a_scaler, 0x16, UNIT_WH, _DLU, reactive, 2, 2, 0x0F)
    if secondary is None:
        return _REGISTERS_4.pack(_REGISTERS_HEAD_4, *fixed, r_scaler, 0x16, UNIT_VARH)
    if type(secondary) is not int or not 0 <= secondary < _U32:
        return None
    return _REGISTERS_5.pack(_REGISTERS_HEAD_5, *fixed, r_scaler, 0x16, UNIT_VARH, _DLU, secondary)


def _registers_fields(plaintext: bytes) -> ImportRegisters | None:
    """The registers when ``plaintext`` is exactly what :meth:`ImportRegisters.to_plaintext`
    writes for them, else None."""
    n = len(plaintext)
    if n == _REGISTERS_4.size:
        v = _REGISTERS_4.unpack(plaintext)
        found = ImportRegisters(v[2], v[10], None, v[6], v[14])
    elif n == _REGISTERS_5.size:
        v = _REGISTERS_5.unpack(plaintext)
        found = ImportRegisters(v[2], v[10], v[18], v[6], v[14])
    else:
        return None
    return found if _registers_bytes(found) == plaintext else None


@dataclass(frozen=True, slots=True)
class ImportRegistersResponse:
    """ECS17b response content: the protection parameters and the encrypted registers."""

    counter: int
    device: bytes
    requester: bytes
    encrypted: bytes
    """The ``31``-framed registers."""

    ok: ClassVar[bool] = True

    @classmethod
    def build(
        cls, command: ReadImportRegisters, registers: ImportRegisters, encrypt: Encrypt
    ) -> ImportRegistersResponse:
        return cls(
            command.counter, command.device, command.requester, encrypt(registers.to_plaintext())
        )

    def registers(self, decrypt: Decrypt) -> ImportRegisters:
        return ImportRegisters.from_plaintext(decrypt(self.encrypted))

    def encode(self) -> bytes:
        fast = _ecs17b_response_bytes(self.counter, self.device, self.requester, self.encrypted)
        return self._encode_tree() if fast is None else fast

    def _encode_tree(self) -> bytes:
        """The reference encoder; :meth:`encode` writes the same bytes from a template."""
        value = dlms.structure(
            dlms.array(_protection_parameters(self.counter, self.device, self.requester)),
            dlms.octet_string(self.encrypted),
        )
        return AccessResponse(
            dlms.invoke_id_for(self.counter), (value,), (AccessResult(AccessKind.ACTION),)
        ).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> ImportRegistersResponse:
        fields = _ecs17b_response_fields(content)
        if fields is not None:
            return cls(*fields)
        return cls._decode_tree(content)

    @classmethod
    def _decode_tree(cls, content: bytes) -> ImportRegistersResponse:
        """The reference decoder (the fast path takes exactly what :meth:`encode` writes)."""
        apdu = _parse_response(content, (AccessKind.ACTION,))
        protection, encrypted = _items(apdu.data[0], "ECS17b response", 2)
        (params,) = _items(protection, "protection parameters list", 1)
        counter, device, requester = _parse_protection(params)
        return cls(counter, device, requester, _octets(encrypted, "encrypted registers"))


_ECS17B_RESPONSE_HEAD = bytes.fromhex(
    "0000"  # no date-time; no request specifications echoed
    "01 0202"  # one data value: structure {
    "0101 0202 1602 0205"  # array { structure { enum 2, structure of 5 {
    "0909 04"  # octet-string 9: 04 || counter
)
_ECS17B_RESPONSE_TAIL = bytes.fromhex("01 0300")
"""After the encrypted registers: one result, action success."""
_ECS17B_RESPONSE_COUNTER_AT = 5 + len(_ECS17B_RESPONSE_HEAD)


def _ecs17b_response_bytes(
    counter: object, device: object, requester: object, encrypted: object
) -> bytes | None:
    if type(encrypted) is not bytes:
        return None
    protection = _protection_bytes(counter, device, requester)
    if protection is None:
        return None
    assert type(counter) is int
    return b"".join(
        (
            b"\xda",
            _invoke_id_bytes(counter),
            _ECS17B_RESPONSE_HEAD,
            protection,
            b"\x09",
            axdr_length(len(encrypted)),
            encrypted,
            _ECS17B_RESPONSE_TAIL,
        )
    )


def _ecs17b_response_fields(content: bytes) -> tuple[int, bytes, bytes, bytes] | None:
    """(counter, device, requester, encrypted) when ``content`` is exactly what
    :meth:`ImportRegistersResponse.encode` writes for them, else None."""
    at = _ECS17B_RESPONSE_COUNTER_AT
    if content[5:at] != _ECS17B_RESPONSE_HEAD:
        return None
    counter = int.from_bytes(content[at : at + 8], "big")
    titles = _two_short_octets(content, at + 8)
    if titles is None:
        return None
    device, requester, pos = titles
    pos += len(_ECS17B_PROTECTION_TAIL) + 1  # the options, then the octet-string tag
    try:
        n = Reader(content, pos).axdr_length()
    except DecodeError:
        return None
    start = pos + len(axdr_length(n))
    encrypted = content[start : start + n]
    if _ecs17b_response_bytes(counter, device, requester, encrypted) != content:
        return None
    return counter, device, requester, encrypted


# The device side of ECS17b in one step (the ESME's hot path): the request's fields, the
# registers' plaintext (scalers 0) and the response content written from the request's own
# bytes, without the intermediate objects. Tests hold each to the general path above.


def _registers_template(secondary: int | None) -> bytes:
    found = _registers_bytes(ImportRegisters(0, 0, secondary))
    assert found is not None
    return found


_R4 = _registers_template(None)
_R5 = _registers_template(0)
_REGISTERS_FUSED_4 = struct.Struct(">5sI7sI6s")
_REGISTERS_FUSED_5 = struct.Struct(">5sI7sI7sI")
_R_HEAD_4, _R_HEAD_5, _R_MID = _R4[:5], _R5[:5], _R4[9:16]
_R_TAIL_4, _R_TAIL_5 = _R4[20:], _R5[20:27]


def ecs17b_request_fields(content: bytes) -> tuple[int, bytes, bytes] | None:
    """(counter, requester, device) of ECS17b request content in the form
    :meth:`ReadImportRegisters.encode` writes, else None (decode it then)."""
    return _ecs17b_request_fields(content)


def ecs17b_registers_plaintext(active: int, reactive: int, secondary: int | None) -> bytes:
    """``ImportRegisters(active, reactive, secondary).to_plaintext()`` for register values
    in 0..2**32-1 (scalers 0)."""
    if secondary is None:
        return _REGISTERS_FUSED_4.pack(_R_HEAD_4, active, _R_MID, reactive, _R_TAIL_4)
    return _REGISTERS_FUSED_5.pack(_R_HEAD_5, active, _R_MID, reactive, _R_TAIL_5, secondary)


_REQUEST_TITLES_AT = _ECS17B_COUNTER_AT + 8


def ecs17b_response_content(request: bytes, encrypted: bytes) -> bytes:
    """``ImportRegistersResponse(counter, device, requester, encrypted).encode()`` for the
    fields of ECS17b ``request`` content (one :func:`ecs17b_request_fields` accepted):
    for the usual two EUIs, written from the request's own bytes (titles swapped)."""
    at = _REQUEST_TITLES_AT
    n = len(encrypted)
    if (
        len(request) == _ECS17B_EUI_REQUEST_LENGTH
        and n < 0x80
        and request[at : at + 2] == b"\x09\x08"
        and request[at + 10 : at + 12] == b"\x09\x08"
    ):
        return b"".join(
            (
                b"\xda",
                request[1:5],  # the invoke id (the request's, checked to be the counter's)
                _ECS17B_RESPONSE_HEAD,
                request[at - 8 : at],  # the counter
                request[at + 10 : at + 20],  # the device's title (second in the request)
                request[at : at + 10],  # the requester's
                _ECS17B_PROTECTION_TAIL,
                b"\x09",
                _LENGTH_BYTE[n],
                encrypted,
                _ECS17B_RESPONSE_TAIL,
            )
        )
    fields = _ecs17b_request_fields(request)
    if fields is None:
        raise EncodeError("not ECS17b request content in the usual form")
    counter, requester, device = fields
    return ImportRegistersResponse(counter, device, requester, encrypted).encode()


# =========================================================================== ECS42/43/44

LOAD_SWITCH_SCRIPTS = "0-0:10.0.106.255"
"""IC 9 script table whose scripts drive the load switch."""


class _LoadSwitch(DlmsCommand):
    __slots__ = ()
    script: ClassVar[int]

    def specs(self) -> tuple[AccessSpec, ...]:
        return (dlms.action(9, LOAD_SWITCH_SCRIPTS, 1),)

    def encode(self) -> bytes:
        body = _LOAD_SWITCH_BODIES.get(self.script)
        if body is None:
            return self._encode_tree()
        return b"\xd9" + dlms.invoke_id_for(self.counter).to_bytes(4, "big") + body

    def _encode_tree(self) -> bytes:
        """The reference encoder; :meth:`encode` writes the same bytes from a template."""
        return _request(self.counter, self.specs(), [dlms.long_unsigned(self.script)])


@dataclass(frozen=True, slots=True)
class SupplyEnable(_LoadSwitch):
    """ECS42 Remotely Close the Load Switch (supply enable): script 51."""

    counter: int
    message_code: ClassVar[int] = 0x004F
    script: ClassVar[int] = 0x33

    @classmethod
    def decode(cls, content: bytes) -> SupplyEnable:
        return cls(_decode_script(content, cls.script))


@dataclass(frozen=True, slots=True)
class SupplyDisable(_LoadSwitch):
    """ECS43 Remotely Open the Load Switch (supply disable): script 52."""

    counter: int
    message_code: ClassVar[int] = 0x0050
    script: ClassVar[int] = 0x34

    @classmethod
    def decode(cls, content: bytes) -> SupplyDisable:
        return cls(_decode_script(content, cls.script))


@dataclass(frozen=True, slots=True)
class SupplyArm(_LoadSwitch):
    """ECS44 Arm Load Switch: script 54."""

    counter: int
    message_code: ClassVar[int] = 0x0051
    script: ClassVar[int] = 0x36

    @classmethod
    def decode(cls, content: bytes) -> SupplyArm:
        return cls(_decode_script(content, cls.script))


_LOAD_SWITCH_BODIES: dict[int, bytes] = {
    switch.script: switch(0)._encode_tree()[5:]
    for switch in (SupplyEnable, SupplyDisable, SupplyArm)
}
"""Each load-switch request after its invoke id (made once by the reference encoder)."""


def _decode_script(content: bytes, script: int) -> int:
    body = _LOAD_SWITCH_BODIES.get(script)
    counter = None if body is None else _fixed_request_counter(content, body)
    return _decode_script_tree(content, script) if counter is None else counter


def _decode_script_tree(content: bytes, script: int) -> int:
    """The reference decoder (the fast path takes exactly what the encoder writes)."""
    counter, (value,) = _parse_request(content, (dlms.action(9, LOAD_SWITCH_SCRIPTS, 1),))
    found = _int(value, "script id", dlms.DataType.LONG_UNSIGNED)
    if found != script:
        raise DecodeError(f"load switch script {found}, expected {script}")
    return counter


# =========================================================================== ECS70 / GCS28

CLOCK = "0-0:1.0.0.255"


@dataclass(frozen=True, slots=True)
class SetClock(DlmsCommand):
    """ECS70 Set Clock on ESME (also the commissioning step of SR 8.1.1; the bytes are the
    same, the gateway knows which SR it serves).

    IC 8 clock: set ``clock_base``, ``preset_adjusting_time`` (preset time not specified,
    validity interval ``valid_from`` .. ``valid_to``), ``adjust_to_preset_time``, then read
    back ``time`` and ``status``. The ESME takes its time from the comms hub and only adjusts
    when that time is inside the validity interval.
    """

    counter: int
    valid_from: _dt.datetime
    valid_to: _dt.datetime
    clock_base: int = 5
    message_code: ClassVar[int] = 0x0062

    @classmethod
    def around(
        cls, counter: int, now: _dt.datetime, tolerance: _dt.timedelta = _dt.timedelta(seconds=10)
    ) -> SetClock:
        """Valid from ``now - tolerance`` to ``now + tolerance`` (whole seconds)."""
        now = now.replace(microsecond=0)
        return cls(counter, now - tolerance, now + tolerance)

    def specs(self) -> tuple[AccessSpec, ...]:
        return (
            dlms.set_(8, CLOCK, 9),
            dlms.action(8, CLOCK, 5),
            dlms.action(8, CLOCK, 4),
            dlms.get(8, CLOCK, 2),
            dlms.get(8, CLOCK, 4),
        )

    def encode(self) -> bytes:
        preset = dlms.structure(
            dlms.octet_string(CosemDateTime.UNSPECIFIED),
            _stamp(self.valid_from),
            _stamp(self.valid_to),
        )
        data: list[Data] = [dlms.enum(self.clock_base), preset, dlms.integer(0), NULL, NULL]
        return _request(self.counter, self.specs(), data)

    @classmethod
    def decode(cls, content: bytes) -> SetClock:
        specs = cls(0, _EPOCH, _EPOCH).specs()
        counter, data = _parse_request(content, specs)
        _, start, end = _items(data[1], "preset_adjusting_time", 3)
        return cls(
            counter,
            _when(start, "validity interval start"),
            _when(end, "validity interval end"),
            _int(data[0], "clock_base", dlms.DataType.ENUM),
        )

    def accepts(self, clock: _dt.datetime) -> bool:
        """Whether a device whose time source says ``clock`` adjusts (inside the interval)."""
        return self.valid_from <= clock <= self.valid_to


_EPOCH = _dt.datetime(2000, 1, 1, tzinfo=_dt.UTC)


@dataclass(frozen=True, slots=True)
class ClockSet:
    """ECS70 response: the four write/action results and the clock read back (``time`` and
    ``status``; None where the read failed, sent as null-data)."""

    counter: int
    clock: _dt.datetime | None
    status: int | None = 0
    results: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)

    _KINDS: ClassVar[tuple[AccessKind, ...]] = (
        AccessKind.SET,
        AccessKind.ACTION,
        AccessKind.ACTION,
        AccessKind.GET,
        AccessKind.GET,
    )

    @classmethod
    def for_command(
        cls,
        command: SetClock,
        clock: _dt.datetime | None,
        *,
        status: int | None = 0,
        results: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0),
    ) -> ClockSet:
        return cls(command.counter, clock, status, results)

    @property
    def ok(self) -> bool:
        return not any(self.results)

    def encode(self) -> bytes:
        data: list[Data] = [NULL, NULL, NULL]
        data.append(NULL if self.clock is None else _stamp(self.clock))
        data.append(NULL if self.status is None else dlms.unsigned(self.status))
        results = tuple(AccessResult(k, r) for k, r in zip(self._KINDS, self.results, strict=True))
        return AccessResponse(dlms.invoke_id_for(self.counter), tuple(data), results).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> ClockSet:
        apdu = _parse_response(content, cls._KINDS)
        clock = None if apdu.data[3] == NULL else _when(apdu.data[3], "clock")
        status = None if apdu.data[4] == NULL else _int(apdu.data[4], "clock status")
        r = tuple(x.result for x in apdu.results)
        return cls(_counter_of(apdu.invoke_id), clock, status, (r[0], r[1], r[2], r[3], r[4]))


@dataclass(frozen=True, slots=True)
class SetGasClock:
    """GCS28 Set Clock on GSME (also GSME commissioning): ASN.1
    ``SEQUENCE { validityIntervalStart GeneralizedTime, validityIntervalEnd GeneralizedTime }``."""

    valid_from: _dt.datetime
    valid_to: _dt.datetime
    message_code: ClassVar[int] = 0x007F

    @classmethod
    def around(
        cls, now: _dt.datetime, tolerance: _dt.timedelta = _dt.timedelta(minutes=30)
    ) -> SetGasClock:
        now = now.replace(microsecond=0)
        return cls(now - tolerance, now + tolerance)

    def encode(self) -> bytes:
        return asn1.der_sequence(
            asn1.der_generalized_time(self.valid_from), asn1.der_generalized_time(self.valid_to)
        ).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> SetGasClock:
        node = _sequence(content, 2)
        return cls(node.child(0).time_value(), node.child(1).time_value())

    def accepts(self, clock: _dt.datetime) -> bool:
        return self.valid_from <= clock <= self.valid_to


@dataclass(frozen=True, slots=True)
class GasClockSet:
    """GCS28 response: ``SEQUENCE { GSME time GeneralizedTime, outcome INTEGER }``
    (0 success; the reference error response carries 2)."""

    clock: _dt.datetime
    outcome: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome == 0

    def encode(self) -> bytes:
        return asn1.der_sequence(
            asn1.der_generalized_time(self.clock), asn1.der_integer(self.outcome)
        ).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> GasClockSet:
        node = _sequence(content, 2)
        return cls(node.child(0).time_value(), node.child(1).int_value())


def _sequence(content: bytes, n: int | None = None) -> asn1.Der:
    node = asn1.decode_der(content)
    if node.tag != asn1.SEQUENCE or node.children is None:
        raise DecodeError("expected an ASN.1 SEQUENCE")
    if n is not None and len(node.children) != n:
        raise DecodeError(f"expected a SEQUENCE of {n}, found {len(node.children)}")
    return node


# =========================================================================== CCS01 / CCS02

ZIGBEE_NETWORK_CONTROL = "0-0:30.3.0.255"
"""IC 104 ZigBee network control of the CHF: method 1 register_device, 2 unregister_device;
attribute 2 enable_disable_joining, 3 join_timeout."""


@dataclass(frozen=True, slots=True)
class AddDeviceLogEntry(DlmsCommand):
    """CCS01 Add Device to CHF device log: register the device (EUI, device type, install
    code) then set the join timeout and enable joining.

    ``device_type`` and ``option`` are sent as the reference messages send them (1 and 0
    for an ESME); their full value lists are not confirmed here.
    """

    counter: int
    device: bytes
    install_code: bytes
    join_timeout: int = 90
    """DUIS JoinTimePeriod, minutes."""
    device_type: int = 1
    option: int = 0
    enable_joining: bool = True
    message_code: ClassVar[int] = 0x0001

    def specs(self) -> tuple[AccessSpec, ...]:
        return (
            dlms.action(104, ZIGBEE_NETWORK_CONTROL, 1),
            dlms.set_(104, ZIGBEE_NETWORK_CONTROL, 3),
            dlms.set_(104, ZIGBEE_NETWORK_CONTROL, 2),
        )

    def encode(self) -> bytes:
        entry = dlms.structure(
            dlms.octet_string(self.device),
            dlms.enum(self.device_type),
            dlms.octet_string(self.install_code),
            dlms.enum(self.option),
        )
        data: list[Data] = [
            entry,
            dlms.long_unsigned(self.join_timeout),
            dlms.boolean(self.enable_joining),
        ]
        return _request(self.counter, self.specs(), data)

    @classmethod
    def decode(cls, content: bytes) -> AddDeviceLogEntry:
        counter, data = _parse_request(content, cls(0, bytes(8), b"").specs())
        device, device_type, install_code, option = _items(data[0], "register_device", 4)
        joining = data[2]
        if not isinstance(joining, dlms.Boolean):
            raise DecodeError("enable_disable_joining: expected a boolean")
        return cls(
            counter,
            _octets(device, "device EUI"),
            _octets(install_code, "install code"),
            _int(data[1], "join_timeout", dlms.DataType.LONG_UNSIGNED),
            _int(device_type, "device type", dlms.DataType.ENUM),
            _int(option, "register_device option", dlms.DataType.ENUM),
            joining.value,
        )


@dataclass(frozen=True, slots=True)
class RemoveDeviceLogEntry(DlmsCommand):
    """CCS02 Remove device from CHF device log: IC 104 method 2 with the device's EUI."""

    counter: int
    device: bytes
    message_code: ClassVar[int] = 0x0002

    def specs(self) -> tuple[AccessSpec, ...]:
        return (dlms.action(104, ZIGBEE_NETWORK_CONTROL, 2),)

    def encode(self) -> bytes:
        return _request(self.counter, self.specs(), [dlms.octet_string(self.device)])

    @classmethod
    def decode(cls, content: bytes) -> RemoveDeviceLogEntry:
        counter, (device,) = _parse_request(content, (dlms.action(104, ZIGBEE_NETWORK_CONTROL, 2),))
        return cls(counter, _octets(device, "device EUI"))


# =========================================================================== ECS52

FIRMWARE_VERSION = "0-0:0.2.1.255"


@dataclass(frozen=True, slots=True)
class ReadFirmwareVersion(DlmsCommand):
    """ECS52 Read ESME/Comms Hub Firmware Version: get IC 1 0-0:0.2.1.255 attribute 2."""

    counter: int
    message_code: ClassVar[int] = 0x0059

    def specs(self) -> tuple[AccessSpec, ...]:
        return (dlms.get(1, FIRMWARE_VERSION, 2),)

    def encode(self) -> bytes:
        return b"\xd9" + dlms.invoke_id_for(self.counter).to_bytes(4, "big") + _ECS52_BODY

    def _encode_tree(self) -> bytes:
        """The reference encoder; :meth:`encode` writes the same bytes from a template."""
        return _request(self.counter, self.specs(), [NULL])

    @classmethod
    def decode(cls, content: bytes) -> ReadFirmwareVersion:
        counter = _fixed_request_counter(content, _ECS52_BODY)
        return cls._decode_tree(content) if counter is None else cls(counter)

    @classmethod
    def _decode_tree(cls, content: bytes) -> ReadFirmwareVersion:
        """The reference decoder (the fast path takes exactly what :meth:`encode` writes)."""
        counter, (value,) = _parse_request(content, (dlms.get(1, FIRMWARE_VERSION, 2),))
        if value != NULL:
            raise DecodeError("ECS52 carries null-data")
        return cls(counter)


_ECS52_BODY = ReadFirmwareVersion(0)._encode_tree()[5:]


@dataclass(frozen=True, slots=True)
class FirmwareVersion:
    """ECS52 response: the running firmware version (4 bytes in the reference data), or a
    failed get (``version`` None, ``result`` non-zero)."""

    counter: int
    version: bytes | None
    result: int = 0

    @classmethod
    def for_command(
        cls, command: ReadFirmwareVersion, version: bytes | None, result: int = 0
    ) -> FirmwareVersion:
        return cls(command.counter, version, result)

    @property
    def ok(self) -> bool:
        return self.result == 0

    def encode(self) -> bytes:
        value = NULL if self.version is None else dlms.octet_string(self.version)
        return AccessResponse(
            dlms.invoke_id_for(self.counter), (value,), (AccessResult(AccessKind.GET, self.result),)
        ).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> FirmwareVersion:
        apdu = _parse_response(content, (AccessKind.GET,))
        value = apdu.data[0]
        version = None if value == NULL else _octets(value, "firmware version")
        return cls(_counter_of(apdu.invoke_id), version, apdu.results[0].result)


# =========================================================================== CS06


@dataclass(frozen=True, slots=True)
class ActivateFirmware:
    """CS06 Activate Firmware: ASN.1 ``SEQUENCE { manufacturerImageHash OCTET STRING (32),
    originatorCounter INTEGER, executionDateTime GeneralizedTime OPTIONAL }``."""

    image_hash: bytes
    counter: int
    at: _dt.datetime | None = None
    message_code: ClassVar[int] = 0x0012

    def __post_init__(self) -> None:
        if len(self.image_hash) != 32:
            raise EncodeError(f"a firmware image hash is 32 bytes, not {len(self.image_hash)}")

    def encode(self) -> bytes:
        items = [asn1.der_octet_string(self.image_hash), asn1.der_integer(self.counter)]
        if self.at is not None:
            items.append(asn1.der_generalized_time(self.at))
        return asn1.der_sequence(*items).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> ActivateFirmware:
        node = _sequence(content)
        children = node.children or ()
        if len(children) not in (2, 3) or children[0].tag != asn1.OCTET_STRING:
            raise DecodeError("CS06: expected SEQUENCE { OCTET STRING, INTEGER [, time] }")
        at = children[2].time_value() if len(children) == 3 else None
        try:
            return cls(children[0].value, children[1].int_value(), at)
        except EncodeError as exc:
            raise DecodeError(str(exc)) from None


@dataclass(frozen=True, slots=True)
class FirmwareActivated:
    """CS06 response to an immediate activation: ``SEQUENCE { outcome INTEGER,
    firmwareVersion OCTET STRING }`` (outcome 0 success, 1 failure in the reference data)."""

    outcome: int
    version: bytes

    @property
    def ok(self) -> bool:
        return self.outcome == 0

    def encode(self) -> bytes:
        return asn1.der_sequence(
            asn1.der_integer(self.outcome), asn1.der_octet_string(self.version)
        ).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> FirmwareActivated:
        node = _sequence(content, 2)
        if node.child(1).tag != asn1.OCTET_STRING:
            raise DecodeError("CS06 response: expected the firmware version")
        return cls(node.child(0).int_value(), node.child(1).value)


@dataclass(frozen=True, slots=True)
class FirmwareActivationScheduled:
    """CS06 response to a future-dated activation: ASN.1 NULL (the outcome comes later as
    the 0x00CA alert, :class:`FutureDatedFirmwareAlert`)."""

    ok: ClassVar[bool] = True

    def encode(self) -> bytes:
        return b"\x05\x00"

    @classmethod
    def decode(cls, content: bytes) -> FirmwareActivationScheduled:
        if content != b"\x05\x00":
            raise DecodeError("expected ASN.1 NULL")
        return cls()


# =========================================================================== GCS13a


GAS_REGISTER_ATTRIBUTES = (0x0302, 0x0301, 0x0300, 0x0000)
"""Divisor, Multiplier, UnitOfMeasure, CurrentSummationDelivered (Metering cluster)."""


@dataclass(frozen=True, slots=True)
class ReadGasRegister:
    """GCS13a Read GSME Consumption Register: ZCL Read Attributes on the Metering cluster."""

    message_code: ClassVar[int] = 0x0074

    def encode(self) -> bytes:
        frame = ZclFrame(
            0x00, 0, gbz.READ_ATTRIBUTES, ReadAttributes(GAS_REGISTER_ATTRIBUTES).to_bytes()
        )
        return GbzPayload((GbzComponent(Cluster.METERING, frame, CONTROL_LAST),)).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> ReadGasRegister:
        found = cls()
        _check_exact(found, content)
        return found


UNIT_CUBIC_METRES = 0x01


@dataclass(frozen=True, slots=True)
class GasRegister:
    """The plaintext of a GCS13a response (ZCL Read Attributes Response records). A field
    is None when its attribute failed (status ``failure_status``, 0xC0 in the reference
    error response)."""

    volume: int | None
    """CurrentSummationDelivered, in units of ``multiplier / divisor`` of ``unit``."""
    multiplier: int | None = 1
    divisor: int | None = 1000
    unit: int | None = UNIT_CUBIC_METRES
    failure_status: int = 0xC0

    def to_plaintext(self) -> bytes:
        def record(attribute: int, t: ZclType, value: int | None) -> AttributeRecord:
            if value is None:
                return AttributeRecord(attribute, self.failure_status)
            return AttributeRecord(attribute, 0, ZclValue.uint(t, value))

        return ReadAttributesResponse(
            (
                record(0x0302, ZclType.UINT24, self.divisor),
                record(0x0301, ZclType.UINT24, self.multiplier),
                record(0x0300, ZclType.ENUM8, self.unit),
                record(0x0000, ZclType.UINT48, self.volume),
            )
        ).to_bytes()

    @classmethod
    def from_plaintext(cls, plaintext: bytes) -> GasRegister:
        records = ReadAttributesResponse.from_bytes(plaintext).records
        if tuple(r.attribute for r in records) != GAS_REGISTER_ATTRIBUTES:
            raise DecodeError("GCS13a: unexpected attributes in the response")
        failures = {r.status for r in records if r.status}
        values = [r.value.value if r.value is not None else None for r in records]
        if any(isinstance(v, bytes) for v in values) or len(failures) > 1:
            raise DecodeError("GCS13a: unexpected attribute types or statuses")
        ints = [v if isinstance(v, int) else None for v in values]
        found = cls(ints[3], ints[1], ints[0], ints[2], failures.pop() if failures else 0xC0)
        if found.to_plaintext() != plaintext:
            raise DecodeError("GCS13a register not in the GBCS form")
        return found

    @property
    def volume_m3(self) -> float | None:
        if self.volume is None or not self.multiplier or not self.divisor:
            return None
        return self.volume * self.multiplier / self.divisor


@dataclass(frozen=True, slots=True)
class GasRegisterResponse:
    """GCS13a response content: one encrypted Read Attributes Response component."""

    encrypted: bytes

    ok: ClassVar[bool] = True
    """The read itself succeeded; a failed attribute shows in the decrypted register."""

    @classmethod
    def build(cls, register: GasRegister, encrypt: Encrypt) -> GasRegisterResponse:
        return cls(encrypt(register.to_plaintext()))

    def register(self, decrypt: Decrypt) -> GasRegister:
        return GasRegister.from_plaintext(decrypt(self.encrypted))

    def encode(self) -> bytes:
        frame = EncryptedZcl(
            gbz.FC_SERVER_TO_CLIENT | gbz.FC_DISABLE_DEFAULT_RESPONSE,
            0,
            gbz.READ_ATTRIBUTES_RESPONSE,
            self.encrypted,
        )
        component = GbzComponent(Cluster.METERING, frame, CONTROL_LAST | CONTROL_ENCRYPTED)
        return GbzPayload((component,)).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> GasRegisterResponse:
        payload = GbzPayload.from_bytes(content)
        if len(payload.components) != 1 or not isinstance(
            payload.components[0].frame, EncryptedZcl
        ):
            raise DecodeError("GCS13a response: expected one encrypted component")
        found = cls(payload.components[0].frame.ciphered)
        _check_exact(found, content)
        return found


# =========================================================================== GCS32/33/39


class SupplyStatus(IntEnum):
    """ZCL Metering supply status (and ChangeSupply proposed status)."""

    OFF = 0
    ARMED = 1
    ON = 2


def _single_frame(content: bytes, what: str) -> ZclFrame:
    payload = GbzPayload.from_bytes(content)
    if len(payload.components) != 1 or not isinstance(payload.components[0].frame, ZclFrame):
        raise DecodeError(f"{what}: expected one plain GBZ component")
    if payload.components[0].cluster_id != Cluster.METERING:
        raise DecodeError(f"{what}: expected the Metering cluster")
    return payload.components[0].frame


def _metering(frame: ZclFrame) -> bytes:
    return GbzPayload((GbzComponent(Cluster.METERING, frame, CONTROL_LAST),)).to_bytes()


@dataclass(frozen=True, slots=True)
class _ChangeSupply:
    """ZCL Metering ChangeSupply (0x0B), little-endian: provider id, issuer event id,
    request time, implementation time (ZigBee UTCTime, 0 = now), proposed status, control
    bits (0x01: acknowledge)."""

    issuer_event_id: int
    implementation_time: int = 0
    request_time: int = 0
    provider_id: int = 0
    control_bits: int = 0x01
    proposed: ClassVar[SupplyStatus]

    def encode(self) -> bytes:
        payload = (
            self.provider_id.to_bytes(4, "little")
            + self.issuer_event_id.to_bytes(4, "little")
            + self.request_time.to_bytes(4, "little")
            + self.implementation_time.to_bytes(4, "little")
            + bytes([self.proposed, self.control_bits])
        )
        return _metering(ZclFrame(gbz.FC_CLUSTER_SPECIFIC, 0, 0x0B, payload))

    @classmethod
    def _fields(cls, content: bytes) -> tuple[int, int, int, int, int]:
        frame = _single_frame(content, "ChangeSupply")
        p = frame.payload
        if frame.command_id != 0x0B or len(p) != 18:
            raise DecodeError("expected a ZCL ChangeSupply")
        if p[16] != cls.proposed:
            raise DecodeError(f"proposed supply status {p[16]}, expected {int(cls.proposed)}")

        def u32(i: int) -> int:
            return int.from_bytes(p[i : i + 4], "little")

        return u32(4), u32(12), u32(8), u32(0), p[17]


@dataclass(frozen=True, slots=True)
class ValveClose(_ChangeSupply):
    """GCS32 Remotely close the valve (ChangeSupply to Supply OFF). GBCS has no remote
    valve opening: the valve is armed (GCS39) and the consumer opens it on the meter."""

    message_code: ClassVar[int] = 0x0081
    proposed: ClassVar[SupplyStatus] = SupplyStatus.OFF

    @classmethod
    def decode(cls, content: bytes) -> ValveClose:
        found = cls(*cls._fields(content))
        _check_exact(found, content)
        return found


@dataclass(frozen=True, slots=True)
class ValveArm(_ChangeSupply):
    """GCS39 Arm Valve in GSME (ChangeSupply to Supply OFF/ARMED)."""

    message_code: ClassVar[int] = 0x0085
    proposed: ClassVar[SupplyStatus] = SupplyStatus.ARMED

    @classmethod
    def decode(cls, content: bytes) -> ValveArm:
        found = cls(*cls._fields(content))
        _check_exact(found, content)
        return found


@dataclass(frozen=True, slots=True)
class ValveState:
    """GCS32/GCS39 response: ZCL SupplyStatusResponse (0x0C): provider id, issuer event id
    (echoed), implementation time, the supply status now."""

    issuer_event_id: int
    status: SupplyStatus
    implementation_time: int = 0
    provider_id: int = 0

    ok: ClassVar[bool] = True

    @classmethod
    def for_command(cls, command: ValveClose | ValveArm, status: SupplyStatus) -> ValveState:
        return cls(
            command.issuer_event_id, status, command.implementation_time, command.provider_id
        )

    def encode(self) -> bytes:
        payload = (
            self.provider_id.to_bytes(4, "little")
            + self.issuer_event_id.to_bytes(4, "little")
            + self.implementation_time.to_bytes(4, "little")
            + bytes([self.status])
        )
        return _metering(
            ZclFrame(gbz.FC_CLUSTER_SPECIFIC | gbz.FC_SERVER_TO_CLIENT, 0, 0x0C, payload)
        )

    @classmethod
    def decode(cls, content: bytes) -> ValveState:
        frame = _single_frame(content, "SupplyStatusResponse")
        p = frame.payload
        if frame.command_id != 0x0C or len(p) != 13 or p[12] > 2:
            raise DecodeError("expected a ZCL SupplyStatusResponse")
        found = cls(
            int.from_bytes(p[4:8], "little"),
            SupplyStatus(p[12]),
            int.from_bytes(p[8:12], "little"),
            int.from_bytes(p[0:4], "little"),
        )
        _check_exact(found, content)
        return found


@dataclass(frozen=True, slots=True)
class ZclFailure:
    """A GBZ error response: ZCL Default Response with a non-success status (e.g. 0xC0
    HARDWARE_FAILURE in the GCS32 reference error response)."""

    command_id: int
    status: int
    cluster_id: int = Cluster.METERING

    ok: ClassVar[bool] = False

    def encode(self) -> bytes:
        frame = ZclFrame(
            gbz.FC_SERVER_TO_CLIENT,
            0,
            gbz.DEFAULT_RESPONSE,
            DefaultResponse(self.command_id, self.status).to_bytes(),
        )
        return GbzPayload((GbzComponent(self.cluster_id, frame, CONTROL_LAST),)).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> ZclFailure:
        payload = GbzPayload.from_bytes(content)
        if len(payload.components) != 1 or not isinstance(payload.components[0].frame, ZclFrame):
            raise DecodeError("expected one plain GBZ component")
        frame = payload.components[0].frame
        if frame.cluster_specific or frame.command_id != gbz.DEFAULT_RESPONSE:
            raise DecodeError("expected a ZCL Default Response")
        d = DefaultResponse.from_bytes(frame.payload)
        found = cls(d.command_id, d.status, payload.components[0].cluster_id)
        _check_exact(found, content)
        return found


VALVE_ATTRIBUTES = (0x0205, 0x0014)
"""RemainingBatteryLifeInDays, SupplyStatus (Metering cluster)."""


@dataclass(frozen=True, slots=True)
class ReadValve:
    """GCS33 Read GSME Valve Status: ZCL Read Attributes (battery life in days, supply
    status)."""

    message_code: ClassVar[int] = 0x0082

    def encode(self) -> bytes:
        return _metering(
            ZclFrame(0x00, 0, gbz.READ_ATTRIBUTES, ReadAttributes(VALVE_ATTRIBUTES).to_bytes())
        )

    @classmethod
    def decode(cls, content: bytes) -> ReadValve:
        found = cls()
        _check_exact(found, content)
        return found


@dataclass(frozen=True, slots=True)
class ValveStatus:
    """GCS33 response: supply (valve) status and remaining battery life in days."""

    status: SupplyStatus
    battery_days: int

    ok: ClassVar[bool] = True

    def encode(self) -> bytes:
        records = ReadAttributesResponse(
            (
                AttributeRecord(0x0205, 0, ZclValue.uint(ZclType.UINT16, self.battery_days)),
                AttributeRecord(0x0014, 0, ZclValue.uint(ZclType.ENUM8, self.status)),
            )
        )
        return _metering(
            ZclFrame(gbz.FC_SERVER_TO_CLIENT, 0, gbz.READ_ATTRIBUTES_RESPONSE, records.to_bytes())
        )

    @classmethod
    def decode(cls, content: bytes) -> ValveStatus:
        frame = _single_frame(content, "GCS33 response")
        if frame.cluster_specific or frame.command_id != gbz.READ_ATTRIBUTES_RESPONSE:
            raise DecodeError("GCS33 response: expected a Read Attributes Response")
        records = ReadAttributesResponse.from_bytes(frame.payload)
        battery, status = records.get(0x0205), records.get(0x0014)
        if battery is None or status is None or battery.value is None or status.value is None:
            raise DecodeError("GCS33 response: missing attributes")
        b, s = battery.value.value, status.value.value
        if not isinstance(b, int) or not isinstance(s, int) or s > 2:
            raise DecodeError("GCS33 response: bad attribute values")
        found = cls(SupplyStatus(s), b)
        _check_exact(found, content)
        return found


# =========================================================================== alerts


def alert_message_code(alert_code: int) -> int:
    """The generic message code an alert travels with: 0x1000 for critical (0x8Fxx) alert
    codes, 0x1001 otherwise."""
    return 0x1000 if is_critical_alert(alert_code) else 0x1001


@dataclass(frozen=True, slots=True)
class DlmsAlert:
    """An ESME / CHF alert: DLMS Data-Notification whose body is
    ``structure { alert code long-unsigned, date-time octet-string(12) [, details] }``
    (the shape of the reference future-dated alerts; simple alerts carry no details)."""

    counter: int
    code: int
    when: _dt.datetime
    details: Data | None = None

    def encode(self) -> bytes:
        items: list[Data] = [dlms.long_unsigned(self.code), _stamp(self.when)]
        if self.details is not None:
            items.append(self.details)
        return DataNotification(dlms.invoke_id_for(self.counter), dlms.structure(*items)).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> DlmsAlert:
        apdu = dlms.decode_dlms(content)
        if not isinstance(apdu, DataNotification) or apdu.date_time:
            raise DecodeError("expected a DLMS Data-Notification")
        items = _items(apdu.body, "alert")
        if len(items) not in (2, 3):
            raise DecodeError("alert: expected 2 or 3 elements")
        found = cls(
            _counter_of(apdu.invoke_id),
            _int(items[0], "alert code", dlms.DataType.LONG_UNSIGNED),
            _when(items[1], "alert time"),
            items[2] if len(items) == 3 else None,
        )
        _check_exact(found, content)
        return found

    @classmethod
    def future_dated(
        cls,
        counter: int,
        *,
        executed: bool,
        when: _dt.datetime,
        message_code: int,
        command_counter: int,
        spec: AccessSpec,
    ) -> DlmsAlert:
        """0x8F66 / 0x8F67: a future-dated DLMS command was (not) executed (message code
        0x00CC). Details: message code, originator counter, then the class id, OBIS and
        attribute/method of the request it was about."""
        details = (
            message_code.to_bytes(2, "big")
            + command_counter.to_bytes(8, "big")
            + spec.class_id.to_bytes(2, "big")
            + spec.obis.raw
            + bytes([spec.index])
        )
        return cls(counter, 0x8F66 if executed else 0x8F67, when, dlms.octet_string(details))


def gbz_alert(code: int, when: _dt.datetime, extra: bytes = b"") -> GbzAlert:
    """A GSME / GPF alert with no components (message code 0x1000/0x1001)."""
    return GbzAlert(code, gbz.zigbee_time(when), extra)


def firmware_verification_alert(
    *, ok: bool, when: _dt.datetime, image_hash: bytes, start: int = 0
) -> GbzAlert:
    """0x8F72 (verification successful) / 0x8F1C (failed) from a GSME: the calculated
    manufacturer image hash after a 2-byte start field (GBZ layout)."""
    if len(image_hash) != 32:
        raise EncodeError("a firmware image hash is 32 bytes")
    return gbz_alert(0x8F72 if ok else 0x8F1C, when, start.to_bytes(2, "big") + image_hash)


@dataclass(frozen=True, slots=True)
class FutureDatedFirmwareAlert:
    """0x00CA Future Dated Firmware Activation Alert (ASN.1): ``SEQUENCE { alertCode
    INTEGER (8F66/8F67), executionDateTime, originatorCounter INTEGER, the activation
    response SEQUENCE { outcome, firmwareVersion } }``."""

    executed: bool
    when: _dt.datetime
    command_counter: int
    result: FirmwareActivated
    message_code: ClassVar[int] = 0x00CA

    def encode(self) -> bytes:
        return asn1.der_sequence(
            asn1.der_integer(0x8F66 if self.executed else 0x8F67),
            asn1.der_generalized_time(self.when),
            asn1.der_integer(self.command_counter),
            asn1.decode_der(self.result.encode()),
        ).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> FutureDatedFirmwareAlert:
        node = _sequence(content, 4)
        code = node.child(0).int_value()
        if code not in (0x8F66, 0x8F67):
            raise DecodeError(f"0x00CA alert code 0x{code:04X} is not 8F66/8F67")
        found = cls(
            code == 0x8F66,
            node.child(1).time_value(),
            node.child(2).int_value(),
            FirmwareActivated.decode(node.child(3).to_bytes()),
        )
        _check_exact(found, content)
        return found


# =========================================================================== ECS01a

ACTIVITY_CALENDAR = "0-0:13.0.0.255"
SPECIAL_DAYS = "0-1:11.0.0.255"
TARIFF_SCRIPTS = Obis.parse("0-0:10.0.100.255")
STANDING_CHARGE = "0-0:19.20.4.255"
PRICE_MATRIX = "0-0:19.20.0.255"
GB_TARIFF_FLAG = "0-0:94.44.2.0"
GB_TARIFF_ACTIVATION = "0-0:94.44.128.29"
GB_TARIFF_ACTIVATION_2 = "0-0:63.1.1.255"
BLOCK_THRESHOLD_MONITORS = tuple(f"0-0:16.1.{n}.255" for n in range(11, 19))
IMMEDIATE = bytes.fromhex("0000000000000000008000ff")
"""The activation date-time the reference data sends for 'activate now'."""
TOU_RATES = 48
BLOCKS = 4
BLOCK_RATES = 8


@dataclass(frozen=True, slots=True)
class Season:
    """A season of the passive activity calendar: its name, start (12-byte COSEM
    date-time as sent) and the week profile it uses."""

    name: bytes
    start: bytes
    week: bytes


@dataclass(frozen=True, slots=True)
class WeekProfile:
    """A week profile: its name and the day profile id for Monday .. Sunday."""

    name: bytes
    days: tuple[int, int, int, int, int, int, int]


@dataclass(frozen=True, slots=True)
class TariffSwitch:
    """From ``start`` (hour, minute, second) the tariff rate is ``rate`` (1..48)."""

    start: _dt.time
    rate: int


@dataclass(frozen=True, slots=True)
class DayProfile:
    day_id: int
    switches: tuple[TariffSwitch, ...]


@dataclass(frozen=True, slots=True)
class SpecialDay:
    """A special day: entry index, 5-byte COSEM date (0xFFFF year = every year), day id."""

    index: int
    date: bytes
    day_id: int


@dataclass(frozen=True, slots=True)
class UpdateTariff(DlmsCommand):
    """ECS01a Set Tariff and Price on ESME (critical), in the layout of the reference
    command: the passive activity calendar (seasons, week and day profiles: the TOU
    switching table), special days, the eight block-threshold register monitors, the
    standing charge and the price matrix (IC 113 unit charges: TOU prices for rates 1..48,
    block prices for blocks A..D x rates 1..8) and the activation date-times.

    Charges are in units of ``10**price_scale`` (currency) per ``10**commodity_scale`` Wh
    (prices) or per day (standing charge). ``activate_at`` None means activate now.
    ``tariff_flag`` is 0-0:94.44.2.0 attribute 4 (TRUE in the reference data; its GBCS
    name is not confirmed here).
    """

    counter: int
    seasons: tuple[Season, ...]
    week_profiles: tuple[WeekProfile, ...]
    day_profiles: tuple[DayProfile, ...]
    standing_charge: int
    tou_prices: tuple[int, ...]
    block_prices: tuple[tuple[int, ...], ...] = ((0,) * BLOCK_RATES,) * BLOCKS
    block_thresholds: tuple[tuple[int, ...], ...] = ((0xFFFF_FFFF,),) * 8
    special_days: tuple[SpecialDay, ...] = ()
    activate_at: _dt.datetime | None = None
    price_scale: int = -5
    commodity_scale: int = 3
    tariff_flag: bool = True
    message_code: ClassVar[int] = 0x0019

    def specs(self) -> tuple[AccessSpec, ...]:
        return (
            dlms.set_(20, ACTIVITY_CALENDAR, 7),
            dlms.set_(20, ACTIVITY_CALENDAR, 8),
            dlms.set_(20, ACTIVITY_CALENDAR, 9),
            dlms.set_(11, SPECIAL_DAYS, 2),
            *(dlms.set_(21, obis, 2) for obis in BLOCK_THRESHOLD_MONITORS),
            dlms.set_(9000, GB_TARIFF_FLAG, 4),
            dlms.set_(113, STANDING_CHARGE, 6),
            dlms.set_(113, PRICE_MATRIX, 6),
            dlms.set_(20, ACTIVITY_CALENDAR, 10),
            dlms.set_(9000, GB_TARIFF_ACTIVATION, 6),
            dlms.set_(9000, GB_TARIFF_FLAG, 6),
            dlms.set_(113, STANDING_CHARGE, 7),
            dlms.set_(113, PRICE_MATRIX, 7),
            dlms.set_(9000, GB_TARIFF_ACTIVATION_2, 6),
        )

    def problems(self) -> list[str]:
        """Why a meter would reject this tariff (empty when it is consistent)."""
        found: list[str] = []
        weeks = {w.name for w in self.week_profiles}
        days = {d.day_id for d in self.day_profiles}
        if not self.seasons:
            found.append("the calendar has no season")
        for s in self.seasons:
            if s.week not in weeks:
                found.append(f"season {s.name!r} uses unknown week profile {s.week!r}")
        for w in self.week_profiles:
            for day_id in w.days:
                if day_id not in days:
                    found.append(f"week profile {w.name!r} uses unknown day profile {day_id}")
        for d in self.day_profiles:
            if not d.switches:
                found.append(f"day profile {d.day_id} has no tariff switch")
            starts = [x.start for x in d.switches]
            if starts != sorted(starts) or len(set(starts)) != len(starts):
                found.append(f"day profile {d.day_id}: switch times not strictly increasing")
            for x in d.switches:
                if not 1 <= x.rate <= TOU_RATES:
                    found.append(f"day profile {d.day_id}: tariff rate {x.rate} not in 1..48")
        for sd in self.special_days:
            if sd.day_id not in days:
                found.append(f"special day {sd.index} uses unknown day profile {sd.day_id}")
        if len(self.tou_prices) != TOU_RATES:
            found.append(f"{len(self.tou_prices)} TOU prices, expected {TOU_RATES}")
        if len(self.block_prices) != BLOCKS or any(
            len(b) != BLOCK_RATES for b in self.block_prices
        ):
            found.append("block prices must be 4 blocks x 8 rates")
        if len(self.block_thresholds) != len(BLOCK_THRESHOLD_MONITORS):
            found.append("block thresholds must be 8 register monitors")
        charges = [
            self.standing_charge,
            *self.tou_prices,
            *(p for b in self.block_prices for p in b),
        ]
        if any(x < 0 for x in charges):
            found.append("negative standing charge or price")
        if any(x > 0x7FFF for x in charges):
            found.append("a charge exceeds 32767 (a DLMS long): use a larger price_scale")
        return found

    def _activation(self) -> OctetString:
        if self.activate_at is None:
            return dlms.octet_string(IMMEDIATE)
        return _stamp(self.activate_at)

    def encode(self) -> bytes:
        seasons = dlms.array(
            *(
                dlms.structure(
                    dlms.octet_string(s.name), dlms.octet_string(s.start), dlms.octet_string(s.week)
                )
                for s in self.seasons
            )
        )
        weeks = dlms.array(
            *(
                dlms.structure(dlms.octet_string(w.name), *(dlms.unsigned(d) for d in w.days))
                for w in self.week_profiles
            )
        )
        days = dlms.array(
            *(
                dlms.structure(
                    dlms.unsigned(d.day_id),
                    dlms.array(
                        *(
                            dlms.structure(
                                dlms.octet_string(
                                    bytes([x.start.hour, x.start.minute, x.start.second, 0])
                                ),
                                dlms.octet_string(TARIFF_SCRIPTS.raw),
                                dlms.long_unsigned(x.rate),
                            )
                            for x in d.switches
                        )
                    ),
                )
                for d in self.day_profiles
            )
        )
        special = dlms.array(
            *(
                dlms.structure(
                    dlms.long_unsigned(s.index), dlms.octet_string(s.date), dlms.unsigned(s.day_id)
                )
                for s in self.special_days
            )
        )
        thresholds = [
            dlms.array(*(dlms.double_long_unsigned(v) for v in t)) for t in self.block_thresholds
        ]
        standing = _unit_charge(
            0, self.price_scale, (0, bytes(6), 0), [(b"", self.standing_charge)]
        )
        table = [(bytes([i + 1]), p) for i, p in enumerate(self.tou_prices)]
        for b, prices in enumerate(self.block_prices):
            table += [(bytes([0xA1 + 0x10 * b + r]), p) for r, p in enumerate(prices)]
        price = _unit_charge(
            self.commodity_scale, self.price_scale, (3, Obis.parse("1-0:1.8.0.255").raw, 2), table
        )
        data: list[Data] = [seasons, weeks, days, special, *thresholds]
        data += [dlms.boolean(self.tariff_flag), standing, price]
        data += [self._activation()] * 6
        return _request(self.counter, self.specs(), data)

    @classmethod
    def decode(cls, content: bytes) -> UpdateTariff:
        template = cls(0, (), (), (), 0, ())
        counter, data = _parse_request(content, template.specs())
        seasons = tuple(
            Season(*(_octets(v, "season") for v in _items(s, "season", 3)))
            for s in _items(data[0], "season profiles")
        )
        weeks = []
        for w in _items(data[1], "week profiles"):
            name, *day_ids = _items(w, "week profile", 8)
            ids = tuple(_int(d, "day id", dlms.DataType.UNSIGNED) for d in day_ids)
            weeks.append(
                WeekProfile(
                    _octets(name, "week name"),
                    (ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], ids[6]),
                )
            )
        day_profiles = []
        for d in _items(data[2], "day profiles"):
            day_id, actions = _items(d, "day profile", 2)
            switches = []
            for a in _items(actions, "day profile actions"):
                start, script, rate = _items(a, "day profile action", 3)
                t = _octets(start, "switch time")
                if len(t) != 4 or _octets(script, "script") != TARIFF_SCRIPTS.raw:
                    raise DecodeError("day profile action not in the GBCS form")
                try:
                    when = _dt.time(t[0], t[1], t[2])
                except ValueError:
                    raise DecodeError(f"bad switch time {t.hex()}") from None
                switches.append(
                    TariffSwitch(when, _int(rate, "tariff rate", dlms.DataType.LONG_UNSIGNED))
                )
            day_profiles.append(
                DayProfile(_int(day_id, "day id", dlms.DataType.UNSIGNED), tuple(switches))
            )
        special = tuple(
            SpecialDay(
                _int(i, "special day index", dlms.DataType.LONG_UNSIGNED),
                _octets(date, "special day date"),
                _int(day, "special day id", dlms.DataType.UNSIGNED),
            )
            for i, date, day in (
                _items(s, "special day", 3) for s in _items(data[3], "special days")
            )
        )
        thresholds = tuple(
            tuple(
                _int(v, "block threshold", dlms.DataType.DOUBLE_LONG_UNSIGNED)
                for v in _items(t, "thresholds")
            )
            for t in data[4:12]
        )
        flag = data[12]
        if not isinstance(flag, dlms.Boolean):
            raise DecodeError("tariff flag: expected a boolean")
        _, price_scale, _, standing_table = _parse_unit_charge(data[13])
        commodity_scale, price_scale_2, _, price_table = _parse_unit_charge(data[14])
        if len(standing_table) != 1 or price_scale != price_scale_2:
            raise DecodeError("standing charge not in the GBCS form")
        prices = dict(price_table)
        tou = tuple(prices.get(bytes([i + 1]), 0) for i in range(TOU_RATES))
        blocks = tuple(
            tuple(prices.get(bytes([0xA1 + 0x10 * b + r]), 0) for r in range(BLOCK_RATES))
            for b in range(BLOCKS)
        )
        activations = {_octets(v, "activation time") for v in data[15:21]}
        if len(activations) != 1:
            raise DecodeError("the tariff elements activate at different times")
        raw = activations.pop()
        activate_at = None if raw == IMMEDIATE else CosemDateTime.from_bytes(raw).to_datetime()
        found = cls(
            counter,
            seasons,
            tuple(weeks),
            tuple(day_profiles),
            standing_table[0][1],
            tou,
            blocks,
            thresholds,
            special,
            activate_at,
            price_scale,
            commodity_scale,
            flag.value,
        )
        _check_exact(found, content)
        return found


def _unit_charge(
    commodity_scale: int,
    price_scale: int,
    commodity: tuple[int, bytes, int],
    table: Sequence[tuple[bytes, int]],
) -> Structure:
    """IC 113 unit_charge: scaling, commodity reference, charge table (index, long charge)."""
    return dlms.structure(
        dlms.structure(dlms.integer(commodity_scale), dlms.integer(price_scale)),
        dlms.structure(
            dlms.long_unsigned(commodity[0]),
            dlms.octet_string(commodity[1]),
            dlms.integer(commodity[2]),
        ),
        dlms.array(*(dlms.structure(dlms.octet_string(i), dlms.long(v)) for i, v in table)),
    )


def _parse_unit_charge(
    value: Data,
) -> tuple[int, int, tuple[int, bytes, int], list[tuple[bytes, int]]]:
    scaling, commodity, table = _items(value, "unit charge", 3)
    cs, ps = _items(scaling, "charge scaling", 2)
    cls_, obis, attr = _items(commodity, "commodity", 3)
    entries = []
    for e in _items(table, "charge table"):
        index, charge = _items(e, "charge table entry", 2)
        entries.append((_octets(index, "charge index"), _int(charge, "charge", dlms.DataType.LONG)))
    return (
        _int(cs, "commodity scale", dlms.DataType.INTEGER),
        _int(ps, "price scale", dlms.DataType.INTEGER),
        (
            _int(cls_, "commodity class"),
            _octets(obis, "commodity OBIS"),
            _int(attr, "commodity attribute"),
        ),
        entries,
    )


# =========================================================================== CS01a / CS01b

TOKEN_GATEWAY = "0-0:19.40.0.255"
"""IC 115 token gateway; method 1 ``enter`` takes the token."""


def _check_utrn(utrn: str) -> None:
    if not (utrn.isascii() and utrn.isdigit() and len(utrn) == 20):
        raise EncodeError(f"a UTRN is 20 decimal digits, not {utrn!r}")


@dataclass(frozen=True, slots=True)
class TopUp(DlmsCommand):
    """CS01a Apply Prepayment Top Up to an ESME: the UTRN (20 digits, as ASCII) entered
    through the DLMS token gateway. *Unverified*: no reference message for CS01a was
    available; the object (IC 115 0-0:19.40.0.255 method 1) is the DLMS token gateway."""

    counter: int
    utrn: str
    message_code: ClassVar[int] = 0x0007

    def __post_init__(self) -> None:
        _check_utrn(self.utrn)

    def specs(self) -> tuple[AccessSpec, ...]:
        return (dlms.action(115, TOKEN_GATEWAY, 1),)

    def encode(self) -> bytes:
        return _request(self.counter, self.specs(), [dlms.octet_string(self.utrn.encode("ascii"))])

    @classmethod
    def decode(cls, content: bytes) -> TopUp:
        counter, (token,) = _parse_request(content, (dlms.action(115, TOKEN_GATEWAY, 1),))
        try:
            return cls(counter, _octets(token, "UTRN").decode("ascii"))
        except (UnicodeDecodeError, EncodeError) as exc:
            raise DecodeError(f"CS01a: {exc}") from None


class TopUpOrigin(IntEnum):
    """ZCL Prepayment ConsumerTopUp originating device."""

    ENERGY_SERVICE_INTERFACE = 0
    METER = 1
    IHD = 2


@dataclass(frozen=True, slots=True)
class TopUpGas:
    """CS01b Apply Prepayment Top Up to a GSME: ZCL Prepayment ConsumerTopUp (0x04) with the
    UTRN as the top-up code. *Unverified* against reference data (none was available)."""

    utrn: str
    origin: TopUpOrigin = TopUpOrigin.ENERGY_SERVICE_INTERFACE
    message_code: ClassVar[int] = 0x0097

    def __post_init__(self) -> None:
        _check_utrn(self.utrn)

    def encode(self) -> bytes:
        code = ZclValue.string(ZclType.OCTET_STRING, self.utrn.encode("ascii")).to_bytes()
        frame = ZclFrame(gbz.FC_CLUSTER_SPECIFIC, 0, 0x04, bytes([self.origin]) + code)
        return GbzPayload((GbzComponent(Cluster.PREPAYMENT, frame, CONTROL_LAST),)).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> TopUpGas:
        payload = GbzPayload.from_bytes(content)
        if len(payload.components) != 1 or payload.components[0].cluster_id != Cluster.PREPAYMENT:
            raise DecodeError("CS01b: expected one Prepayment cluster component")
        frame = payload.components[0].frame
        if not isinstance(frame, ZclFrame) or frame.command_id != 0x04 or len(frame.payload) < 2:
            raise DecodeError("CS01b: expected a ZCL ConsumerTopUp")
        try:
            found = cls(frame.payload[2:].decode("ascii"), TopUpOrigin(frame.payload[0]))
        except (UnicodeDecodeError, EncodeError, ValueError) as exc:
            raise DecodeError(f"CS01b: {exc}") from None
        _check_exact(found, content)
        return found


class TopUpResult(IntEnum):
    """ZCL Prepayment ConsumerTopUpResponse result type."""

    ACCEPTED = 0x00
    REJECTED_INVALID = 0x01
    REJECTED_DUPLICATE = 0x02
    REJECTED_ERROR = 0x03
    REJECTED_MAX_CREDIT = 0x04
    REJECTED_KEYPAD_LOCK = 0x05
    REJECTED_TOO_LARGE = 0x06
    ACCEPTED_SUPPLY_ENABLED = 0x10
    ACCEPTED_SUPPLY_DISABLED = 0x11
    ACCEPTED_SUPPLY_ARMED = 0x12


@dataclass(frozen=True, slots=True)
class GasTopUpResult:
    """CS01b response: ZCL ConsumerTopUpResponse (0x03): result, top-up value, source,
    credit remaining (values in the meter's currency units). *Unverified* shape."""

    result: TopUpResult
    value: int
    credit_remaining: int
    origin: TopUpOrigin = TopUpOrigin.ENERGY_SERVICE_INTERFACE

    @property
    def ok(self) -> bool:
        return self.result in (
            TopUpResult.ACCEPTED,
            TopUpResult.ACCEPTED_SUPPLY_ENABLED,
            TopUpResult.ACCEPTED_SUPPLY_DISABLED,
            TopUpResult.ACCEPTED_SUPPLY_ARMED,
        )

    def encode(self) -> bytes:
        payload = (
            bytes([self.result])
            + self.value.to_bytes(4, "little", signed=True)
            + bytes([self.origin])
            + self.credit_remaining.to_bytes(4, "little", signed=True)
        )
        frame = ZclFrame(gbz.FC_CLUSTER_SPECIFIC | gbz.FC_SERVER_TO_CLIENT, 0, 0x03, payload)
        return GbzPayload((GbzComponent(Cluster.PREPAYMENT, frame, CONTROL_LAST),)).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> GasTopUpResult:
        payload = GbzPayload.from_bytes(content)
        frame = payload.components[0].frame if len(payload.components) == 1 else None
        if not isinstance(frame, ZclFrame) or frame.command_id != 0x03 or len(frame.payload) != 10:
            raise DecodeError("CS01b response: expected a ZCL ConsumerTopUpResponse")
        p = frame.payload
        try:
            found = cls(
                TopUpResult(p[0]),
                int.from_bytes(p[1:5], "little", signed=True),
                int.from_bytes(p[6:10], "little", signed=True),
                TopUpOrigin(p[5]),
            )
        except ValueError as exc:
            raise DecodeError(f"CS01b response: {exc}") from None
        _check_exact(found, content)
        return found


# =========================================================================== dispatch

Command = (
    UpdateTariff
    | TopUp
    | TopUpGas
    | ReadImportRegisters
    | SupplyEnable
    | SupplyDisable
    | SupplyArm
    | SetClock
    | SetGasClock
    | AddDeviceLogEntry
    | RemoveDeviceLogEntry
    | ReadFirmwareVersion
    | ActivateFirmware
    | ReadGasRegister
    | ValveClose
    | ValveArm
    | ReadValve
)
Response = (
    GasTopUpResult
    | Outcome
    | ImportRegistersResponse
    | ClockSet
    | GasClockSet
    | FirmwareVersion
    | FirmwareActivated
    | FirmwareActivationScheduled
    | GasRegisterResponse
    | ValveState
    | ValveStatus
    | ZclFailure
)
Alert = DlmsAlert | GbzAlert | FutureDatedFirmwareAlert
Content = Command | Response | Alert


_COMMANDS: dict[int, Callable[[bytes], Command]] = {
    0x0019: UpdateTariff.decode,
    0x0007: TopUp.decode,
    0x0097: TopUpGas.decode,
    0x0027: ReadImportRegisters.decode,
    0x004F: SupplyEnable.decode,
    0x0050: SupplyDisable.decode,
    0x0051: SupplyArm.decode,
    0x0062: SetClock.decode,
    0x007F: SetGasClock.decode,
    0x0001: AddDeviceLogEntry.decode,
    0x0002: RemoveDeviceLogEntry.decode,
    0x0059: ReadFirmwareVersion.decode,
    0x0012: ActivateFirmware.decode,
    0x0074: ReadGasRegister.decode,
    0x0081: ValveClose.decode,
    0x0085: ValveArm.decode,
    0x0082: ReadValve.decode,
}

SUPPORTED_COMMANDS: frozenset[int] = frozenset(_COMMANDS)
"""Message codes :func:`decode_command` knows."""

_RESPONSES: dict[int, tuple[Callable[[bytes], Response], ...]] = {
    0x0019: (Outcome.decode,),
    0x0007: (Outcome.decode,),
    0x0097: (GasTopUpResult.decode, ZclFailure.decode),
    0x0027: (ImportRegistersResponse.decode, Outcome.decode),
    0x004F: (Outcome.decode,),
    0x0050: (Outcome.decode,),
    0x0051: (Outcome.decode,),
    0x0062: (ClockSet.decode,),
    0x007F: (GasClockSet.decode,),
    0x0001: (Outcome.decode,),
    0x0002: (Outcome.decode,),
    0x0059: (FirmwareVersion.decode,),
    0x0012: (FirmwareActivated.decode, FirmwareActivationScheduled.decode),
    0x0074: (GasRegisterResponse.decode, ZclFailure.decode),
    0x0081: (ValveState.decode, ZclFailure.decode),
    0x0085: (ValveState.decode, ZclFailure.decode),
    0x0082: (ValveStatus.decode, ZclFailure.decode),
}


def _first(decoders: Sequence[Callable[[bytes], object]], content: bytes, what: str) -> object:
    errors = []
    for decoder in decoders:
        try:
            found = decoder(content)
            _check_exact(found, content)  # type: ignore[arg-type]
        except (DecodeError, EncodeError, ValueError) as exc:
            errors.append(str(exc))
            continue
        return found
    raise DecodeError(f"{what}: " + "; ".join(errors))


def decode_command(message_code: int, content: bytes) -> Command:
    """The typed command in ``content``; DecodeError when the use case is not supported
    here or the content is not what GBCS sends for it."""
    decoder = _COMMANDS.get(message_code)
    if decoder is None:
        raise DecodeError(f"no typed command content for message code 0x{message_code:04X}")
    found = _first((decoder,), content, f"command 0x{message_code:04X}")
    return found  # type: ignore[return-value]


def decode_response(message_code: int, content: bytes) -> Response:
    """The typed response in ``content`` (success and failure shapes both)."""
    decoders = _RESPONSES.get(message_code)
    if decoders is None:
        raise DecodeError(f"no typed response content for message code 0x{message_code:04X}")
    return _first(decoders, content, f"response 0x{message_code:04X}")  # type: ignore[return-value]


def decode_alert(message_code: int, content: bytes) -> Alert:
    """The typed alert in ``content``: DLMS (ESME, CHF), GBZ (GSME, GPF) or the 0x00CA
    firmware alert."""
    decoder: Callable[[bytes], Alert]
    if message_code == FutureDatedFirmwareAlert.message_code:
        decoder = FutureDatedFirmwareAlert.decode
    elif content[:1] == bytes([dlms.TAG_DATA_NOTIFICATION]):
        decoder = DlmsAlert.decode
    else:
        decoder = GbzAlert.from_bytes
    try:
        return decoder(content)
    except (EncodeError, ValueError) as exc:
        raise DecodeError(f"alert 0x{message_code:04X}: {exc}") from None


__all__ = [
    "ActivateFirmware",
    "AddDeviceLogEntry",
    "Alert",
    "ClockSet",
    "Command",
    "Content",
    "DayProfile",
    "Decrypt",
    "DlmsAlert",
    "Encrypt",
    "FirmwareActivated",
    "FirmwareActivationScheduled",
    "FirmwareVersion",
    "FutureDatedFirmwareAlert",
    "GasClockSet",
    "GasRegister",
    "GasRegisterResponse",
    "GasTopUpResult",
    "GbzAlert",
    "ImportRegisters",
    "ImportRegistersResponse",
    "Outcome",
    "ReadFirmwareVersion",
    "ReadGasRegister",
    "ReadImportRegisters",
    "ReadValve",
    "RemoveDeviceLogEntry",
    "Response",
    "Season",
    "SetClock",
    "SetGasClock",
    "SpecialDay",
    "SupplyArm",
    "SupplyDisable",
    "SupplyEnable",
    "SupplyStatus",
    "TariffSwitch",
    "TopUp",
    "TopUpGas",
    "TopUpOrigin",
    "TopUpResult",
    "UpdateTariff",
    "ValveArm",
    "ValveClose",
    "ValveState",
    "ValveStatus",
    "WeekProfile",
    "ZclFailure",
    "alert_message_code",
    "decode_alert",
    "decode_command",
    "decode_response",
    "firmware_verification_alert",
    "gbz_alert",
]
