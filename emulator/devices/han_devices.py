"""The emulated type 1 HAN devices that are not meters: the PPMID (prepayment meter interface
device) and the HCALCS (HAN connected auxiliary load control switch).

They join a meter - method A as the responder (CS03a2), and for the PPMID method C with the gas
meter (CS03c) - and unjoin (CS04ac); those handlers, and the device log they keep, are the HAN
family's (:mod:`emulator.usecases.han`). Their other use cases are not modelled: a command a
profile does not list is refused as not supported. Their messages are GBZ, as the GSME's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from emulator.clock import from_seconds
from emulator.devices.base import Alert, Device
from emulator.devices.gsme import gbz_error
from gbcs import content as c
from gbcs.devices import DeviceType
from gbcs.frames import Message
from gbcs.usecases import UseCase

__all__ = ["Hcalcs", "Ppmid"]


@dataclass(slots=True, eq=False, kw_only=True)
class _HanDevice(Device):
    """What the PPMID and the HCALCS share: GBZ alerts and errors."""

    def alert_content(self, alert: Alert, counter: int, now: int) -> bytes:
        return c.gbz_alert(alert.code, from_seconds(self.device_time(now)), alert.detail).to_bytes()

    def firmware_receipt(self, ok: bool, digest: bytes, now: int) -> Alert:
        body = c.firmware_verification_alert(
            ok=ok, when=from_seconds(self.device_time(now)), image_hash=digest
        )
        return Alert(body.alert_code, content=body.to_bytes())

    def error_content(self, command: Message, uc: UseCase, error: Exception) -> bytes:
        return gbz_error(command, uc, error, self.created)


@dataclass(slots=True, eq=False, kw_only=True)
class Ppmid(_HanDevice):
    """A prepayment meter interface device."""

    DEVICE_TYPE: ClassVar[DeviceType] = DeviceType.PPMID


@dataclass(slots=True, eq=False, kw_only=True)
class Hcalcs(_HanDevice):
    """A HAN connected auxiliary load control switch."""

    DEVICE_TYPE: ClassVar[DeviceType] = DeviceType.HCALCS
