"""What the ALCS SRs (:mod:`~gateway.srv.auxiliary`) and the auxiliary controller SRs
(:mod:`~gateway.srv.controllers`) share.

* The switching calendar: 6.14.2 (ECS46c, the ALCS / HC ALCS calendar) and 6.14.3 (ECS46d,
  the auxiliary controllers') are each written as a COSEM special days table (IC 11) and a
  schedule (IC 10) whose entries run a script of the switching script table. The DUIS bodies
  name their parts apart (``index`` / ``identifier``, ``ALCSScheduleDatesAndTime`` /
  ``AuxiliaryControllerSchedulePeriodAndTime``), so the readers here take those names; the
  script an entry runs is the caller's.
* A controller held at a level for a period: 7.16 (ECS47e, the APC limit) and 7.13 (ECS47a,
  the commanded state) read the same body and write a period and a script the same way; the
  period objects (``.3`` / ``.4`` and ``.1`` / ``.2``) and the script table differ.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from gateway.duis.xml import is_element, local_name
from gateway.errors import ServiceError
from gateway.srv.example import Example, ExampleError, Home, Values, date
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
from gbcs.content._common import _stamp
from gbcs.payloads import dlms

__all__ = [
    "CALENDAR_ACTIVATION",
    "SCRIPTS",
    "SPECIAL_DAYS_ACTIVATION",
    "WEEKDAYS",
    "LevelPeriod",
    "ScheduleEntry",
    "calendar_writes",
    "check_children",
    "days_example",
    "level_period_example",
    "level_period_writes",
    "read_entry",
    "read_level_period",
    "read_special_days",
]

Write = tuple[dlms.AccessSpec, dlms.Data]

SCRIPTS = "0-0:10.0.103.255"
"""The ALCS / HC ALCS switching script table (IC 9); it holds the controllers' level scripts
too."""
_SWITCHING_SELECTOR = bytes.fromhex("00000a0067ff")
"""The switching script table's logical name, as a schedule entry names it."""
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def check_children(body: etree._Element, allowed: Collection[str]) -> None:
    """Refuse a child of ``body`` not in ``allowed``: a calendar body repeats its entries, so
    :class:`~gateway.srv.fields.Fields` (each child once) cannot read it."""
    for child in body:
        if is_element(child) and local_name(child) not in allowed:
            name = local_name(child)
            if name == "ExecutionDateTime":
                raise ServiceError(
                    "duis_sr_not_supported", srv="with an ExecutionDateTime (future-dated)"
                )
            raise invalid(local_name(body), f"unexpected element {name}")


# ---------------------------------------------------------------------------- calendar


@dataclass(frozen=True, slots=True)
class ScheduleEntry:
    """One entry of a switching calendar."""

    script: int
    """The id of the script it runs in the switching script table."""
    at: bytes
    """Switch time, COSEM time (4 bytes)."""
    weekdays: int
    """7 bits, Monday first."""
    special_days: frozenset[int]
    start: bytes
    end: bytes
    """COSEM dates (5 bytes, wildcards 0xFF)."""


def read_entry(
    element: etree._Element,
    script: int,
    *,
    attribute: str,
    period: str,
    repeats_refused: bool,
) -> ScheduleEntry:
    """The days and times of a calendar entry ``element``: its ``SpecialDaysApplicability``
    (by ``attribute``; a repeat refused where ``repeats_refused``, merged otherwise), its
    ``DaysOfWeekApplicability`` and its ``period`` element (switch time, start and end)."""
    special: set[int] = set()
    for e in children(element, "SpecialDaysApplicability"):
        day = read_int(f"SpecialDaysApplicability/@{attribute}", e.get(attribute), 1, 20)
        if repeats_refused and day in special:
            raise invalid("SpecialDaysApplicability", f"special day {day} is given twice")
        special.add(day)
    weekdays = 0
    for days in children(element, "DaysOfWeekApplicability"):
        for day_element in children(days, "DayOfWeekApplicability"):
            name = (one(day_element, "DayOfWeekID").text or "").strip()
            if name not in WEEKDAYS:
                raise invalid("DayOfWeekID", f"{name!r} is not a day of the week")
            weekdays |= 0x40 >> WEEKDAYS.index(name)
    when = one(element, period)
    at = time_of(one(when, "SwitchTime").text)
    return ScheduleEntry(
        script,
        bytes([at.hour, at.minute, at.second, 0]),
        weekdays,
        frozenset(special),
        cosem_date(one(when, "StartDate"), with_time=False),
        cosem_date(one(when, "EndDate"), with_time=False),
    )


def read_special_days(
    container: etree._Element, name: str, attribute: str, entries: Iterable[ScheduleEntry]
) -> tuple[tuple[int, bytes], ...]:
    """The special days defined by the ``name`` children of ``container`` (numbered by
    ``attribute``), in order; every special day an entry applies on must be one of them."""
    days: dict[int, bytes] = {}
    for day in children(container, name):
        number = read_int(f"{name}/@{attribute}", day.get(attribute), 1, 20)
        if number in days:
            raise invalid(name, f"special day {number} is given twice")
        days[number] = cosem_date(day, with_time=False)
    for entry in entries:
        unknown = sorted(entry.special_days - set(days))
        if unknown:
            raise invalid("SpecialDaysApplicability", f"special days {unknown} are not defined")
    return tuple(sorted(days.items()))


CALENDAR_ACTIVATION = "0-0:94.44.128.26"
SPECIAL_DAYS_ACTIVATION = "0-0:94.44.128.35"
"""The future-dated configuration objects (class 9000) whose activation date-time (attribute
6) makes the pending (``0-1``) schedule and special days of the switching calendar the
active (``0-0``) ones."""


def calendar_writes(
    b: int, special_days: tuple[tuple[int, bytes], ...], entries: tuple[ScheduleEntry, ...]
) -> tuple[Write, Write]:
    """The special days table ``0-b:11.0.3.255`` and the schedule ``0-b:12.0.2.255``."""
    days = dlms.array(
        *(
            dlms.structure(dlms.long_unsigned(i), dlms.octet_string(d), dlms.unsigned(i))
            for i, d in special_days
        )
    )
    count = len(special_days)
    width = (count + 7) // 8
    ids = [i for i, _ in special_days]
    rows = []
    for index, e in enumerate(entries, 1):
        special = 0
        for i in e.special_days:
            special |= 1 << (8 * width - 1 - ids.index(i))
        rows.append(
            dlms.structure(
                dlms.long_unsigned(index),
                dlms.boolean(True),
                dlms.octet_string(_SWITCHING_SELECTOR),
                dlms.long_unsigned(e.script),
                dlms.octet_string(e.at),
                dlms.long_unsigned(0xFFFF),
                dlms.BitString(7, bytes([e.weekdays << 1])),
                dlms.BitString(count, special.to_bytes(width, "big")),
                dlms.octet_string(e.start),
                dlms.octet_string(e.end),
            )
        )
    return (
        (dlms.set_(11, f"0-{b}:11.0.3.255", 2), days),
        (dlms.set_(10, f"0-{b}:12.0.2.255", 2), dlms.array(*rows)),
    )


def days_example(v: Values, period: str) -> str:
    """An example entry's days and times: the ``DaysOfWeekApplicability`` listed
    (``Monday,Friday``) and the ``period`` element of SwitchTime, StartDate and EndDate."""
    days = [d.strip() for d in (v.get("DaysOfWeekApplicability") or "").split(",") if d.strip()]
    unknown = [d for d in days if d not in WEEKDAYS]
    if unknown:
        raise ExampleError(f"DaysOfWeekApplicability: {unknown[0]!r} is not Monday .. Sunday")
    applicable = "".join(
        f"<sr:DayOfWeekApplicability><sr:DayOfWeekID>{d}</sr:DayOfWeekID>"
        "</sr:DayOfWeekApplicability>"
        for d in days
    )
    return (
        f"<sr:DaysOfWeekApplicability>{applicable}</sr:DaysOfWeekApplicability>"
        f"<sr:{period}>{v.element('SwitchTime')}"
        f"<sr:StartDate>{date('StartDate', v.get('StartDate'))}</sr:StartDate>"
        f"<sr:EndDate>{date('EndDate', v.get('EndDate'))}</sr:EndDate></sr:{period}>"
    )


# ---------------------------------------------------------------------------- level period


@dataclass(frozen=True, slots=True)
class LevelPeriod:
    """Controller ``n`` at ``level`` percent from ``start`` to ``end``; on its input from the
    controlled load when ``input``."""

    n: int
    start: datetime
    end: datetime
    level: int
    input: bool


def read_level_period(body: etree._Element) -> LevelPeriod:
    """A ``LimitAPCLevel`` / ``SetAuxiliaryControllerState`` body."""
    n = read_int(
        f"{local_name(body)}/@auxiliaryControllerN", body.get("auxiliaryControllerN"), 1, 5
    )
    f = Fields(
        body, ("StartDateTime", "EndDateTime", "CommandedStateLevel", "InputFromControlledLoad")
    )
    start = read_datetime("StartDateTime", f.text("StartDateTime"))
    end = read_datetime("EndDateTime", f.text("EndDateTime"))
    if end <= start:
        raise invalid("EndDateTime", "it must be after StartDateTime")
    level = read_int("CommandedStateLevel", f.text("CommandedStateLevel"), 0, 100)
    return LevelPeriod(n, start, end, level, f.marker("InputFromControlledLoad"))


def level_period_writes(
    r: LevelPeriod, scripts: str, script: int, period: tuple[int, int] = (3, 4)
) -> tuple[Write, ...]:
    """The period of controller ``n`` (start and end in ``0-0:94.44.{116+n}.x`` for the two
    ``x`` of ``period``: ``.3`` / ``.4`` for the APC limit, ``.1`` / ``.2`` for the commanded
    state), then ``script`` of the script table ``scripts`` run."""
    base = f"0-0:94.44.{116 + r.n}"
    start, end = period
    return (
        (dlms.set_(1, f"{base}.{start}", 2), _stamp(r.start)),
        (dlms.set_(1, f"{base}.{end}", 2), _stamp(r.end)),
        (dlms.action(9, scripts, 1), dlms.long_unsigned(script)),
    )


def level_period_example(level: str) -> Example:
    """Controller 1 at ``level`` percent from now until this time tomorrow."""
    return Example(
        {
            "auxiliaryControllerN": "1",
            "StartDateTime": Home.NOW,
            "EndDateTime": Home.TOMORROW,
            "CommandedStateLevel": level,
            "InputFromControlledLoad": None,
        },
        lambda v: (
            v.elements("StartDateTime", "EndDateTime", "CommandedStateLevel")
            + v.marker("InputFromControlledLoad")
        ),
        attributes=("auxiliaryControllerN",),
    )
