"""The flows to the Registration Data Providers: DCC Service Flags out, E46 answers in.

Outgoing (:meth:`RdpFlows.flush`): every queued flag change (see :mod:`gateway.flags`) goes
into one file per fuel, one record a line, comma-separated:

- gas (the DCC Status File of E45 records): ``E45,<MPRN>,<flag>,<YYYYMMDD>``
- electricity (D0350 to MPAS): ``D0350,<MPAN>,<flag>,<YYYYMMDD>``

File names are ``<E45|D0350>_<batch number, 10 digits>_<UTC time YYYYMMDDTHHMMSSZ>.csv``:
unique (the batch number comes from the database) and sortable (batch numbers only grow).
No cap on records per file (SEC modification MP077).

Exactly once, even across a crash: (1) in one transaction the queued records are assigned to a
new batch in state ``writing``; (2) the file is written to a temporary name, fsynced, renamed
to its final name (atomic) and the directory fsynced; (3) the batch is marked ``sent``. A
crash before (1) leaves the records queued; between (1) and (3) the next flush finds the
batch still ``writing`` and, if its file is absent, writes it again from the same records
(same name, same content) - if present, it only marks it sent. So a record is in exactly one
file, written once. (If an RDP consumer takes the file away in the instant between (2) and
(3) and the process dies right then, the recovery rewrites it: consumers should archive, not
delete, or tolerate a duplicate file name.)

Feature switches (MP077: one per fuel enables N export): with ``n_export`` lacking a fuel,
the non-A records of that fuel stay queued - recorded on the meter point but not sent - and
go out in the first flush after the switch is turned on; one that a later A overtook while
it waited is marked ``superseded`` instead (the RDP already has the newer state).

Incoming (:meth:`RdpFlows.read_answers`): files dropped in the inbox, lines
``E46,<AC|RJ>,<MPRN>,<flag>,<YYYYMMDD>``. Each answer is matched to the oldest sent, not yet
answered record with that MPRN, flag and date, and its outcome recorded. A processed file is
moved to ``inbox/processed/``; its name is recorded in the same transaction as the outcomes,
so a crash before the move never records a file twice. A line that is not an E46 record is
reported (file and line number) and the file's other lines still count.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from gateway.flags import ServiceFlag
from gateway.storage import Row, Storage, Transaction
from gbcs.devices import Fuel

RECORD_KIND: Final = {Fuel.GAS: "E45", Fuel.ELECTRICITY: "D0350"}
ALL_FUELS: Final = frozenset(Fuel)


@dataclass(frozen=True, slots=True)
class FlagRecord:
    """One queued or sent flag change."""

    id: int
    mpxn: str
    fuel: Fuel
    flag: ServiceFlag
    effective_date: str
    batch_id: int | None = None
    outcome: str | None = None

    def line(self) -> str:
        return f"{RECORD_KIND[self.fuel]},{self.mpxn},{self.flag.value},{self.effective_date}"


@dataclass(frozen=True, slots=True)
class InboxReport:
    """What one inbox file gave."""

    file: Path
    accepted: int = 0
    rejected: int = 0
    unmatched: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()


@dataclass(slots=True)
class _Tally:
    accepted: int = 0
    rejected: int = 0
    unmatched: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _utc(clock: Callable[[], datetime]) -> datetime:
    now = clock()
    return now.astimezone(UTC) if now.tzinfo is not None else now.replace(tzinfo=UTC)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomically(path: Path, content: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="ascii", newline="\n") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def queued(tx: Transaction, fuel: Fuel | None = None) -> list[FlagRecord]:
    """Flag changes not yet in any file, oldest first."""
    sql = "SELECT * FROM flag_changes WHERE batch_id IS NULL AND outcome IS NULL"
    params: tuple[str, ...] = ()
    if fuel is not None:
        sql += " AND fuel = ?"
        params = (fuel.value,)
    return [_flag_record(r) for r in tx.all(sql + " ORDER BY id", params)]


def _flag_record(r: Row) -> FlagRecord:
    return FlagRecord(
        id=r["id"],
        mpxn=r["mpxn"],
        fuel=Fuel(r["fuel"]),
        flag=ServiceFlag(r["flag"]),
        effective_date=r["effective_date"],
        batch_id=r["batch_id"],
        outcome=r["outcome"],
    )


class RdpFlows:
    """Flush flag changes to ``outbox``; read E46 answers from ``inbox``."""

    def __init__(
        self,
        storage: Storage,
        outbox: Path,
        *,
        clock: Callable[[], datetime],
        inbox: Path | None = None,
        n_export: Iterable[Fuel] = ALL_FUELS,
        lock_file: Path | None = None,
    ) -> None:
        """``lock_file``: when several processes share the database (gateway workers), each
        flush and inbox read holds an exclusive lock on this file, so a batch being written by
        one is never picked up as unfinished by another."""
        self.storage = storage
        self.lock_file = lock_file
        self.outbox = Path(outbox)
        self.inbox = None if inbox is None else Path(inbox)
        self.clock = clock
        self.n_export = frozenset(n_export)
        self._flush_lock = threading.Lock()

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        with self._flush_lock:
            if self.lock_file is None:
                yield
                return
            with self.lock_file.open("a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    # --- outgoing ----------------------------------------------------------------------------

    def flush(self) -> list[Path]:
        """Write every sendable queued change; returns the files written, oldest batch first."""
        with self._exclusive():
            self.outbox.mkdir(parents=True, exist_ok=True)
            written = self._recover()
            stamp = _utc(self.clock).strftime("%Y%m%dT%H%M%SZ")
            batches: list[int] = []
            with self.storage.transaction() as tx:
                for fuel in (Fuel.GAS, Fuel.ELECTRICITY):
                    batch = self._assign(tx, fuel, stamp)
                    if batch is not None:
                        batches.append(batch)
            for batch in batches:
                written.append(self._write_batch(batch))
            return written

    def _assign(self, tx: Transaction, fuel: Fuel, stamp: str) -> int | None:
        only_a = fuel not in self.n_export
        condition = "batch_id IS NULL AND outcome IS NULL AND fuel = ?"
        if only_a:
            condition += " AND flag = 'A'"
        row = tx.one(f"SELECT max(id) AS last FROM flag_changes WHERE {condition}", (fuel.value,))
        if row is None or row["last"] is None:
            return None
        kind = RECORD_KIND[fuel]
        batch = tx.insert(
            "INSERT INTO rdp_batches (kind, state, created_at) VALUES (?, 'writing', ?)",
            (kind, stamp),
        )
        tx.execute(
            "UPDATE rdp_batches SET file_name = ? WHERE id = ?",
            (f"{kind}_{batch:010d}_{stamp}.csv", batch),
        )
        tx.execute(
            f"UPDATE flag_changes SET batch_id = ? WHERE {condition} AND id <= ?",
            (batch, fuel.value, row["last"]),
        )
        if only_a:
            # A held-back record that a later A now sent overtakes would tell the RDP an old
            # state once the switch is on: it is superseded, never sent.
            tx.execute(
                "UPDATE flag_changes SET outcome = 'superseded', outcome_at = ? "
                "WHERE batch_id IS NULL AND outcome IS NULL AND fuel = ? AND flag != 'A' "
                "AND EXISTS (SELECT 1 FROM flag_changes later WHERE later.mpxn = flag_changes.mpxn "
                "AND later.id > flag_changes.id AND later.batch_id = ?)",
                (stamp, fuel.value, batch),
            )
        return batch

    def _recover(self) -> list[Path]:
        """Finish batches a crash left in state ``writing``."""
        with self.storage.transaction() as tx:
            pending = [
                r["id"] for r in tx.all("SELECT id FROM rdp_batches WHERE state = 'writing'")
            ]
        return [self._write_batch(b) for b in pending]

    def _write_batch(self, batch: int) -> Path:
        with self.storage.transaction() as tx:
            name_row = tx.one("SELECT file_name FROM rdp_batches WHERE id = ?", (batch,))
            assert name_row is not None
            records = [
                _flag_record(r)
                for r in tx.all(
                    "SELECT * FROM flag_changes WHERE batch_id = ? ORDER BY id", (batch,)
                )
            ]
        path = self.outbox / str(name_row["file_name"])
        if not path.exists():
            _write_atomically(path, "".join(f"{r.line()}\n" for r in records))
        sent_at = _utc(self.clock).isoformat()
        with self.storage.transaction() as tx:
            tx.execute(
                "UPDATE rdp_batches SET state = 'sent', sent_at = ? WHERE id = ?", (sent_at, batch)
            )
        return path

    # --- incoming ----------------------------------------------------------------------------

    def read_answers(self, inbox: Path | None = None) -> list[InboxReport]:
        """Read every E46 file in the inbox, record outcomes, move the files to ``processed/``."""
        folder = Path(inbox) if inbox is not None else self.inbox
        if folder is None or not folder.is_dir():
            return []
        done_dir = folder / "processed"
        reports: list[InboxReport] = []
        with self._exclusive():
            for path in sorted(
                p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
            ):
                reports.append(self._read_file(path, done_dir))
        return reports

    def _read_file(self, path: Path, done_dir: Path) -> InboxReport:
        now = _utc(self.clock).isoformat()
        tally = _Tally()
        try:
            text = path.read_text(encoding="ascii")
        except (UnicodeDecodeError, OSError) as exc:
            text = ""
            tally.errors.append(f"{path.name}: cannot read it as ASCII text: {exc}")
        with self.storage.transaction() as tx:
            seen = tx.one("SELECT * FROM rdp_inbox_files WHERE file_name = ?", (path.name,))
            if seen is None:
                for number, line in enumerate(text.splitlines(), start=1):
                    if line.strip():
                        self._answer(tx, path.name, number, line.strip(), now, tally)
                tx.execute(
                    "INSERT INTO rdp_inbox_files (file_name, processed_at, accepted, rejected, "
                    "unmatched, errors) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        path.name,
                        now,
                        tally.accepted,
                        tally.rejected,
                        len(tally.unmatched),
                        "\n".join(tally.errors),
                    ),
                )
                report = InboxReport(
                    path,
                    tally.accepted,
                    tally.rejected,
                    tuple(tally.unmatched),
                    tuple(tally.errors),
                )
            else:  # recorded before a crash, not yet moved
                report = InboxReport(
                    path,
                    seen["accepted"],
                    seen["rejected"],
                    (),
                    tuple(e for e in seen["errors"].split("\n") if e),
                )
        done_dir.mkdir(exist_ok=True)
        os.replace(path, done_dir / path.name)
        return report

    @staticmethod
    def _answer(
        tx: Transaction, file: str, number: int, line: str, now: str, tally: _Tally
    ) -> None:
        fields = [f.strip() for f in line.split(",")]
        where = f"{file} line {number}"
        if len(fields) != 5 or fields[0] != "E46":
            tally.errors.append(f"{where}: not an E46 record of 5 fields: {line!r}")
            return
        _, outcome, mprn, flag, effective = fields
        if outcome not in ("AC", "RJ"):
            tally.errors.append(f"{where}: outcome {outcome!r} is neither AC nor RJ")
            return
        if not (mprn.isdigit() and 1 <= len(mprn) <= 10):
            tally.errors.append(f"{where}: MPRN {mprn!r} is not 1 to 10 digits")
            return
        if flag not in {f.value for f in ServiceFlag}:
            tally.errors.append(f"{where}: flag {flag!r} is not one of A, N, I")
            return
        if not (len(effective) == 8 and effective.isdigit()):
            tally.errors.append(f"{where}: date {effective!r} is not YYYYMMDD")
            return
        row = tx.one(
            "SELECT id FROM flag_changes WHERE mpxn = ? AND flag = ? AND effective_date = ? "
            "AND batch_id IS NOT NULL AND outcome IS NULL AND fuel = 'gas' ORDER BY id LIMIT 1",
            (mprn, flag, effective),
        )
        if row is None:
            tally.unmatched.append(
                f"{where}: no sent, unanswered E45 for {mprn},{flag},{effective}"
            )
            return
        tx.execute(
            "UPDATE flag_changes SET outcome = ?, outcome_at = ?, outcome_file = ? WHERE id = ?",
            (outcome, now, file, row["id"]),
        )
        if outcome == "AC":
            tally.accepted += 1
        else:
            tally.rejected += 1

    # --- inspection --------------------------------------------------------------------------

    def records(self, mpxn: str | None = None) -> list[FlagRecord]:
        """Every flag change (queued, sent, answered), oldest first; for one MPxN if given."""
        with self.storage.transaction() as tx:
            if mpxn is None:
                rows = tx.all("SELECT * FROM flag_changes ORDER BY id")
            else:
                rows = tx.all("SELECT * FROM flag_changes WHERE mpxn = ? ORDER BY id", (mpxn,))
        return [_flag_record(r) for r in rows]
