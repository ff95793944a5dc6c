"""The emulated SMETS2 devices: sans-IO cores, one class per device type."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from emulator.devices.base import Device
from emulator.devices.chf import Chf
from emulator.devices.esme import Esme
from emulator.devices.gpf import Gpf
from emulator.devices.gsme import Gsme
from emulator.devices.han_devices import Hcalcs, Ppmid
from emulator.devices.ihd import Ihd
from gbcs.devices import DeviceType

DEVICE_CLASSES: Mapping[DeviceType, type[Device]] = MappingProxyType(
    {
        DeviceType.ESME: Esme,
        DeviceType.GSME: Gsme,
        DeviceType.CHF: Chf,
        DeviceType.GPF: Gpf,
        DeviceType.IHD: Ihd,
        DeviceType.PPMID: Ppmid,
        DeviceType.HCALCS: Hcalcs,
    }
)

__all__ = ["DEVICE_CLASSES", "Chf", "Device", "Esme", "Gpf", "Gsme", "Hcalcs", "Ihd", "Ppmid"]

# The use-case families register their handlers on import; the device classes above come first.
import emulator.usecases  # noqa: E402, F401
