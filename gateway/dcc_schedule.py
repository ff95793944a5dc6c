"""DCC schedules (SR 5.1 Create, 5.2 Read, 5.3 Delete): a user asks the DCC to run one of
the DCC-schedulable reads (the catalogue rows flagged ``dcc_scheduled``) on a recurrence.

A schedule is stored with everything its DUIS ``DSPSchedule`` said (the recurrence, the
device, the scheduled SR and its body, kept as the XML text received so that SR 5.2 gives
back what 5.1 sent) in the component ``dcc-schedule`` (:data:`MIGRATIONS`), so a restart
keeps it. Its DSP schedule id is the row's id: a number, as the schema's ``scheduleID``.

:func:`occurrences` is the recurrence on the gateway's clock: every run of a schedule between
two instants, so whoever runs schedules reads the clock (which a sandbox may move) instead of
sleeping.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

from gateway.model import ScheduleSpec
from gateway.storage import Migration, Row, Transaction

__all__ = [
    "FREQUENCIES",
    "MAX_SCHEDULE_ID",
    "MIGRATIONS",
    "Schedule",
    "claim_run",
    "delete",
    "due",
    "insert",
    "occurrences",
    "select",
]

MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(
        "dcc-schedule",
        1,
        """
        CREATE TABLE dcc_schedules (
            schedule_id INTEGER PRIMARY KEY AUTOINCREMENT,
            owner BLOB NOT NULL,
            device BLOB NOT NULL,
            variant TEXT NOT NULL,
            frequency TEXT NOT NULL,
            start_date TEXT NOT NULL,
            end_date TEXT,
            start_time TEXT NOT NULL,
            details TEXT NOT NULL,
            scheduled_body TEXT NOT NULL,
            created_at TEXT NOT NULL,
            last_run TEXT NOT NULL
        );
        CREATE INDEX dcc_schedules_device ON dcc_schedules (device);
        """,
    ),
)

FREQUENCIES: Final[dict[str, int]] = {
    "Daily": 0,
    "Weekly": 0,
    "Monthly": 1,
    "Quarterly": 3,
    "Half-Yearly": 6,
    "Yearly": 12,
}
"""The schema's ``ScheduleFrequency`` values; the months between runs (0: counted in days)."""

MAX_SCHEDULE_ID: Final = 1_000_000_000_000
"""The schema's ``scheduleID`` maximum."""


@dataclass(frozen=True, slots=True)
class Schedule:
    """A stored schedule: its DSP schedule id, owner and what was asked."""

    schedule_id: int
    owner: bytes
    spec: ScheduleSpec
    last_run: datetime
    """The run it made last (its creation, before its first run)."""


def _months_later(day: date, months: int) -> date:
    """``day`` ``months`` later; the month's last day when it has no such day (31 Jan + 1)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def run_dates(spec: ScheduleSpec) -> Iterator[date]:
    """Every date the schedule runs on, from its start date, up to its end date if any."""
    months = FREQUENCIES[spec.frequency]
    n = 0
    while True:
        if months:
            day = _months_later(spec.start_date, months * n)
        else:
            day = spec.start_date + timedelta(days=n * (7 if spec.frequency == "Weekly" else 1))
        if spec.end_date is not None and day > spec.end_date:
            return
        yield day
        n += 1


def occurrences(spec: ScheduleSpec, after: datetime, until: datetime) -> list[datetime]:
    """The runs of ``spec`` in ``(after, until]`` (UTC), earliest first."""
    runs: list[datetime] = []
    for day in run_dates(spec):
        when = datetime.combine(day, spec.start_time, tzinfo=UTC)
        if when > until:
            break
        if when > after:
            runs.append(when)
    return runs


def insert(tx: Transaction, owner: bytes, spec: ScheduleSpec, now: datetime) -> int:
    """Store a schedule; its DSP schedule id."""
    return tx.insert(
        "INSERT INTO dcc_schedules (owner, device, variant, frequency, start_date, end_date, "
        "start_time, details, scheduled_body, created_at, last_run) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            owner,
            spec.device_id,
            spec.variant,
            spec.frequency,
            spec.start_date.isoformat(),
            None if spec.end_date is None else spec.end_date.isoformat(),
            spec.start_time.isoformat(),
            spec.details,
            spec.scheduled_body,
            now.astimezone(UTC).isoformat(),
            now.astimezone(UTC).isoformat(),
        ),
    )


def _schedule(row: Row) -> Schedule:
    end = row["end_date"]
    return Schedule(
        int(row["schedule_id"]),
        bytes(row["owner"]),
        ScheduleSpec(
            frequency=str(row["frequency"]),
            start_date=date.fromisoformat(str(row["start_date"])),
            end_date=None if end is None else date.fromisoformat(str(end)),
            start_time=time.fromisoformat(str(row["start_time"])),
            variant=str(row["variant"]),
            device_id=bytes(row["device"]),
            details=str(row["details"]),
            scheduled_body=str(row["scheduled_body"]),
        ),
        datetime.fromisoformat(str(row["last_run"])),
    )


_COLUMNS: Final = (
    "SELECT schedule_id, owner, device, variant, frequency, start_date, end_date, start_time, "
    "details, scheduled_body, last_run FROM dcc_schedules"
)


def select(
    tx: Transaction, *, schedule_id: int | None = None, device_id: bytes | None = None
) -> list[Schedule]:
    """The schedules with that id, or on that device (every one when neither), by id."""
    if schedule_id is not None:
        rows = tx.all(f"{_COLUMNS} WHERE schedule_id = ?", (schedule_id,))
    elif device_id is not None:
        rows = tx.all(f"{_COLUMNS} WHERE device = ? ORDER BY schedule_id", (device_id,))
    else:
        rows = tx.all(f"{_COLUMNS} ORDER BY schedule_id")
    return [_schedule(r) for r in rows]


def delete(tx: Transaction, schedule_ids: list[int]) -> None:
    tx.executemany("DELETE FROM dcc_schedules WHERE schedule_id = ?", [(i,) for i in schedule_ids])


def due(tx: Transaction, now: datetime) -> list[int]:
    """The schedules with a run due at ``now`` (after their last one), by id."""
    return [s.schedule_id for s in select(tx) if occurrences(s.spec, s.last_run, now)]


def claim_run(tx: Transaction, schedule_id: int, now: datetime) -> tuple[Schedule, datetime] | None:
    """The schedule's earliest run due at ``now``, marked made (so that no other worker, nor a
    restart, makes it again); None when none is due or the schedule was deleted."""
    found = select(tx, schedule_id=schedule_id)
    if not found:
        return None
    schedule = found[0]
    runs = occurrences(schedule.spec, schedule.last_run, now)
    if not runs:
        return None
    changed = tx.execute(
        "UPDATE dcc_schedules SET last_run = ? WHERE schedule_id = ? AND last_run = ?",
        (runs[0].isoformat(), schedule_id, schedule.last_run.isoformat()),
    )
    return (schedule, runs[0]) if changed == 1 else None
