"""The device service's side of :mod:`gateway.schedule`: a DUIS cancellation of held
requests, and the release of a held request when its time has come - each a job of one
transaction of the group commit."""

from __future__ import annotations

import json
from datetime import datetime

from gateway import schedule
from gateway.errors import ServiceError
from gateway.services.device_types import DeviceCall, Key, OpenRequest, counter_value, parse_rid
from gateway.storage import Transaction
from gateway.users import check_counter, check_sender, write_counter

__all__ = ["cancel_held", "release_held"]


def cancel_held(tx: Transaction, call: DeviceCall, now: datetime) -> list[str]:
    """DUIS's cancellation (ExecutionDateTime 3000-12-31) of the user's pending future-dated
    requests of that SR to that device (the RequestID rules first); refused, nothing changed
    and no counter consumed, when there is none."""
    _, last = check_sender(tx, call.sender, call.request_id.originator)
    check_counter(call.sender, call.request_id.counter, last)
    srv = call.service_reference_variant
    device = call.request_id.target
    rids = schedule.cancel(tx, call.sender, device, srv, now.isoformat())
    if not rids:
        raise ServiceError(
            "duis_invalid_element",
            element="ExecutionDateTime",
            reason=f"3000-12-31 cancels a pending future-dated request, and DCC User "
            f"{call.sender.hex('-').upper()} has none of SR {srv} for device "
            f"{device.hex('-').upper()}",
        )
    write_counter(tx, call.sender, call.request_id.counter)
    return rids


def release_held(
    tx: Transaction, rid: str, deadline: float, now: datetime
) -> tuple[Key, OpenRequest, bytes, bytes] | None:
    """A held request made ``sent`` (its frame logged) for the service to dispatch: its key,
    open request, hub and frame; None when it is no longer held (cancelled meanwhile)."""
    tx.execute("DELETE FROM held_requests WHERE request_id = ?", (rid,))
    row = tx.one(
        "SELECT sender, device, hub, variant, reply_to, gbcs_counter, command, details "
        "FROM device_requests WHERE request_id = ? AND state = 'held'",
        (rid,),
    )
    if row is None or row["hub"] is None:
        return None
    tx.execute(  # sent_at: its frame logged (gateway.frame_log)
        "UPDATE device_requests SET state = 'sent', deadline = ?, sent_at = ? WHERE request_id = ?",
        (deadline, now.isoformat(), rid),
    )
    device, frame = bytes(row["device"]), bytes(row["command"])
    key = (device, bytes(row["reply_to"]), counter_value(row["gbcs_counter"]))
    details = json.loads(row["details"]) if row["details"] else None
    opened = OpenRequest(
        parse_rid(rid), rid, bytes(row["sender"]), str(row["variant"]), details, deadline
    )
    return key, opened, bytes(row["hub"]), frame
