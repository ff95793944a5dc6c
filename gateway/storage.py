"""The gateway's state store: SQLite in WAL mode behind one small interface.

Everything the gateway acknowledges (SMI records, users, meter points, RequestID counters,
service flags and their notification state, and what later helpers add) lives here.

- :meth:`Storage.open` opens (creating) the database file, sets WAL mode and applies the
  migrations not yet applied.
- :meth:`Storage.transaction` is the only way to read or write: a context manager yielding a
  :class:`Transaction`; on normal exit it COMMITs, on any exception it ROLLs BACK. The commit
  has happened when the ``with`` block returns, so a caller that acknowledges after the block
  never acknowledges something not on disk.
- Durability: ``synchronous=FULL`` by default, so a committed transaction survives a power
  loss, not only a killed process. ``durability="process"`` selects ``synchronous=NORMAL``
  which, in WAL mode, still survives the process being killed (SIGKILL) - the WAL is in the
  OS page cache - but may lose the last commits on a power cut; it is for benchmarks and
  throwaway sandboxes.
- Migrations: a :class:`Migration` is ``(component, version, sql)``; the table
  ``schema_migrations`` records which were applied. A later helper adds its tables by passing
  its own migrations to :meth:`Storage.open` or calling :meth:`Storage.migrate`, with its
  own component name (no shared version counter to collide on).

One connection, used under a lock: SQLite serialises writers anyway, and the short
transactions of the gateway (one per request) are faster on one connection with its
statement cache than across a pool.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, Self

from gateway.errors import StorageError

DATABASE_NAME: Final = "gateway.db"
"""The database file's name inside the gateway's state folder."""

Durability = Literal["full", "process"]
Row = sqlite3.Row
Params = Sequence[Any] | dict[str, Any]


def version_triggers(prefix: str, table: str, meta: str, key: str) -> str:
    """SQL of the triggers ``<prefix>_insert/_update/_delete`` that move the counter ``key``
    of table ``meta`` on every change to ``table``, by whichever process makes it: what a
    process keeps in memory of ``table`` is current while the counter stands."""
    return "".join(
        f"""
        CREATE TRIGGER {prefix}_{event.lower()} AFTER {event} ON {table} BEGIN
            UPDATE {meta} SET value = value + 1 WHERE key = '{key}';
        END;"""
        for event in ("INSERT", "UPDATE", "DELETE")
    )


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: applied once per database, in ``version`` order within ``component``."""

    component: str
    version: int
    sql: str


class Transaction:
    """The statements of one transaction. Only valid inside ``Storage.transaction()``."""

    __slots__ = ("_conn", "memo", "serial")

    def __init__(
        self, conn: sqlite3.Connection, serial: int = 0, memo: dict[str, Any] | None = None
    ) -> None:
        self._conn = conn
        self.serial = serial
        """Which of its storage's outermost transactions this is (a savepoint shares its
        outer one's): what another process commits cannot change in between, so a value
        read once in a transaction of this serial holds for the rest of it."""
        self.memo: dict[str, Any] = {} if memo is None else memo
        """What the modules reading this storage keep in memory across its transactions
        (one entry per module, each valid while a version number it reads back stands). It
        is emptied whenever a transaction or savepoint rolls back: the rollback takes a
        version back to a number that later changes can reach again."""

    def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the number of rows it changed."""
        return self._conn.execute(sql, params).rowcount

    def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        """Run one statement for each parameter set; returns the rows changed."""
        return self._conn.executemany(sql, rows).rowcount

    def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT; returns the new row's ``rowid``."""
        rowid = self._conn.execute(sql, params).lastrowid
        assert rowid is not None
        return rowid

    def one(self, sql: str, params: Params = ()) -> Row | None:
        """The first row of a query, or ``None``."""
        row: Row | None = self._conn.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row of a query."""
        return self._conn.execute(sql, params).fetchall()

    @property
    def total_changes(self) -> int:
        """Rows inserted, changed or deleted on this connection since it was opened (by
        statements that completed, even if a savepoint undid them since): a job that did not
        move it wrote nothing."""
        return self._conn.total_changes

    @property
    def active(self) -> bool:
        """Whether the transaction is still open (SQLite rolls a transaction back by itself
        on some errors, e.g. a full disk)."""
        return self._conn.in_transaction


SCHEMA_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    component TEXT NOT NULL,
    version INTEGER NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (component, version)
)
"""


class Storage:
    """A SQLite database in WAL mode. Use :meth:`open`; close it with :meth:`close`."""

    def __init__(self, conn: sqlite3.Connection, path: Path | None) -> None:
        self._conn = conn
        self._lock = threading.RLock()
        self._depth = 0
        self._serial = 0
        self._memo: dict[str, Any] = {}
        self.path = path
        self._write_lock: int | None = None

    def share_writes(self, lock_file: Path) -> None:
        """Other processes write this database too: each transaction first queues for an
        exclusive ``flock`` on ``lock_file``, then takes SQLite's write lock. SQLite alone makes
        a writer that finds the lock taken sleep and retry (1, 2, 5, 10... ms), stalling its
        whole batch; the kernel hands the file lock over as soon as it is released. A writer
        that does not take it (another tool) is still kept out by SQLite's own lock."""
        with self._lock:
            if self._write_lock is None:
                self._write_lock = os.open(lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        migrations: Iterable[Migration] = (),
        durability: Durability = "full",
    ) -> Self:
        """Open (creating if needed) the database at ``path``; ``":memory:"`` for tests.

        Applies ``migrations`` not yet applied (the gateway's tables are
        :data:`gateway.inventory.MIGRATIONS`); a bare ``Storage.open`` gives a database with
        only the migrations table.
        """
        memory = str(path) == ":memory:"
        try:
            if not memory:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                str(path),
                isolation_level=None,  # we issue BEGIN / COMMIT ourselves
                check_same_thread=False,  # guarded by the storage's lock
                cached_statements=256,
            )
        except (sqlite3.Error, OSError) as exc:
            raise StorageError(f"cannot open the state database {path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        try:
            if not memory:
                mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise StorageError(f"{path}: SQLite refused WAL mode (got {mode!r})")
            sync = "FULL" if durability == "full" else "NORMAL"
            conn.execute(f"PRAGMA synchronous={sync}")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=5000")
            conn.execute(SCHEMA_TABLE)
        except sqlite3.Error as exc:
            conn.close()
            raise StorageError(f"cannot prepare the state database {path}: {exc}") from exc
        storage = cls(conn, None if memory else Path(path))
        try:
            storage.migrate(migrations)
        except BaseException:
            storage.close()
            raise
        return storage

    def migrate(self, migrations: Iterable[Migration]) -> list[Migration]:
        """Apply the migrations not yet applied, each in its own transaction; returns them."""
        applied: list[Migration] = []
        ordered = sorted(migrations, key=lambda m: (m.component, m.version))
        with self._lock:
            done = {
                (r["component"], r["version"])
                for r in self._conn.execute("SELECT component, version FROM schema_migrations")
            }
            for m in ordered:
                if (m.component, m.version) in done:
                    continue
                try:
                    self._conn.execute("BEGIN IMMEDIATE")
                    # Another process sharing the database (sandbox or gateway workers) may
                    # have applied it since the list above was read: look again, now that
                    # this process holds the write lock.
                    if self._conn.execute(
                        "SELECT 1 FROM schema_migrations WHERE component = ? AND version = ?",
                        (m.component, m.version),
                    ).fetchone():
                        self._conn.execute("COMMIT")
                        continue
                    for statement in _statements(m.sql):
                        self._conn.execute(statement)
                    self._conn.execute(
                        "INSERT INTO schema_migrations (component, version) VALUES (?, ?)",
                        (m.component, m.version),
                    )
                    self._conn.execute("COMMIT")
                except sqlite3.Error as exc:
                    self._conn.execute("ROLLBACK")
                    raise StorageError(
                        f"migration {m.component} v{m.version} failed: {exc}"
                    ) from exc
                applied.append(m)
        return applied

    def applied_migrations(self) -> list[tuple[str, int]]:
        """``(component, version)`` of every applied migration."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT component, version FROM schema_migrations ORDER BY component, version"
            ).fetchall()
        return [(r["component"], r["version"]) for r in rows]

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One all-or-nothing transaction, committed before the ``with`` block returns.

        Nested use joins the outer transaction (a SAVEPOINT, so an inner failure that the
        caller catches undoes only the inner part).
        """
        with self._lock:
            if self._depth:
                name = f"sp{self._depth}"
                self._conn.execute(f"SAVEPOINT {name}")
                self._depth += 1
                try:
                    yield Transaction(self._conn, self._serial, self._memo)
                except BaseException:
                    self._memo.clear()
                    self._conn.execute(f"ROLLBACK TO {name}")
                    self._conn.execute(f"RELEASE {name}")
                    raise
                finally:
                    self._depth -= 1
                self._conn.execute(f"RELEASE {name}")
                return
            shared = self._write_lock
            if shared is not None:
                fcntl.flock(shared, fcntl.LOCK_EX)
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                self._depth = 1
                self._serial += 1
                try:
                    yield Transaction(self._conn, self._serial, self._memo)
                except BaseException:
                    self._depth = 0
                    self._memo.clear()
                    self._conn.execute("ROLLBACK")
                    raise
                self._depth = 0
                try:
                    self._conn.execute("COMMIT")
                except sqlite3.Error:
                    self._memo.clear()
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                    raise
            finally:
                if shared is not None:
                    fcntl.flock(shared, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close the connection (checkpointing the WAL). Idempotent."""
        with self._lock, suppress(sqlite3.ProgrammingError):
            self._conn.close()
            if self._write_lock is not None:
                os.close(self._write_lock)
                self._write_lock = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _statements(sql: str) -> list[str]:
    """Split a migration script into statements (``sqlite3.complete_statement`` aware)."""
    out: list[str] = []
    current = ""
    for line in sql.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                out.append(current.strip())
            current = ""
    if current.strip():
        out.append(current.strip())
    return out
