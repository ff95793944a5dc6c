"""SR9.1 on the meters: ECS50 (ESME) and GCS36 (GSME) hand the meter the Customer
Identification Number the DCC made up; the meter keeps it to show the consumer (family state
``reading_cin``: ``cin``, the four digits, and ``at``, when it came), saved with the device so
it survives a restart, and answers that it took it - a DLMS Set result (ECS50) or a ZCL
Default Response (GCS36), as GBCS has it. The number itself never goes back over the WAN:
the DCC tells the Other User which number it sent."""

from __future__ import annotations

from typing import Any

from emulator.devices.base import Device
from emulator.devices.families import Reply, handles
from emulator.devices.trust import DeviceContext
from gbcs import content as gc
from gbcs.devices import DeviceType
from gbcs.frames import Message

__all__ = ["FAMILY", "shown_cin"]

FAMILY = "reading_cin"


def shown_cin(device: Device) -> str | None:
    """The CIN the meter shows (the last the DCC sent it); None before the first."""
    cin: str | None = device.family_state(FAMILY).get("cin")
    return cin


def _keep(device: Device, cin: bytes, now: int) -> None:
    state = device.family_state(FAMILY)
    state["cin"] = cin.decode("ascii")
    state["at"] = now
    device._log(f"shows CIN {state['cin']}")


@handles(DeviceType.ESME, 0x0058)
def send_cin_to_esme(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS50."""
    cmd = gc.SendCinToEsme.decode(command.content)
    _keep(device, cmd.cin, now)
    return Reply(gc.Outcome.for_command(cmd).encode())


@handles(DeviceType.GSME, 0x0083)
def send_cin_to_gsme(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """GCS36."""
    cmd = gc.SendCinToGsme.decode(command.content)
    _keep(device, cmd.cin, now)
    return Reply(cmd.answer().encode())
