"""Firmware transfers the hub reports itself (CCS08).

A device without a firmware receipt of its own on the WAN (the PPMID, SR 11.4) gets its image
from the hub over the HAN, and the hub tells the DCC it transferred it: CCS08
(0x8F8A) naming the device and the version of the image (the device's profile says which; 0000
0000 for an image none of its versions has), outcome 0 - the transfer happened, whatever the
device then makes of the image (a PPMID that runs it says so with CS09; see
:mod:`emulator.devices.han_devices`). The meters, hub and GPF answer with their own receipt
(FWRECEIPT) and get no CCS08.

The hub's alert waits for its next tick (queued, saved with the hub) - by then the device has
answered, so it follows the device's own alert.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Final

from emulator.clock import from_seconds, to_seconds
from emulator.devices.chf import Chf
from emulator.devices.families import Alert
from emulator.errors import EmulatorError
from gbcs import content as c
from gbcs.devices import DeviceType
from gbcs.eui import eui_duis

if TYPE_CHECKING:
    from emulator.fleet import Fleet

__all__ = ["REPORTED_BY_HUB", "transfer_image"]

REPORTED_BY_HUB: Final = frozenset({DeviceType.PPMID})
"""The device types whose firmware transfer the hub reports (CCS08): the PPMID, as the DCC's
vector shows (whether the hub reports transfers to the other HAN devices is not confirmed
here; they keep their own receipt)."""


def transfer_image(
    fleet: Fleet, hub: bytes, device: bytes, image: bytes, now: datetime | int
) -> list[bytes]:
    """The hub ``hub`` hands ``image`` to ``device`` over the HAN: the device's frames (its
    receipt, or a PPMID's activation), and for the devices of :data:`REPORTED_BY_HUB` the
    hub's CCS08 queued for its next tick."""
    frames = fleet.distribute_firmware(device, image, now)
    seconds = now if isinstance(now, int) else to_seconds(now)
    target = fleet.device(device, seconds)
    if target.DEVICE_TYPE not in REPORTED_BY_HUB:
        return frames
    chf = fleet.device(hub, seconds)
    if not isinstance(chf, Chf):
        raise EmulatorError(f"{eui_duis(hub)} is a {chf.DEVICE_TYPE}, not a communications hub")
    version = target.profile.version_for_hash(c.image_hash(image))
    report = c.FirmwareTransferAlert(
        from_seconds(chf.device_time(seconds)),
        device,
        bytes(4) if version is None else version.version_bytes,
    )
    # To the ACB, as the DCC's vector (signed): the DCC forwards it to the device's supplier.
    alert = Alert(
        report.code,
        message_code=report.message_code,
        content=report.encode(),
        target=chf.trust.acb,
    )
    chf.queued = [*(chf.queued or []), alert]
    return frames
