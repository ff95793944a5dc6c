"""The device service's side of the DCC schedules (SR5.1, :mod:`gateway.dcc_schedule`): a run
that fell due on the gateway's clock made into the scheduled SR's :class:`DeviceCall`, which
the service submits as the schedule's owner, so its answer reaches the owner like the answer
to any device SR.

A run's read period is the schedule's ``ReadLogPeriodOffset`` taken from the run's date
(``StartDateOffset`` -1 and ``StartTime`` 00:00 on a run of 3 March read from 2 March 00:00).
Its RequestID is the owner's, to the device, with the counter after the owner's last one: the
device's counter rule (strictly increasing per remote party) then holds for the run and for
the owner's next request alike.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Final

from lxml import etree

from gateway import dcc_schedule
from gateway.duis.catalogue import ServiceReferenceVariant
from gateway.duis.xml import SR_NS, parse_document
from gateway.errors import ServiceError
from gateway.model import RequestId
from gateway.services.device_types import DeviceCall
from gateway.srv.catalogue import CATALOGUE
from gateway.storage import Transaction
from gateway.users import get_user_and_counter

__all__ = ["claim_call"]

_OFFSETS: Final = ("StartDateOffset", "StartTime", "EndDateOffset", "EndTime")


def _child(element: etree._Element, name: str) -> etree._Element | None:
    return element.find(f"{{{SR_NS}}}{name}")


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.00Z")


def _period(details: etree._Element, body: str, run: datetime) -> str:
    """The scheduled body's ``ReadLogPeriod`` for ``run`` ('' when it has no offsets)."""
    scheduled = _child(details, body)
    if scheduled is None:
        return ""
    values = {name: _child(scheduled, name) for name in _OFFSETS}
    if any(v is None for v in values.values()):
        return ""
    text = {name: (v.text or "").strip() for name, v in values.items() if v is not None}
    day = run.astimezone(UTC).date()

    def at(offset: str, clock: str) -> datetime:
        moment = time.fromisoformat(clock.removesuffix("Z")).replace(tzinfo=None)
        return datetime.combine(day + timedelta(days=int(offset)), moment, tzinfo=UTC)

    start = at(text["StartDateOffset"], text["StartTime"])
    end = at(text["EndDateOffset"], text["EndTime"])
    return (
        f"<sr:ReadLogPeriod><sr:StartDateTime>{_stamp(start)}</sr:StartDateTime>"
        f"<sr:EndDateTime>{_stamp(end)}</sr:EndDateTime></sr:ReadLogPeriod>"
    )


def run_call(schedule: dcc_schedule.Schedule, run: datetime, counter: int) -> DeviceCall:
    """The scheduled SR of ``schedule`` for its run at ``run``, as its owner's request."""
    spec = schedule.spec
    variant = ServiceReferenceVariant(spec.variant)
    entry = CATALOGUE[variant]
    if entry.codec is None:
        raise ServiceError("duis_sr_not_supported", srv=spec.variant)
    details = parse_document(spec.details.encode())
    name = entry.row.body
    body = etree.fromstring(
        f'<sr:{name} xmlns:sr="{SR_NS}">{_period(details, spec.scheduled_body, run)}</sr:{name}>'
    )
    return DeviceCall(
        sender=schedule.owner,
        request_id=RequestId(schedule.owner, spec.device_id, counter),
        command_variant=1,
        service_reference_variant=spec.variant,
        request=entry.codec.read(body),
        dsp_schedule_id=schedule.schedule_id,
    )


def claim_call(
    tx: Transaction, schedule_id: int, now: datetime
) -> DeviceCall | ServiceError | None:
    """The next run of the schedule due at ``now`` claimed (never made twice) and made into its
    call; None when none is due. A run whose call cannot be made is claimed all the same, and
    the reason returned (not raised: that would undo the claim and retry it for ever)."""
    claimed = dcc_schedule.claim_run(tx, schedule_id, now)
    if claimed is None:
        return None
    schedule, run = claimed
    _, last = get_user_and_counter(tx, schedule.owner)
    try:
        return run_call(schedule, run, 1 if last is None else last + 1)
    except ServiceError as exc:
        return exc
