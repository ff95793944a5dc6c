"""Firmware: ECS52 (read firmware version) and CS06 (activate firmware)."""

from __future__ import annotations

import datetime as _dt
import hashlib
from dataclasses import dataclass
from typing import ClassVar

from gbcs.content._common import (
    DlmsCommand,
    _counter_of,
    _fixed_request_counter,
    _octets,
    _parse_request,
    _parse_response,
    _request,
    _sequence,
    register,
)
from gbcs.errors import DecodeError, EncodeError
from gbcs.payloads import asn1, dlms
from gbcs.payloads.dlms import (
    NULL,
    AccessKind,
    AccessResponse,
    AccessResult,
    AccessSpec,
)

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


def image_hash(image: bytes) -> bytes:
    """The Manufacturer Image hash by which CS06 and the firmware receipt alerts name an
    image: its SHA-256."""
    return hashlib.sha256(image).digest()


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


# =========================================================================== registry

Command = ReadFirmwareVersion | ActivateFirmware
Response = FirmwareVersion | FirmwareActivated | FirmwareActivationScheduled
"""This family's own response shapes (besides the shared ``Outcome`` / ``ZclFailure``)."""

register(0x0059, ReadFirmwareVersion.decode, FirmwareVersion.decode)
register(
    0x0012, ActivateFirmware.decode, FirmwareActivated.decode, FirmwareActivationScheduled.decode
)


__all__ = [
    "FIRMWARE_VERSION",
    "ActivateFirmware",
    "FirmwareActivated",
    "FirmwareActivationScheduled",
    "FirmwareVersion",
    "ReadFirmwareVersion",
    "image_hash",
]
