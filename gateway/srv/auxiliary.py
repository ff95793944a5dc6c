"""Auxiliary load control SRs of the configuration family: the HC ALCS / ALCS labels (6.14.1),
switching them (7.5, 7.6, 7.8), their boost button (7.9, 7.10) and the APC level (7.16).

Each is one :class:`gbcs.content.DeviceSettings` command. GBCS numbers the objects of
switch (or auxiliary controller) ``n`` (1..5) by it: its label is ``0-0:94.44.0.{10+n}``, its
durations and APC period ``0-0:94.44.{116+n}.{1..4}``, its boost button flag
``0-0:94.44.6.{n}``; the script it runs carries ``n`` in its high byte."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from gateway.duis.envelope import parse_eui_text
from gateway.duis.xml import is_element, local_name
from gateway.schedule import is_cancellation
from gateway.srv import switching
from gateway.srv.example import Example, ExampleError, Values
from gateway.srv.fields import (
    Fields,
    children,
    invalid,
    one,
    read_int,
)
from gateway.srv.registry import serves
from gateway.srv.spec import Codec, Command
from gbcs import content as gc
from gbcs.content._common import _stamp
from gbcs.payloads import dlms

__all__ = [
    "BoostButton",
    "SwitchAuxiliaryLoad",
    "SwitchLabels",
]

_APC_SCRIPTS = "0-0:10.0.107.255"
"""The auxiliary proportional controller script table (IC 9)."""
ACTIVATE, DEACTIVATE, RESET = 0x11, 0x12, 0x20
"""The low byte of a switching script id (its high byte is the switch number)."""


def _index(element: etree._Element) -> int:
    return read_int(f"{local_name(element)}/@index", element.get("index"), 1, 5)


@dataclass(frozen=True, slots=True)
class SwitchLabels:
    """SR6.14.1 ``UpdateDeviceConfigurationALCDescriptions``: ECS46a; labels by switch."""

    labels: tuple[tuple[int, str], ...]


def _read_labels(body: etree._Element) -> SwitchLabels:
    found: dict[int, str] = {}
    for element in body:
        if not is_element(element):
            continue
        if local_name(element) != "ALCSHCALCSDescription":
            raise invalid(local_name(body), f"unexpected element {local_name(element)}")
        n = _index(element)
        if n in found:
            raise invalid("ALCSHCALCSDescription", f"switch {n} is described twice")
        text = Fields(element, ("SwitchDescription",)).text("SwitchDescription") or ""
        if not 1 <= len(text) <= 22 or not all(" " <= ch <= "~" for ch in text):
            raise invalid("SwitchDescription", f"{text!r} is not 1 to 22 printable ASCII")
        found[n] = text
    if not found:
        raise invalid(local_name(body), "it describes no switch")
    return SwitchLabels(tuple(sorted(found.items())))


def _build_labels(cmd: Command) -> bytes:
    r: SwitchLabels = cmd.request
    writes = tuple(
        (dlms.set_(1, f"0-0:94.44.0.{10 + n}", 2), dlms.visible_string(text.encode()))
        for n, text in r.labels
    )
    return gc.DeviceSettings(cmd.use_case.code, cmd.counter, writes).encode()


@dataclass(frozen=True, slots=True)
class SwitchAuxiliaryLoad:
    """SR7.5 / 7.6 / 7.8: ECS47 - activate or deactivate switch ``n`` for ``duration``
    minutes, or reset it to its schedule (``duration`` None)."""

    n: int
    action: int
    duration: int | None


def _read_switch(wrapper: str, action: int) -> Callable[[etree._Element], SwitchAuxiliaryLoad]:
    def read(body: etree._Element) -> SwitchAuxiliaryLoad:
        elements = [e for e in body if is_element(e)]
        if len(elements) != 1 or local_name(elements[0]) != wrapper:
            raise invalid(local_name(body), f"it must hold one {wrapper}")
        element = elements[0]
        n = _index(element)
        if action == RESET:
            Fields(element, ())
            return SwitchAuxiliaryLoad(n, action, None)
        f = Fields(element, ("Duration",))
        return SwitchAuxiliaryLoad(n, action, read_int("Duration", f.text("Duration"), 0, 0xFFFF))

    return read


def _build_switch(cmd: Command) -> bytes:
    r: SwitchAuxiliaryLoad = cmd.request
    writes: list[tuple[dlms.AccessSpec, dlms.Data]] = []
    if r.duration is not None:
        which = 1 if r.action == ACTIVATE else 2
        duration = dlms.set_(1, f"0-0:94.44.{116 + r.n}.{which}", 2)
        writes.append((duration, dlms.long_unsigned(r.duration)))
    script = dlms.long_unsigned(r.n << 8 | r.action)
    writes.append((dlms.action(9, switching.SCRIPTS, 1), script))
    return gc.DeviceSettings(cmd.use_case.code, cmd.counter, tuple(writes)).encode()


@dataclass(frozen=True, slots=True)
class BoostButton:
    """SR7.9 / 7.10: ECS62 - which switches the boost button adds (True) or removes (the
    SR's flag for each of the five switches)."""

    add: bool
    flags: tuple[bool, bool, bool, bool, bool]


def _read_boost(wrapper: str, add: bool) -> Callable[[etree._Element], BoostButton]:
    def read(body: etree._Element) -> BoostButton:
        flags: dict[int, bool] = {}
        for element in children(body, wrapper):
            n = _index(element)
            text = (element.text or "").strip()
            if text not in ("true", "false", "1", "0"):
                raise invalid(wrapper, f"{text!r} is not a boolean")
            if n in flags:
                raise invalid(wrapper, f"switch {n} is given twice")
            flags[n] = text in ("true", "1")
        others = [local_name(e) for e in body if is_element(e) and local_name(e) != wrapper]
        if others or sorted(flags) != [1, 2, 3, 4, 5]:
            raise invalid(local_name(body), f"it must hold one {wrapper} for each switch 1..5")
        f = tuple(flags[n] for n in range(1, 6))
        if not any(f):
            raise invalid(wrapper, "no switch is flagged true: the SR would change nothing")
        return BoostButton(add, (f[0], f[1], f[2], f[3], f[4]))

    return read


def _build_boost(cmd: Command) -> bytes:
    r: BoostButton = cmd.request
    # A flag says whether the SR acts on that switch: adding sets its association to true,
    # removing to false; a switch the SR leaves alone is not written, so it keeps its own.
    writes = tuple(
        (dlms.set_(1, f"0-0:94.44.6.{n}", 2), dlms.boolean(r.add))
        for n, flag in enumerate(r.flags, 1)
        if flag
    )
    return gc.DeviceSettings(cmd.use_case.code, cmd.counter, writes).encode()


def _build_apc(cmd: Command) -> bytes:
    """SR7.16 ``LimitAPCLevel``: ECS47e - the period, then the APC script of the level (its
    high byte as a level script's, its low byte the bare level)."""
    r: switching.LevelPeriod = cmd.request
    script = ((0x20 if r.input else 0x10) | r.n) << 8 | r.level
    writes = switching.level_period_writes(r, _APC_SCRIPTS, script)
    return gc.DeviceSettings(cmd.use_case.code, cmd.counter, writes).encode()


@dataclass(frozen=True, slots=True)
class SwitchingSchedule:
    """SR6.14.2 ``UpdateDeviceConfigurationALCScheduler``: ECS46c - the switching schedule,
    its special days (by index, COSEM dates) and the switches' types (``None`` for an ALCS,
    the HC ALCS's entity otherwise)."""

    entries: tuple[switching.ScheduleEntry, ...]
    special_days: tuple[tuple[int, bytes], ...]
    switch_types: tuple[tuple[int, bytes | None], ...]


def _read_entry(element: etree._Element) -> switching.ScheduleEntry:
    switch = one(element, "ActivateDeactivateSwitch")
    n = _index(switch)
    kinds = [local_name(c) for c in switch if is_element(c)]
    if kinds not in (["ActivateSwitch"], ["DeactivateSwitch"]):
        raise invalid("ActivateDeactivateSwitch", "it holds ActivateSwitch or DeactivateSwitch")
    script = n << 8 | (1 if kinds == ["ActivateSwitch"] else 2)
    return switching.read_entry(
        element, script, attribute="index", period="ALCSScheduleDatesAndTime", repeats_refused=False
    )


def _read_schedule(body: etree._Element) -> SwitchingSchedule:
    # The ExecutionDateTime (future-dated, the Device pattern) reaches the build as
    # Command.execution: the gateway takes it off the body.
    switching.check_children(
        body,
        (
            "ExecutionDateTime",
            "ALCSHCALCSConnectionSchedule",
            "ALCSHCALCSSpecialDays",
            "SwitchTypeAndId",
        ),
    )
    entries = tuple(_read_entry(e) for e in children(body, "ALCSHCALCSConnectionSchedule"))
    if not 1 <= len(entries) <= 48:
        raise invalid(local_name(body), "it holds 1 to 48 ALCSHCALCSConnectionSchedule")
    days = switching.read_special_days(
        one(body, "ALCSHCALCSSpecialDays"), "ALCSHCALCSSpecialDay", "index", entries
    )
    types: dict[int, bytes | None] = {}
    for element in children(body, "SwitchTypeAndId"):
        n = _index(element)
        kinds = [c for c in element if is_element(c)]
        if len(kinds) != 1 or local_name(kinds[0]) not in ("ALCS", "HCALCS"):
            raise invalid("SwitchTypeAndId", "it holds ALCS or HCALCS")
        if n in types:
            raise invalid("SwitchTypeAndId", f"switch {n} is given twice")
        types[n] = (
            None if local_name(kinds[0]) == "ALCS" else parse_eui_text(kinds[0].text, "HCALCS")
        )
    return SwitchingSchedule(entries, days, tuple(sorted(types.items())))


_NOW = dlms.octet_string(bytes(9) + b"\x80\x00\xff")
"""An all-zero date-time: the special days and the schedule take effect at once."""
_CANCEL = dlms.octet_string(b"\xff" * 9 + b"\x80\x00\xff")
"""An all-wildcard date-time: cancel the pending future-dated schedule (DUIS's 3000-12-31)."""


def _activation(cmd: Command) -> dlms.Data:
    """When the special days and the schedule take effect: at once, at the execution
    date-time of a future-dated request (the device holds them until then), or never (a
    cancellation of the pending ones)."""
    if cmd.execution is None:
        return _NOW
    if is_cancellation(cmd.execution):
        return _CANCEL
    return _stamp(cmd.execution)


def _build_schedule(cmd: Command) -> bytes:
    r: SwitchingSchedule = cmd.request
    writes: list[tuple[dlms.AccessSpec, dlms.Data]] = [
        (dlms.set_(1, f"0-0:94.44.0.{20 + n}", 2), dlms.octet_string(eui or bytes(8)))
        for n, eui in r.switch_types
    ]
    writes.extend(switching.calendar_writes(1, r.special_days, r.entries))
    activation = _activation(cmd)
    writes.append((dlms.set_(9000, "0-0:94.44.128.26", 6), activation))
    writes.append((dlms.set_(9000, "0-0:94.44.128.35", 6), activation))
    return gc.DeviceSettings(cmd.use_case.code, cmd.counter, tuple(writes)).encode()


_ECS47 = frozenset({"ECS47"})
# ---------------------------------------------------------------------------- examples


def _switch_example(wrapper: str, duration: bool) -> Example:
    """One switch (``index``), for ``Duration`` minutes where the SR takes one."""
    fields: dict[str, str | None] = {"index": "1"}
    if duration:
        fields["Duration"] = "30"

    def write(v: Values) -> str:
        inner = v.element("Duration") if duration else ""
        return f'<sr:{wrapper} index="{v.text("index")}">{inner}</sr:{wrapper}>'

    return Example(fields, write)


def _boost_example(wrapper: str) -> Example:
    """Flags the switches listed (``1,3``) true and the others false."""

    def write(v: Values) -> str:
        listed = {s.strip() for s in (v.get(wrapper) or "").split(",")}
        if not listed <= {"1", "2", "3", "4", "5"}:
            raise ExampleError(f"{wrapper}={v.get(wrapper)!r}: list switches 1 to 5, as 1,3")
        return "".join(
            f'<sr:{wrapper} index="{n}">{"true" if str(n) in listed else "false"}</sr:{wrapper}>'
            for n in range(1, 6)
        )

    return Example({wrapper: "1"}, write)


def _labels_example(v: Values) -> str:
    return (
        f'<sr:ALCSHCALCSDescription index="{v.text("index")}">'
        f"{v.element('SwitchDescription')}</sr:ALCSHCALCSDescription>"
    )


def _schedule_example(v: Values) -> str:
    """One entry: switch ``index`` on (off with DeactivateSwitch=yes) at SwitchTime on the days
    listed, between StartDate and EndDate; no special days."""
    action = "DeactivateSwitch" if v.get("DeactivateSwitch") is not None else "ActivateSwitch"
    days = switching.days_example(v, "ALCSScheduleDatesAndTime")
    switch_type = v.get("SwitchTypeAndId")
    if switch_type is None:
        types = ""
    elif switch_type == "ALCS":
        types = f'<sr:SwitchTypeAndId index="{v.text("index")}"><sr:ALCS/></sr:SwitchTypeAndId>'
    else:
        types = (
            f'<sr:SwitchTypeAndId index="{v.text("index")}">'
            f"<sr:HCALCS>{v.text('SwitchTypeAndId')}</sr:HCALCS></sr:SwitchTypeAndId>"
        )
    return (
        f"{v.element('ExecutionDateTime')}<sr:ALCSHCALCSConnectionSchedule>"
        f'<sr:ActivateDeactivateSwitch index="{v.text("index")}"><sr:{action}/>'
        "</sr:ActivateDeactivateSwitch>"
        f"{days}</sr:ALCSHCALCSConnectionSchedule>"
        f"<sr:ALCSHCALCSSpecialDays/>{types}"
    )


_SCHEDULE_EXAMPLE = Example(
    {
        "ExecutionDateTime": None,
        "index": "1",
        "DeactivateSwitch": None,
        "DaysOfWeekApplicability": "Monday,Tuesday,Wednesday,Thursday,Friday",
        "SwitchTime": "07:00:00",
        "StartDate": "any",
        "EndDate": "any",
        "SwitchTypeAndId": "ALCS",
    },
    _schedule_example,
)


serves(
    "6.14.1",
    Codec(
        read=_read_labels,
        build=_build_labels,
        builds=frozenset({"ECS46a"}),
        example=Example({"index": "1", "SwitchDescription": "Immersion heater"}, _labels_example),
    ),
)
serves(
    "6.14.2",
    Codec(
        read=_read_schedule,
        build=_build_schedule,
        builds=frozenset({"ECS46c"}),
        example=_SCHEDULE_EXAMPLE,
        future_dated=True,
    ),
)
serves(
    "7.5",
    Codec(
        read=_read_switch("ActivateALCSHCALCS", ACTIVATE),
        build=_build_switch,
        builds=_ECS47,
        example=_switch_example("ActivateALCSHCALCS", duration=True),
    ),
)
serves(
    "7.6",
    Codec(
        read=_read_switch("DeactivateALCSHCALCS", DEACTIVATE),
        build=_build_switch,
        builds=_ECS47,
        example=_switch_example("DeactivateALCSHCALCS", duration=True),
    ),
)
serves(
    "7.8",
    Codec(
        read=_read_switch("ResetALCSHCALCS", RESET),
        build=_build_switch,
        builds=_ECS47,
        example=_switch_example("ResetALCSHCALCS", duration=False),
    ),
)
_ECS62 = frozenset({"ECS62"})
serves(
    "7.9",
    Codec(
        read=_read_boost("AddToBoostButton", True),
        build=_build_boost,
        builds=_ECS62,
        example=_boost_example("AddToBoostButton"),
    ),
)
serves(
    "7.10",
    Codec(
        read=_read_boost("RemoveFromBoostButton", False),
        build=_build_boost,
        builds=_ECS62,
        example=_boost_example("RemoveFromBoostButton"),
    ),
)
serves(
    "7.16",
    Codec(
        read=switching.read_level_period,
        build=_build_apc,
        builds=frozenset({"ECS47e"}),
        example=switching.level_period_example("50"),
    ),
)
