"""Alerts carrying a device's log: ECS68 (the ESME's billing data log at the end of a billing
period, encrypted for the supplier) and CS14 (the CHF's device log after it changed).

Both are DLMS Data-Notifications whose body starts, as every DLMS alert's, with the alert code
and its date-time (the layouts of the DCC's reference alerts)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import ClassVar

from gbcs.content._common import _check_exact, _int, _items, _octets, _stamp, _when
from gbcs.content.reading import _parse_protection, _protection_parameters
from gbcs.errors import DecodeError, EncodeError
from gbcs.payloads import dlms
from gbcs.payloads.dlms import DataNotification

__all__ = ["BillingDataLogAlert", "DeviceLogAlert"]


def _body(content: bytes, what: str, n: int) -> tuple[int, tuple[dlms.Data, ...]]:
    apdu = dlms.decode_dlms(content)
    if not isinstance(apdu, DataNotification) or apdu.date_time:
        raise DecodeError(f"{what}: expected a DLMS Data-Notification")
    invoke = apdu.invoke_id
    if invoke & 0xFF00_0000 != 0x2000_0000:
        raise DecodeError(f"{what}: invoke id 0x{invoke:08x} is not of the GBCS form")
    return invoke & 0x00FF_FFFF, _items(apdu.body, what, n)


@dataclass(frozen=True, slots=True)
class BillingDataLogAlert:
    """ECS68 (message code 0x0061) ESME Critical Sensitive Alert (Billing Data Log), 0x8F0A:
    ``structure { alert code, date-time, protection parameters (array of one, as a
    protected read's response: transaction id 04 ‖ the alert's counter, the ESME, the
    supplier), the encrypted log entry }``. The plaintext is the entry the ESME logged at the
    billing date (see :func:`emulator.usecases.billing.billing_alert_plaintext`)."""

    counter: int
    when: _dt.datetime
    device: bytes
    supplier: bytes
    encrypted: bytes
    """The ``31``-framed entry."""
    code: ClassVar[int] = 0x8F0A
    message_code: ClassVar[int] = 0x0061

    @property
    def alert_code(self) -> int:
        return self.code

    def encode(self) -> bytes:
        body = dlms.structure(
            dlms.long_unsigned(self.code),
            _stamp(self.when),
            dlms.array(_protection_parameters(self.counter, self.device, self.supplier)),
            dlms.octet_string(self.encrypted),
        )
        return DataNotification(dlms.invoke_id_for(self.counter), body).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> BillingDataLogAlert:
        low, items = _body(content, "billing data log alert", 4)
        if _int(items[0], "alert code", dlms.DataType.LONG_UNSIGNED) != cls.code:
            raise DecodeError("an ECS68 alert is 0x8F0A")
        (params,) = _items(items[2], "protection parameters list", 1)
        counter, device, supplier = _parse_protection(params)
        if counter & 0xFF_FFFF != low:
            raise DecodeError("transaction id and invoke id disagree")
        found = cls(
            counter,
            _when(items[1], "alert time"),
            device,
            supplier,
            _octets(items[3], "encrypted billing data log"),
        )
        _check_exact(found, content)
        return found


@dataclass(frozen=True, slots=True)
class DeviceLogAlert:
    """CS14 (message code 0x0018) Device Addition To / Removal From HAN Whitelist Alert, 0x8F12
    from the CHF: ``structure { alert code, date-time, structure { when the log changed, the
    HAN's extended PAN ID (8), array of structure { device EUI (8), install code (16) } } }`` -
    the device log as it is after the change."""

    counter: int
    when: _dt.datetime
    changed: _dt.datetime
    extended_pan_id: bytes
    entries: tuple[tuple[bytes, bytes], ...]
    code: ClassVar[int] = 0x8F12
    message_code: ClassVar[int] = 0x0018

    @property
    def alert_code(self) -> int:
        return self.code

    def encode(self) -> bytes:
        if len(self.extended_pan_id) != 8:
            raise EncodeError("an extended PAN ID is 8 bytes")
        for eui, code in self.entries:
            if len(eui) != 8 or len(code) != 16:
                raise EncodeError("a device log entry is an 8-byte EUI and a 16-byte install code")
        log = dlms.structure(
            _stamp(self.changed),
            dlms.octet_string(self.extended_pan_id),
            dlms.array(
                *(
                    dlms.structure(dlms.octet_string(eui), dlms.octet_string(code))
                    for eui, code in self.entries
                )
            ),
        )
        body = dlms.structure(dlms.long_unsigned(self.code), _stamp(self.when), log)
        return DataNotification(dlms.invoke_id_for(self.counter), body).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> DeviceLogAlert:
        counter, items = _body(content, "device log alert", 3)
        if _int(items[0], "alert code", dlms.DataType.LONG_UNSIGNED) != cls.code:
            raise DecodeError("a CS14 alert is 0x8F12")
        changed, pan, entries = _items(items[2], "device log", 3)
        found = cls(
            counter,
            _when(items[1], "alert time"),
            _when(changed, "log change time"),
            _octets(pan, "extended PAN ID"),
            tuple(
                (_octets(e[0], "device"), _octets(e[1], "install code"))
                for e in (_items(entry, "log entry", 2) for entry in _items(entries, "entries"))
            ),
        )
        _check_exact(found, content)
        return found
