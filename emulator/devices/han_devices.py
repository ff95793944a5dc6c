"""The emulated type 1 HAN devices that are not meters: the PPMID (prepayment meter interface
device) and the HCALCS (HAN connected auxiliary load control switch).

They join a meter - method A as the responder (CS03a2), and for the PPMID method C with the gas
meter (CS03c) - and unjoin (CS04ac); those handlers, and the device log they keep, are the HAN
family's (:mod:`emulator.usecases.han`). Their other use cases are not modelled: a command a
profile does not list is refused as not supported. Their messages are GBZ, as the GSME's.

Firmware (SR 11.4 for the PPMID): the hub transfers the image over the HAN and reports the
transfer itself (CCS08, :func:`emulator.usecases.firmware.transfer_image`); the device has no
receipt alert or activation command of its own, so a PPMID whose image verifies runs it at
once and reports that (CS09, 0x8F8B, naming the version it now runs; signed, to the DCC's
ACB, which forwards it). An image that fails verification is dropped (the device's log says
so) and nothing changes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from emulator.clock import from_seconds
from emulator.devices.families import Alert
from emulator.devices.gsme import GbzDevice
from emulator.devices.trust import DeviceContext
from gbcs import content as c
from gbcs.devices import DeviceType
from gbcs.frames import Message

__all__ = ["Hcalcs", "Ppmid"]


@dataclass(slots=True, eq=False, kw_only=True)
class Ppmid(GbzDevice):
    """A prepayment meter interface device."""

    DEVICE_TYPE: ClassVar[DeviceType] = DeviceType.PPMID

    def receive_image(self, image: bytes, now: int, ctx: DeviceContext) -> list[Message]:
        """An image from the hub: verified, it runs at once (CS09); else it is dropped."""
        out = self.seal(self.due_alerts(now), now, ctx)
        digest = c.image_hash(image)
        candidate = self.profile.version_for_hash(digest)
        if candidate is None or not self._may_install(candidate):
            self._log(f"firmware image {digest.hex()[:16]} failed verification: dropped")
            return out
        self.staged_image = digest
        result, _ = self._switch_firmware(digest)
        when = from_seconds(self.device_time(now))
        report = c.PpmidActivationAlert(when, result.version, result.outcome)
        alert = Alert(
            report.code,
            message_code=report.message_code,
            content=report.encode(),
            target=self.trust.acb,
        )
        return out + self.seal([alert], now, ctx)


@dataclass(slots=True, eq=False, kw_only=True)
class Hcalcs(GbzDevice):
    """A HAN connected auxiliary load control switch."""

    DEVICE_TYPE: ClassVar[DeviceType] = DeviceType.HCALCS
