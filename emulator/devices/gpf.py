"""The emulated GPF (Gas Proxy Function on the comms hub): it answers reads for the sleepy
GSME it is paired with, from its mirror of the GSME's registers."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import ClassVar

from emulator.devices.base import DeviceSpec
from emulator.devices.families import Reply
from emulator.devices.gsme import GbzDevice, Gsme, encrypt_for, gas_register
from emulator.devices.trust import DeviceContext
from emulator.errors import CommandError
from gbcs import content as c
from gbcs.devices import DeviceType
from gbcs.frames import Message


@dataclass(slots=True, eq=False, kw_only=True)
class Gpf(GbzDevice):
    """A Gas Proxy Function."""

    gsme: bytes | None = None
    """The GSME whose data this GPF mirrors."""

    DEVICE_TYPE: ClassVar[DeviceType] = DeviceType.GPF

    @classmethod
    def create(cls, eui: bytes, spec: DeviceSpec, now: int, key: int) -> Gpf:
        return cls.made(eui, spec, now, gsme=spec.partner)

    def read_register(self, command: Message, now: int, ctx: DeviceContext) -> Reply:
        """GCS13a sent to the GPF: the mirrored GSME register, as of the last half hour the
        GSME reported (it wakes every half hour), encrypted for the requester."""
        c.ReadGasRegister.decode(command.content)
        gsme = None if self.gsme is None else ctx.peer(self.gsme)
        if not isinstance(gsme, Gsme):
            raise CommandError("the GPF has no GSME to mirror")
        gsme.wake(now)
        encrypt = encrypt_for(ctx, self.eui, command)
        return Reply(c.GasRegisterResponse.build(gas_register(gsme.meter), encrypt).encode())


Gpf.HANDLERS = MappingProxyType({0x0074: Gpf.read_register})
