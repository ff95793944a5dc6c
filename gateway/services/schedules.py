"""The rules of SR5.1 Create Schedule, 5.2 Read Schedule and 5.3 Delete Schedule (DCC
schedules, stored by :mod:`gateway.dcc_schedule`): what may be scheduled, for which device,
by whom, and on what recurrence; a user reads and deletes only its own schedules. Each
refusal is a ServiceError raised before anything is written."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from gateway import dcc_schedule
from gateway.errors import ServiceError
from gateway.inventory import Inventory
from gateway.model import CreateSchedule, DeleteSchedule, NonDeviceResult, ReadSchedule
from gateway.srv.spec import Row
from gateway.srv.table import ROWS
from gateway.storage import Transaction
from gateway.users import User, roles_text

__all__ = ["DCC_SCHEDULED", "create", "delete", "read"]

DCC_SCHEDULED: Final[dict[str, Row]] = {r.srv.value: r for r in ROWS if r.dcc_scheduled}
"""The SRs a DCC schedule may run (5.1), by variant: the catalogue's ``dcc_scheduled`` rows."""


def create(
    tx: Transaction, inv: Inventory, user: User, req: CreateSchedule, stamp: str
) -> NonDeviceResult:
    spec = req.spec
    row = DCC_SCHEDULED.get(spec.variant)
    if row is None:
        raise ServiceError(
            "schedule_not_schedulable",
            srv=spec.variant,
            allowed=", ".join(DCC_SCHEDULED),
        )
    expected = f"DSP{row.body}"
    if spec.scheduled_body != expected:
        raise ServiceError(
            "schedule_body_mismatch",
            srv=spec.variant,
            expected=expected,
            found=spec.scheduled_body,
        )
    if not user.roles & row.roles:
        raise ServiceError(
            "schedule_not_eligible",
            sender=user.eui,
            roles=roles_text(user.roles),
            srv=spec.variant,
            eligible=roles_text(row.roles),
        )
    record = inv.get(spec.device_id)
    if record is None:
        raise ServiceError("schedule_unknown_device", device=spec.device_id)
    if record.device_type not in row.use_cases:
        raise ServiceError(
            "schedule_wrong_device",
            srv=spec.variant,
            device=spec.device_id,
            device_type=record.device_type.value,
            device_types=", ".join(t.value for t in row.device_types),
        )
    now = datetime.fromisoformat(stamp)
    today = now.astimezone(UTC).date()
    if spec.start_date < today:
        raise ServiceError(
            "schedule_recurrence",
            reason=f"ScheduleStartDate {spec.start_date} is before today "
            f"({today}) on the gateway's clock",
        )
    if spec.end_date is not None:
        if spec.end_date < spec.start_date:
            raise ServiceError(
                "schedule_recurrence",
                reason=f"ScheduleEndDate {spec.end_date} is before "
                f"ScheduleStartDate {spec.start_date}",
            )
        last = datetime.combine(spec.end_date, spec.start_time, tzinfo=UTC)
        if not dcc_schedule.occurrences(spec, now, last):
            raise ServiceError(
                "schedule_recurrence",
                reason=f"it would never run: its last day {spec.end_date} at "
                f"{spec.start_time} UTC has passed on the gateway's clock",
            )
    schedule_id = dcc_schedule.insert(tx, user.eui, spec, now)
    return NonDeviceResult(schedule_id=schedule_id)


def _owned(
    tx: Transaction, user: User, req: ReadSchedule | DeleteSchedule, unknown: str, not_owner: str
) -> list[dcc_schedule.Schedule]:
    """The user's schedules that ``req`` names; refused when it names none of theirs."""
    found = dcc_schedule.select(tx, schedule_id=req.schedule_id, device_id=req.device_id)
    if req.schedule_id is not None and found and found[0].owner != user.eui:
        raise ServiceError(not_owner, schedule_id=req.schedule_id, sender=user.eui)
    mine = [s for s in found if s.owner == user.eui]
    if not mine:
        what = (
            str(req.schedule_id)
            if req.schedule_id is not None
            else f"on device {(req.device_id or b'').hex('-').upper()}"
        )
        raise ServiceError(unknown, sender=user.eui, what=what)
    return mine


def read(tx: Transaction, user: User, req: ReadSchedule) -> NonDeviceResult:
    mine = _owned(tx, user, req, "schedule_read_unknown", "schedule_read_not_owner")
    # DSPSchedulesRead holds at most 99 schedules.
    return NonDeviceResult(schedules=tuple((s.schedule_id, s.spec) for s in mine[:99]))


def delete(tx: Transaction, user: User, req: DeleteSchedule) -> NonDeviceResult:
    mine = _owned(tx, user, req, "schedule_delete_unknown", "schedule_delete_not_owner")
    dcc_schedule.delete(tx, [s.schedule_id for s in mine])
    return NonDeviceResult()
