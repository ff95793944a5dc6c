"""SR2.1 Update Prepay Configuration: the GSME's (GCS05, ZCL with its non-disablement
calendar of day and week profiles and seasons) and the ESME's (ECS08a, a DLMS special days
table and schedule of START / STOP entries), at once, at the execution date-time, or
cancelling the pending one."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from gateway.errors import ServiceError
from gateway.srv.account import CANCELLATION, execution
from gateway.srv.example import Example, Values
from gateway.srv.fields import (
    Fields,
    children,
    cosem_date,
    invalid,
    number,
    one,
    read_int,
    time_of,
)
from gateway.srv.registry import serves
from gateway.srv.spec import Codec, Command
from gateway.srv.tariff import _gas_seasons, _gas_special_days, _gas_weeks
from gbcs import content as gc
from gbcs.payloads import gbz

__all__ = ["ElecPrepayConfiguration", "UpdatePrepayConfiguration"]


@dataclass(frozen=True, slots=True)
class UpdatePrepayConfiguration:
    """SR2.1 for a GSME (GCS05): debt cap, emergency credit, low credit, maximum credit and
    the non-disablement calendar, at once or at the execution date-time."""

    execution: datetime | None
    values: tuple[int, int, int, int, int, int]
    """Debt recovery rate cap, emergency credit limit and threshold, low credit threshold,
    maximum meter balance, maximum credit threshold."""
    days: tuple[gc.NonDisablementDay, ...]
    weeks: tuple[tuple[int, tuple[int, ...]], ...]
    seasons: tuple[gc.GasSeason, ...]
    special_days: tuple[gc.GasSpecialDay, ...]


_PREPAY_VALUES = (
    "DebtRecoveryRateCap",
    "EmergencyCreditLimit",
    "EmergencyCreditThreshold",
    "LowCreditThreshold",
)
_PREPAY_LIMITS = ("MaxMeterBalance", "MaxCreditThreshold")


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_INT32 = (-(1 << 31), (1 << 31) - 1)


def _xs_date(name: str, text: str | None) -> bytes:
    """An ``xs:date`` of a non-disablement schedule as a 5-byte COSEM date; year 65535 (the
    DUIS way of saying every year) is the COSEM wildcard."""
    value = (text or "").strip()
    match = re.fullmatch(r"(\d{4,5})-(\d{2})-(\d{2})(Z|[+-]00:00)?", value)
    if match is None:
        raise invalid(name, f"{value!r} is not an xs:date (e.g. 2014-10-27Z)")
    year, month, day = (int(g) for g in match.group(1, 2, 3))
    if not 1 <= month <= 12 or not 1 <= day <= 31 or not (year == 0xFFFF or year <= 9999):
        raise invalid(name, f"{value!r} is not a date (65535 for every year)")
    return year.to_bytes(2, "big") + bytes([month, day, 0xFF])


def _read_schedule(entry: etree._Element, special_days: int) -> gc.NonDisablementSwitch:
    f = Fields(entry, ("NonDisablementScript", "SpecialDaysApplicability",
                       "DaysOfWeekApplicability", "ScheduleDatesAndTime"))  # fmt: skip
    script = f.text("NonDisablementScript")
    if script not in ("START", "STOP"):
        raise invalid("NonDisablementScript", f"{script!r} is not START or STOP")
    specials = set()
    for applies in children(one(entry, "SpecialDaysApplicability"), "SpecialDayApplicability"):
        day = number(applies, "SpecialDayID", 1, 20)
        if day > special_days:
            raise invalid("SpecialDayID", f"special day {day} is not in ElectricitySpecialDays")
        specials.add(day)
    weekdays = set()
    for applies in children(one(entry, "DaysOfWeekApplicability"), "DayOfWeekApplicability"):
        name = (one(applies, "DayOfWeekID").text or "").strip()
        if name not in _WEEKDAYS:
            raise invalid("DayOfWeekID", f"{name!r} is not a day of the week")
        weekdays.add(_WEEKDAYS.index(name))
    times = one(entry, "ScheduleDatesAndTime")
    return gc.NonDisablementSwitch(
        script == "START",
        time_of(one(times, "SwitchTime").text),
        frozenset(weekdays),
        frozenset(specials),
        _xs_date("StartDate", one(times, "StartDate").text),
        _xs_date("EndDate", one(times, "EndDate").text),
    )


def _read_elec_prepay(element: etree._Element, when: datetime | None) -> ElecPrepayConfiguration:
    names = ("EmergencyCreditLimit", "EmergencyCreditThreshold", "LowCreditThreshold",
             "MaxMeterBalance", "MaxCreditThreshold")  # fmt: skip
    g = Fields(element, ("DebtRecoveryRateCap", *names, "ElectricityNonDisablementCalendar"))
    cap = read_int("DebtRecoveryRateCap", g.text("DebtRecoveryRateCap"), 0, 0xFFFF)
    values = {n: read_int(n, g.text(n), *_INT32) for n in names}
    if "ElectricityNonDisablementCalendar" not in g.elements:
        raise invalid(
            "UpdatePrepayConfigElectricity", "ElectricityNonDisablementCalendar is missing"
        )
    calendar = g.elements["ElectricityNonDisablementCalendar"]
    days = children(one(calendar, "ElectricitySpecialDays"), "SpecialDay")
    indexes = [read_int("SpecialDay", d.get("index"), 1, 20) for d in days]
    if indexes != list(range(1, len(days) + 1)):
        raise invalid("ElectricitySpecialDays", "the special days must be numbered 1, 2, ...")
    special = tuple(cosem_date(one(d, "Date"), with_time=False) for d in days)
    schedule = tuple(
        _read_schedule(e, len(special))
        for e in children(calendar, "ElectricityNonDisablementSchedule")
    )
    cancel = when == CANCELLATION
    return ElecPrepayConfiguration(
        gc.ElecPrepayConfig(
            0,
            special,
            schedule,
            values["MaxMeterBalance"],
            values["MaxCreditThreshold"],
            cap,
            values["LowCreditThreshold"],
            values["EmergencyCreditLimit"],
            values["EmergencyCreditThreshold"],
            None if cancel else when,
            cancel,
        )
    )


@dataclass(frozen=True, slots=True)
class ElecPrepayConfiguration:
    """SR2.1 for an ESME (ECS08a): the typed configuration (its counter is the command's)."""

    config: gc.ElecPrepayConfig


def _read_prepay(body: etree._Element) -> UpdatePrepayConfiguration | ElecPrepayConfiguration:
    f = Fields(
        body,
        ("ExecutionDateTime", "UpdatePrepayConfigElectricity", "UpdatePrepayConfigGas"),
        dated=True,
    )
    when = execution(f)
    if "UpdatePrepayConfigElectricity" in f.elements:
        return _read_elec_prepay(f.elements["UpdatePrepayConfigElectricity"], when)
    if "UpdatePrepayConfigGas" not in f.elements:
        raise invalid(
            "UpdatePrepayConfiguration",
            "it must hold one of UpdatePrepayConfigElectricity, UpdatePrepayConfigGas",
        )
    names = (*_PREPAY_VALUES, "GasNonDisablementCalendar", *_PREPAY_LIMITS)
    g = Fields(f.elements["UpdatePrepayConfigGas"], names)
    numbers = [read_int(n, g.text(n), 0, 0xFFFF_FFFF) for n in (*_PREPAY_VALUES, *_PREPAY_LIMITS)]
    values = (numbers[0], numbers[1], numbers[2], numbers[3], numbers[4], numbers[5])
    if "GasNonDisablementCalendar" not in g.elements:
        raise invalid("UpdatePrepayConfigGas", "GasNonDisablementCalendar is missing")
    calendar = g.elements["GasNonDisablementCalendar"]
    days = []
    for day in children(one(calendar, "DayProfiles"), "GasNonDisablementDayProfile"):
        switches = []
        for action in children(day, "TimeStartAction"):
            start = time_of(one(action, "StartTime").text)
            kind = (one(action, "NonDisablementAction").text or "").strip()
            if kind not in ("START", "STOP"):
                raise invalid("NonDisablementAction", f"{kind!r} is not START or STOP")
            switches.append((start.hour * 60 + start.minute, kind == "START"))
        days.append(gc.NonDisablementDay(number(day, "GasDayName", 1, 255), tuple(switches)))
    weeks = _gas_weeks(one(calendar, "WeekProfiles"))
    seasons = _gas_seasons(one(calendar, "SeasonProfiles"))
    special = _gas_special_days(one(calendar, "SpecialDays"))
    day_ids = {d.day_id for d in days}
    if any(not set(w) <= day_ids for _, w in weeks) or any(
        d.day_id not in day_ids for d in special
    ):
        raise invalid("GasNonDisablementCalendar", "it names a day profile it does not define")
    if any(s.week_id not in {w for w, _ in weeks} for s in seasons):
        raise invalid("GasNonDisablementCalendar", "a season names an undefined week profile")
    return UpdatePrepayConfiguration(when, values, tuple(days), tuple(weeks), seasons, special)


def _build_prepay(cmd: Command) -> bytes:
    request: UpdatePrepayConfiguration | ElecPrepayConfiguration = cmd.request
    if cmd.use_case.name == "ECS08a":
        if not isinstance(request, ElecPrepayConfiguration):
            raise invalid("UpdatePrepayConfiguration", "an ESME's is UpdatePrepayConfigElectricity")
        problems = request.config.problems()
        if problems:
            raise ServiceError(
                "invalid_value",
                field="UpdatePrepayConfiguration",
                value="the prepayment configuration",
                reason="; ".join(problems),
            )
        return dataclasses.replace(request.config, counter=cmd.counter).encode()
    if not isinstance(request, UpdatePrepayConfiguration):
        raise invalid("UpdatePrepayConfiguration", "a GSME's is UpdatePrepayConfigGas")
    cancel = request.execution == CANCELLATION
    start = 0 if request.execution is None or cancel else gbz.zigbee_time(request.execution)
    return gc.GasPrepayConfig(
        gc.issuer_id(cmd.now),
        *request.values,
        days=request.days,
        weeks=request.weeks,
        seasons=request.seasons,
        special_days=request.special_days,
        start=start,
        cancel=cancel,
    ).encode()


# ---------------------------------------------------------------------------- examples


def _gas_date(month: int, day: int) -> str:
    """A GSME's date in every year (the day of the week unspecified)."""
    return (
        "<sr:GasYearWithWildcards><sr:NonSpecifiedYear/></sr:GasYearWithWildcards>"
        f"<sr:GasMonthWithWildcards><sr:SpecifiedMonth>{month}</sr:SpecifiedMonth>"
        "</sr:GasMonthWithWildcards><sr:GasDayOfMonthWithWildcards>"
        f"<sr:SpecifiedDayOfMonth>{day}</sr:SpecifiedDayOfMonth></sr:GasDayOfMonthWithWildcards>"
        "<sr:GasDayOfWeekWithWildcards><sr:NonSpecifiedDayOfWeek/></sr:GasDayOfWeekWithWildcards>"
    )


def _prepay_example(v: Values) -> str:
    """A GSME's prepayment configuration whose calendar lets the supply be disabled only
    from 10:00 to 16:00, every day of the year (the friendly hours suppliers keep); an
    ESME's (``UpdatePrepayConfigElectricity=yes``) with the same hours."""
    actions = "".join(
        f"<sr:TimeStartAction><sr:StartTime>{start}</sr:StartTime>"
        f"<sr:NonDisablementAction>{action}</sr:NonDisablementAction></sr:TimeStartAction>"
        for start, action in (("00:00:00", "START"), ("10:00:00", "STOP"), ("16:00:00", "START"))
    )
    week = "".join(
        f'<sr:ReferencedDayName index="{i}">1</sr:ReferencedDayName>' for i in range(1, 8)
    )
    calendar = (
        "<sr:GasNonDisablementCalendar><sr:DayProfiles><sr:GasNonDisablementDayProfile>"
        f"{actions}<sr:GasDayName>1</sr:GasDayName></sr:GasNonDisablementDayProfile>"
        "</sr:DayProfiles><sr:WeekProfiles><sr:WeekProfile><sr:WeekName>1</sr:WeekName>"
        f"{week}</sr:WeekProfile></sr:WeekProfiles><sr:SeasonProfiles><sr:Season>"
        f"<sr:SeasonStartDate>{_gas_date(1, 1)}</sr:SeasonStartDate>"
        "<sr:ReferencedWeekName>1</sr:ReferencedWeekName></sr:Season></sr:SeasonProfiles>"
        "<sr:SpecialDays/></sr:GasNonDisablementCalendar>"
    )
    if v.given("UpdatePrepayConfigElectricity"):
        return (
            f"{v.element('ExecutionDateTime')}<sr:UpdatePrepayConfigElectricity>"
            f"{v.elements(*_PREPAY_VALUES)}{_elec_calendar()}{v.elements(*_PREPAY_LIMITS)}"
            "</sr:UpdatePrepayConfigElectricity>"
        )
    return (
        f"{v.element('ExecutionDateTime')}<sr:UpdatePrepayConfigGas>"
        f"{v.elements(*_PREPAY_VALUES)}{calendar}{v.elements(*_PREPAY_LIMITS)}"
        "</sr:UpdatePrepayConfigGas>"
    )


def _elec_calendar() -> str:
    """An ESME's non-disablement calendar of the same friendly hours: a period from
    midnight to 10:00 and from 16:00, every day of every year."""
    week = "".join(
        f"<sr:DayOfWeekApplicability><sr:DayOfWeekID>{day}</sr:DayOfWeekID>"
        "</sr:DayOfWeekApplicability>"
        for day in _WEEKDAYS
    )
    entries = "".join(
        f"<sr:ElectricityNonDisablementSchedule><sr:NonDisablementScript>{action}"
        "</sr:NonDisablementScript><sr:SpecialDaysApplicability/>"
        f"<sr:DaysOfWeekApplicability>{week}</sr:DaysOfWeekApplicability>"
        f"<sr:ScheduleDatesAndTime><sr:SwitchTime>{start}</sr:SwitchTime>"
        "<sr:StartDate>65535-01-01Z</sr:StartDate><sr:EndDate>65535-12-31Z</sr:EndDate>"
        "</sr:ScheduleDatesAndTime></sr:ElectricityNonDisablementSchedule>"
        for start, action in (("00:00:00Z", "START"), ("10:00:00Z", "STOP"), ("16:00:00Z", "START"))
    )
    return (
        "<sr:ElectricityNonDisablementCalendar><sr:ElectricitySpecialDays/>"
        f"{entries}</sr:ElectricityNonDisablementCalendar>"
    )


_PREPAY_EXAMPLE = Example(
    {
        "ExecutionDateTime": None,
        "UpdatePrepayConfigElectricity": None,
        "DebtRecoveryRateCap": "500",
        "EmergencyCreditLimit": "1000",
        "EmergencyCreditThreshold": "500",
        "LowCreditThreshold": "1500",
        "MaxMeterBalance": "50000",
        "MaxCreditThreshold": "30000",
    },
    _prepay_example,
)


serves(
    "2.1",
    Codec(
        read=_read_prepay,
        build=_build_prepay,
        builds=frozenset({"ECS08a", "GCS05"}),
        example=_PREPAY_EXAMPLE,
        reads_execution=True,
    ),
)
