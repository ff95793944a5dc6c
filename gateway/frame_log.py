"""The frame log: every GBCS frame exchanged for a device request, for test harnesses.

``GET /admin/frames?requestId=<RequestID>`` answers the frames of one request - the command
sent down (or returned for local delivery), the device's response and the alerts its device
raised while the request was open - in the order they were filed. Each frame is written in
the transaction that records the step it belongs to (the request accepted, the response or
alert filed), so the log and the inbox never disagree, and it lives as long as the request's
inbox entry: both are in the gateway's SQLite store (component ``frame-log``).

No frame is written twice: the command sent down is the one the request's row keeps
(``device_requests.command``, the step that sends it stamps the row's ``sent_at``), the
device's answer is the payload of the response report filed for it (``device_reports``,
marked ``answer_frame``), and only the alerts raised while the request was open are rows of
``device_frames`` of their own. They read back in the order they happened: the command
first (nothing comes up for a request not sent), the alerts (logged only while the request
awaits its answer), the answer last. Databases written before ``sent_at`` and
``answer_frame`` existed keep every frame in ``device_frames``: they read back as they were
written.

Pre-commands (CV4) are not frames exchanged with a device: the signed command of the CV5
that follows is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, Protocol, TypeVar

from gateway.storage import Migration, Row, Transaction

__all__ = ["MIGRATIONS", "Frame", "alert_filed", "frames_of", "request_of_alert"]

Direction = Literal["down", "up"]

MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(
        "frame-log",
        1,
        """
        CREATE TABLE device_frames (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            request_id TEXT NOT NULL,
            direction TEXT NOT NULL CHECK (direction IN ('down', 'up')),
            device BLOB NOT NULL,
            frame BLOB NOT NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX device_frames_by_request ON device_frames (request_id, seq);
        """,
    ),
)


@dataclass(frozen=True, slots=True)
class Frame:
    """One GBCS frame of a request."""

    direction: Direction
    device: bytes
    frame: bytes
    at: str
    """ISO 8601, as the gateway's clock gave it."""

    def as_json(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "device": self.device.hex("-").upper(),
            "hex": self.frame.hex().upper(),
            "at": self.at,
        }


def _record_alert(
    tx: Transaction,
    request_id: str,
    device: bytes,
    frame: bytes,
    at: datetime,
) -> None:
    """File ``frame``, an alert come up from ``device``, under ``request_id`` (inside the
    transaction of the step it belongs to). Not for the command sent (the step that sends it
    sets its request's ``sent_at``) nor the answer (its response report is marked
    ``answer_frame``)."""
    tx.execute(
        "INSERT INTO device_frames (request_id, direction, device, frame, at) "
        "VALUES (?, 'up', ?, ?, ?)",
        (request_id, device, frame, at.isoformat()),
    )


def request_of_alert(tx: Transaction, device: bytes, target: bytes) -> str | None:
    """The request an alert from ``device`` to ``target`` belongs to: the newest one of
    ``target``'s to that device still awaiting its answer (None: an alert of its own)."""
    row = tx.one(
        "SELECT request_id FROM device_requests WHERE device = ? AND reply_to = ? "
        "AND state = 'sent' ORDER BY created_at DESC LIMIT 1",
        (device, target),
    )
    return None if row is None else str(row["request_id"])


class _Alert(Protocol):
    @property
    def device(self) -> bytes: ...
    @property
    def recipient(self) -> bytes: ...
    @property
    def created_at(self) -> datetime: ...


A = TypeVar("A", bound=_Alert)


def alert_filed(tx: Transaction, filed: A | None, frame: bytes) -> A | None:
    """Log an alert's ``frame`` under the request it belongs to (see
    :func:`request_of_alert`) once its report is ``filed`` (None: a copy already filed,
    nothing logged again); returns ``filed``."""
    if filed is not None:
        request_id = request_of_alert(tx, filed.device, filed.recipient)
        if request_id is not None:
            _record_alert(tx, request_id, filed.device, frame, filed.created_at)
    return filed


def frames_of(tx: Transaction, request_id: str) -> list[Frame] | None:
    """The frames of ``request_id`` in order; None when the gateway never saw that request
    (an empty list: known, no frame yet - a pre-command not yet signed, say). The database
    may be one no device service of this version has opened yet (a plain gateway on an older
    sandbox's state): the columns ``sent_at`` and ``answer_frame`` are then missing, and every
    frame is in ``device_frames``."""
    request = None
    # A plain gateway (no device service) has no device_requests table.
    if tx.one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'device_requests'"):
        request = tx.one("SELECT * FROM device_requests WHERE request_id = ?", (request_id,))
    frames = []
    if request is not None and _column(request, "sent_at") is not None:
        frames.append(
            Frame("down", bytes(request["device"]), bytes(request["command"]), request["sent_at"])
        )
    rows = tx.all(
        "SELECT direction, device, frame, at FROM device_frames WHERE request_id = ? ORDER BY seq",
        (request_id,),
    )
    frames.extend(
        Frame(row["direction"], bytes(row["device"]), bytes(row["frame"]), str(row["at"]))
        for row in rows
    )
    if request is not None:
        reports = tx.all(
            "SELECT * FROM device_reports WHERE request_id = ? AND kind = 'response'",
            (request_id,),
        )
        for report in reports:
            if _column(report, "answer_frame") == 1:
                device, payload = bytes(report["device"]), bytes(report["payload"])
                frames.append(Frame("up", device, payload, report["created_at"]))
    if frames or request is not None:
        return frames
    return None


def _column(row: Row, name: str) -> Any:
    """``row[name]``, None when the row has no such column (an older schema)."""
    # A Row's ``in`` looks among its values, not its column names.
    return row[name] if name in row.keys() else None  # noqa: SIM118
