"""The frame log reads a request's command from the request's own row (``sent_at``), the
alerts from ``device_frames`` and the answer from its response report (``answer_frame``); a
database written before those existed (every frame in ``device_frames``) reads back as it was
written."""

from __future__ import annotations

from gateway import frame_log
from gateway.frame_log import Frame
from gateway.services.device_reports import MIGRATIONS
from gateway.storage import Storage, Transaction

ESME = bytes.fromhex("00db1234567890a0")
SUPPLIER = bytes.fromhex("90b3d51f30010000")
COMMAND = bytes.fromhex("dd0000000000004100")
RESPONSE = bytes.fromhex("dd0000000000004200")
ALERT = bytes.fromhex("dd0000000000004300")
SENT_AT = "2026-01-02T03:04:05.000006+00:00"
UP_AT = "2026-01-02T03:04:06+00:00"


def _request(tx: Transaction, rid: str, state: str, sent_at: str | None = None) -> None:
    columns = (
        "request_id, sender, device, hub, variant, command_variant, message_code, reply_to, "
        "gbcs_counter, state, command, created_at"
    )
    values: tuple[object, ...] = (
        rid, SUPPLIER, ESME, None, "4.1.1", 1, 0x0041, SUPPLIER, rid.encode(), state, COMMAND,
        "2026-01-02T03:04:05+00:00",
    )  # fmt: skip
    if sent_at is not None:
        columns += ", sent_at"
        values += (sent_at,)
    marks = ", ".join("?" * len(values))
    tx.execute(f"INSERT INTO device_requests ({columns}) VALUES ({marks})", values)


def _frame(tx: Transaction, rid: str, direction: str, frame: bytes, at: str) -> None:
    tx.execute(
        "INSERT INTO device_frames (request_id, direction, device, frame, at) "
        "VALUES (?, ?, ?, ?, ?)",
        (rid, direction, ESME, frame, at),
    )


def _report(tx: Transaction, rid: str, kind: str, answer_frame: int | None) -> None:
    tx.execute(
        "INSERT INTO device_reports (kind, recipient, device, code, request_id, payload, "
        "created_at, answer_frame) VALUES (?, ?, ?, 'I0', ?, ?, ?, ?)",
        (kind, SUPPLIER, ESME, rid, RESPONSE, UP_AT, answer_frame),
    )


def test_the_frames_are_the_command_sent_the_alerts_and_the_answer_in_order() -> None:
    storage = Storage.open(":memory:", migrations=MIGRATIONS + frame_log.MIGRATIONS)
    with storage.transaction() as tx:
        _request(tx, "R-1", "answered", sent_at=SENT_AT)
        _report(tx, "R-1", "response", 1)
        _report(tx, "R-1", "dcc-alert", None)  # a report of the request that is no frame
        _frame(tx, "R-1", "up", ALERT, UP_AT)
        _request(tx, "R-2", "precommand")  # a pre-command: known, nothing exchanged yet
        frames = frame_log.frames_of(tx, "R-1")
        assert frames == [
            Frame("down", ESME, COMMAND, SENT_AT),
            Frame("up", ESME, ALERT, UP_AT),
            Frame("up", ESME, RESPONSE, UP_AT),
        ]
        assert frame_log.frames_of(tx, "R-2") == []
        assert frame_log.frames_of(tx, "R-3") is None


def test_a_database_written_before_sent_at_reads_back_as_written() -> None:
    before = tuple(m for m in MIGRATIONS if m.version < 3) + frame_log.MIGRATIONS
    storage = Storage.open(":memory:", migrations=before)
    with storage.transaction() as tx:
        tx.execute(
            "INSERT INTO device_requests (request_id, sender, device, variant, command_variant, "
            "message_code, reply_to, gbcs_counter, state, command, created_at) "
            "VALUES ('R-1', ?, ?, '4.1.1', 1, 65, ?, ?, 'answered', ?, '2026')",
            (SUPPLIER, ESME, SUPPLIER, bytes(8), COMMAND),
        )
        _frame(tx, "R-1", "down", COMMAND, SENT_AT)
        _frame(tx, "R-1", "up", RESPONSE, UP_AT)
    expected = [Frame("down", ESME, COMMAND, SENT_AT), Frame("up", ESME, RESPONSE, UP_AT)]
    with storage.transaction() as tx:  # read by a gateway that does not migrate it (plain)
        assert frame_log.frames_of(tx, "R-1") == expected
    assert [m.version for m in storage.migrate(MIGRATIONS)] == [3, 4]
    with storage.transaction() as tx:
        assert frame_log.frames_of(tx, "R-1") == expected
