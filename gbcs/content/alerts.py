"""Alerts: DLMS (ESME, CHF) and GBZ (GSME, GPF) alert contents, the 0x00CA future-dated
firmware alert, the ECS80 supply outage and ECS102 APC limit alerts, and :func:`decode_alert`
(which also knows the 0x00CB future-dated security credentials alert of
:mod:`gbcs.content.security`).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from gbcs.alerts import is_critical_alert
from gbcs.content._common import (
    _check_exact,
    _counter_of,
    _int,
    _items,
    _sequence,
    _stamp,
    _when,
)
from gbcs.content.alerts_firmware import FirmwareTransferAlert, PpmidActivationAlert
from gbcs.content.alerts_logs import BillingDataLogAlert, DeviceLogAlert
from gbcs.content.firmware import FirmwareActivated
from gbcs.content.security import (
    FutureDatedCredentialsAlert,
    FutureDatedLoadControllerAlert,
)
from gbcs.errors import DecodeError, EncodeError
from gbcs.payloads import asn1, dlms, gbz
from gbcs.payloads.dlms import (
    AccessSpec,
    Data,
    DataNotification,
)
from gbcs.payloads.gbz import (
    GbzAlert,
)

# =========================================================================== alerts


def alert_message_code(alert_code: int) -> int:
    """The generic message code an alert travels with: 0x1000 for critical (0x8Fxx) alert
    codes, 0x1001 otherwise."""
    return 0x1000 if is_critical_alert(alert_code) else 0x1001


def _notification(counter: int, code: int, when: _dt.datetime, *details: Data) -> bytes:
    """A DLMS alert: a Data-Notification (no date-time of its own) whose body is the
    structure of the alert code, its date-time and the alert's details."""
    body = dlms.structure(dlms.long_unsigned(code), _stamp(when), *details)
    return DataNotification(dlms.invoke_id_for(counter), body).to_bytes()


def _notified(content: bytes, what: str, n: int | None = None) -> tuple[int, tuple[Data, ...]]:
    """The counter and the body's items of a DLMS alert (``n`` of them, if given)."""
    apdu = dlms.decode_dlms(content)
    if not isinstance(apdu, DataNotification) or apdu.date_time:
        raise DecodeError("expected a DLMS Data-Notification")
    items = _items(apdu.body, what, n)
    return _counter_of(apdu.invoke_id), items


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
        details = () if self.details is None else (self.details,)
        return _notification(self.counter, self.code, self.when, *details)

    @classmethod
    def decode(cls, content: bytes) -> DlmsAlert:
        counter, items = _notified(content, "alert")
        if len(items) not in (2, 3):
            raise DecodeError("alert: expected 2 or 3 elements")
        found = cls(
            counter,
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


@dataclass(frozen=True, slots=True)
class SupplyOutageAlert:
    """ECS80 (message code 0x0067) Supply Outage Restore Alert from an ESME, to the network
    operator: ``structure { alert code (0x8F35 restored / 0x8F36 after 3 minutes or more),
    date-time, outage start date-time, restoration date-time }``."""

    counter: int
    code: int
    when: _dt.datetime
    start: _dt.datetime
    end: _dt.datetime
    message_code: ClassVar[int] = 0x0067

    @property
    def alert_code(self) -> int:
        """The alert code (as :class:`GbzAlert` names it)."""
        return self.code

    def encode(self) -> bytes:
        return _notification(
            self.counter, self.code, self.when, _stamp(self.start), _stamp(self.end)
        )

    @classmethod
    def decode(cls, content: bytes) -> SupplyOutageAlert:
        counter, items = _notified(content, "outage alert", 4)
        found = cls(
            counter,
            _int(items[0], "alert code", dlms.DataType.LONG_UNSIGNED),
            _when(items[1], "alert time"),
            _when(items[2], "outage start"),
            _when(items[3], "restoration"),
        )
        _check_exact(found, content)
        return found


@dataclass(frozen=True, slots=True)
class ApcLimitEndedAlert:
    """ECS102 (message code 0x0122) Limit APC Level ended or cancelled, 0x8F87:
    ``structure { alert code, date-time, controller unsigned, level unsigned }``; the
    controller as ECS47e's script names it (high nibble 1 output / 2 input, low nibble the
    controller's number), the level in per cent."""

    counter: int
    when: _dt.datetime
    controller: int
    level: int
    code: ClassVar[int] = 0x8F87
    message_code: ClassVar[int] = 0x0122

    @property
    def alert_code(self) -> int:
        return self.code

    def encode(self) -> bytes:
        return _notification(
            self.counter,
            self.code,
            self.when,
            dlms.unsigned(self.controller),
            dlms.unsigned(self.level),
        )

    @classmethod
    def decode(cls, content: bytes) -> ApcLimitEndedAlert:
        counter, items = _notified(content, "APC alert", 4)
        if _int(items[0], "alert code", dlms.DataType.LONG_UNSIGNED) != cls.code:
            raise DecodeError("an ECS102 alert is 0x8F87")
        found = cls(
            counter,
            _when(items[1], "alert time"),
            _int(items[2], "controller", dlms.DataType.UNSIGNED),
            _int(items[3], "level", dlms.DataType.UNSIGNED),
        )
        _check_exact(found, content)
        return found


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

    @property
    def alert_code(self) -> int:
        """0x8F66 (executed) or 0x8F67 (not executed)."""
        return 0x8F66 if self.executed else 0x8F67

    def encode(self) -> bytes:
        return asn1.der_sequence(
            asn1.der_integer(self.alert_code),
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


# =========================================================================== dispatch

Alert = (
    DlmsAlert
    | GbzAlert
    | FutureDatedFirmwareAlert
    | FutureDatedCredentialsAlert
    | SupplyOutageAlert
    | ApcLimitEndedAlert
    | BillingDataLogAlert
    | DeviceLogAlert
    | FirmwareTransferAlert
    | PpmidActivationAlert
)


_OWN_CODES: dict[int, Callable[[bytes], Alert]] = {
    kind.message_code: kind.decode
    for kind in (
        FutureDatedFirmwareAlert,
        FutureDatedCredentialsAlert,
        FutureDatedLoadControllerAlert,
        SupplyOutageAlert,
        ApcLimitEndedAlert,
        BillingDataLogAlert,
        DeviceLogAlert,
        FirmwareTransferAlert,
        PpmidActivationAlert,
    )
}
"""The alerts with a layout of their own, by message code."""


def decode_alert(message_code: int, content: bytes) -> Alert:
    """The typed alert in ``content``: DLMS (ESME, CHF), GBZ (GSME, GPF), or one with a
    layout of its own by its message code (0x00CA firmware, 0x00CB / 0x0124 security
    credentials, ECS80, ECS102, ECS68, CS14, CCS08, CS09)."""
    decoder = _OWN_CODES.get(message_code)
    if decoder is None:
        is_dlms = content[:1] == bytes([dlms.TAG_DATA_NOTIFICATION])
        decoder = DlmsAlert.decode if is_dlms else GbzAlert.from_bytes
    try:
        return decoder(content)
    except (EncodeError, ValueError) as exc:
        raise DecodeError(f"alert 0x{message_code:04X}: {exc}") from None


def alert_values(message_code: int, content: bytes) -> list[str]:
    """An alert as labelled values (``smetsim decode`` shows them); empty when the content is
    not an alert this module knows."""
    try:
        alert = decode_alert(message_code, content)
    except DecodeError:
        return []
    code = alert.code if isinstance(alert, DlmsAlert) else alert.alert_code
    values = [f"alert code: 0x{code:04X}"]
    if isinstance(alert, FutureDatedFirmwareAlert | FutureDatedCredentialsAlert):
        done = "executed" if alert.executed else "not executed"
        values.append(
            f"future-dated command {done} at {alert.when.isoformat()} "
            f"(its originator counter {alert.command_counter})"
        )
        values.append(f"outcome: {'success' if alert.result.ok else 'failure'}")
        if isinstance(alert, FutureDatedFirmwareAlert):
            values.append(f"firmware version: {alert.result.version.hex().upper()}")
        else:
            values.extend(
                f"cell (role {r.cell.role}): {r.outcome.name.lower()}, "
                f"{r.old_subject.hex('-').upper()} -> {r.new_subject.hex('-').upper()}"
                for r in alert.result.results
            )
    return values


__all__ = [
    "Alert",
    "ApcLimitEndedAlert",
    "BillingDataLogAlert",
    "DeviceLogAlert",
    "DlmsAlert",
    "FirmwareTransferAlert",
    "FutureDatedFirmwareAlert",
    "GbzAlert",
    "PpmidActivationAlert",
    "SupplyOutageAlert",
    "alert_message_code",
    "alert_values",
    "decode_alert",
    "firmware_verification_alert",
    "gbz_alert",
]
