"""The state store: WAL mode, all-or-nothing transactions committed on return, migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gateway.errors import StorageError
from gateway.inventory import MIGRATIONS
from gateway.storage import Migration, Storage

EXTRA = (
    Migration("pending", 1, "CREATE TABLE pending (id INTEGER PRIMARY KEY, body TEXT NOT NULL);"),
    Migration("pending", 2, "ALTER TABLE pending ADD COLUMN state TEXT NOT NULL DEFAULT 'new';"),
)


class AbortError(Exception):
    """Raised inside a transaction to abort it."""


def _insert_then_fail(storage: Storage, *bodies: str) -> None:
    with storage.transaction() as tx:
        for body in bodies:
            tx.execute("INSERT INTO pending (body) VALUES (?)", (body,))
        raise AbortError(bodies)


def _inner_commit_then_fail(storage: Storage) -> None:
    with storage.transaction():
        with storage.transaction() as inner:
            inner.execute("INSERT INTO pending (body) VALUES ('inner')")
        raise AbortError("outer fails")


def _peek(path: Path, sql: str) -> list[tuple[object, ...]]:
    """Read through a second, independent connection (what another process would see)."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_database_is_in_wal_mode_with_full_sync(db_path: Path) -> None:
    with Storage.open(db_path) as storage, storage.transaction() as tx:
        mode = tx.one("PRAGMA journal_mode")
        sync = tx.one("PRAGMA synchronous")
    assert mode is not None
    assert mode[0] == "wal"
    assert sync is not None
    assert sync[0] == 2  # FULL


def test_process_durability_is_normal_sync(db_path: Path) -> None:
    with Storage.open(db_path, durability="process") as storage, storage.transaction() as tx:
        sync = tx.one("PRAGMA synchronous")
    assert sync is not None
    assert sync[0] == 1  # NORMAL


def test_commit_is_visible_to_another_connection_when_the_block_returns(db_path: Path) -> None:
    with Storage.open(db_path, migrations=EXTRA) as storage:
        with storage.transaction() as tx:
            tx.execute("INSERT INTO pending (body) VALUES ('a')")
            # not yet committed: another connection sees nothing
            assert _peek(db_path, "SELECT body FROM pending") == []
        assert _peek(db_path, "SELECT body FROM pending") == [("a",)]


def test_exception_rolls_back_everything(db_path: Path) -> None:
    with Storage.open(db_path, migrations=EXTRA) as storage:
        with pytest.raises(AbortError):
            _insert_then_fail(storage, "a", "b")
        with storage.transaction() as tx:
            assert tx.all("SELECT * FROM pending") == []


def test_nested_transaction_is_a_savepoint(db_path: Path) -> None:
    with Storage.open(db_path, migrations=EXTRA) as storage:
        with storage.transaction() as tx:
            tx.execute("INSERT INTO pending (body) VALUES ('outer')")
            with pytest.raises(AbortError):
                _insert_then_fail(storage, "inner")
            with storage.transaction() as inner:
                inner.execute("INSERT INTO pending (body) VALUES ('inner ok')")
        assert sorted(_peek(db_path, "SELECT body FROM pending")) == [("inner ok",), ("outer",)]


def test_outer_failure_undoes_committed_inner_savepoint(db_path: Path) -> None:
    with Storage.open(db_path, migrations=EXTRA) as storage:
        with pytest.raises(AbortError):
            _inner_commit_then_fail(storage)
        assert _peek(db_path, "SELECT body FROM pending") == []


def test_data_survives_reopen(db_path: Path) -> None:
    with Storage.open(db_path, migrations=EXTRA) as storage, storage.transaction() as tx:
        tx.insert("INSERT INTO pending (body) VALUES ('kept')")
    with Storage.open(db_path, migrations=EXTRA) as storage, storage.transaction() as tx:
        rows = tx.all("SELECT body, state FROM pending")
    assert [tuple(r) for r in rows] == [("kept", "new")]


def test_migrations_apply_once_per_component(db_path: Path) -> None:
    with Storage.open(db_path, migrations=MIGRATIONS) as storage:
        assert storage.applied_migrations() == [("gateway", 1), ("gateway", 2), ("gateway", 3)]
        applied = storage.migrate(EXTRA)
        assert [(m.component, m.version) for m in applied] == [("pending", 1), ("pending", 2)]
        assert storage.migrate([*MIGRATIONS, *EXTRA]) == []
    with Storage.open(db_path, migrations=[*MIGRATIONS, *EXTRA]) as storage:
        assert storage.applied_migrations() == [
            ("gateway", 1),
            ("gateway", 2),
            ("gateway", 3),
            ("pending", 1),
            ("pending", 2),
        ]


def test_failed_migration_changes_nothing(db_path: Path) -> None:
    bad = Migration("bad", 1, "CREATE TABLE fine (x INTEGER);\nCREATE TABLE fine (x INTEGER);")
    with pytest.raises(StorageError, match="migration bad v1 failed"):
        Storage.open(db_path, migrations=[bad])
    with Storage.open(db_path) as storage:
        assert storage.applied_migrations() == []
        with storage.transaction() as tx:
            assert tx.one("SELECT name FROM sqlite_master WHERE name = 'fine'") is None


def test_unopenable_path_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StorageError, match="cannot open the state database"):
        Storage.open(blocker / "sub" / "gateway.db")


def test_in_memory_database_for_quick_use() -> None:
    with Storage.open(":memory:", migrations=MIGRATIONS) as storage:
        assert storage.path is None
        assert storage.applied_migrations() == [("gateway", 1), ("gateway", 2), ("gateway", 3)]


def test_a_migration_another_process_applied_meanwhile_is_skipped(db_path: Path) -> None:
    """Two processes opening one state at once (sandbox workers): the one that reads the
    applied list first and takes the write lock second must not apply it again."""
    with Storage.open(db_path, migrations=MIGRATIONS) as first, Storage.open(db_path) as second:
        conn = second._conn

        class RacedConnection:
            """The other process applies the migrations just before this one locks."""

            raced = False

            def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
                if sql == "BEGIN IMMEDIATE" and not self.raced:
                    self.raced = True
                    first.migrate(EXTRA)
                return conn.execute(sql, *args)

        second._conn = RacedConnection()  # type: ignore[assignment]
        try:
            assert second.migrate(EXTRA) == []
        finally:
            second._conn = conn
        assert second.applied_migrations().count(("pending", 1)) == 1
