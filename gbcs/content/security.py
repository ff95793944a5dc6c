"""Security credentials: CS02b / CS02g Update Security Credentials (a remote party's trust
anchors replaced on the device), CS02c Issue Security Credentials (a new device key), CS02d
Update Device Certificates on Device (its certificate installed) and CS02e Provide Device
Certificates from Device.

CS02b and CS02g share one ASN.1 command, :class:`UpdateSecurityCredentials`; the message
code says the credentials-replacement mode (``0x0102`` supplierBySupplier is mode 2, the
CS02b codes are ``0x0100 + mode``; CS02g ``0x0125`` / ``0x0126`` are modes 10 / 11)::

    SEQUENCE {
      SEQUENCE {                                  -- authorising remote party control
        INTEGER mode,
        [1] 01          OPTIONAL,                 -- do not apply time-based path checks
        [2] { INTEGER role, BIT STRING usage } OPTIONAL,  -- the authorising trust anchor cell
        [3] INTEGER     originator counter,
        [4] INTEGER     new remote party floor counter OPTIONAL,
        [5] SEQUENCE OF SEQUENCE { INTEGER, INTEGER } OPTIONAL,  -- prepayment top-up floor
        [6] SEQUENCE OF SEQUENCE { INTEGER role, INTEGER floor,   -- another party's floors
                                   SEQUENCE OF SEQUENCE { INTEGER, INTEGER } OPTIONAL
                                 } OPTIONAL },                    -- (its top-up floor)
      SEQUENCE OF SEQUENCE { Certificate, SEQUENCE { INTEGER role, BIT STRING usage
                                                     [, INTEGER 1 (top-up)] } },
      SEQUENCE OF Certificate,                    -- the certification path
      GeneralizedTime OPTIONAL }                  -- execution date-time (future dated)

The response (:class:`CredentialsUpdated`) echoes the counter and mode, the floors set, and
for each cell the outcome with the old and new subject and subject key identifier; a
future-dated command is only acknowledged (``SEQUENCE { NULL }``). A party replacing
another's credentials (the transitional CoS party the supplier's, 6.23) sets that role's
floor and its prepayment top-up floor in the role's ``[6]`` entry, and the response echoes
the entry. The reading of the prepayment top-up pair as (0, floor) is this project's: every
sample carries 0s.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from functools import partial
from typing import ClassVar, Final

from cryptography import x509
from cryptography.x509.oid import NameOID

from gbcs.content._common import _check_exact, _sequence, register
from gbcs.errors import DecodeError
from gbcs.payloads import asn1
from gbcs.payloads.asn1 import Der

DS_USAGE: Final = b"\x07\x80"
"""KeyUsage digitalSignature as a BIT STRING's content (7 unused bits, bit 0 set)."""
KA_USAGE: Final = b"\x03\x08"
"""KeyUsage keyAgreement."""

CS02B_MODES: Final = {0x0100 + mode: mode for mode in range(10)}
CS02G_MODES: Final = {0x0125: 10, 0x0126: 11}
UPDATE_CODES: Final = {**CS02B_MODES, **CS02G_MODES}
"""Message code -> credentials-replacement mode."""


class CellOutcome(IntEnum):
    """The outcome of one trust anchor cell's replacement (ENUMERATED)."""

    SUCCESS = 0
    FAILED = 10
    """The reference error response's value: the cell keeps its old certificate."""


@dataclass(frozen=True, slots=True)
class Cell:
    """A trust anchor cell: the remote party role and the key usage (DS or KA); ``top_up``
    for the supplier's prepayment top-up KA cell."""

    role: int
    usage: bytes
    top_up: bool = False

    def der(self) -> Der:
        parts = [asn1.der_integer(self.role), Der(asn1.BIT_STRING, self.usage)]
        if self.top_up:
            parts.append(asn1.der_integer(1))
        return asn1.der_sequence(*parts)

    @classmethod
    def from_der(cls, node: Der) -> Cell:
        if node.tag != asn1.SEQUENCE or node.children is None or len(node.children) not in (2, 3):
            raise DecodeError("a trust anchor cell is SEQUENCE { role, usage [, 1] }")
        usage = node.children[1]
        if usage.tag != asn1.BIT_STRING:
            raise DecodeError("a trust anchor cell's usage is a BIT STRING")
        top_up = len(node.children) == 3
        if top_up and node.children[2].int_value() != 1:
            raise DecodeError("a trust anchor cell's third element is 1 (top-up) when present")
        return cls(node.children[0].int_value(), usage.value, top_up)


def _ctx(number: int, value: int) -> Der:
    return asn1.der_integer(value, 0x80 | number)


def _pairs(tag: int, pairs: Sequence[tuple[int, int]]) -> Der:
    return asn1.der_sequence(
        *(asn1.der_sequence(asn1.der_integer(a), asn1.der_integer(b)) for a, b in pairs), tag=tag
    )


Pairs = tuple[tuple[int, int], ...]
Floor = tuple[int, int, Pairs]
"""A remote party's floors: (role, floor, its prepayment top-up floor pairs)."""


def _floors(tag: int, floors: Sequence[Floor]) -> Der:
    entries = []
    for role, floor, pairs in floors:
        parts = [asn1.der_integer(role), asn1.der_integer(floor)]
        if pairs:
            parts.append(_pairs(asn1.SEQUENCE, pairs))
        entries.append(asn1.der_sequence(*parts))
    return asn1.der_sequence(*entries, tag=tag)


def _read_floors(node: Der) -> tuple[Floor, ...]:
    floors = []
    for f in node.children or ():
        items = f.children or ()
        if len(items) not in (2, 3):
            raise DecodeError("a floor is SEQUENCE { role, floor [, top-up floors] }")
        pairs = _read_pairs(items[2]) if len(items) == 3 else ()
        floors.append((items[0].int_value(), items[1].int_value(), pairs))
    return tuple(floors)


def _read_pairs(node: Der) -> Pairs:
    out = []
    for pair in node.children or ():
        if pair.children is None or len(pair.children) != 2:
            raise DecodeError("expected SEQUENCE { INTEGER, INTEGER }")
        out.append((pair.children[0].int_value(), pair.children[1].int_value()))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class UpdateSecurityCredentials:
    """CS02b / CS02g: replace the certificates of ``certificates``' cells (DER X.509 each),
    authorised by the party in ``authorising`` (None: the ACB replacing its own)."""

    message_code: int
    counter: int
    authorising: Cell | None
    certificates: tuple[tuple[Cell, bytes], ...]
    path: tuple[bytes, ...]
    skip_time_checks: bool = False
    floor: int | None = None
    top_up_floors: Pairs = ()
    role_floors: tuple[Floor, ...] = ()
    """The floors of other roles than the authorising party's (``[6]``)."""
    execute_at: _dt.datetime | None = None

    @property
    def mode(self) -> int:
        return UPDATE_CODES[self.message_code]

    def encode(self) -> bytes:
        control: list[Der] = [asn1.der_integer(self.mode)]
        if self.skip_time_checks:
            control.append(Der(0x81, b"\x01"))
        if self.authorising is not None:
            cell = self.authorising.der()
            control.append(Der(0xA2, children=cell.children))
        control.append(_ctx(3, self.counter))
        if self.floor is not None:
            control.append(_ctx(4, self.floor))
        if self.top_up_floors:
            control.append(_pairs(0xA5, self.top_up_floors))
        if self.role_floors:
            control.append(_floors(0xA6, self.role_floors))
        parts = [
            asn1.der_sequence(*control),
            asn1.der_sequence(
                *(asn1.der_sequence(Der.from_bytes(c), cell.der()) for cell, c in self.certificates)
            ),
            asn1.der_sequence(*(Der.from_bytes(c) for c in self.path)),
        ]
        if self.execute_at is not None:
            parts.append(asn1.der_generalized_time(self.execute_at))
        return asn1.der_sequence(*parts).to_bytes()

    @classmethod
    def decode_as(cls, message_code: int, content: bytes) -> UpdateSecurityCredentials:
        node = _sequence(content)
        children = node.children or ()
        if len(children) not in (3, 4):
            raise DecodeError("an update of security credentials has 3 or 4 parts")
        control = children[0].children
        if not control:
            raise DecodeError("the authorising remote party control is empty")
        fields: dict[int, Der] = {}
        for element in control[1:]:
            fields[element.tag & 0x1F] = element
        if control[0].int_value() != UPDATE_CODES.get(message_code):
            raise DecodeError(f"mode {control[0].int_value()} is not 0x{message_code:04X}'s")
        if 3 not in fields:
            raise DecodeError("the authorising remote party counter [3] is missing")
        authorising = None
        if 2 in fields:
            authorising = Cell.from_der(Der(asn1.SEQUENCE, children=fields[2].children))
        certificates = []
        for item in children[1].children or ():
            if item.children is None or len(item.children) != 2:
                raise DecodeError("a replacement is SEQUENCE { certificate, cell }")
            certificates.append((Cell.from_der(item.children[1]), item.children[0].to_bytes()))
        found = cls(
            message_code=message_code,
            counter=fields[3].int_value(),
            authorising=authorising,
            certificates=tuple(certificates),
            path=tuple(c.to_bytes() for c in children[2].children or ()),
            skip_time_checks=1 in fields,
            floor=fields[4].int_value() if 4 in fields else None,
            top_up_floors=_read_pairs(fields[5]) if 5 in fields else (),
            role_floors=_read_floors(fields[6]) if 6 in fields else (),
            execute_at=children[3].time_value() if len(children) == 4 else None,
        )
        _check_exact(found, content)
        return found


@dataclass(frozen=True, slots=True)
class CellResult:
    """One cell's outcome: the subject EUI and subject key identifier before and after."""

    cell: Cell
    outcome: CellOutcome
    old_subject: bytes
    old_key_id: bytes
    new_subject: bytes
    new_key_id: bytes

    def der(self) -> Der:
        return asn1.der_sequence(
            self.cell.der(),
            asn1.der_enumerated(self.outcome),
            asn1.der_octet_string(self.old_subject),
            asn1.der_octet_string(self.old_key_id),
            asn1.der_octet_string(self.new_subject),
            asn1.der_octet_string(self.new_key_id),
        )


def _long(node: Der) -> Der:
    """GBCS devices write the lengths of these sequences from 128 in the 82 form."""
    if len(node.content_bytes()) >= 128:
        return Der(node.tag, node.value, node.children, 3)
    return node


@dataclass(frozen=True, slots=True)
class CredentialsUpdated:
    """CS02b / CS02g response. ``results`` empty with ``accepted`` True: a future-dated
    command acknowledged (``SEQUENCE { NULL }``)."""

    counter: int
    mode: int
    floors: tuple[Floor, ...] = ()
    """(role, floor, top-up floor pairs) of the parties whose counters were set."""
    results: tuple[CellResult, ...] = ()
    accepted: bool = False

    @property
    def ok(self) -> bool:
        return self.accepted or (
            bool(self.results) and all(r.outcome is CellOutcome.SUCCESS for r in self.results)
        )

    def encode(self) -> bytes:
        if self.accepted:
            return asn1.der_sequence(Der(asn1.NULL, b"")).to_bytes()
        return _long(asn1.der_sequence(Der(asn1.NULL, b""), self.body())).to_bytes()

    def body(self) -> Der:
        """The outcome after the NULL: ``SEQUENCE { counter, mode, floors, cell results }``
        (what a future-dated update's alert carries)."""
        body = asn1.der_sequence(
            asn1.der_integer(self.counter),
            asn1.der_integer(self.mode),
            _long(_floors(asn1.SEQUENCE, self.floors)),
            _long(asn1.der_sequence(*(r.der() for r in self.results))),
        )
        return _long(body)

    @classmethod
    def decode(cls, content: bytes) -> CredentialsUpdated:
        node = _sequence(content)
        children = node.children or ()
        if len(children) == 1:
            found = cls(0, 0, accepted=True)
        else:
            if len(children) != 2 or children[0].tag != asn1.NULL:
                raise DecodeError("expected SEQUENCE { NULL, outcome }")
            found = cls.from_body(children[1])
        _check_exact(found, content)
        return found

    @classmethod
    def from_body(cls, node: Der) -> CredentialsUpdated:
        """The outcome from its ``SEQUENCE { counter, mode, floors, cell results }``."""
        body = node.children or ()
        if len(body) != 4:
            raise DecodeError("an update outcome has 4 parts")
        floors = _read_floors(body[2])
        results = []
        for r in body[3].children or ():
            items = r.children or ()
            if len(items) != 6:
                raise DecodeError("a cell outcome has 6 parts")
            results.append(
                CellResult(
                    Cell.from_der(items[0]),
                    CellOutcome(items[1].int_value()),
                    *(i.value for i in items[2:]),
                )
            )
        return cls(body[0].int_value(), body[1].int_value(), floors, tuple(results))


@dataclass(frozen=True, slots=True)
class FutureDatedCredentialsAlert:
    """0x00CB Future Dated Updated Security Credentials Alert (CS02b): ``SEQUENCE { alertCode
    INTEGER (8F66 executed / 8F67 not), executionDateTime GeneralizedTime, the update's
    outcome }`` - the outcome as the command's immediate response carries it after its NULL
    (``SEQUENCE { counter, mode, floors, cell results }``), as the DCC's reference alerts
    show. :class:`FutureDatedLoadControllerAlert` (0x0124) is the same for CS02g."""

    executed: bool
    when: _dt.datetime
    command_counter: int
    result: CredentialsUpdated
    message_code: ClassVar[int] = 0x00CB

    @property
    def alert_code(self) -> int:
        """0x8F66 (executed) or 0x8F67 (not executed), as alerts name theirs."""
        return 0x8F66 if self.executed else 0x8F67

    def encode(self) -> bytes:
        outcome = dataclasses.replace(self.result, counter=self.command_counter)
        return _long(
            asn1.der_sequence(
                asn1.der_integer(self.alert_code),
                asn1.der_generalized_time(self.when),
                outcome.body(),
            )
        ).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> FutureDatedCredentialsAlert:
        node = _sequence(content, 3)
        code = node.child(0).int_value()
        if code not in (0x8F66, 0x8F67):
            raise DecodeError(f"0x{cls.message_code:04X} alert code 0x{code:04X} is not 8F66/8F67")
        result = CredentialsUpdated.from_body(node.child(2))
        found = cls(code == 0x8F66, node.child(1).time_value(), result.counter, result)
        _check_exact(found, content)
        return found


@dataclass(frozen=True, slots=True)
class FutureDatedLoadControllerAlert(FutureDatedCredentialsAlert):
    """0x0124 Future Dated Updated Load Controller Security Credentials Alert (CS02g): the
    layout of :class:`FutureDatedCredentialsAlert`."""

    message_code: ClassVar[int] = 0x0124


@dataclass(frozen=True, slots=True)
class IssueSecurityCredentials:
    """CS02c: the device makes a new key pair of ``usage`` (DS or KA) and answers a PKCS #10
    certification request for it: ``SEQUENCE { BIT STRING usage }``."""

    usage: bytes
    message_code: ClassVar[int] = 0x000A

    def encode(self) -> bytes:
        return asn1.der_sequence(Der(asn1.BIT_STRING, self.usage)).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> IssueSecurityCredentials:
        node = _sequence(content, 1)
        usage = node.child(0)
        if usage.tag != asn1.BIT_STRING or usage.value not in (DS_USAGE, KA_USAGE):
            raise DecodeError("CS02c asks for a digital-signing or key-agreement key")
        found = cls(usage.value)
        _check_exact(found, content)
        return found


@dataclass(frozen=True, slots=True)
class CertificationRequest:
    """CS02c response: the DER PKCS #10 request for the new key."""

    der: bytes
    ok: ClassVar[bool] = True

    def encode(self) -> bytes:
        return self.der

    @classmethod
    def decode(cls, content: bytes) -> CertificationRequest:
        node = _sequence(content)
        if len(node.children or ()) != 3:
            raise DecodeError("a certification request is SEQUENCE { info, algorithm, sig }")
        return cls(content)


@dataclass(frozen=True, slots=True)
class CredentialsRefused:
    """The bare ``INTEGER`` error response of CS02c (the reference carries 3)."""

    code: int
    ok: ClassVar[bool] = False

    def encode(self) -> bytes:
        return asn1.der_integer(self.code).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> CredentialsRefused:
        node = asn1.decode_der(content)
        if node.tag != asn1.INTEGER:
            raise DecodeError("expected an INTEGER")
        return cls(node.int_value())


def _usage(cert: bytes) -> bytes:
    """The trust anchor usage (DS or KA) of a DER certificate, from its key usage."""
    try:
        usage = x509.load_der_x509_certificate(cert).extensions.get_extension_for_class(
            x509.KeyUsage
        )
    except (ValueError, x509.ExtensionNotFound) as exc:
        raise DecodeError(f"a device certificate with a key usage was expected: {exc}") from None
    if usage.value.digital_signature == usage.value.key_agreement:
        raise DecodeError("a device certificate is for digital signing or key agreement")
    return DS_USAGE if usage.value.digital_signature else KA_USAGE


HW_MODULE_NAME: Final = "1.3.6.1.5.5.7.8.4"
"""RFC 4108 hardwareModuleName: a GBCS device certificate's subjectAltName otherName, whose
hwSerialNum is the device's entity identifier."""


def device_identity(cert: x509.Certificate) -> bytes | None:
    """The entity a device certificate names: the hwSerialNum of its subjectAltName's
    hardwareModuleName (GBCS's device certificate profile, its subject empty), else the
    x500UniqueIdentifier of its subject (how the test PKI names devices); None if neither
    names an 8-octet EUI."""
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        names = None
    for name in names.get_values_for_type(x509.OtherName) if names is not None else ():
        if name.type_id.dotted_string != HW_MODULE_NAME:
            continue
        try:
            module = asn1.decode_der(name.value)
        except DecodeError:
            return None
        parts = module.children or ()
        if len(parts) != 2 or parts[1].tag != asn1.OCTET_STRING:
            return None
        return parts[1].value if len(parts[1].value) == 8 else None
    ids = cert.subject.get_attributes_for_oid(NameOID.X500_UNIQUE_IDENTIFIER)
    raw = ids[0].value if ids else b""
    if isinstance(raw, bytes) and len(raw) == 9:
        return raw[1:]
    return None


@dataclass(frozen=True, slots=True)
class UpdateDeviceCertificate:
    """CS02d Update Device Certificates on Device: the certificate the PKI issued for the key
    a CS02c made - the content is the DER X.509 certificate itself, no wrapper (GBCS); the
    device tells DS from KA by the certificate's key usage."""

    certificate: bytes
    message_code: ClassVar[int] = 0x000B

    def encode(self) -> bytes:
        return Der.from_bytes(self.certificate).to_bytes()

    @property
    def usage(self) -> bytes:
        return _usage(self.certificate)

    @classmethod
    def decode(cls, content: bytes) -> UpdateDeviceCertificate:
        node = _sequence(content)
        if len(node.children or ()) != 3 or node.child(0).tag != asn1.SEQUENCE:
            raise DecodeError("CS02d carries one certificate: SEQUENCE { tbs, algorithm, sig }")
        found = cls(content)
        _check_exact(found, content)
        return found


class DeviceCertificateStatus(IntEnum):
    """The outcomes of CS02d and CS02e, in the order of the DCC's Message Mapping Catalogue's
    list for SR6.15.2 and SR6.24.2: success 0 and invalidKeyUsage 3 as GBCS devices answer
    them (a certificate of another key usage is answered 3); the numbers of the others follow
    that order, this project's reading."""

    SUCCESS = 0
    INVALID_CERTIFICATE = 1
    WRONG_DEVICE_IDENTITY = 2
    INVALID_KEY_USAGE = 3
    NO_CORRESPONDING_KEY_PAIR_GENERATED = 4
    WRONG_PUBLIC_KEY = 5
    CERTIFICATE_STORAGE_FAILED = 6
    PRIVATE_KEY_CHANGE_FAILED = 7
    NO_CERTIFICATE_HELD = 8
    CERTIFICATE_RETRIEVAL_FAILURE = 9


@dataclass(frozen=True, slots=True)
class DeviceCertificateUpdated:
    """CS02d response: the status alone, a bare ``INTEGER`` (GBCS's layout, as CS02c's error
    answer)."""

    status: DeviceCertificateStatus

    @property
    def ok(self) -> bool:
        return self.status is DeviceCertificateStatus.SUCCESS

    def encode(self) -> bytes:
        return asn1.der_integer(self.status).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> DeviceCertificateUpdated:
        node = asn1.decode_der(content)
        if node.tag != asn1.INTEGER:
            raise DecodeError("a CS02d response is an INTEGER status")
        try:
            found = cls(DeviceCertificateStatus(node.int_value()))
        except ValueError:
            raise DecodeError(f"unknown CS02d status {node.int_value()}") from None
        _check_exact(found, content)
        return found


@dataclass(frozen=True, slots=True)
class ProvideDeviceCertificate:
    """CS02e Provide Device Certificates from Device: ``SEQUENCE { BIT STRING usage }``, as
    CS02c asks for a key (GBCS's layout)."""

    usage: bytes
    message_code: ClassVar[int] = 0x000C

    def encode(self) -> bytes:
        return asn1.der_sequence(Der(asn1.BIT_STRING, self.usage)).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> ProvideDeviceCertificate:
        node = _sequence(content, 1)
        usage = node.child(0)
        if usage.tag != asn1.BIT_STRING or usage.value not in (DS_USAGE, KA_USAGE):
            raise DecodeError("CS02e asks for the digital-signing or key-agreement certificate")
        found = cls(usage.value)
        _check_exact(found, content)
        return found


@dataclass(frozen=True, slots=True)
class DeviceCertificate:
    """CS02e response: the DER certificate the device holds for the usage asked."""

    der: bytes
    ok: ClassVar[bool] = True

    def encode(self) -> bytes:
        return self.der

    @property
    def usage(self) -> bytes:
        return _usage(self.der)

    @classmethod
    def decode(cls, content: bytes) -> DeviceCertificate:
        node = _sequence(content)
        if len(node.children or ()) != 3:
            raise DecodeError("a certificate is SEQUENCE { tbs, algorithm, signature }")
        return cls(content)


Command = (
    UpdateSecurityCredentials
    | IssueSecurityCredentials
    | UpdateDeviceCertificate
    | ProvideDeviceCertificate
)
Response = (
    CredentialsUpdated
    | CertificationRequest
    | CredentialsRefused
    | DeviceCertificateUpdated
    | DeviceCertificate
)

for _code in UPDATE_CODES:
    register(_code, partial(UpdateSecurityCredentials.decode_as, _code), CredentialsUpdated.decode)
register(
    0x000A, IssueSecurityCredentials.decode, CertificationRequest.decode, CredentialsRefused.decode
)
register(0x000B, UpdateDeviceCertificate.decode, DeviceCertificateUpdated.decode)
register(
    0x000C, ProvideDeviceCertificate.decode, DeviceCertificate.decode, CredentialsRefused.decode
)

__all__ = [
    "CS02B_MODES",
    "CS02G_MODES",
    "DS_USAGE",
    "KA_USAGE",
    "UPDATE_CODES",
    "Cell",
    "CellOutcome",
    "CellResult",
    "CertificationRequest",
    "CredentialsRefused",
    "CredentialsUpdated",
    "DeviceCertificate",
    "DeviceCertificateStatus",
    "DeviceCertificateUpdated",
    "Floor",
    "FutureDatedCredentialsAlert",
    "FutureDatedLoadControllerAlert",
    "IssueSecurityCredentials",
    "Pairs",
    "ProvideDeviceCertificate",
    "UpdateDeviceCertificate",
    "UpdateSecurityCredentials",
    "device_identity",
]
