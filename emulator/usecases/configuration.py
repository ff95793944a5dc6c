"""The ESME's side of the configuration and auxiliary load control SRs: the settings
commands (:class:`gbcs.content.DeviceSettings`: ECS28a/b, ECS29a-f, ECS30/30a, ECS34, ECS37,
ECS38, ECS39a/b, ECS46a/c/d, ECS47, ECS47a, ECS47e, ECS57, ECS62, ECS81; on the CHF DBCH04 and
DBCH05).

The device checks every value first and then acts, so a refused command changes nothing
(the error response carries a failed result for each request). What it keeps lives in its
``configuration`` family state, JSON-ready, under these keys - the reading family reads
them back from here:

``objects``
    The last value written to each COSEM attribute, by ``"set <class> <obis>/<attribute>"``
    (:func:`gbcs.content.spec_key`), as the hex of its A-XDR encoding: :func:`setting`
    gives it back as DLMS data (thresholds, MPANs, billing calendar, labels, ...).
``resets``
    Device time (Unix seconds) of the last run of each reset action, by
    ``"action <class> <obis>/<method>"`` (load-limit counter, RMS voltage counters, maximum
    demand registers).
``switches``
    Each HC ALCS / ALCS by number (``"1"``..``"5"``): ``state`` (``"on"``, ``"off"`` or
    ``"schedule"``) and ``until`` (device time the override ends; None for a reset).
``apc``
    Each auxiliary proportional controller by number: ``level`` (%), ``start`` and ``end``
    (device time) and ``input`` (the level limits the input from the controlled load).
``controllers``
    Each auxiliary controller's commanded state (ECS47a) by number, the same fields as
    ``apc`` (an ALCS / HC ALCS is on at 100 and off below).
``load_limit``
    The load limit's progress once ECS28a set it: ``checked`` (start of the last half hour
    counted), ``over`` (consecutive half hours above the threshold), ``tripped`` (when the
    limit armed the supply; None when it has not).
``channel_scans``
    On a CHF: device time of the last Sub GHz channel scans asked for (DBCH05, at most 10).

Future-dated configuration objects (class 9000: ECS28a's load limit settings, the switching
calendars of ECS46c / ECS46d) are written as a value (attribute 4, or the pending ``0-1``
special days and schedule) and an activation date-time (attribute 6). An all-zero date-time
activates at once: the device then holds the value where the reads find it (the load limit
supply state's attribute 2, the limiter ``0-0:17.0.0.255``'s 4 / 6 / 7, the active ``0-0``
special days and schedule). A date-time still to come is kept under ``objects`` and not
acted on here; a held command applied once its time has come activates.

A GSME takes the GBZ settings (:class:`gbcs.content.GasSettings`: GCS23, GCS24/24a,
GCS25a, GCS41) and keeps, in the same family state:

``zcl``
    The payload (hex) of the last ZCL command of each kind, by ``"<cluster>/<command>"``
    (``"0702/0E"``: the uncontrolled flow threshold).
``gas``
    What they set: ``conversion_factor`` (1e-5), ``calorific_value`` (0.1 MJ/m3),
    ``flow_threshold`` and ``flow_divisor``, ``stabilisation`` (s), ``measurement`` (s),
    ``tamper`` / ``depletion`` (ZSE supply status, 3 unchanged), ``billing_start`` (Unix
    seconds), ``billing_duration`` and ``billing_unit`` (ZSE duration type), ``mprn``.
"""

from __future__ import annotations

from typing import Any

from emulator.clock import from_seconds
from emulator.devices.families import Alert, Reply, handles, next_due, ticks
from emulator.devices.meter import MeterDevice
from emulator.devices.trust import DeviceContext
from emulator.errors import CommandError, TransitionError
from emulator.supply import SupplyEvent, SupplyState
from gbcs import content as c
from gbcs.alerts import AlertCode
from gbcs.codes import RemotePartyRole
from gbcs.devices import DeviceType
from gbcs.frames import Message
from gbcs.payloads import dlms
from gbcs.payloads.dlms import AccessKind, CosemDateTime
from gbcs.payloads.gbz import ZIGBEE_EPOCH

ZIGBEE_EPOCH_UNIX = int(ZIGBEE_EPOCH.timestamp())
ZCL_NOT_AUTHORIZED = 0x7E
ZCL_HARDWARE_FAILURE = 0xC0

__all__ = ["FAMILY", "setting"]

FAMILY = "configuration"

_ALCS_BASE = bytes([0, 0, 94, 44])
"""0-0:94.44.{116+n}.x: the objects of switch or controller n (durations, APC period)."""

_SWITCH_ACTIONS = {0x11: "on", 0x12: "off", 0x20: "schedule"}
LEVEL = 0x80
"""A switching-table script with this low-byte flag sets a controller's level (low 7 bits)."""
LOAD_LIMIT_THRESHOLD = "set 71 0-0:17.0.0.255/4"
"""The load limiter's threshold (W, ECS28a): not one of the voltage limiters (ECS29)."""
IMMEDIATE = bytes.fromhex("0000000000000000008000ff")
"""The activation date-time that makes a future-dated configuration object take effect now."""
_ACTIVATES: dict[str, tuple[tuple[str, str], ...]] = {
    # ECS28a: the value written to attribute 4 becomes what ECS27 reads.
    "0-0:94.44.0.3": (("set 9000 0-0:94.44.0.3/4", "set 9000 0-0:94.44.0.3/2"),),
    "0-0:94.44.128.7": (("set 9000 0-0:94.44.128.7/4", LOAD_LIMIT_THRESHOLD),),
    "0-0:94.44.128.6": (("set 9000 0-0:94.44.128.6/4", "set 71 0-0:17.0.0.255/6"),),
    "0-0:94.44.128.8": (("set 9000 0-0:94.44.128.8/4", "set 71 0-0:17.0.0.255/7"),),
    # ECS46c / ECS46d: the pending switching schedule and special days become the active ones.
    "0-0:94.44.128.26": (("set 10 0-1:12.0.2.255/2", "set 10 0-0:12.0.2.255/2"),),
    "0-0:94.44.128.35": (("set 11 0-1:11.0.3.255/2", "set 11 0-0:11.0.3.255/2"),),
}
"""Each future-dated configuration object: (pending key, active key) of what it activates."""
_NOW = dlms.octet_string(IMMEDIATE)
MAX_RANDOMISED_OFFSET = 1799
_ECS46D = 0x011A
_ECS47A = 0x011E


def setting(device: Any, key: str) -> dlms.Data | None:
    """The value last written to ``key`` (``"set 21 0-0:16.0.0.255/2"``), or None."""
    found = device.family_state(FAMILY).get("objects", {}).get(key)
    return None if found is None else dlms.decode_data(bytes.fromhex(found))


def _number(spec: dlms.AccessSpec) -> int:
    """The switch / controller number ``n`` of ``0-0:94.44.{116+n}.x``."""
    return spec.obis.raw[4] - 116


def _uint(value: dlms.Data, what: str) -> int:
    if not isinstance(value, dlms.Integer):
        raise CommandError(f"{what}: expected an unsigned integer")
    return value.value


def _time(value: dlms.Data, what: str) -> int:
    if not isinstance(value, dlms.OctetString) or len(value.value) != 12:
        raise CommandError(f"{what}: expected a COSEM date-time")
    when = CosemDateTime.from_bytes(value.value).to_datetime()
    if when is None:
        raise CommandError(f"{what}: the date-time is not fully specified")
    return int(when.timestamp())


def _level_script(script: int) -> bool:
    """Whether a calendar entry's switching-table script sets a controller's level (see
    :func:`gateway.srv.controllers.level_script`): ``(0x10 | 0x20) | n``, ``0x80 | level``."""
    return bool(script & LEVEL)


def _check_state_script(script: int) -> None:
    """ECS47a's script (:func:`gateway.srv.controllers.state_script`): ``(0x10 | 0x20) | n``,
    then the level itself."""
    if script >> 12 not in (1, 2) or not 1 <= script >> 8 & 0x0F <= 5 or script & 0xFF > 100:
        raise CommandError(f"script 0x{script:04X} is no level of 0..100% of controller 1..5")


def _check_script(script: int, table: str) -> None:
    n = script >> 8 & 0x0F
    if not 1 <= n <= 5:
        raise CommandError(f"script 0x{script:04X} names no switch or controller 1..5")
    if table.endswith("10.0.103.255"):
        if _level_script(script):
            if script >> 12 not in (1, 2) or script & 0x7F > 100:
                raise CommandError(f"script 0x{script:04X} is no level of 0..100% on a side")
        elif script & 0xFF not in _SWITCH_ACTIONS:
            raise CommandError(f"script 0x{script:04X} is no switching action")
    if table.endswith("10.0.107.255") and script & 0xFF > 100:
        raise CommandError(f"an APC level of {script & 0xFF}% is above 100%")


def _check_calendar(value: dlms.Data) -> None:
    """Each entry of an auxiliary controller calendar (ECS46d) runs a level script."""
    for entry in value.items if isinstance(value, dlms.Array) else ():
        fields = entry.items if isinstance(entry, dlms.Structure) else ()
        if len(fields) != 10:
            raise CommandError("a calendar entry is a structure of 10 fields")
        script = _uint(fields[3], "calendar script")
        if not _level_script(script):
            raise CommandError(f"calendar script 0x{script:04X} sets no controller level")
        _check_script(script, "0-0:10.0.103.255")


def _check(cmd: c.DeviceSettings) -> None:
    """Refuse values outside what the device accepts, before anything changes."""
    values = {c.spec_key(spec): data for spec, data in cmd.writes}
    if cmd.message_code == _ECS46D:
        _check_calendar(values.get("set 10 0-1:12.0.2.255/2", dlms.array()))
    offset = values.get("set 1 0-0:94.44.0.1/2")
    if offset is not None and _uint(offset, "randomised offset limit") > MAX_RANDOMISED_OFFSET:
        raise CommandError(f"a randomised offset limit of {offset} s is not below 1800 s")
    for key in ("set 9000 0-0:94.44.0.3/4", "set 1 0-0:94.44.0.4/2"):
        if key in values and not isinstance(values[key], dlms.Boolean):
            raise CommandError(f"{key}: expected a boolean")
    scan = values.get("set 1 0-0:94.44.10.1/2")
    if scan is not None and _uint(scan, "channel scan request") != 0:
        raise CommandError(f"a channel scan request of {scan} is not 0")
    for spec, data in cmd.writes:
        dated = spec.class_id == 9000 and spec.index == 6
        if dated and (not isinstance(data, dlms.OctetString) or len(data.value) != 12):
            raise CommandError(f"{c.spec_key(spec)}: expected a COSEM date-time")
    threshold = values.get("set 9000 0-0:94.44.128.7/4")
    if threshold is not None and _uint(threshold, "load limit threshold") == 0:
        raise CommandError("a load limit threshold of 0 W is refused")
    start, end = _periods(cmd)
    for n in sorted(set(start) & set(end)):
        if end[n] <= start[n]:
            raise CommandError(f"controller {n}: the period ends before it starts")
    thresholds = values.get("set 21 0-0:16.0.0.255/2")
    if thresholds is not None:
        items = thresholds.items if isinstance(thresholds, dlms.Array) else ()
        levels = [_uint(x, "power threshold") for x in items]
        if len(levels) != 2 or levels[0] > levels[1]:
            raise CommandError(f"power thresholds {levels}: two, low/medium first")
    for key, value in values.items():
        voltage = key.startswith("set 71 ") and key != LOAD_LIMIT_THRESHOLD
        if voltage and key.endswith("/4") and _uint(value, key) > 1000:
            raise CommandError(f"{key}: a voltage threshold of {value} V is not plausible")
    for spec, data in cmd.writes:
        if spec.kind is AccessKind.ACTION and spec.class_id == 9:
            script = _uint(data, "script")
            if cmd.message_code == _ECS47A:
                _check_state_script(script)
                continue
            _check_script(script, str(spec.obis))
            # Calendar entries command levels, ECS47 switches: it runs no level script.
            if str(spec.obis).endswith("10.0.103.255") and _level_script(script):
                raise CommandError(f"script 0x{script:04X} is not 0x{cmd.message_code:04X}'s")


def _period_objects(message_code: int) -> tuple[int, int]:
    """Which ``0-0:94.44.{116+n}.x`` hold a controller's start and end: ``.1`` / ``.2`` in
    ECS47a (where ECS47 puts its durations), ``.3`` / ``.4`` in ECS47e."""
    return (1, 2) if message_code == _ECS47A else (3, 4)


def _periods(cmd: c.DeviceSettings) -> tuple[dict[int, int], dict[int, int]]:
    """The start and end (Unix seconds) each controller's period is written with."""
    first, last = _period_objects(cmd.message_code)
    start: dict[int, int] = {}
    end: dict[int, int] = {}
    for spec, data in cmd.writes:
        raw = spec.obis.raw
        period = raw[5] in (first, last)
        if spec.class_id == 1 and raw[:4] == _ALCS_BASE and 117 <= raw[4] <= 121 and period:
            (start if raw[5] == first else end)[_number(spec)] = _time(data, c.spec_key(spec))
    return start, end


def _due(activation: dlms.Data, at: int) -> bool:
    """Whether a future-dated object's activation date-time is now (all-zero) or has come by
    device time ``at`` (a held command applied when it falls due)."""
    if activation == _NOW:
        return True
    if not isinstance(activation, dlms.OctetString) or len(activation.value) != 12:
        return False
    when = CosemDateTime.from_bytes(activation.value).to_datetime()
    return when is not None and int(when.timestamp()) <= at


def apply(device: Any, cmd: c.DeviceSettings, now: int) -> None:
    """Act on a checked settings command."""
    state = device.family_state(FAMILY)
    at = device.device_time(now)
    objects: dict[str, str] = state.setdefault("objects", {})
    durations: dict[int, dict[int, int]] = {}
    periods: dict[int, dict[int, int]] = {}
    first, last = _period_objects(cmd.message_code)
    for spec, data in cmd.writes:
        key = c.spec_key(spec)
        if spec.kind is AccessKind.SET:
            objects[key] = data.to_bytes().hex()
            if (
                spec.class_id == 1
                and spec.obis.raw[:4] == _ALCS_BASE
                and 117 <= spec.obis.raw[4] <= 121
            ):
                n, which = _number(spec), spec.obis.raw[5]
                if which in (first, last):
                    periods.setdefault(n, {})[which] = _time(data, key)
                else:
                    durations.setdefault(n, {})[which] = _uint(data, key)
            elif spec.class_id == 9000 and spec.index == 6 and _due(data, at):
                for pending, active in _ACTIVATES.get(str(spec.obis), ()):
                    if pending in objects:
                        objects[active] = objects[pending]
            continue
        if spec.class_id == 9:  # a script: switch an ALCS, command a level or limit an APC
            script = _uint(data, "script")
            n = script >> 8 & 0x0F
            if cmd.message_code == _ECS47A:
                window = periods.get(n, {})
                state.setdefault("controllers", {})[str(n)] = {
                    "level": script & 0xFF,
                    "start": window.get(first),
                    "end": window.get(last),
                    "input": script >> 12 == 2,
                }
            elif str(spec.obis).endswith("10.0.103.255"):
                action = _SWITCH_ACTIONS[script & 0xFF]
                minutes = durations.get(n, {}).get(1 if action == "on" else 2)
                until = None if action == "schedule" or minutes is None else at + 60 * minutes
                state.setdefault("switches", {})[str(n)] = {"state": action, "until": until}
            else:
                window = periods.get(n, {})
                state.setdefault("apc", {})[str(n)] = {
                    "level": script & 0xFF,
                    "start": window.get(3),
                    "end": window.get(4),
                    "input": bool(script >> 12 & 0x2),
                }
            continue
        state.setdefault("resets", {})[key] = at


_DBCH04 = 0x010D
_DBCH05 = 0x010E
_CHF_SETTINGS = frozenset({_DBCH04, _DBCH05})
"""The CHF's Sub GHz configuration and channel scan request: the settings a CHF takes."""
DBCH08 = 0x0112
SCAN_ASSESSED = 0x8F28
"""Sub GHz channel scan request assessment outcome (DBCH08)."""
SCAN_ACCEPTED = b"\x00"
"""The assessment outcome: the CHF will scan (the DCC's reference alert carries 00, 00)."""
_MAY_BE_FUTURE_DATED = frozenset({0x0043, 0x0054, _ECS46D})
"""ECS28a, ECS46c, ECS46d: use cases GBCS lets be future-dated, whose response header carries
the date-time the device executed the command."""
_NETWORK_OPERATOR_CODES = frozenset(
    {0x0045, 0x00AE, 0x00D1, 0x00D2, 0x00D3, 0x00D4, 0x004A, 0x005A}
)
"""Voltage, RMS counter and maximum demand settings (ECS29a-f, ECS37, ECS57): the network
operator's (DUIS gives them to the Electricity Distributor); the others are the supplier's."""


def _settings(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    cmd = c.decode_command(command.message_code, command.content)
    if not isinstance(cmd, c.DeviceSettings):  # pragma: no cover - registry guarantees it
        raise CommandError("not a settings command")
    role = device.trust.role_of(command.business_originator)
    wanted = (
        RemotePartyRole.NETWORK_OPERATOR
        if cmd.message_code in _NETWORK_OPERATOR_CODES
        else RemotePartyRole.SUPPLIER
    )
    # The CHF's Sub GHz commands come from the ACB, as the DCC's reference DBCH04 does (a
    # supplier's reaches it through the ACB too).
    acb_to_hub = cmd.message_code in _CHF_SETTINGS and role is RemotePartyRole.ACB
    if role is not wanted and not acb_to_hub:
        raise CommandError(
            f"0x{cmd.message_code:04X} is the {wanted.name.lower()}'s to send",
            alert_code=AlertCode.SOURCE_HAS_NO_AUTHORITY,
        )
    _check(cmd)
    if cmd.message_code in _HELD_WHEN_DATED and _hold(device, cmd, command, now):
        executed = CosemDateTime.from_datetime(from_seconds(device.device_time(now)))
        return Reply(cmd.outcome().encode(), date_time=executed.to_bytes())
    apply(device, cmd, now)
    device._log(
        f"settings 0x{cmd.message_code:04X}: {len(cmd.writes)} written at "
        f"{from_seconds(device.device_time(now)).isoformat()}"
    )
    if cmd.message_code == _DBCH05:
        return Reply(cmd.outcome().encode(), alerts=[_scan_requested(device, now)])
    if cmd.message_code in _MAY_BE_FUTURE_DATED:
        executed = CosemDateTime.from_datetime(from_seconds(device.device_time(now)))
        return Reply(cmd.outcome().encode(), date_time=executed.to_bytes())
    return Reply(cmd.outcome().encode())


_HELD_WHEN_DATED = frozenset({0x0043, _ECS46D})
"""ECS28a and ECS46d: held by the ESME when their activation date-time is still to come
(the Device pattern of a future-dated SR6.4.1 / SR6.14.3)."""
CANCEL = b"\xff" * 9 + b"\x80\x00\xff"
"""The activation date-time (all wildcards) that cancels the pending future-dated command."""
FUTURE_DATED_DLMS = 0x00CC


def _activation(cmd: c.DeviceSettings) -> bytes:
    """The one activation date-time of a command's future-dated objects (:func:`_check` has
    made each a 12-byte octet string)."""
    found = {
        data.value
        for spec, data in cmd.writes
        if spec.class_id == 9000 and spec.index == 6 and isinstance(data, dlms.OctetString)
    }
    if len(found) != 1:
        raise CommandError("the future-dated objects take effect at different times")
    return found.pop()


def _hold(device: Any, cmd: c.DeviceSettings, command: Message, now: int) -> bool:
    """Hold a command whose activation is still to come, or cancel the held one (True: done
    here); False: apply it now."""
    at = _activation(cmd)
    held: dict[str, Any] = device.family_state(FAMILY).setdefault("future_dated", {})
    key = f"{cmd.message_code:04X}"
    if at == CANCEL:
        dropped = held.pop(key, None)
        device._log(f"0x{key}: {'pending command cancelled' if dropped else 'nothing to cancel'}")
        return True
    if at == IMMEDIATE:
        return False
    when = CosemDateTime.from_bytes(at).to_datetime()
    if when is None:
        raise CommandError("the activation date-time is not fully specified")
    if int(when.timestamp()) <= device.device_time(now):
        return False
    held[key] = {
        "content": command.content.hex(),
        "counter": command.originator_counter,
        "at": int(when.timestamp()),
    }
    device._log(f"0x{key} held until {when.isoformat()}")
    return True


@ticks
def future_dated(device: Any, now: int) -> list[Alert]:
    """Each held ECS28a / ECS46d falling due: applied (checked again first), then one 0x8F66
    alert (0x8F67: not executed) per future-dated object, naming its activation attribute."""
    state: dict[str, Any] | None = device.extra.get(FAMILY) if device.extra else None
    held = state.get("future_dated") if state else None
    if not held:
        return []
    alerts: list[Alert] = []
    for key in sorted(held):
        pending = held[key]
        at = int(pending["at"])
        if device.device_time(now) < at:
            continue
        del held[key]
        code = int(key, 16)
        cmd = c.decode_command(code, bytes.fromhex(pending["content"]))
        if not isinstance(cmd, c.DeviceSettings):  # pragma: no cover - held as one
            continue
        try:
            _check(cmd)
            apply(device, cmd, at - device.clock_offset)
            executed = True
        except (CommandError, ValueError) as exc:
            executed = False
            device._log(f"held 0x{key} failed: {exc}")
        dated = [spec for spec, _ in cmd.writes if spec.class_id == 9000 and spec.index == 6]
        for spec in dated:
            # Sealed next, in this order, each with the device's next alert counter.
            alert = c.DlmsAlert.future_dated(
                device.alert_counter + 1 + len(alerts),
                executed=executed,
                when=from_seconds(at),
                message_code=code,
                command_counter=int(pending["counter"]),
                spec=spec,
            )
            outcome = (
                AlertCode.FUTURE_DATED_COMMAND_EXECUTED
                if executed
                else (AlertCode.FUTURE_DATED_COMMAND_NOT_EXECUTED)
            )
            alerts.append(Alert(outcome, message_code=FUTURE_DATED_DLMS, content=alert.encode()))
    return alerts


@next_due(future_dated)
def _future_dated_due(device: Any, clock: int) -> int | None:
    state: dict[str, Any] | None = device.extra.get(FAMILY) if device.extra else None
    held = state.get("future_dated") if state else None
    return min((int(p["at"]) for p in held.values()), default=None) if held else None


def _scan_requested(device: Any, now: int) -> Alert:
    """DBCH05: the CHF notes the request and tells, in a DBCH08 alert, that it will scan."""
    at = device.device_time(now)
    scans: list[int] = device.family_state(FAMILY).setdefault("channel_scans", [])
    scans.append(at)
    del scans[:-10]
    details = dlms.structure(dlms.octet_string(SCAN_ACCEPTED), dlms.octet_string(b"\x00"))
    # The alert is sealed next, with the device's next alert counter.
    content = c.DlmsAlert(device.alert_counter + 1, SCAN_ASSESSED, from_seconds(at), details)
    # GBCS sends the hub's Sub GHz alerts to the ACB, MAC'd (not signed: not critical), as
    # the others of the family (emulator.usecases.sub_ghz).
    return Alert(
        SCAN_ASSESSED,
        message_code=DBCH08,
        content=content.encode(),
        critical=False,
        target=device.trust.acb,
    )


LOAD_LIMIT_STATE = "set 9000 0-0:94.44.0.3/2"
_LIMITER_SETTINGS = (LOAD_LIMIT_THRESHOLD, "set 71 0-0:17.0.0.255/6", "set 71 0-0:17.0.0.255/7")
"""Threshold (W), load limit period and restoration period (s)."""
HALF_HOUR = 1800
ABOVE_LOAD_LIMIT, LOAD_LIMIT_TRIGGERED, LOAD_LIMIT_RESTORED = 0x8F01, 0x8F33, 0x8F34
"""Active power import above the load limit threshold; supply disabled then armed - load
limit triggered; supply enabled after the load limit restoration period."""


@ticks
def load_limit(device: Any, now: int) -> list[Alert]:
    """Once ECS28a has set the load limit, each held half hour counts: the limit triggers
    when the average power stays above the threshold for the load limit period (whole half
    hours, the meter's resolution); with the supply state ``Disable`` the supply is then
    disabled and armed, and enabled again after the restoration period unless someone else
    changed it meanwhile."""
    if not isinstance(device, MeterDevice) or device.DEVICE_TYPE is not DeviceType.ESME:
        return []
    state: dict[str, Any] = (device.extra or {}).get(FAMILY) or {}
    objects = state.get("objects", {})
    if any(key not in objects for key in (LOAD_LIMIT_STATE, *_LIMITER_SETTINGS)):
        return []  # ECS28a writes all four
    meter = device.meter
    limit: dict[str, Any] = state.setdefault("load_limit", {})
    if "checked" not in limit:  # the half hours before the settings do not count
        last = meter.half_hours(count=1)
        limit.update(checked=last[-1][0] if last else None, over=0, tripped=None)
        return []
    # Only the half hours since the last check: the record regenerates what it is asked for,
    # and 13 months of it on every tick would cost milliseconds.
    checked = limit["checked"]
    held = meter.half_hours() if checked is None else meter.half_hours(since=checked + HALF_HOUR)
    threshold, period, restoration = (
        _uint(dlms.decode_data(bytes.fromhex(objects[key])), key) for key in _LIMITER_SETTINGS
    )
    disable = objects[LOAD_LIMIT_STATE] == dlms.boolean(True).to_bytes().hex()
    needed = max(1, -(-period // HALF_HOUR))
    alerts: list[Alert] = []
    for start, wh in held:
        if limit["checked"] is not None and start <= limit["checked"]:
            continue
        limit["checked"] = start
        limit["over"] = limit["over"] + 1 if wh * 2 > threshold else 0
        if limit["over"] < needed or limit["tripped"] is not None:
            continue
        limit["over"] = 0
        alerts.append(Alert(ABOVE_LOAD_LIMIT))
        if disable and meter.supply is SupplyState.ENABLED:
            meter.operate_supply(SupplyEvent.REMOTE_DISABLE)
            meter.operate_supply(SupplyEvent.REMOTE_ARM)
            limit["tripped"] = start + HALF_HOUR
            device._log(f"load limit: {wh * 2} W above {threshold} W, supply armed")
            alerts.append(Alert(LOAD_LIMIT_TRIGGERED))
    tripped = limit["tripped"]
    if tripped is not None and meter.supply is not SupplyState.ARMED:
        limit["tripped"] = None  # the consumer or a command took the supply over
    elif tripped is not None and now >= tripped + restoration:
        try:
            meter.operate_supply(SupplyEvent.CONSUMER_BUTTON)
        except TransitionError:  # pragma: no cover - armed supplies take the button
            return alerts
        limit["tripped"] = None
        device._log("load limit: restoration period over, supply enabled")
        alerts.append(Alert(LOAD_LIMIT_RESTORED))
    return alerts


@next_due(load_limit)
def _load_limit_due(device: Any, clock: int) -> int | None:
    """Every tick once the limiter is set (it follows the meter's half hours and supply)."""
    if not isinstance(device, MeterDevice) or device.DEVICE_TYPE is not DeviceType.ESME:
        return None
    state: dict[str, Any] = (device.extra or {}).get(FAMILY) or {}
    objects = state.get("objects", {})
    if any(key not in objects for key in (LOAD_LIMIT_STATE, *_LIMITER_SETTINGS)):
        return None
    return clock


ECS61A = 0x00BB


def _switch_on(device: Any, n: int, at: int) -> bool:
    """Whether switch ``n`` is on at device time ``at``: its override (ECS47) while it lasts,
    else a commanded state (ECS47a) whose period holds ``at`` (on at 100 %), else off."""
    state = device.family_state(FAMILY)
    switch = state.get("switches", {}).get(str(n))
    overriding = switch is not None and switch["state"] != "schedule"
    if overriding and (switch["until"] is None or at < switch["until"]):
        return bool(switch["state"] == "on")
    commanded = state.get("controllers", {}).get(str(n))
    if commanded is not None and (commanded["start"] or 0) <= at < (commanded["end"] or 0):
        return bool(commanded["level"] == 100)
    return False


def _read_switch_data(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS61a: each switch's label, type (HC ALCS EUI, zeros for an ALCS) and state, the ALCS
    special days and calendar - as ECS46a / ECS46c / ECS47 / ECS47a left them."""
    cmd = c.decode_command(command.message_code, command.content)
    if not isinstance(cmd, c.DlmsRead):  # pragma: no cover - registry guarantees it
        raise CommandError("not a DLMS read")
    at = device.device_time(now)
    data: list[dlms.Data] = []
    for get in cmd.gets():
        factory: dlms.Data
        if get.class_id == 70:  # switch n's disconnect control 0-n:96.3.10.255: its output
            n = int(get.obis.split(":")[0].split("-")[1])
            data.append(dlms.boolean(_switch_on(device, n, at)))
            continue
        if get.obis.startswith("0-0:94.44.0."):
            kind, n = divmod(int(get.obis.rsplit(".", 1)[1]), 10)
            factory = (
                dlms.visible_string(f"Switch {n}".encode())
                if kind == 1
                else dlms.octet_string(bytes(8))  # an ALCS until ECS46c names an HC ALCS
            )
        else:
            factory = dlms.array()  # no special days, no calendar until ECS46c sets them
        held = setting(device, f"set {get.class_id} {get.obis}/{get.attribute}")
        data.append(factory if held is None else held)
    return Reply(c.DlmsReadResponse.for_command(cmd, tuple(data)).encode())


handles(DeviceType.ESME, ECS61A)(_read_switch_data)


def _u32(raw: bytes, at: int) -> int:
    return int.from_bytes(raw[at : at + 4], "little")


def _gas_values(call: c.ZclCall) -> dict[str, Any]:
    """What a GSME settings call sets (its payload as ZigBee SE lays it out)."""
    p, key = call.payload, (call.cluster, call.command_id)
    try:
        if key == (0x0700, 0x02) and len(p) == 13:
            return {"conversion_factor": _u32(p, 8)}
        if key == (0x0700, 0x03) and len(p) == 14:
            return {"calorific_value": _u32(p, 8)}
        if key == (0x0702, 0x0E) and len(p) == 18:
            return {
                "flow_threshold": int.from_bytes(p[8:10], "little"),
                "flow_divisor": int.from_bytes(p[13:15], "little"),
                "stabilisation": p[15],
                "measurement": int.from_bytes(p[16:18], "little"),
            }
        if key == (0x0702, 0x0D) and len(p) == 8:
            return {"tamper": p[4], "depletion": p[5]}
        if key == (0x0700, 0x09) and len(p) == 17:
            return {
                "billing_start": _u32(p, 8) + ZIGBEE_EPOCH_UNIX,
                "billing_duration": int.from_bytes(p[12:15], "little"),
                "billing_unit": p[15],
            }
        if key == (0x0700, 0x01):
            return {}
        if key == (0x0708, 0x03) and len(p) >= 13 and len(p) == 13 + p[12]:
            return {"mprn": p[13:].decode("ascii")}
    except UnicodeDecodeError:
        pass
    raise CommandError(f"cluster 0x{call.cluster:04X} command 0x{call.command_id:02X}: malformed")


def _gas_settings(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    cmd = c.decode_command(command.message_code, command.content)
    if not isinstance(cmd, c.GasSettings):  # pragma: no cover - registry guarantees it
        raise CommandError("not a gas settings command")
    if device.trust.role_of(command.business_originator) is not RemotePartyRole.SUPPLIER:
        refused = Alert(AlertCode.SOURCE_HAS_NO_AUTHORITY)
        return Reply(cmd.outcome(ZCL_NOT_AUTHORIZED).encode(), alerts=[refused])
    values: dict[str, Any] = {}
    try:
        for call in cmd.calls:  # every call checked before any is kept
            values.update(_gas_values(call))
        if values.get("conversion_factor") == 0:
            raise CommandError("a conversion factor of 0 is refused")
    except CommandError as exc:
        device._log(f"gas settings refused: {exc}")
        # Each command answered with a failure, as the reference error responses do (0xC0).
        return Reply(cmd.outcome(ZCL_HARDWARE_FAILURE).encode())
    state = device.family_state(FAMILY)
    zcl: dict[str, str] = state.setdefault("zcl", {})
    for call in cmd.calls:
        zcl[f"{call.cluster:04X}/{call.command_id:02X}"] = call.payload.hex()
    state.setdefault("gas", {}).update(values)
    return Reply(cmd.outcome().encode())


for _code in c.SETTINGS_OBJECTS:
    if _code == 0x0054:
        continue  # ECS46c may be future-dated: emulator.usecases.auxiliary
    handles(DeviceType.CHF if _code in _CHF_SETTINGS else DeviceType.ESME, _code)(_settings)
for _code in c.GAS_SETTINGS_CALLS:
    handles(DeviceType.GSME, _code)(_gas_settings)
