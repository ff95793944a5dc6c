"""The ESME's alert and event behaviours (SR 6.22; read back by SR 6.2.10).

ECS25a / a1 / a2 / a3 (the supplier's 0x81xx alerts) and ECS25b / b3 (the network
operator's 0x80xx alerts) each enable or disable alerts in one behaviour object
(:data:`gbcs.content.BEHAVIOUR_OBJECTS`); ECS25r1 / ECS25r2 read the objects back as 256-bit
bit-strings of the alerts enabled. What the device keeps, in its ``alerts`` family state:

``disabled``
    By behaviour object (``"ECS25a"`` ... ``"ECS25b3"``), the alert codes switched off, as
    sorted ``"810D"``-style hex. An alert not listed is enabled: a meter leaves the factory
    sending, showing, sounding and logging every alert it raises.
``apc_ended``
    By APC controller number, the end (device time) of the ECS47e level limit whose end was
    alerted, so that each limit ending is alerted once.
``gas``
    A GSME's (GCS20): by event code (``"810E"``), the event configuration byte the last
    GCS20 gave it (:class:`gbcs.content.EventBehaviour`: WAN, HAN, logged, alarm). An event
    not listed keeps the factory behaviour: sent, shown, logged and sounded.

The device acts on the WAN objects (ECS25a, ECS25b) and, on a GSME, on each event's WAN
switch: an alert disabled there is not sent (:func:`sends`, a filter
:meth:`~emulator.devices.base.Device.seal` applies), though the device still notes it in its
event log. The HAN, alarm and logging objects are kept for the
reads but change nothing else yet (the emulator has no HAN display traffic or alarm, and the
event log records every alert). The critical 0x8Fxx alerts have no behaviour object and are
always sent.

A single-phase ESME (any ESME whose firmware's variant is not ``C..``) refuses the alerts of the
polyphase groups (the DUIS ``...PolyPhase`` settings: 0x81B7 and the per-phase 0x80xx voltage
and current alerts) with a failed result, as in the DCC's reference ERROR responses, and then
changes nothing.

Events that raise the alerts of the DCC's vectors beside the commands: the end of an APC
level limit set with ECS47e (the configuration family keeps it) raises ECS102 0x8F87 as time
passes; :func:`integrity_warning` (a metrology integrity issue, MIIW 0x81A0) and
:func:`supply_outage` (the supply back after an outage, ECS80 0x8F35 / 0x8F36 to the network
operator) queue their alert on the device, which the host's next tick sends.
"""

from __future__ import annotations

from typing import Any, Final

from emulator.clock import from_seconds
from emulator.devices.families import (
    Alert,
    Reply,
    filters_alerts,
    handles,
    next_due,
    ticks,
    writes_alerts,
)
from emulator.devices.trust import DeviceContext
from emulator.errors import CommandError
from emulator.usecases.configuration import FAMILY as CONFIGURATION
from gbcs import content as c
from gbcs.devices import DeviceType
from gbcs.frames import Message
from gbcs.payloads import dlms

__all__ = [
    "FAMILY",
    "INTEGRITY_WARNING",
    "LONG_OUTAGE",
    "disabled",
    "gas_behaviour",
    "integrity_warning",
    "sends",
    "supply_outage",
]

FAMILY = "alerts"


INTEGRITY_WARNING: Final = {DeviceType.ESME: 0x00F0, DeviceType.GSME: 0x00F2}
"""The message code of the Meter Integrity Issue Warning alert (MIIW-ESME / MIIW-GSME)."""

LONG_OUTAGE: Final = 180
"""Seconds from which a restored outage is alerted as 0x8F36 (three minutes or more), not
0x8F35."""

_WAN_OBJECT: Final = {0x81: "ECS25a", 0x80: "ECS25b"}
"""The behaviour object deciding whether an alert of each owner (high byte) is sent."""


def disabled(device: Any, use_case: str) -> frozenset[int]:
    """The alert codes switched off in the behaviour object of ``use_case``."""
    if not device.extra or FAMILY not in device.extra:
        return frozenset()
    found = device.extra[FAMILY].get("disabled", {}).get(use_case, ())
    return frozenset(int(code, 16) for code in found)


def gas_behaviour(device: Any, code: int) -> c.EventBehaviour | None:
    """A GSME's configuration of event ``code`` (GCS20); None: the factory behaviour."""
    if not device.extra or FAMILY not in device.extra:
        return None
    bits = device.extra[FAMILY].get("gas", {}).get(f"{code:04X}")
    return None if bits is None else c.EventBehaviour.from_bits(bits)


@filters_alerts
def sends(device: Any, alert: Alert) -> bool:
    """Whether the device sends ``alert`` over the WAN (an ESME's ECS25a / ECS25b setting, a
    GSME's GCS20 one)."""
    if not device.extra or FAMILY not in device.extra:
        return True
    if device.DEVICE_TYPE is DeviceType.GSME:
        behaviour = gas_behaviour(device, alert.code)
        return alert.is_critical or behaviour is None or behaviour.wan
    use_case = _WAN_OBJECT.get(alert.code >> 8)
    return use_case is None or alert.code not in disabled(device, use_case)


def _polyphase(device: Any) -> bool:
    # MP125's ESME variants: only a variant C ESME is polyphase.
    return (device.firmware.esme_variant or "").startswith("C")


def set_behaviour(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    cmd = c.SetAlertBehaviour.decode_as(command.message_code, command.content)
    name = cmd.target.use_case
    if not _polyphase(device):
        refused = sorted(code for code, _ in cmd.settings if code in c.POLYPHASE_ALERTS)
        if refused:
            listed = ", ".join(f"0x{code:04X}" for code in refused)
            raise CommandError(f"{name}: {listed} are polyphase alerts; this ESME is single phase")
    off = set(disabled(device, name))
    for code, enabled in cmd.settings:
        if enabled:
            off.discard(code)
        else:
            off.add(code)
    table = device.family_state(FAMILY).setdefault("disabled", {})
    table[name] = [f"{code:04X}" for code in sorted(off)]
    return Reply(cmd.outcome().encode())


def _enabled_bits(device: Any, use_case: str) -> dlms.Data:
    off = disabled(device, use_case)
    everything = (1 << c.HALF_BITS) - 1
    return c.bit_string(everything & ~c.behaviour_bits(set(off)))


def read_behaviours(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS25r1 / ECS25r2: each object the read gets, as the alerts it enables."""
    cmd = c.DlmsRead.decoder(command.message_code)(command.content)
    by_read = {obj.read_obis: obj for obj in c.BEHAVIOUR_OBJECTS.values()}
    values = []
    for get in cmd.gets():
        obj = by_read.get(str(get.obis))
        if obj is None:
            raise CommandError(f"{get.obis} is not a behaviour object")
        values.append(_enabled_bits(device, obj.use_case))
    return Reply(c.DlmsReadResponse.for_command(cmd, tuple(values)).encode())


@handles(DeviceType.GSME, c.GasEventBehaviours.message_code)
def set_gas_behaviour(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """GCS20: each listed event takes its configuration; every component is answered."""
    cmd = c.GasEventBehaviours.decode(command.content)
    table = device.family_state(FAMILY).setdefault("gas", {})
    for code, behaviour in sorted(cmd.settings().items()):
        table[f"{code:04X}"] = behaviour.to_bits()
    return Reply(cmd.answer().encode())


for _code in c.BEHAVIOUR_OBJECTS:
    handles(DeviceType.ESME, _code)(set_behaviour)
handles(DeviceType.ESME, 0x00EE)(read_behaviours)
handles(DeviceType.ESME, 0x00EF)(read_behaviours)


# =========================================================================== events


def integrity_warning(device: Any, issue: int) -> None:
    """The meter finds a metrology integrity issue: alert 0x81A0 (Smart Meter Integrity
    Issue - Warning) carrying the 2-byte issue code, with its own message code (MIIW-ESME
    0x00F0 / MIIW-GSME 0x00F2). It waits for the device's next message or tick, as an alert
    raised between two messages does (the host's periodic tick sends it)."""
    code = INTEGRITY_WARNING.get(device.DEVICE_TYPE)
    if code is None:
        raise CommandError(f"a {device.DEVICE_TYPE} has no metrology to raise an integrity issue")
    if not 0 <= issue <= 0xFFFF:
        raise CommandError(f"integrity issue {issue} is not a 2-byte code")
    alert = Alert(0x81A0, message_code=code, detail=issue.to_bytes(2, "big"))
    device.queued = [*(device.queued or []), alert]


def supply_outage(device: Any, start: int, end: int) -> None:
    """The ESME's supply was lost from ``start`` to ``end`` (device time, Unix seconds) and is
    back: ECS80 (0x0067) to the network operator, 0x8F36 for an outage of three minutes or
    more, 0x8F35 for a shorter one, carrying both times. The meter's registers are not
    changed (the emulated load does not model the outage)."""
    if device.DEVICE_TYPE is not DeviceType.ESME:
        raise CommandError(f"supply outage alerts come from an ESME, not a {device.DEVICE_TYPE}")
    if not 0 <= start < end < 1 << 32:
        raise CommandError(f"an outage from {start} to {end} is not a period of time")
    code = 0x8F36 if end - start >= LONG_OUTAGE else 0x8F35
    detail = start.to_bytes(4, "big") + end.to_bytes(4, "big")
    alert = Alert(
        code, message_code=c.SupplyOutageAlert.message_code, detail=detail, network_operator=True
    )
    device.queued = [*(device.queued or []), alert]


@writes_alerts(c.SupplyOutageAlert.message_code)
def _outage_content(device: Any, alert: Alert, counter: int, now: int) -> bytes:
    start, end = int.from_bytes(alert.detail[:4], "big"), int.from_bytes(alert.detail[4:], "big")
    when = from_seconds(device.device_time(now))
    return c.SupplyOutageAlert(
        counter, alert.code, when, from_seconds(start), from_seconds(end)
    ).encode()


@ticks
def apc_limits_ending(device: Any, now: int) -> list[Alert]:
    """ECS102: an ECS47e APC level limit whose period has ended (the configuration family's
    ``apc`` state) raises 0x8F87 once, naming the controller and the level."""
    if device.DEVICE_TYPE is not DeviceType.ESME or not device.extra:
        return []
    limits = device.extra.get(CONFIGURATION, {}).get("apc")
    if not limits:
        return []
    at = device.device_time(now)
    ended: dict[str, int] | None = None
    alerts = []
    for number, limit in sorted(limits.items()):
        end = limit.get("end")
        if end is None or end > at:
            continue
        if ended is None:
            ended = device.family_state(FAMILY).setdefault("apc_ended", {})
        if ended.get(number) == end:
            continue
        ended[number] = end
        controller = (0x20 if limit.get("input") else 0x10) | int(number)
        detail = bytes([controller, int(limit.get("level", 0))])
        alerts.append(Alert(0x8F87, message_code=c.ApcLimitEndedAlert.message_code, detail=detail))
    return alerts


@next_due(apc_limits_ending)
def _apc_due(device: Any, clock: int) -> int | None:
    """The end of the first limit not yet alerted."""
    if device.DEVICE_TYPE is not DeviceType.ESME or not device.extra:
        return None
    limits = device.extra.get(CONFIGURATION, {}).get("apc")
    if not limits:
        return None
    ended = device.extra.get(FAMILY, {}).get("apc_ended", {})
    return min(
        (
            int(limit["end"])
            for number, limit in limits.items()
            if limit.get("end") is not None and ended.get(number) != limit["end"]
        ),
        default=None,
    )


@writes_alerts(c.ApcLimitEndedAlert.message_code)
def _apc_content(device: Any, alert: Alert, counter: int, now: int) -> bytes:
    when = from_seconds(device.device_time(now))
    return c.ApcLimitEndedAlert(counter, when, alert.detail[0], alert.detail[1]).encode()
