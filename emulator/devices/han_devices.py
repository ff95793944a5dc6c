"""The emulated type 1 HAN devices that are not meters: the PPMID (prepayment meter interface
device) and the HCALCS (HAN connected auxiliary load control switch).

They join a meter - method A as the responder (CS03a2), and for the PPMID method C with the gas
meter (CS03c) - and unjoin (CS04ac); those handlers, and the device log they keep, are the HAN
family's (:mod:`emulator.usecases.han`). Their other use cases are not modelled: a command a
profile does not list is refused as not supported. Their messages are GBZ, as the GSME's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from emulator.devices.gsme import GbzDevice
from gbcs.devices import DeviceType

__all__ = ["Hcalcs", "Ppmid"]


@dataclass(slots=True, eq=False, kw_only=True)
class Ppmid(GbzDevice):
    """A prepayment meter interface device."""

    DEVICE_TYPE: ClassVar[DeviceType] = DeviceType.PPMID


@dataclass(slots=True, eq=False, kw_only=True)
class Hcalcs(GbzDevice):
    """A HAN connected auxiliary load control switch."""

    DEVICE_TYPE: ClassVar[DeviceType] = DeviceType.HCALCS
