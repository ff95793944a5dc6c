"""Reading use cases: ECS17b (read ESME import energy registers) and GCS13a (read GSME
consumption register).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar

from gbcs.content._common import (
    Decrypt,
    DlmsCommand,
    Encrypt,
    Outcome,
    ZclFailure,
    _check_exact,
    _int,
    _items,
    _octets,
    _parse_request,
    _parse_response,
    _request,
    register,
)
from gbcs.errors import DecodeError, EncodeError
from gbcs.payloads import dlms, gbz
from gbcs.payloads._buf import Reader, axdr_length
from gbcs.payloads.dlms import (
    NULL,
    AccessKind,
    AccessResponse,
    AccessResult,
    AccessSpec,
    Data,
    Obis,
    Structure,
)
from gbcs.payloads.gbz import (
    CONTROL_ENCRYPTED,
    CONTROL_LAST,
    AttributeRecord,
    Cluster,
    EncryptedZcl,
    GbzComponent,
    GbzPayload,
    ReadAttributes,
    ReadAttributesResponse,
    ZclFrame,
    ZclType,
    ZclValue,
)

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


# =========================================================================== registry

Command = ReadImportRegisters | ReadGasRegister
Response = ImportRegistersResponse | GasRegisterResponse
"""This family's own response shapes (besides the shared ``Outcome`` / ``ZclFailure``)."""

register(0x0027, ReadImportRegisters.decode, ImportRegistersResponse.decode, Outcome.decode)
register(0x0074, ReadGasRegister.decode, GasRegisterResponse.decode, ZclFailure.decode)


__all__ = [
    "DATA_PROTECTION",
    "ECS17B_OBJECT",
    "GAS_REGISTER_ATTRIBUTES",
    "UNIT_CUBIC_METRES",
    "UNIT_VARH",
    "UNIT_WH",
    "GasRegister",
    "GasRegisterResponse",
    "ImportRegisters",
    "ImportRegistersResponse",
    "ReadGasRegister",
    "ReadImportRegisters",
    "ecs17b_registers_plaintext",
    "ecs17b_request_fields",
    "ecs17b_response_content",
]
