"""CS04b Method B Unjoin on the meters: the ESME or GSME takes out of its log of joins (the
``han`` family state of :mod:`emulator.usecases.han`) a device it joined by method B (a GSME's
GPF, a Type 2 device) - and out of the other device's log, when this fleet hosts it.

The answer is the unjoin response of GBCS (an INTEGER): 0 success, 1 the device is not in the
log, 2 another failure - here an entry made by method A or C, which CS04ac unjoins (its
message code does not match the join's method); either failure changes nothing."""

from __future__ import annotations

from emulator.devices.base import Device
from emulator.devices.families import Reply, handles
from emulator.devices.trust import DeviceContext
from emulator.usecases.han import joined
from gbcs import content as gc
from gbcs.devices import DeviceType
from gbcs.frames import Message

__all__ = ["CS04B", "NOT_IN_LOG", "OTHER_FAILURE"]

CS04B = 0x0010
NOT_IN_LOG = 1
OTHER_FAILURE = 2
_METHOD_B = gc.JOIN_METHODS["CS03B"]


def _unjoin_method_b(device: Device, command: Message, now: int, ctx: DeviceContext) -> Reply:
    cmd = gc.UnjoinMethodB.decode(command.content)
    log = joined(device)
    entry = log.get(cmd.other.hex())
    if entry is None:
        return Reply(gc.JoinOutcome(NOT_IN_LOG).encode())
    if entry.get("method") != _METHOD_B:
        device._log(f"CS04b refused: {cmd.other.hex()} was joined by method {entry.get('method')}")
        return Reply(gc.JoinOutcome(OTHER_FAILURE).encode())
    del log[cmd.other.hex()]
    peer = ctx.peer(cmd.other)
    if peer is not None:
        joined(peer).pop(device.eui.hex(), None)
    device._log(f"CS04b unjoined {cmd.other.hex()}")
    return Reply(gc.JoinOutcome(0).encode())


for _type in (DeviceType.ESME, DeviceType.GSME):
    handles(_type, CS04B)(_unjoin_method_b)
