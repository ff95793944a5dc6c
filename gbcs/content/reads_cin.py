"""SR9.1 Request Customer Identification Number: the DCC makes up a four-digit Customer
Identification Number (CIN) and sends it to the meter, which shows it to the consumer; the
DCC gives the same number to the Other User who asked, so that the consumer can prove to that
user that they are at the meter. The meter answers that it took the number, nothing more.

* ECS50 Send CIN to ESME: DLMS Set of the CIN data object (IC 1, ``0-3:96.13.1.255``,
  attribute 2), the number as an octet-string of its ASCII digits; answered by the generic
  :class:`~gbcs.content._common.Outcome`.
* GCS36 Send CIN to GSME: Device Management ``UpdateCIN`` (0x06, sent as the cluster's
  server): Issuer Event ID, implementation date-time (0: now), provider ID (0), the CIN as a
  ZCL octet string; answered by a ZCL Default Response
  (:class:`~gbcs.content.account.ZclStatus`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar

from gbcs.content._common import (
    DlmsCommand,
    Outcome,
    ZclFailure,
    _check_exact,
    _octets,
    _parse_request,
    _request,
    register,
)
from gbcs.content._zcl import _FROM_SERVER, _gbz, _payloads, _read_strings, _u32, _unpack
from gbcs.content.account import ZclStatus
from gbcs.errors import DecodeError, EncodeError
from gbcs.payloads import dlms
from gbcs.payloads.dlms import AccessSpec
from gbcs.payloads.gbz import Cluster

__all__ = ["CIN_DIGITS", "CIN_OBJECT", "UPDATE_CIN", "SendCinToEsme", "SendCinToGsme"]

CIN_OBJECT = "0-3:96.13.1.255"
"""The ESME's Customer Identification Number data object (IC 1, value attribute 2)."""

UPDATE_CIN = 0x06
"""Device Management cluster command UpdateCIN (server to client)."""

CIN_DIGITS = 4
"""DUIS ``CINMessage``: the number is exactly four decimal digits."""


def _check_cin(cin: bytes, what: str, error: type[Exception]) -> None:
    if len(cin) != CIN_DIGITS or not cin.isdigit():
        raise error(f"{what}: a CIN is {CIN_DIGITS} decimal digits, not {cin!r}")


@dataclass(frozen=True, slots=True)
class SendCinToEsme(DlmsCommand):
    """ECS50: set the CIN the ESME shows."""

    counter: int
    cin: bytes
    message_code: ClassVar[int] = 0x0058

    def __post_init__(self) -> None:
        _check_cin(self.cin, "ECS50", EncodeError)

    def specs(self) -> tuple[AccessSpec, ...]:
        return (dlms.set_(1, CIN_OBJECT, 2),)

    def encode(self) -> bytes:
        return _request(self.counter, self.specs(), (dlms.octet_string(self.cin),))

    @classmethod
    def decode(cls, content: bytes) -> SendCinToEsme:
        counter, data = _parse_request(content, (dlms.set_(1, CIN_OBJECT, 2),))
        cin = _octets(data[0], "ECS50 CIN")
        _check_cin(cin, "ECS50", DecodeError)
        found = cls(counter, cin)
        _check_exact(found, content)
        return found


@dataclass(frozen=True, slots=True)
class SendCinToGsme:
    """GCS36: Device Management UpdateCIN to the GSME, effective at once."""

    issued: int
    cin: bytes
    message_code: ClassVar[int] = 0x0083

    def __post_init__(self) -> None:
        _check_cin(self.cin, "GCS36", EncodeError)

    def encode(self) -> bytes:
        # Implementation date-time 0 (now) and provider ID 0, as GBCS has the DCC send them.
        head = struct.pack("<III", _u32(self.issued, "GCS36"), 0, 0)
        return _gbz(
            Cluster.DEVICE_MANAGEMENT,
            _FROM_SERVER,
            [(UPDATE_CIN, head + bytes([len(self.cin)]) + self.cin)],
        )

    @classmethod
    def decode(cls, content: bytes) -> SendCinToGsme:
        (payload,) = _payloads(content, Cluster.DEVICE_MANAGEMENT, UPDATE_CIN, "GCS36")
        issued, _, _ = _unpack("<III", payload[:12], "GCS36")
        (cin,), rest = _read_strings(payload[12:], 1, "GCS36")
        if rest:
            raise DecodeError("GCS36: bytes after the CIN")
        _check_cin(cin, "GCS36", DecodeError)
        found = cls(issued, cin)
        _check_exact(found, content)
        return found

    def answer(self, status: int = 0) -> ZclStatus:
        """The GSME's Default Response (it is the client of Device Management)."""
        return ZclStatus(Cluster.DEVICE_MANAGEMENT, False, ((UPDATE_CIN, status),))


Command = SendCinToEsme | SendCinToGsme

register(0x0058, SendCinToEsme.decode, Outcome.decode)
register(0x0083, SendCinToGsme.decode, ZclStatus.decode, ZclFailure.decode)
