"""The inbox's memory of the newest reports: what it answers, and when it leaves a poll to
the database."""

from __future__ import annotations

import dataclasses
import datetime as dt

from gateway.duis.device_routes import RecentReports
from gateway.duis.envelope import format_request_id
from gateway.model import RequestId
from gateway.services.device import DeviceReport, ReportKind

ALICE = bytes.fromhex("90b3d51f30010000")
BOB = bytes.fromhex("90b3d51f3e000001")
ESME = bytes.fromhex("00db1234567890a0")
WHEN = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)


def report(seq: int, user: bytes = ALICE, kind: ReportKind = ReportKind.RESPONSE) -> DeviceReport:
    return DeviceReport(
        seq=seq,
        kind=kind,
        recipient=user,
        device=ESME,
        code="I0",
        created_at=WHEN,
        request_id=None if kind is ReportKind.ALERT else RequestId(user, ESME, 1000 + seq),
        response_id=RequestId(ESME, user, 1000 + seq),
        payload=b"\x00",
    )


def rid(seq: int, user: bytes = ALICE) -> str:
    return format_request_id(RequestId(user, ESME, 1000 + seq))


def test_a_users_reports_after_a_sequence_number_oldest_first() -> None:
    recent = RecentReports(floor=10)
    for seq, user in ((11, ALICE), (12, BOB), (13, ALICE), (14, ALICE)):
        recent.add(report(seq, user))
    assert [r.seq for r in recent.after(ALICE, 10, 100) or []] == [11, 13, 14]
    assert [r.seq for r in recent.after(ALICE, 11, 100) or []] == [13, 14]
    assert [r.seq for r in recent.after(ALICE, 11, 1) or []] == [13]
    assert recent.after(ALICE, 14, 100) == []
    assert [r.seq for r in recent.after(BOB, 10, 100) or []] == [12]
    assert recent.after(bytes(8), 10, 100) == []  # a user with nothing new


def test_anything_from_before_it_opened_is_the_databases() -> None:
    recent = RecentReports(floor=10)
    recent.add(report(11))
    assert recent.after(ALICE, 9, 100) is None
    assert recent.after(ALICE, 0, 100) is None
    recent.add(report(10))  # filed before it opened (told late): not kept
    assert [r.seq for r in recent.after(ALICE, 10, 100) or []] == [11]
    assert recent.final(rid(10)) is None


def test_dropping_the_oldest_raises_that_users_floor_only() -> None:
    recent = RecentReports(floor=0, capacity=3)
    for seq, user in ((1, ALICE), (2, BOB), (3, ALICE), (4, ALICE)):
        recent.add(report(seq, user))
    assert len(recent) == 3
    assert recent.after(ALICE, 0, 100) is None  # report 1 was dropped: ask the database
    assert [r.seq for r in recent.after(ALICE, 1, 100) or []] == [3, 4]
    assert [r.seq for r in recent.after(BOB, 0, 100) or []] == [2]
    assert recent.final(rid(1)) is None
    assert recent.final(rid(3)) is not None
    recent.add(report(5, ALICE))  # drops Bob's 2
    assert recent.after(BOB, 0, 100) is None
    assert recent.after(BOB, 2, 100) == []
    assert recent.final(rid(2, BOB)) is None


def test_the_final_report_of_a_request_and_its_delivery() -> None:
    recent = RecentReports(floor=0)
    first, alert = report(1), report(2, kind=ReportKind.ALERT)
    recent.add(first)
    recent.add(alert)
    assert recent.final(rid(1)) == first
    recent.delivered(first)
    marked = dataclasses.replace(first, delivered=True)
    assert recent.final(rid(1)) == marked
    assert recent.after(ALICE, 0, 100) == [marked, alert]
    recent.delivered(report(99))  # not kept: nothing happens
    assert recent.after(ALICE, 0, 100) == [marked, alert]
