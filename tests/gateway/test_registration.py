"""E45 / D0350 files to the RDPs (exactly once, crash-safe) and E46 answers back."""

from __future__ import annotations

import fcntl
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gateway.inventory import MIGRATIONS
from gateway.model import DecommissionDevice
from gateway.registration import RdpFlows
from gateway.services import NonDeviceService
from gateway.storage import Storage
from gbcs.devices import DeviceType, Fuel
from tests.gateway.smi import (
    CHF,
    ELEC,
    ESME,
    GAS,
    GSME,
    S1,
    Clock,
    Ids,
    commissioned_esme,
    eui,
    prenotify,
)

ESME_2 = eui(0xB0)


@pytest.fixture
def flows(service: NonDeviceService, clock: Clock, tmp_path: Path) -> RdpFlows:
    return RdpFlows(service.storage, tmp_path / "outbox", clock=clock, inbox=tmp_path / "inbox")


def _gas_and_electricity_active(service: NonDeviceService, ids: Ids) -> None:
    commissioned_esme(service, ids)
    prenotify(service, ids, GSME, DeviceType.GSME)
    service.on_whitelisted(GSME, CHF, import_mpxn=GAS)
    service.on_commissioned(GSME)


def test_flush_writes_one_file_per_fuel_one_record_a_line(
    service: NonDeviceService, ids: Ids, flows: RdpFlows
) -> None:
    _gas_and_electricity_active(service, ids)
    files = flows.flush()
    assert [f.name for f in files] == [
        "E45_0000000001_20260301T093000Z.csv",
        "D0350_0000000002_20260301T093000Z.csv",
    ]
    assert files[0].read_text() == f"E45,{GAS},A,20260301\n"
    assert files[1].read_text() == f"D0350,{ELEC},A,20260301\n"
    assert sorted(p.name for p in flows.outbox.iterdir()) == sorted(f.name for f in files)


def test_notified_records_are_never_sent_twice(
    service: NonDeviceService, ids: Ids, flows: RdpFlows, clock: Clock
) -> None:
    commissioned_esme(service, ids)
    first = flows.flush()
    assert flows.flush() == []
    clock.advance(days=1)
    service.handle(S1, ids(S1), DecommissionDevice(b"\x00\xdb\x12\x34\x56\x78\x90\xa0"))
    second = flows.flush()
    assert [f.read_text() for f in second] == [f"D0350,{ELEC},N,20260302\n"]
    names = [p.name for p in [*first, *second]]
    assert names == sorted(names)  # sortable: batch numbers only grow
    assert len(set(names)) == 2
    assert all(r.batch_id is not None for r in flows.records())


def test_nothing_queued_writes_nothing(flows: RdpFlows) -> None:
    assert flows.flush() == []
    assert list(flows.outbox.iterdir()) == []


def test_crash_after_assigning_a_batch_is_finished_by_the_next_flush(
    service: NonDeviceService, ids: Ids, flows: RdpFlows, monkeypatch: pytest.MonkeyPatch
) -> None:
    commissioned_esme(service, ids)

    def crash(path: Path, content: str) -> None:
        raise OSError("killed while writing")

    monkeypatch.setattr("gateway.registration._write_atomically", crash)
    with pytest.raises(OSError, match="killed"):
        flows.flush()
    assert list(flows.outbox.iterdir()) == []
    monkeypatch.undo()
    files = flows.flush()  # recovers the batch: same name, same records
    assert [f.name for f in files] == ["D0350_0000000001_20260301T093000Z.csv"]
    assert files[0].read_text() == f"D0350,{ELEC},A,20260301\n"
    assert flows.flush() == []


def test_crash_after_the_rename_only_marks_the_batch_sent(
    service: NonDeviceService, ids: Ids, flows: RdpFlows
) -> None:
    commissioned_esme(service, ids)
    files = flows.flush()
    with service.storage.transaction() as tx:  # as if killed before the batch was marked sent
        tx.execute("UPDATE rdp_batches SET state = 'writing'")
    files[0].write_text("D0350,the file the RDP already has\n")
    assert flows.flush() == files  # reported, not rewritten, not duplicated
    assert files[0].read_text() == "D0350,the file the RDP already has\n"
    assert flows.flush() == []


def test_temporary_files_never_look_like_flow_files(
    service: NonDeviceService, ids: Ids, flows: RdpFlows
) -> None:
    commissioned_esme(service, ids)
    flows.flush()
    assert [p.name for p in flows.outbox.iterdir() if p.name.startswith(".")] == []


def test_n_export_switch_per_fuel(
    service: NonDeviceService, ids: Ids, clock: Clock, tmp_path: Path
) -> None:
    commissioned_esme(service, ids)
    service.handle(S1, ids(S1), DecommissionDevice(b"\x00\xdb\x12\x34\x56\x78\x90\xa0"))
    gas_only = RdpFlows(service.storage, tmp_path / "out", clock=clock, n_export={Fuel.GAS})
    (first,) = gas_only.flush()
    assert first.read_text() == f"D0350,{ELEC},A,20260301\n"  # the N waits for the switch
    assert gas_only.flush() == []
    both = RdpFlows(service.storage, tmp_path / "out", clock=clock)
    (second,) = both.flush()
    assert second.read_text() == f"D0350,{ELEC},N,20260301\n"


def test_held_back_n_overtaken_by_a_later_a_is_never_sent(
    service: NonDeviceService, ids: Ids, clock: Clock, tmp_path: Path
) -> None:
    commissioned_esme(service, ids)
    electricity_off = RdpFlows(service.storage, tmp_path / "out", clock=clock, n_export={Fuel.GAS})
    electricity_off.flush()  # the first A
    clock.advance(days=1)
    service.handle(S1, ids(S1), DecommissionDevice(ESME))  # N, held back
    clock.advance(days=1)
    prenotify(service, ids, ESME_2, DeviceType.ESME)
    service.on_whitelisted(ESME_2, CHF, import_mpxn=ELEC)
    service.on_commissioned(ESME_2)  # A again
    (second,) = electricity_off.flush()
    assert second.read_text() == f"D0350,{ELEC},A,20260303\n"
    both = RdpFlows(service.storage, tmp_path / "out", clock=clock)
    assert both.flush() == []  # the stale N is not sent after the switch is on
    assert [(r.flag.value, r.outcome) for r in both.records()] == [
        ("A", None),
        ("N", "superseded"),
        ("A", None),
    ]


# --- E46 answers ------------------------------------------------------------------------------


def _sent_gas(service: NonDeviceService, ids: Ids, flows: RdpFlows) -> None:
    _gas_and_electricity_active(service, ids)
    flows.flush()


def test_answers_are_recorded_and_the_file_moved(
    service: NonDeviceService, ids: Ids, flows: RdpFlows
) -> None:
    _sent_gas(service, ids, flows)
    assert flows.inbox is not None
    flows.inbox.mkdir()
    answer = flows.inbox / "E46_0001.csv"
    answer.write_text(f"E46,AC,{GAS},A,20260301\n")
    (report,) = flows.read_answers()
    assert (report.accepted, report.rejected, report.unmatched, report.errors) == (1, 0, (), ())
    (gas,) = [r for r in flows.records() if r.fuel is Fuel.GAS]
    assert gas.outcome == "AC"
    assert not answer.exists()
    assert (flows.inbox / "processed" / "E46_0001.csv").exists()
    assert flows.read_answers() == []


def test_rejection_unmatched_and_malformed_lines(
    service: NonDeviceService, ids: Ids, flows: RdpFlows
) -> None:
    _sent_gas(service, ids, flows)
    assert flows.inbox is not None
    flows.inbox.mkdir()
    (flows.inbox / "answers.txt").write_text(
        "\n".join(
            [
                f"E46,RJ,{GAS},A,20260301",
                f"E46,AC,{GAS},A,20260301",  # that record already has its answer
                "E46,OK,123,A,20260301",
                "E45,AC,123,A,20260301",
                "E46,AC,12345678901,A,20260301",
                "E46,AC,123,W,20260301",
                "E46,AC,123,A,2026-03-01",
                "",
            ]
        )
    )
    (report,) = flows.read_answers()
    assert report.rejected == 1
    assert report.accepted == 0
    assert len(report.unmatched) == 1
    assert "answers.txt line 2" in report.unmatched[0]
    assert [e.split(":")[0] for e in report.errors] == [
        f"answers.txt line {n}" for n in (3, 4, 5, 6, 7)
    ]
    assert "outcome 'OK'" in report.errors[0]
    (gas,) = [r for r in flows.records() if r.fuel is Fuel.GAS]
    assert gas.outcome == "RJ"


def test_answer_file_recorded_before_a_crash_is_not_counted_twice(
    service: NonDeviceService, ids: Ids, flows: RdpFlows, tmp_path: Path
) -> None:
    _sent_gas(service, ids, flows)
    assert flows.inbox is not None
    flows.inbox.mkdir()
    answer = flows.inbox / "a.csv"
    answer.write_text(f"E46,AC,{GAS},A,20260301\n")
    flows.read_answers()
    # as if the process died after the commit and before the move: the file is back
    (flows.inbox / "processed" / "a.csv").rename(answer)
    (report,) = flows.read_answers()
    assert report.accepted == 1
    with service.storage.transaction() as tx:
        row = tx.one("SELECT count(*) AS n FROM rdp_inbox_files")
    assert row is not None
    assert row["n"] == 1


def test_missing_inbox_is_nothing_to_read(storage: Storage, clock: Clock, tmp_path: Path) -> None:
    flows = RdpFlows(storage, tmp_path / "out", clock=clock, inbox=tmp_path / "absent")
    assert flows.read_answers() == []
    assert RdpFlows(storage, tmp_path / "out", clock=clock).read_answers() == []


def test_flushes_of_processes_sharing_the_database_take_turns(
    service: NonDeviceService, ids: Ids, clock: Clock, tmp_path: Path, db_path: Path
) -> None:
    """Gateway workers share the database: each flush holds the RDP lock file, so a batch one
    of them is writing is never taken for an unfinished one by another."""
    _gas_and_electricity_active(service, ids)
    lock = tmp_path / "rdp.lock"
    outbox = tmp_path / "outbox"
    with Storage.open(db_path, migrations=MIGRATIONS, durability="process") as other_storage:
        mine = RdpFlows(service.storage, outbox, clock=clock, lock_file=lock)
        other = RdpFlows(other_storage, outbox, clock=clock, lock_file=lock)
        with lock.open("a") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            with ThreadPoolExecutor(max_workers=1) as pool:
                waiting = pool.submit(other.flush)
                with pytest.raises(TimeoutError):
                    waiting.result(timeout=0.2)  # blocked on the lock another worker holds
                fcntl.flock(held, fcntl.LOCK_UN)
                written = waiting.result(timeout=10)
        assert len(written) == 2
        assert mine.flush() == []  # nothing sent twice, by either
    assert sorted(p.name for p in outbox.iterdir()) == sorted(f.name for f in written)
