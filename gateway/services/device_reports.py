"""The inbox of the device SRs: the reports a DCC User is told, stored before anyone is told.

:class:`Inbox` files a :class:`~gateway.services.device_types.DeviceReport` (rendered as
signed DUIS XML first, when a renderer is given) in a transaction of the gateway's group
commit, reads the inbox back (per RequestID, per recipient) and records each delivery. Its
tables are the component ``device-services`` (:data:`MIGRATIONS`): the requests awaiting an
answer (written by :mod:`gateway.services.device`), the reports, the ACB's counter.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from gateway.group_commit import GroupCommit
from gateway.model import RequestId
from gateway.services.device_types import (
    DeviceReport,
    Key,
    OpenRequest,
    ReportKind,
    counter_blob,
    counter_value,
    parse_rid,
    rid_text,
)
from gateway.storage import Migration, Row, Storage, Transaction

logger = logging.getLogger(__name__)

__all__ = ["MIGRATIONS", "Inbox", "Renderer", "next_acb_counter", "report_from_row"]

Renderer = Callable[[DeviceReport], bytes]
"""The signed DUIS XML of a report (:mod:`gateway.duis.device_responses`)."""

MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(
        "device-services",
        1,
        """
        CREATE TABLE device_requests (
            request_id TEXT PRIMARY KEY,
            sender BLOB NOT NULL,
            device BLOB NOT NULL,
            hub BLOB,
            variant TEXT NOT NULL,
            command_variant INTEGER NOT NULL,
            message_code INTEGER NOT NULL,
            reply_to BLOB NOT NULL,
            gbcs_counter BLOB NOT NULL,
            state TEXT NOT NULL,
            command BLOB NOT NULL,
            details TEXT,
            created_at TEXT NOT NULL,
            deadline REAL,
            finished_at TEXT
        ) WITHOUT ROWID;
        CREATE UNIQUE INDEX device_requests_match
            ON device_requests (device, reply_to, gbcs_counter);
        CREATE INDEX device_requests_open ON device_requests (deadline) WHERE state = 'sent';

        CREATE TABLE device_reports (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            recipient BLOB NOT NULL,
            device BLOB NOT NULL,
            code TEXT NOT NULL,
            request_id TEXT,
            response_id TEXT,
            variant TEXT,
            payload BLOB,
            alert_code INTEGER,
            reason TEXT,
            created_at TEXT NOT NULL,
            body BLOB,
            delivered_at TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        );
        CREATE INDEX device_reports_by_request ON device_reports (request_id)
            WHERE request_id IS NOT NULL;
        CREATE INDEX device_reports_by_recipient ON device_reports (recipient, seq);
        CREATE INDEX device_reports_undelivered ON device_reports (seq)
            WHERE delivered_at IS NULL;
        CREATE UNIQUE INDEX device_reports_alerts ON device_reports (response_id)
            WHERE kind = 'alert';

        CREATE TABLE acb_counters (
            acb BLOB PRIMARY KEY,
            counter BLOB NOT NULL
        ) WITHOUT ROWID;
        """,
    ),
    Migration(
        "device-services",
        2,
        # SR9.1's answer carries the CIN the DCC made up (DUIS CINMessage).
        "ALTER TABLE device_reports ADD COLUMN cin TEXT;",
    ),
    Migration(
        "device-services",
        3,
        # When the request's command went down (the frame log's down frame, gateway.frame_log):
        # the command is stored here already, so it is not written a second time for the log.
        "ALTER TABLE device_requests ADD COLUMN sent_at TEXT;",
    ),
    Migration(
        "device-services",
        4,
        # 1: the report's payload is the frame its request's device answered with (the frame
        # log's up frame, gateway.frame_log), not written a second time for the log.
        "ALTER TABLE device_reports ADD COLUMN answer_frame INTEGER;",
    ),
)
"""The tables of the device SRs (component ``device-services``): open requests, the inbox
of reports, the ACB's originator counter."""

CIN_VARIANT: Final = "9.1"
"""The SR whose answer gives the user the Customer Identification Number the command carried
(the plan keeps it in the request's details, as ``cin``)."""


_INSERT_REPORT: Final = (
    "INSERT INTO device_reports (kind, recipient, device, code, request_id, response_id, "
    "variant, payload, alert_code, reason, created_at, body, cin, answer_frame) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class Inbox:
    """The reports of the device SRs over ``storage`` (see the module docstring). ``render``:
    the signed DUIS XML of a report, stored with it (None: stored without)."""

    def __init__(
        self,
        storage: Storage,
        commits: GroupCommit,
        *,
        clock: Callable[[], datetime],
        render: Renderer | None = None,
    ) -> None:
        storage.migrate(MIGRATIONS)
        self.storage = storage
        self.commits = commits
        self.clock = clock
        self.render = render

    def new(
        self,
        *,
        kind: ReportKind,
        recipient: bytes,
        device: bytes,
        code: str,
        request_id: RequestId | None = None,
        response_id: RequestId | None = None,
        variant: str | None = None,
        payload: bytes | None = None,
        alert_code: int | None = None,
        reason: str | None = None,
        dsp_schedule_id: int | None = None,
    ) -> DeviceReport:
        """A report, rendered (signed DUIS XML) before it is stored."""
        report = DeviceReport(
            seq=0,
            kind=kind,
            recipient=recipient,
            device=device,
            code=code,
            created_at=self.clock(),
            request_id=request_id,
            response_id=response_id,
            service_reference_variant=variant,
            payload=payload,
            alert_code=alert_code,
            reason=reason,
            dsp_schedule_id=dsp_schedule_id,
        )
        if self.render is None:
            return report
        return _refiled(report, report.seq, self.render(report))

    def insert(
        self, tx: Transaction, report: DeviceReport, *, answer_frame: bool = False
    ) -> DeviceReport | None:
        """File ``report``; None when it is an alert filed already (the same alert twice). The
        answer to an SR9.1 is given the CIN its request sent the meter (re-rendered).
        ``answer_frame``: the report's payload is the frame its request's device answered
        with, which the frame log (:mod:`gateway.frame_log`) reads from here."""
        if (
            report.kind is ReportKind.RESPONSE
            and report.service_reference_variant == CIN_VARIANT
            and report.cin is None
        ):
            report = self._with_cin(tx, report)
        values = (
            report.kind.value,
            report.recipient,
            report.device,
            report.code,
            None if report.request_id is None else rid_text(report.request_id),
            None if report.response_id is None else rid_text(report.response_id),
            report.service_reference_variant,
            report.payload,
            report.alert_code,
            report.reason,
            report.created_at.isoformat(),
            report.body,
            report.cin,
            1 if answer_frame else None,
        )
        if report.kind is not ReportKind.ALERT:  # only alerts have a uniqueness to keep
            seq = tx.insert(_INSERT_REPORT, values)
        else:
            row = tx.one(f"{_INSERT_REPORT} ON CONFLICT DO NOTHING RETURNING seq", values)
            if row is None:
                return None
            seq = int(row["seq"])
        return _refiled(report, seq, report.body)

    def _with_cin(self, tx: Transaction, report: DeviceReport) -> DeviceReport:
        """``report`` with the CIN its request's command carried (kept in the request's
        details by the plan), rendered again; unchanged when the request kept none."""
        if report.request_id is None:
            return report
        row = tx.one(
            "SELECT details FROM device_requests WHERE request_id = ?",
            (rid_text(report.request_id),),
        )
        details = json.loads(row["details"]) if row is not None and row["details"] else {}
        cin = details.get("cin")
        if not isinstance(cin, str):
            return report
        with_cin = _refiled(report, report.seq, None, cin)
        if self.render is None:
            return with_cin
        return _refiled(with_cin, report.seq, self.render(with_cin), cin)

    def reports(
        self,
        *,
        request_id: RequestId | str | None = None,
        recipient: bytes | None = None,
        after: int = 0,
        limit: int = 100,
        undelivered: bool = False,
    ) -> list[DeviceReport]:
        """Inbox entries for one RequestID, or for one recipient after sequence ``after``
        (``undelivered``: only those not yet POSTed to a listener)."""
        sql = "SELECT * FROM device_reports WHERE seq > ?"
        params: list[object] = [after]
        if undelivered:
            sql += " AND delivered_at IS NULL"
        if request_id is not None:
            sql += " AND request_id = ?"
            params.append(request_id if isinstance(request_id, str) else rid_text(request_id))
        if recipient is not None:
            sql += " AND recipient = ?"
            params.append(recipient)
        sql += " ORDER BY seq LIMIT ?"
        params.append(limit)
        with self.storage.transaction() as tx:
            rows = tx.all(sql, params)
        return [report_from_row(r) for r in rows]

    async def fetch_reports(
        self,
        *,
        request_id: RequestId | str | None = None,
        recipient: bytes | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> list[DeviceReport]:
        """:meth:`reports` read in the storage thread (the event loop never waits on a
        commit for it)."""
        return list(
            await self.commits.call(
                lambda tx: self.reports(
                    request_id=request_id, recipient=recipient, after=after, limit=limit
                ),
                replayable=True,
            )
        )

    async def fetch_state(self, request_id: RequestId | str) -> str | None:
        """:meth:`request_state` read in the storage thread."""
        state: str | None = await self.commits.call(
            lambda tx: self.request_state(request_id), replayable=True
        )
        return state

    def mark_delivered(self, seq: int, *, then: Callable[[], None] | None = None) -> None:
        """The report was POSTed to its recipient's listener; ``then()`` is called once that
        is committed."""
        stamp = self.clock().isoformat()

        def job(tx: Transaction) -> None:
            tx.execute(
                "UPDATE device_reports SET delivered_at = ?, attempts = attempts + 1 WHERE seq = ?",
                (stamp, seq),
            )

        def done(outcome: Any) -> None:
            _ignore(outcome)
            if then is not None and not isinstance(outcome, BaseException):
                then()

        self.commits.enqueue(job, done, replayable=True)

    def mark_attempt(self, seq: int, error: str) -> None:
        def job(tx: Transaction) -> None:
            tx.execute(
                "UPDATE device_reports SET attempts = attempts + 1, last_error = ? WHERE seq = ?",
                (error, seq),
            )

        self.commits.enqueue(job, _ignore, replayable=True)

    def last_seq(self) -> int:
        """The sequence number of the last report in the inbox (0: none)."""
        with self.storage.transaction() as tx:
            row = tx.one("SELECT MAX(seq) AS seq FROM device_reports")
        return 0 if row is None or row["seq"] is None else int(row["seq"])

    def request_state(self, request_id: RequestId | str) -> str | None:
        """``precommand``, ``sent``, ``answered``, ``failed``, ``local`` or None (unknown)."""
        rid = request_id if isinstance(request_id, str) else rid_text(request_id)
        with self.storage.transaction() as tx:
            row = tx.one("SELECT state FROM device_requests WHERE request_id = ?", (rid,))
        return None if row is None else str(row["state"])

    def open_requests(self) -> list[tuple[Key, OpenRequest]]:
        """The requests sent and not answered yet, as they were stored (after a restart)."""
        with self.storage.transaction() as tx:
            rows = tx.all(
                "SELECT request_id, sender, variant, details, device, reply_to, gbcs_counter, "
                "deadline FROM device_requests WHERE state = 'sent'"
            )
        found: list[tuple[Key, OpenRequest]] = []
        for row in rows:
            key = (bytes(row["device"]), bytes(row["reply_to"]), counter_value(row["gbcs_counter"]))
            rid = str(row["request_id"])
            opened = OpenRequest(
                parse_rid(rid),
                rid,
                bytes(row["sender"]),
                str(row["variant"]),
                json.loads(row["details"]) if row["details"] else None,
                float(row["deadline"]),
            )
            found.append((key, opened))
        return found


def next_acb_counter(tx: Transaction, acb: bytes, now: datetime) -> int:
    """The ACB's next originator counter: strictly increasing, at least epoch ms (as DCC tools
    count), persisted with the request that uses it."""
    row = tx.one("SELECT counter FROM acb_counters WHERE acb = ?", (acb,))
    last = 0 if row is None else counter_value(row["counter"])
    value = max(last + 1, int(now.timestamp() * 1000))
    tx.execute(
        "INSERT INTO acb_counters (acb, counter) VALUES (?, ?) "
        "ON CONFLICT (acb) DO UPDATE SET counter = excluded.counter",
        (acb, counter_blob(value)),
    )
    return value


def _ignore(outcome: Any) -> None:
    if isinstance(outcome, BaseException):
        logger.warning("inbox bookkeeping failed: %r", outcome)


def _refiled(
    report: DeviceReport, seq: int, body: bytes | None, cin: str | None = None
) -> DeviceReport:
    """``dataclasses.replace(report, seq=seq, body=body)`` (and ``cin``, when given) without
    its field-by-field walk (twice per device SR)."""
    return DeviceReport(
        seq,
        report.kind,
        report.recipient,
        report.device,
        report.code,
        report.created_at,
        report.request_id,
        report.response_id,
        report.service_reference_variant,
        report.payload,
        report.alert_code,
        report.reason,
        body,
        report.delivered,
        report.dsp_schedule_id,
        report.cin if cin is None else cin,
    )


def report_from_row(row: Row) -> DeviceReport:
    return DeviceReport(
        seq=int(row["seq"]),
        kind=ReportKind(row["kind"]),
        recipient=bytes(row["recipient"]),
        device=bytes(row["device"]),
        code=str(row["code"]),
        created_at=datetime.fromisoformat(row["created_at"]),
        request_id=None if row["request_id"] is None else parse_rid(row["request_id"]),
        response_id=None if row["response_id"] is None else parse_rid(row["response_id"]),
        service_reference_variant=row["variant"],
        payload=None if row["payload"] is None else bytes(row["payload"]),
        alert_code=row["alert_code"],
        reason=row["reason"],
        body=None if row["body"] is None else bytes(row["body"]),
        delivered=row["delivered_at"] is not None,
        cin=row["cin"],
    )
