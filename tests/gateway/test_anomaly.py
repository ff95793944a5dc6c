"""gateway.anomaly at the storage level: counting from the database is exact across two
connections (two worker processes), the rolling period, attribute values read from GBCS,
thresholds from the config file, everything kept across a reopen."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.anomaly import (
    AnomalyDetector,
    BreachKind,
    QuarantineState,
    Threshold,
    read_attributes,
    threshold_from_json,
)
from gateway.config import ConfigError, settings_from_mapping
from gateway.errors import AdminError
from gateway.inventory import MIGRATIONS as INVENTORY
from gateway.storage import Storage
from gateway.users import seed_default_identities
from gbcs import content as gc
from gbcs.codes import SUPPLIER, SUPPLIER_2
from gbcs.utrn import PPTD_BASE, ValueClass, verhoeff_digit

T0 = datetime(2025, 1, 1, tzinfo=UTC)
DEVICE = bytes.fromhex("00db1234567890a0")


def _open(path: Path) -> Storage:
    storage = Storage.open(path, migrations=INVENTORY)
    seed_default_identities(storage)
    return storage


def _screen(detector: AnomalyDetector, sender: bytes, n: int, at: datetime, srv: str = "7.2"):  # type: ignore[no-untyped-def]
    with detector.storage.transaction() as tx:
        return detector.screen(
            tx,
            sender=sender,
            srv=srv,
            message_code=0x0050,
            content=b"",
            request_id=f"{sender.hex()}:{DEVICE.hex()}:{n}",
            device=DEVICE,
            now=at,
        )


def test_two_connections_on_one_file_let_exactly_the_limit_through(tmp_path: Path) -> None:
    database = tmp_path / "gateway.db"
    first, second = _open(database), _open(database)
    for storage in (first, second):
        storage.share_writes(tmp_path / "gateway.db.lock")
    detectors = [AnomalyDetector(first), AnomalyDetector(second)]
    detectors[0].set(Threshold(SUPPLIER, "7.2", 10, period_s=3600))
    passed: list[int] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        for n in range(25):
            breach = _screen(detectors[index], SUPPLIER, index * 100 + n, T0)
            if breach is None:
                with lock:
                    passed.append(index)

    threads = [threading.Thread(target=worker, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(passed) == 10
    held = detectors[1].quarantine(state=QuarantineState.HELD)
    assert len(held) == 40
    assert {q.breach for q in held} == {BreachKind.USER}
    assert len({q.ref for q in held}) == 40
    first.close()
    second.close()


def test_the_period_rolls_and_users_count_apart(tmp_path: Path) -> None:
    storage = _open(tmp_path / "gateway.db")
    detector = AnomalyDetector(storage)
    detector.set(Threshold(SUPPLIER, "7.2", 2, period_s=60))
    detector.set(Threshold(None, "7.2", 3, period_s=60))
    assert _screen(detector, SUPPLIER, 1, T0) is None
    assert _screen(detector, SUPPLIER, 2, T0 + timedelta(seconds=10)) is None
    breach = _screen(detector, SUPPLIER, 3, T0 + timedelta(seconds=20))
    assert breach is not None
    assert breach.kind is BreachKind.USER
    # another supplier has no threshold of its own, but the DCC-wide one counts everyone
    assert _screen(detector, SUPPLIER_2, 4, T0 + timedelta(seconds=30)) is None
    dcc = _screen(detector, SUPPLIER_2, 5, T0 + timedelta(seconds=40))
    assert dcc is not None
    assert dcc.kind is BreachKind.DCC
    # 61 s after the first: it left the window, the supplier may send again
    assert _screen(detector, SUPPLIER, 6, T0 + timedelta(seconds=61)) is None
    storage.close()
    # reopened (a restart): the counts, thresholds and quarantine are all still there
    storage = _open(tmp_path / "gateway.db")
    detector = AnomalyDetector(storage)
    assert len(detector.thresholds()) == 2
    assert [q.ref for q in detector.quarantine()] == [breach.ref, dcc.ref]
    again = _screen(detector, SUPPLIER, 7, T0 + timedelta(seconds=62))
    assert again is not None  # 10 s, 61 s: two in the last minute
    storage.close()


def test_a_threshold_for_an_unknown_user_changes_nothing(tmp_path: Path) -> None:
    storage = _open(tmp_path / "gateway.db")
    detector = AnomalyDetector(storage)
    unknown = bytes.fromhex("90b3d51f30090000")
    with pytest.raises(AdminError, match="90-B3-D5-1F-30-09-00-00 is not a registered DCC User"):
        detector.set(Threshold(unknown, "7.2", 1, period_s=60))
    assert detector.thresholds() == []
    storage.close()


def test_the_same_scope_replaces_its_limit(tmp_path: Path) -> None:
    storage = _open(tmp_path / "gateway.db")
    detector = AnomalyDetector(storage)
    first = detector.set(Threshold(SUPPLIER, "7.2", 5, period_s=60))
    second = detector.set(Threshold(SUPPLIER, "7.2", 7, period_s=60))
    assert first.id == second.id
    assert [t.limit for t in detector.thresholds()] == [7]
    detector.set(Threshold(SUPPLIER, "7.2", 7, period_s=86400))  # another period: another one
    assert len(detector.thresholds()) == 2
    storage.close()


def _utrn(value: int, value_class: ValueClass) -> str:
    high = (1 << 15) | (int(value_class) << 13) | value
    pptd = str(PPTD_BASE + (high << 32))
    return pptd + verhoeff_digit(pptd)


def test_attributes_are_read_from_the_gbcs_command() -> None:
    pennies = gc.TopUp(1, _utrn(1234, ValueClass.PENNIES)).encode()
    assert read_attributes("2.2", 0x0007, pennies) == {"UTRN value": 1234}
    pounds = gc.TopUpGas(_utrn(12, ValueClass.POUNDS)).encode()
    assert read_attributes("2.2", 0x0097, pounds) == {"UTRN value": 1200}
    assert read_attributes("2.2", 0x0007, b"\x00garbage") == {}
    assert read_attributes("7.2", 0x0050, b"") == {}


def test_threshold_json_and_config_file() -> None:
    threshold = threshold_from_json(
        {"user": "90B3D51F30010000", "srv": "7.2", "limit": 50, "period_s": 3600}
    )
    assert threshold == Threshold(SUPPLIER, "7.2", 50, period_s=3600)
    settings = settings_from_mapping(
        {
            "anomaly": {
                "threshold": [
                    {
                        "user": "90-B3-D5-1F-30-01-00-00",
                        "srv": "7.2",
                        "limit": 50,
                        "period_s": 3600,
                    },
                    {"srv": "2.2", "attribute": "UTRN value", "limit": 10000},
                ]
            }
        },
        source="gw.toml",
    )
    assert [t.kind for t in settings.anomaly_thresholds] == [BreachKind.USER, BreachKind.ATTRIBUTE]
    with pytest.raises(ConfigError, match=r"gw.toml: \[\[anomaly.threshold\]\] #1: limit -5"):
        settings_from_mapping(
            {"anomaly": {"threshold": [{"srv": "7.2", "limit": -5, "period_s": 60}]}},
            source="gw.toml",
        )
    with pytest.raises(ConfigError, match=r"\[anomaly\] holds only"):
        settings_from_mapping({"anomaly": {"thresholds": []}}, source="gw.toml")


def test_the_quarantine_lists_held_first_and_bounded(tmp_path: Path) -> None:
    detector = AnomalyDetector(_open(tmp_path / "gateway.db"))
    detector.set(Threshold(SUPPLIER, "7.2", 0, period_s=3600))
    refs = [_screen(detector, SUPPLIER, n, T0).ref for n in range(1, 5)]
    with detector.storage.transaction() as tx:
        for ref in refs[:2]:  # the two oldest decided
            detector.decide(tx, ref, QuarantineState.DELETED, T0)
    assert [q.ref for q in detector.quarantine()] == refs
    assert [q.ref for q in detector.quarantine(held_first=True)] == refs[2:] + refs[:2]
    assert [q.ref for q in detector.quarantine(held_first=True, limit=3)] == [*refs[2:], refs[0]]
    deleted = detector.quarantine(state=QuarantineState.DELETED, held_first=True)
    assert [q.ref for q in deleted] == refs[:2]


def test_thresholds_changed_by_another_connection_apply_from_its_commit(tmp_path: Path) -> None:
    """Each process keeps the thresholds in memory: a change made through another
    connection (another worker's admin API) applies to this one's next transaction, and a
    change this one rolls back does not stay in its memory."""
    database = tmp_path / "gateway.db"
    mine, other = AnomalyDetector(_open(database)), AnomalyDetector(_open(database))
    assert _screen(mine, SUPPLIER, 1, T0) is None  # no threshold: cached as such
    added = other.set(Threshold(SUPPLIER, "7.2", 0, period_s=60))
    breach = _screen(mine, SUPPLIER, 2, T0)
    assert breach is not None
    assert breach.kind is BreachKind.USER
    assert added.id is not None
    other.remove(added.id)
    assert _screen(mine, SUPPLIER, 3, T0) is None
    # Set inside a transaction of this connection that is then undone: not kept.
    seen: list[int] = []

    def set_then_undo() -> None:
        with mine.storage.transaction() as tx:
            mine.set(Threshold(SUPPLIER, "7.2", 0, period_s=60))
            seen.append(len(mine._of_srv(tx, "7.2")))
            raise RuntimeError("undo")

    with pytest.raises(RuntimeError):
        set_then_undo()
    assert seen == [1]
    assert _screen(mine, SUPPLIER, 4, T0) is None
    assert mine.thresholds() == []
