"""The emulated IHD (in-home display): it joins the HAN and shows consumption and credit,
but takes no commands from the DCC - every command is answered as not supported."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from emulator.clock import from_seconds
from emulator.devices.base import Device
from emulator.devices.esme import dlms_error
from emulator.devices.families import Alert
from gbcs import content as c
from gbcs.devices import DeviceType
from gbcs.frames import Message
from gbcs.usecases import UseCase


@dataclass(slots=True, eq=False, kw_only=True)
class Ihd(Device):
    """An in-home display."""

    DEVICE_TYPE: ClassVar[DeviceType] = DeviceType.IHD

    def alert_content(self, alert: Alert, counter: int, now: int) -> bytes:
        return c.DlmsAlert(counter, alert.code, from_seconds(self.device_time(now))).encode()

    def firmware_receipt(self, ok: bool, digest: bytes, now: int) -> Alert:
        code = 0x8F72 if ok else 0x8F1C
        return Alert(code, detail=digest)

    def error_content(self, command: Message, uc: UseCase, error: Exception) -> bytes:
        return dlms_error(command, uc, error, self.firmware.version_bytes)
