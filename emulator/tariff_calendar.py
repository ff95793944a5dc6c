"""The calendar a tariff (and a non-disablement calendar) is billed by: seasons, each from
its start date with a week of day tables, and special days that override them.

A day's table is its special day's when it is one, else its week day's in the season in
force - the last season whose start is on or before the day (a start may repeat every year
or every month) - as the activity calendar and special days table of GBCS's tariff use
cases say. The meter looks it up once a day (:mod:`emulator.metering`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from emulator.errors import CommandError
from emulator.profiles import SLOTS_PER_DAY

ANY = 0xFF
EVERY_YEAR = 0xFFFF
LAST_DAY = 0xFE
"""A season start's day of month: the last day of the month (COSEM date)."""
SEASON_LOOKBACK_MONTHS = 12 * 8
"""How far back a season's latest start is looked for: eight years reach back past a
missing 29 February (1900 and 2100 are not leap years)."""


@dataclass(frozen=True, slots=True)
class SpecialDay:
    """A date billed by its own switching table instead of its week day's (year
    :data:`EVERY_YEAR`, month or day :data:`ANY`: wildcards)."""

    year: int
    month: int
    day: int
    switching: tuple[int, ...]

    def matches(self, day: date) -> bool:
        return (
            self.year in (EVERY_YEAR, day.year)
            and self.month in (ANY, day.month)
            and self.day in (ANY, day.day)
        )


@dataclass(frozen=True, slots=True)
class Season:
    """A season of the tariff's calendar: from its start date (year :data:`EVERY_YEAR`,
    month :data:`ANY`: every year, every month; day :data:`ANY` the 1st, :data:`LAST_DAY`
    the last of the month) each day bills by its week day's switching table of
    :attr:`weekdays` (Monday first)."""

    year: int
    month: int
    day: int
    weekdays: tuple[tuple[int, ...], ...]

    @classmethod
    def from_cosem(cls, start: bytes, week: tuple[tuple[int, ...], ...]) -> Season:
        """A DLMS season (ECS01a, ECS01c: its start a COSEM date-time) billing by ``week``;
        :class:`CommandError` for a start the meter cannot follow (daylight-saving months,
        the second last day)."""
        year, month, day = int.from_bytes(start[0:2], "big"), start[2], start[3]
        return cls._checked(year, month, day, start[:4].hex(), week)

    @classmethod
    def from_zcl(cls, start: bytes, week: tuple[tuple[int, ...], ...]) -> Season:
        """A ZCL season (GCS01a: its start year - 1900, month, day of month; 0xFF any)
        billing by ``week``."""
        year = EVERY_YEAR if start[0] == ANY else 1900 + start[0]
        return cls._checked(year, start[1], start[2], start[:3].hex(), week)

    @classmethod
    def _checked(
        cls, year: int, month: int, day: int, raw: str, week: tuple[tuple[int, ...], ...]
    ) -> Season:
        if not (month == ANY or 1 <= month <= 12) or not (day in (ANY, LAST_DAY) or 1 <= day <= 31):
            raise CommandError(f"season start {raw} is not a date the meter can follow")
        return cls(year, month, day, week)

    def latest_start(self, day: date) -> date | None:
        """The latest date on or before ``day`` on which this season started (None: it has
        not started yet)."""
        year, month = day.year, day.month
        for _ in range(SEASON_LOOKBACK_MONTHS):
            if self.year != EVERY_YEAR and year < self.year:
                return None
            if self.year in (EVERY_YEAR, year) and self.month in (ANY, month):
                start = _day_in(year, month, self.day)
                if start is not None and start <= day:
                    return start
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        return None


def _day_in(year: int, month: int, day: int) -> date | None:
    """The date of a season start's day in a month (None: the month has no such day)."""
    if day == ANY:
        day = 1
    elif day == LAST_DAY:
        following = date(year + month // 12, month % 12 + 1, 1)
        return date.fromordinal(following.toordinal() - 1)
    try:
        return date(year, month, day)
    except ValueError:
        return None


def season_on(seasons: tuple[Season, ...], day: date) -> Season | None:
    """The season in force on ``day``: the one whose latest start on or before it is the
    latest (of two starting the same day, the later in the table); None when none has
    started."""
    found: Season | None = None
    found_start: date | None = None
    for season in seasons:
        start = season.latest_start(day)
        if start is not None and (found_start is None or start >= found_start):
            found, found_start = season, start
    return found


def table_on(
    day: date,
    special_days: tuple[SpecialDay, ...],
    seasons: tuple[Season, ...],
    weekdays: tuple[tuple[int, ...], ...],
    every_day: tuple[int, ...],
) -> tuple[int, ...]:
    """The day's table: its special day's, else its week day's in the season in force (the
    first season's, ``weekdays``, before any has started; ``every_day`` when no week)."""
    for special in special_days:
        if special.matches(day):
            return special.switching
    if seasons:
        season = season_on(seasons, day)
        if season is not None:
            return season.weekdays[day.weekday()]
    return weekdays[day.weekday()] if weekdays else every_day


@dataclass(frozen=True, slots=True)
class NonDisablementCalendar:
    """Which half hours of each day the supply may not be disabled for lack of credit in
    (1: a non-disablement period), by the same calendar rules as a tariff's switching:
    special days, else the week day of the season in force (:attr:`weekdays`, the first
    season's, before any has started)."""

    weekdays: tuple[tuple[int, ...], ...]
    seasons: tuple[Season, ...] = ()
    special_days: tuple[SpecialDay, ...] = ()

    def periods_on(self, day: date) -> tuple[int, ...]:
        return table_on(day, self.special_days, self.seasons, self.weekdays, (0,) * SLOTS_PER_DAY)

    def problems(self) -> list[str]:
        weeks = [self.weekdays, *(s.weekdays for s in self.seasons)]
        tables = [t for w in weeks for t in w] + [d.switching for d in self.special_days]
        if any(len(w) != 7 for w in weeks):
            return ["a non-disablement week has 7 days"]
        if any(len(t) != SLOTS_PER_DAY or not set(t) <= {0, 1} for t in tables):
            return ["a non-disablement day marks each of its 48 half hours in or out"]
        return []

    def to_json(self) -> dict[str, Any]:
        return {
            "weekdays": [list(t) for t in self.weekdays],
            "seasons": [
                [s.year, s.month, s.day, [list(t) for t in s.weekdays]] for s in self.seasons
            ],
            "special_days": [
                [d.year, d.month, d.day, list(d.switching)] for d in self.special_days
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NonDisablementCalendar:
        def ints(values: Any) -> tuple[int, ...]:
            return tuple(int(v) for v in values)

        return cls(
            weekdays=tuple(ints(t) for t in data["weekdays"]),
            seasons=tuple(
                Season(int(y), int(m), int(d), tuple(ints(t) for t in week))
                for y, m, d, week in data.get("seasons", ())
            ),
            special_days=tuple(
                SpecialDay(int(y), int(m), int(d), ints(t))
                for y, m, d, t in data.get("special_days", ())
            ),
        )


Date = tuple[int, int, int]
"""(year, month, day); year :data:`EVERY_YEAR`: every year."""


@dataclass(frozen=True, slots=True)
class ScheduleSwitch:
    """An ESME non-disablement schedule entry (ECS08a): a period starts (or stops) at
    ``minute`` after midnight on the ``weekdays`` (Monday 0) and on the ``special_days``
    (1-based indexes into the schedule's special days), between ``begin`` and ``end``."""

    start: bool
    minute: int
    weekdays: frozenset[int]
    special_days: frozenset[int]
    begin: Date
    end: Date


def _on_or_after(bound: Date, day: date) -> tuple[int, int, int]:
    """``bound`` comparable with ``day``: a wildcard year takes ``day``'s."""
    year, month, dom = bound
    return (day.year if year == EVERY_YEAR else year, month, dom)


@dataclass(frozen=True, slots=True)
class NonDisablementSchedule:
    """The ESME's non-disablement calendar (ECS08a: a special days table and a schedule):
    on a special day, the entries naming it apply (a special day replaces its week day, as
    in the tariff calendar), else those naming its week day - each within its dates - and
    their STARTs and STOPs in time order mark the day's periods (a day starts outside one)."""

    special_days: tuple[Date, ...]
    switches: tuple[ScheduleSwitch, ...]

    def periods_on(self, day: date) -> tuple[int, ...]:
        specials = {
            n
            for n, (year, month, dom) in enumerate(self.special_days, 1)
            if year in (EVERY_YEAR, day.year)
            and month in (ANY, day.month)
            and dom in (ANY, day.day)
        }
        today = (day.year, day.month, day.day)
        switches = sorted(
            (s.minute, s.start)
            for s in self.switches
            if (s.special_days & specials if specials else day.weekday() in s.weekdays)
            and _on_or_after(s.begin, day) <= today <= _on_or_after(s.end, day)
        )
        periods = []
        for slot in range(SLOTS_PER_DAY):
            on = False
            for minute, start in switches:
                if minute <= slot * 30:
                    on = start
            periods.append(int(on))
        return tuple(periods)

    def problems(self) -> list[str]:
        return []

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "schedule",
            "special_days": [list(d) for d in self.special_days],
            "switches": [
                [
                    s.start,
                    s.minute,
                    sorted(s.weekdays),
                    sorted(s.special_days),
                    list(s.begin),
                    list(s.end),
                ]
                for s in self.switches
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NonDisablementSchedule:
        def when(values: Any) -> Date:
            year, month, dom = (int(v) for v in values)
            return (year, month, dom)

        return cls(
            special_days=tuple(when(d) for d in data["special_days"]),
            switches=tuple(
                ScheduleSwitch(
                    bool(start),
                    int(minute),
                    frozenset(weekdays),
                    frozenset(special),
                    when(b),
                    when(e),
                )
                for start, minute, weekdays, special, b, e in data["switches"]
            ),
        )


def non_disablement_from_json(
    data: dict[str, Any],
) -> NonDisablementCalendar | NonDisablementSchedule:
    """The non-disablement calendar saved by :meth:`NonDisablementCalendar.to_json` or
    :meth:`NonDisablementSchedule.to_json`."""
    if data.get("kind") == "schedule":
        return NonDisablementSchedule.from_json(data)
    return NonDisablementCalendar.from_json(data)
