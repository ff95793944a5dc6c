"""HAN and hub: CCS01 / CCS02 (add / remove a device in the CHF device log)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from gbcs.content._common import (
    DlmsCommand,
    Outcome,
    _int,
    _items,
    _octets,
    _parse_request,
    _request,
    register,
)
from gbcs.errors import DecodeError
from gbcs.payloads import dlms
from gbcs.payloads.dlms import (
    AccessSpec,
    Data,
)

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


# =========================================================================== registry

Command = AddDeviceLogEntry | RemoveDeviceLogEntry
Response = Outcome
"""This family answers with the shared ``Outcome`` only."""

register(0x0001, AddDeviceLogEntry.decode, Outcome.decode)
register(0x0002, RemoveDeviceLogEntry.decode, Outcome.decode)


__all__ = [
    "ZIGBEE_NETWORK_CONTROL",
    "AddDeviceLogEntry",
    "RemoveDeviceLogEntry",
]
