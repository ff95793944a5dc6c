"""Auxiliary controller SRs of the configuration family: the auxiliary controller calendar
(6.14.3, ECS46d), a controller's commanded state for a period (7.13, ECS47a), and the read of
the HC ALCS / ALCS data (7.7, ECS61a).

An auxiliary controller ``n`` (1..5) is an ALCS, an HC ALCS or an auxiliary proportional
controller (APC). Its commanded state is a level (0..100 %: an APC's share of the energy flow;
an ALCS / HC ALCS is on at 100 and off below), on its output or, with
``InputFromControlledLoad``, on its input. GBCS commands it with a script of the switching
script table ``0-0:10.0.103.255`` whose id has ``(0x10 output | 0x20 input) | n`` in its high
byte (as the APC limit of ECS47e):

* ECS46d writes the auxiliary controllers' calendar as ECS46c writes the ALCS one: the pending
  (``0-1``) special days table and schedule, entries laid out as ECS46c's, then the activation
  date-times of both (all-zero: at once; a future-dated request's execution date-time, the
  ESME holding them until then; all wildcards: cancel the pending ones), after which the
  device holds them as the active ``0-0`` pair that ECS61a and ECS61d (7.14) read. Each
  entry's script has ``0x80 | level`` in its low byte (0x80 telling a level from the ALCS
  switching actions 0x01 / 0x02 / 0x11 / 0x12 / 0x20).
* ECS47a holds controller ``n`` at a level from a start to an end: it writes the start and
  end date-times (``0-0:94.44.{116+n}.1`` / ``.2``) and runs the script whose low byte is the
  level itself (the message code tells it from an ECS47 switching action).
* ECS61a reads the labels, the switch types, the active special days and calendar, and each
  switch's output state (the disconnect control ``0-n:96.3.10.255``) - the objects of
  :data:`gbcs.content.reads.DLMS_READS`."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from gateway.duis.xml import local_name
from gateway.srv import switching
from gateway.srv.example import EMPTY, Example, Values
from gateway.srv.fields import Fields, children, invalid, one, read_int
from gateway.srv.loadlimit import activation
from gateway.srv.registry import serves
from gateway.srv.spec import Codec, Command
from gbcs import content as gc
from gbcs.payloads import dlms

__all__ = ["ControllerCalendar", "level_script", "state_script"]

LEVEL = 0x80
"""The low-byte flag of a calendar entry's level script (the level in its low 7 bits)."""
STATE_PERIOD = (1, 2)
"""ECS47a's start and end: ``0-0:94.44.{116+n}.1`` / ``.2``."""


def _side(n: int, input_side: bool) -> int:
    return (0x20 if input_side else 0x10) | n


def level_script(n: int, level: int, input_side: bool) -> int:
    """The id of the script a calendar entry runs to command controller ``n`` to ``level``
    percent."""
    return _side(n, input_side) << 8 | LEVEL | level


def state_script(n: int, level: int, input_side: bool) -> int:
    """The id of the script ECS47a runs to command controller ``n`` to ``level`` percent."""
    return _side(n, input_side) << 8 | level


def _build_state(cmd: Command) -> bytes:
    """SR7.13 ``SetAuxiliaryControllerState``: ECS47a - the period, then the state script of
    the switching script table."""
    r: switching.LevelPeriod = cmd.request
    script = state_script(r.n, r.level, r.input)
    writes = switching.level_period_writes(r, switching.SCRIPTS, script, STATE_PERIOD)
    return gc.DeviceSettings(cmd.use_case.code, cmd.counter, writes).encode()


@dataclass(frozen=True, slots=True)
class ControllerCalendar:
    """SR6.14.3 ``UpdateDeviceConfigurationAuxiliaryControllerScheduler``: ECS46d - the
    calendar's entries and its special days (by identifier, COSEM dates)."""

    entries: tuple[switching.ScheduleEntry, ...]
    special_days: tuple[tuple[int, bytes], ...]


def _read_entry(element: etree._Element) -> switching.ScheduleEntry:
    action = one(element, "AuxiliaryControllerAction")
    n = read_int(
        "AuxiliaryControllerAction/@auxiliaryControllerN", action.get("auxiliaryControllerN"), 1, 5
    )
    a = Fields(action, ("CommandedStateLevel", "InputFromControlledLoad"))
    level = read_int("CommandedStateLevel", a.text("CommandedStateLevel"), 0, 100)
    script = level_script(n, level, a.marker("InputFromControlledLoad"))
    return switching.read_entry(
        element,
        script,
        attribute="identifier",
        period="AuxiliaryControllerSchedulePeriodAndTime",
        repeats_refused=True,
    )


def _read_calendar(body: etree._Element) -> ControllerCalendar:
    switching.check_children(
        body, ("AuxiliaryControllerSchedule", "AuxiliaryControllerSpecialDayDefinitions")
    )
    entries = tuple(_read_entry(e) for e in children(body, "AuxiliaryControllerSchedule"))
    if len(entries) > 120:
        raise invalid(local_name(body), f"it holds {len(entries)} schedule entries, not 0 to 120")
    days = switching.read_special_days(
        one(body, "AuxiliaryControllerSpecialDayDefinitions"),
        "AuxiliaryControllerSpecialDayDefinition",
        "identifier",
        entries,
    )
    return ControllerCalendar(entries, days)


def _build_calendar(cmd: Command) -> bytes:
    r: ControllerCalendar = cmd.request
    at = activation(cmd)
    writes = (
        *switching.calendar_writes(1, r.special_days, r.entries),
        (dlms.set_(9000, switching.CALENDAR_ACTIVATION, 6), at),
        (dlms.set_(9000, switching.SPECIAL_DAYS_ACTIVATION, 6), at),
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


def _calendar_example(v: Values) -> str:
    """One entry: controller ``auxiliaryControllerN`` to CommandedStateLevel at SwitchTime on
    the days listed, between StartDate and EndDate; no special days."""
    return (
        "<sr:AuxiliaryControllerSchedule>"
        f'<sr:AuxiliaryControllerAction auxiliaryControllerN="{v.text("auxiliaryControllerN")}">'
        f"{v.element('CommandedStateLevel')}{v.marker('InputFromControlledLoad')}"
        "</sr:AuxiliaryControllerAction>"
        f"{switching.days_example(v, 'AuxiliaryControllerSchedulePeriodAndTime')}"
        "</sr:AuxiliaryControllerSchedule>"
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
        future_dated=True,
        example=_CALENDAR_EXAMPLE,
    ),
)
serves(
    "7.13",
    Codec(
        read=switching.read_level_period,
        build=_build_state,
        builds=frozenset({"ECS47a"}),
        example=switching.level_period_example("100"),
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
