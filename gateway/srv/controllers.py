"""Auxiliary controller SRs of the configuration family: the auxiliary controller calendar
(6.14.3, ECS46d), a controller's commanded state for a period (7.13, ECS47a), and the read of
the HC ALCS / ALCS data (7.7, ECS61a).

An auxiliary controller ``n`` (1..5) is an ALCS, an HC ALCS or an auxiliary proportional
controller (APC). Its commanded state is a level (0..100 %: an APC's share of the energy flow;
an ALCS / HC ALCS is on at 100 and off below), on its output or, with
``InputFromControlledLoad``, on its input. The DCC's reference calendar (the ECS61d response
of 7.14) shows how GBCS writes such a state: a script of the switching script table
``0-0:10.0.103.255`` whose id has ``(0x10 output | 0x20 input) | n`` in its high byte (as the
APC limit of ECS47e) and ``0x80 | level`` in its low byte (0x80 telling a level from the ALCS
switching actions 0x01 / 0x02 / 0x11 / 0x12 / 0x20).

* ECS46d writes the auxiliary controllers' special days and calendar - the ``0-0`` special
  days table and schedule that ECS61d reads back (ECS46c's ALCS calendar is the ``0-1`` pair),
  entries laid out as ECS46c's.
* ECS47a holds controller ``n`` at a level from a start to an end: it writes the period as
  ECS47e does (``0-0:94.44.{116+n}.3`` / ``.4``) and runs the level script.
* ECS61a reads the labels, the switch types, the switch states, the ALCS special days and
  calendar (the objects of :data:`gbcs.content.reads.DLMS_READS`).

None of these three has a DCC reference command: they follow the references of their
siblings (ECS46c, ECS47e, ECS61d)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from gateway.duis.xml import is_element, local_name
from gateway.errors import ServiceError
from gateway.srv.auxiliary import _WEEKDAYS
from gateway.srv.example import EMPTY, Example, ExampleError, Home, Values, date
from gateway.srv.fields import (
    Fields,
    children,
    cosem_date,
    invalid,
    one,
    read_datetime,
    read_int,
    time_of,
)
from gateway.srv.registry import serves
from gateway.srv.spec import Codec, Command
from gbcs import content as gc
from gbcs.content._common import _stamp
from gbcs.payloads import dlms

__all__ = ["ControllerCalendar", "ControllerState", "level_script"]

SWITCHING_SCRIPTS = "0-0:10.0.103.255"
_SCRIPT_SELECTOR = bytes.fromhex("00000a0067ff")
"""The switching script table's logical name, as a schedule entry names it."""
LEVEL = 0x80
"""The low-byte flag of a level script (the level in its low 7 bits)."""


def level_script(n: int, level: int, input_side: bool) -> int:
    """The id of the script that commands controller ``n`` to ``level`` percent."""
    return ((0x20 if input_side else 0x10) | n) << 8 | LEVEL | level


def _marker(f: Fields, name: str) -> bool:
    marker = f.elements.get(name)
    if marker is not None and (len(marker) or (marker.text or "").strip()):
        raise invalid(name, "it takes no value")
    return marker is not None


def _controller(element: etree._Element) -> int:
    return read_int(
        f"{local_name(element)}/@auxiliaryControllerN", element.get("auxiliaryControllerN"), 1, 5
    )


@dataclass(frozen=True, slots=True)
class ControllerState:
    """SR7.13 ``SetAuxiliaryControllerState``: ECS47a - controller ``n`` at ``level`` percent
    from ``start`` to ``end``, on its input when ``input``."""

    n: int
    start: datetime
    end: datetime
    level: int
    input: bool


def _read_state(body: etree._Element) -> ControllerState:
    n = _controller(body)
    f = Fields(
        body, ("StartDateTime", "EndDateTime", "CommandedStateLevel", "InputFromControlledLoad")
    )
    start = read_datetime("StartDateTime", f.text("StartDateTime"))
    end = read_datetime("EndDateTime", f.text("EndDateTime"))
    if end <= start:
        raise invalid("EndDateTime", "it must be after StartDateTime")
    level = read_int("CommandedStateLevel", f.text("CommandedStateLevel"), 0, 100)
    return ControllerState(n, start, end, level, _marker(f, "InputFromControlledLoad"))


def _build_state(cmd: Command) -> bytes:
    r: ControllerState = cmd.request
    base = f"0-0:94.44.{116 + r.n}"
    writes = (
        (dlms.set_(1, f"{base}.3", 2), _stamp(r.start)),
        (dlms.set_(1, f"{base}.4", 2), _stamp(r.end)),
        (
            dlms.action(9, SWITCHING_SCRIPTS, 1),
            dlms.long_unsigned(level_script(r.n, r.level, r.input)),
        ),
    )
    return gc.DeviceSettings(cmd.use_case.code, cmd.counter, writes).encode()


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    """One entry of the auxiliary controller calendar."""

    n: int
    level: int
    input: bool
    at: bytes
    """COSEM time (4 bytes)."""
    weekdays: int
    """7 bits, Monday first."""
    special_days: frozenset[int]
    start: bytes
    end: bytes
    """COSEM dates (5 bytes, wildcards 0xFF)."""


@dataclass(frozen=True, slots=True)
class ControllerCalendar:
    """SR6.14.3 ``UpdateDeviceConfigurationAuxiliaryControllerScheduler``: ECS46d - the
    calendar's entries and its special days (by identifier, COSEM dates)."""

    entries: tuple[CalendarEntry, ...]
    special_days: tuple[tuple[int, bytes], ...]


def _read_entry(element: etree._Element) -> CalendarEntry:
    action = one(element, "AuxiliaryControllerAction")
    n = _controller(action)
    a = Fields(action, ("CommandedStateLevel", "InputFromControlledLoad"))
    level = read_int("CommandedStateLevel", a.text("CommandedStateLevel"), 0, 100)
    special: set[int] = set()
    for e in children(element, "SpecialDaysApplicability"):
        identifier = read_int("SpecialDaysApplicability/@identifier", e.get("identifier"), 1, 20)
        if identifier in special:
            raise invalid("SpecialDaysApplicability", f"special day {identifier} is given twice")
        special.add(identifier)
    weekdays = 0
    for days in children(element, "DaysOfWeekApplicability"):
        for day in children(days, "DayOfWeekApplicability"):
            name = (one(day, "DayOfWeekID").text or "").strip()
            if name not in _WEEKDAYS:
                raise invalid("DayOfWeekID", f"{name!r} is not a day of the week")
            weekdays |= 0x40 >> _WEEKDAYS.index(name)
    when = one(element, "AuxiliaryControllerSchedulePeriodAndTime")
    at = time_of(one(when, "SwitchTime").text)
    return CalendarEntry(
        n,
        level,
        _marker(a, "InputFromControlledLoad"),
        bytes([at.hour, at.minute, at.second, 0]),
        weekdays,
        frozenset(special),
        cosem_date(one(when, "StartDate"), with_time=False),
        cosem_date(one(when, "EndDate"), with_time=False),
    )


def _read_calendar(body: etree._Element) -> ControllerCalendar:
    allowed = ("AuxiliaryControllerSchedule", "AuxiliaryControllerSpecialDayDefinitions")
    for child in body:
        if is_element(child) and local_name(child) not in allowed:
            name = local_name(child)
            if name == "ExecutionDateTime":
                raise ServiceError(
                    "duis_sr_not_supported", srv="with an ExecutionDateTime (future-dated)"
                )
            raise invalid(local_name(body), f"unexpected element {name}")
    entries = tuple(_read_entry(e) for e in children(body, "AuxiliaryControllerSchedule"))
    if len(entries) > 120:
        raise invalid(local_name(body), f"it holds {len(entries)} schedule entries, not 0 to 120")
    days: dict[int, bytes] = {}
    definitions = one(body, "AuxiliaryControllerSpecialDayDefinitions")
    for day in children(definitions, "AuxiliaryControllerSpecialDayDefinition"):
        identifier = read_int(
            "AuxiliaryControllerSpecialDayDefinition/@identifier", day.get("identifier"), 1, 20
        )
        if identifier in days:
            raise invalid(
                "AuxiliaryControllerSpecialDayDefinition",
                f"special day {identifier} is given twice",
            )
        days[identifier] = cosem_date(day, with_time=False)
    for entry in entries:
        unknown = sorted(entry.special_days - set(days))
        if unknown:
            raise invalid("SpecialDaysApplicability", f"special days {unknown} are not defined")
    return ControllerCalendar(entries, tuple(sorted(days.items())))


def _build_calendar(cmd: Command) -> bytes:
    r: ControllerCalendar = cmd.request
    days = dlms.array(
        *(
            dlms.structure(dlms.long_unsigned(i), dlms.octet_string(d), dlms.unsigned(i))
            for i, d in r.special_days
        )
    )
    count = len(r.special_days)
    ids = [i for i, _ in r.special_days]
    entries = []
    for index, e in enumerate(r.entries, 1):
        special = 0
        for i in e.special_days:
            special |= 1 << (8 * ((count + 7) // 8) - 1 - ids.index(i))
        entries.append(
            dlms.structure(
                dlms.long_unsigned(index),
                dlms.boolean(True),
                dlms.octet_string(_SCRIPT_SELECTOR),
                dlms.long_unsigned(level_script(e.n, e.level, e.input)),
                dlms.octet_string(e.at),
                dlms.long_unsigned(0xFFFF),
                dlms.BitString(7, bytes([e.weekdays << 1])),
                dlms.BitString(count, special.to_bytes((count + 7) // 8, "big")),
                dlms.octet_string(e.start),
                dlms.octet_string(e.end),
            )
        )
    writes = (
        (dlms.set_(11, "0-0:11.0.3.255", 2), days),
        (dlms.set_(10, "0-0:12.0.2.255", 2), dlms.array(*entries)),
    )
    return gc.DeviceSettings(cmd.use_case.code, cmd.counter, writes).encode()


@dataclass(frozen=True, slots=True)
class ReadSwitchData:
    """SR7.7 ``ReadALCSData``: ECS61a."""


def _read_switch_data(body: etree._Element) -> ReadSwitchData:
    Fields(body, ("ExecutionDateTime",))
    return ReadSwitchData()


def _build_switch_data(cmd: Command) -> bytes:
    return gc.DlmsRead(cmd.use_case.code, cmd.counter, None).encode()


# ---------------------------------------------------------------------------- examples

_STATE_EXAMPLE = Example(
    {
        "auxiliaryControllerN": "1",
        "StartDateTime": Home.NOW,
        "EndDateTime": Home.TOMORROW,
        "CommandedStateLevel": "100",
        "InputFromControlledLoad": None,
    },
    lambda v: (
        v.elements("StartDateTime", "EndDateTime", "CommandedStateLevel")
        + v.marker("InputFromControlledLoad")
    ),
    attributes=("auxiliaryControllerN",),
)


def _calendar_example(v: Values) -> str:
    """One entry: controller ``auxiliaryControllerN`` to CommandedStateLevel at SwitchTime on
    the days listed, between StartDate and EndDate; no special days."""
    days = [d.strip() for d in (v.get("DaysOfWeekApplicability") or "").split(",") if d.strip()]
    unknown = [d for d in days if d not in _WEEKDAYS]
    if unknown:
        raise ExampleError(f"DaysOfWeekApplicability: {unknown[0]!r} is not Monday .. Sunday")
    applicable = "".join(
        f"<sr:DayOfWeekApplicability><sr:DayOfWeekID>{d}</sr:DayOfWeekID>"
        "</sr:DayOfWeekApplicability>"
        for d in days
    )
    return (
        "<sr:AuxiliaryControllerSchedule>"
        f'<sr:AuxiliaryControllerAction auxiliaryControllerN="{v.text("auxiliaryControllerN")}">'
        f"{v.element('CommandedStateLevel')}{v.marker('InputFromControlledLoad')}"
        "</sr:AuxiliaryControllerAction>"
        f"<sr:DaysOfWeekApplicability>{applicable}</sr:DaysOfWeekApplicability>"
        f"<sr:AuxiliaryControllerSchedulePeriodAndTime>{v.element('SwitchTime')}"
        f"<sr:StartDate>{date('StartDate', v.get('StartDate'))}</sr:StartDate>"
        f"<sr:EndDate>{date('EndDate', v.get('EndDate'))}</sr:EndDate>"
        "</sr:AuxiliaryControllerSchedulePeriodAndTime></sr:AuxiliaryControllerSchedule>"
        "<sr:AuxiliaryControllerSpecialDayDefinitions/>"
    )


_CALENDAR_EXAMPLE = Example(
    {
        "auxiliaryControllerN": "1",
        "CommandedStateLevel": "50",
        "InputFromControlledLoad": None,
        "DaysOfWeekApplicability": "Monday,Tuesday,Wednesday,Thursday,Friday",
        "SwitchTime": "07:00:00",
        "StartDate": "any",
        "EndDate": "any",
    },
    _calendar_example,
)


serves(
    "6.14.3",
    Codec(
        read=_read_calendar,
        build=_build_calendar,
        builds=frozenset({"ECS46d"}),
        example=_CALENDAR_EXAMPLE,
    ),
)
serves(
    "7.13",
    Codec(
        read=_read_state, build=_build_state, builds=frozenset({"ECS47a"}), example=_STATE_EXAMPLE
    ),
)
serves(
    "7.7",
    Codec(
        read=_read_switch_data,
        build=_build_switch_data,
        builds=frozenset({"ECS61a"}),
        example=EMPTY,
    ),
)
