"""The firmware alerts of devices without a WAN receipt of their own (ASN.1, as the DCC's
reference alerts): CCS08, the CHF's report that it transferred an image to a HAN device, and
CS09, the PPMID's report that it activated an image."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import ClassVar

from gbcs.content._common import _check_exact, _sequence
from gbcs.errors import DecodeError, EncodeError
from gbcs.payloads import asn1

__all__ = ["FirmwareTransferAlert", "PpmidActivationAlert"]


def _version(value: bytes) -> bytes:
    if len(value) != 4:
        raise EncodeError(f"a firmware version is 4 bytes, not {len(value)}")
    return value


def _code(node: asn1.Der, expected: int, name: str) -> None:
    if node.child(0).int_value() != expected:
        raise DecodeError(f"a {name} alert is 0x{expected:04X}")


@dataclass(frozen=True, slots=True)
class FirmwareTransferAlert:
    """CCS08 (message code 0x0128) Firmware Transfer Alert, 0x8F8A, from the CHF: ``SEQUENCE
    { alert code INTEGER, date-time GeneralizedTime, device OCTET STRING (8), firmware version
    OCTET STRING (4), outcome INTEGER (0: transferred) }``."""

    when: _dt.datetime
    device: bytes
    version: bytes
    outcome: int = 0
    code: ClassVar[int] = 0x8F8A
    message_code: ClassVar[int] = 0x0128

    @property
    def alert_code(self) -> int:
        return self.code

    def encode(self) -> bytes:
        if len(self.device) != 8:
            raise EncodeError("a device is named by its 8-byte EUI")
        return asn1.der_sequence(
            asn1.der_integer(self.code),
            asn1.der_generalized_time(self.when),
            asn1.der_octet_string(self.device),
            asn1.der_octet_string(_version(self.version)),
            asn1.der_integer(self.outcome),
        ).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> FirmwareTransferAlert:
        node = _sequence(content, 5)
        _code(node, cls.code, "CCS08")
        found = cls(
            node.child(1).time_value(),
            node.child(2).value,
            node.child(3).value,
            node.child(4).int_value(),
        )
        _check_exact(found, content)
        return found


@dataclass(frozen=True, slots=True)
class PpmidActivationAlert:
    """CS09 (message code 0x012B) PPMID Firmware Activation Alert, 0x8F8B: ``SEQUENCE { alert
    code INTEGER, date-time GeneralizedTime, the firmware version now running OCTET STRING
    (4), outcome INTEGER (0: activated) }``."""

    when: _dt.datetime
    version: bytes
    outcome: int = 0
    code: ClassVar[int] = 0x8F8B
    message_code: ClassVar[int] = 0x012B

    @property
    def alert_code(self) -> int:
        return self.code

    def encode(self) -> bytes:
        return asn1.der_sequence(
            asn1.der_integer(self.code),
            asn1.der_generalized_time(self.when),
            asn1.der_octet_string(_version(self.version)),
            asn1.der_integer(self.outcome),
        ).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> PpmidActivationAlert:
        node = _sequence(content, 4)
        _code(node, cls.code, "CS09")
        found = cls(node.child(1).time_value(), node.child(2).value, node.child(3).int_value())
        _check_exact(found, content)
        return found
