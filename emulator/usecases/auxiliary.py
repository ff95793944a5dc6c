"""The ESME's switching schedule of its HC ALCS / ALCS (ECS46c, SR6.14.2), at once or on a
future date (the Device pattern of a future-dated SR6.14.2).

ECS46c writes the switches' types, the special days and the switching calendar, and the
date-times they take effect (``0-0:94.44.128.35`` attribute 6 for the special days,
``.128.26`` for the calendar): all zero - at once, as any settings command
(:func:`emulator.usecases.configuration.apply`); a date-time - the ESME checks the command,
answers it and holds it until its clock passes that time, then applies it and alerts 0x8F66
(message code 0x00CC, one alert per activation time, as the DCC's reference alerts); all
wildcards (DUIS's 3000-12-31) - the pending schedule is cancelled.

Family state ``auxiliary``: ``pending`` - the held command (``content`` hex, ``counter``,
``at`` Unix seconds of device time), until it runs or is cancelled.
"""

from __future__ import annotations

from typing import Any, Final

from emulator.clock import from_seconds
from emulator.devices.families import Alert, Reply, handles, next_due, ticks
from emulator.devices.trust import DeviceContext
from emulator.errors import CommandError
from emulator.usecases import configuration
from gbcs import content as c
from gbcs.alerts import AlertCode
from gbcs.codes import RemotePartyRole
from gbcs.devices import DeviceType
from gbcs.frames import Message
from gbcs.payloads import dlms
from gbcs.payloads.dlms import CosemDateTime

__all__ = ["ECS46C", "FAMILY"]

FAMILY = "auxiliary"
ECS46C: Final = 0x0054
FUTURE_DATED_DLMS: Final = 0x00CC
"""The future-dated execution alert (DLMS)."""
ACTIVATIONS: Final = (
    dlms.set_(9000, "0-0:94.44.128.26", 6),
    dlms.set_(9000, "0-0:94.44.128.35", 6),
)
"""When the calendar and the special days take effect (what the 0x00CC alerts name)."""
_AT_ONCE: Final = bytes(9) + b"\x80\x00\xff"
_CANCEL: Final = b"\xff" * 9 + b"\x80\x00\xff"


def _activation(cmd: c.DeviceSettings) -> bytes:
    """The date-time the command's schedule takes effect (the calendar's, which the special
    days' must equal: one command, one time)."""
    values = {c.spec_key(spec): data for spec, data in cmd.writes}
    found = []
    for spec in ACTIVATIONS:
        data = values.get(c.spec_key(spec))
        if not isinstance(data, dlms.OctetString) or len(data.value) != 12:
            raise CommandError(f"{c.spec_key(spec)}: expected a COSEM date-time")
        found.append(data.value)
    if found[0] != found[1]:
        raise CommandError("the calendar and the special days take effect at different times")
    return found[0]


def _check(cmd: c.DeviceSettings) -> None:
    """Each calendar entry switches a switch 1..5 on or off."""
    values = {c.spec_key(spec): data for spec, data in cmd.writes}
    calendar = values.get("set 10 0-1:12.0.2.255/2")
    for entry in calendar.items if isinstance(calendar, dlms.Array) else ():
        fields = entry.items if isinstance(entry, dlms.Structure) else ()
        if len(fields) != 10 or not isinstance(fields[3], dlms.Integer):
            raise CommandError("a switching calendar entry is a structure of 10 fields")
        script = fields[3].value
        if not 1 <= script >> 8 <= 5 or script & 0xFF not in (1, 2):
            raise CommandError(f"script 0x{script:04X} switches no switch 1..5 on or off")


def _schedule(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    cmd = c.decode_command(command.message_code, command.content)
    if not isinstance(cmd, c.DeviceSettings):  # pragma: no cover - registry guarantees it
        raise CommandError("not a settings command")
    if device.trust.role_of(command.business_originator) is not RemotePartyRole.SUPPLIER:
        raise CommandError(
            "0x0054 is the supplier's to send", alert_code=AlertCode.SOURCE_HAS_NO_AUTHORITY
        )
    at = _activation(cmd)
    state = device.family_state(FAMILY)
    if at == _CANCEL:
        cancelled = state.pop("pending", None)
        device._log(
            "future-dated switching schedule cancelled"
            if cancelled is not None
            else "no future-dated switching schedule to cancel"
        )
        return Reply(cmd.outcome().encode())
    _check(cmd)
    when = None if at == _AT_ONCE else CosemDateTime.from_bytes(at).to_datetime()
    if when is None and at != _AT_ONCE:
        raise CommandError("the activation date-time is not fully specified")
    if when is not None and int(when.timestamp()) > device.device_time(now):
        state["pending"] = {
            "content": command.content.hex(),
            "counter": command.originator_counter,
            "at": int(when.timestamp()),
        }
        device._log(f"switching schedule held until {when.isoformat()}")
        return Reply(cmd.outcome().encode())
    configuration.apply(device, cmd, now)
    device._log("switching schedule applied")
    return Reply(cmd.outcome().encode())


@ticks
def _due(device: Any, now: int) -> list[Alert]:
    """The held schedule falling due: applied, and one 0x8F66 alert per activation time."""
    state: dict[str, Any] | None = device.extra.get(FAMILY) if device.extra else None
    if not state or "pending" not in state:
        return []
    pending = state["pending"]
    at = int(pending["at"])
    if device.device_time(now) < at:
        return []
    del state["pending"]
    executed = True
    try:
        cmd = c.decode_command(ECS46C, bytes.fromhex(pending["content"]))
        if not isinstance(cmd, c.DeviceSettings):
            raise CommandError("the held command is not a settings command")
        configuration.apply(device, cmd, at - device.clock_offset)
    except (CommandError, ValueError) as exc:
        executed = False
        device._log(f"held switching schedule failed: {exc}")
    else:
        device._log("held switching schedule applied")
    code = (
        AlertCode.FUTURE_DATED_COMMAND_EXECUTED
        if executed
        else AlertCode.FUTURE_DATED_COMMAND_NOT_EXECUTED
    )
    alerts = []
    for index, spec in enumerate(ACTIVATIONS):
        # Sealed next, in this order, each with the device's next alert counter.
        alert = c.DlmsAlert.future_dated(
            device.alert_counter + 1 + index,
            executed=executed,
            when=from_seconds(at),
            message_code=ECS46C,
            command_counter=int(pending["counter"]),
            spec=spec,
        )
        alerts.append(Alert(code, message_code=FUTURE_DATED_DLMS, content=alert.encode()))
    return alerts


@next_due(_due)
def _next_due(device: Any, clock: int) -> int | None:
    state: dict[str, Any] | None = device.extra.get(FAMILY) if device.extra else None
    return int(state["pending"]["at"]) if state and "pending" in state else None


handles(DeviceType.ESME, ECS46C)(_schedule)
