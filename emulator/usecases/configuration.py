"""The ESME's side of the configuration and auxiliary load control SRs: the settings
commands (:class:`gbcs.content.DeviceSettings`: ECS28b, ECS29a-f, ECS30/30a, ECS34, ECS37,
ECS39a/b, ECS46a, ECS47, ECS47e, ECS57, ECS62).

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
"""

from __future__ import annotations

from typing import Any

from emulator.clock import from_seconds
from emulator.devices.base import DeviceContext, Reply, handles
from emulator.errors import CommandError
from gbcs import content as c
from gbcs.alerts import AlertCode
from gbcs.codes import RemotePartyRole
from gbcs.devices import DeviceType
from gbcs.frames import Message
from gbcs.payloads import dlms
from gbcs.payloads.dlms import AccessKind, CosemDateTime

__all__ = ["FAMILY", "setting"]

FAMILY = "configuration"

_SWITCH_ACTIONS = {0x11: "on", 0x12: "off", 0x20: "schedule"}


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


def _check(cmd: c.DeviceSettings) -> None:
    """Refuse values outside what the device accepts, before anything changes."""
    values = {c.spec_key(spec): data for spec, data in cmd.writes}
    thresholds = values.get("set 21 0-0:16.0.0.255/2")
    if thresholds is not None:
        items = thresholds.items if isinstance(thresholds, dlms.Array) else ()
        levels = [_uint(x, "power threshold") for x in items]
        if len(levels) != 2 or levels[0] > levels[1]:
            raise CommandError(f"power thresholds {levels}: two, low/medium first")
    for key, value in values.items():
        if key.startswith("set 71 ") and key.endswith("/4") and _uint(value, key) > 1000:
            raise CommandError(f"{key}: a voltage threshold of {value} V is not plausible")
    for spec, data in cmd.writes:
        if spec.kind is AccessKind.ACTION and spec.class_id == 9:
            script = _uint(data, "script")
            n = script >> 8 & 0x0F
            if not 1 <= n <= 5:
                raise CommandError(f"script 0x{script:04X} names no switch or controller 1..5")
            if str(spec.obis).endswith("10.0.103.255") and script & 0xFF not in _SWITCH_ACTIONS:
                raise CommandError(f"script 0x{script:04X} is no switching action")
            if str(spec.obis).endswith("10.0.107.255") and script & 0xFF > 100:
                raise CommandError(f"an APC level of {script & 0xFF}% is above 100%")


def apply(device: Any, cmd: c.DeviceSettings, now: int) -> None:
    """Act on a checked settings command."""
    state = device.family_state(FAMILY)
    at = device.device_time(now)
    objects: dict[str, str] = state.setdefault("objects", {})
    durations: dict[int, dict[int, int]] = {}
    periods: dict[int, dict[int, int]] = {}
    for spec, data in cmd.writes:
        key = c.spec_key(spec)
        if spec.kind is AccessKind.SET:
            objects[key] = data.to_bytes().hex()
            if str(spec.obis).startswith("0-0:94.44.1") and spec.class_id == 1:
                n, which = _number(spec), spec.obis.raw[5]
                if which in (1, 2):
                    durations.setdefault(n, {})[which] = _uint(data, key)
                else:
                    periods.setdefault(n, {})[which] = _time(data, key)
            continue
        if spec.class_id == 9:  # a script: switch an ALCS or limit an APC
            script = _uint(data, "script")
            n = script >> 8 & 0x0F
            if str(spec.obis).endswith("10.0.103.255"):
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
    if role is not wanted:
        raise CommandError(
            f"0x{cmd.message_code:04X} is the {wanted.name.lower()}'s to send",
            alert_code=AlertCode.SOURCE_HAS_NO_AUTHORITY,
        )
    _check(cmd)
    apply(device, cmd, now)
    device._log(
        f"settings 0x{cmd.message_code:04X}: {len(cmd.writes)} written at "
        f"{from_seconds(device.device_time(now)).isoformat()}"
    )
    return Reply(cmd.outcome().encode())


for _code in c.SETTINGS_OBJECTS:
    handles(DeviceType.ESME, _code)(_settings)
