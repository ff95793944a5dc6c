"""Storage.share_writes: writers of one database queue on a file lock before SQLite's own
(two Storage objects here stand for two processes: each has its own lock descriptor)."""

from __future__ import annotations

import fcntl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.storage import Migration, Storage

TABLE = (Migration("test", 1, "CREATE TABLE t (n INTEGER)"),)


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Storage, Storage]]:
    """Two writers of one database, both sharing writes."""
    database = tmp_path / "db.sqlite"
    first = Storage.open(database, migrations=TABLE)
    second = Storage.open(database, migrations=TABLE)
    first.share_writes(tmp_path / "db.lock")
    second.share_writes(tmp_path / "db.lock")
    try:
        yield first, second
    finally:
        first.close()
        second.close()


def test_a_writer_queues_on_the_file_lock_first(tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite"
    lock = tmp_path / "db.lock"
    shared = Storage.open(database, migrations=TABLE)
    alone = Storage.open(database, migrations=TABLE)
    shared.share_writes(lock)
    # another process holds the file lock (not SQLite's): the shared writer waits for it,
    # one that does not share writes goes on
    with lock.open("a") as other:
        fcntl.flock(other, fcntl.LOCK_EX)
        release = threading.Timer(0.3, fcntl.flock, (other, fcntl.LOCK_UN))
        release.start()
        try:
            started = time.monotonic()
            with alone.transaction() as tx:
                tx.execute("INSERT INTO t (n) VALUES (1)")
            assert time.monotonic() - started < 0.25
            with shared.transaction() as tx:
                tx.execute("INSERT INTO t (n) VALUES (2)")
            assert time.monotonic() - started >= 0.25
        finally:
            release.join()
    with shared.transaction() as tx:
        assert [r["n"] for r in tx.all("SELECT n FROM t ORDER BY n")] == [1, 2]
    shared.close()
    alone.close()


def test_two_sharing_writers_take_turns(pair: tuple[Storage, Storage]) -> None:
    first, second = pair
    order: list[str] = []
    inside = threading.Event()

    def hold() -> None:
        with first.transaction() as tx:
            tx.execute("INSERT INTO t (n) VALUES (1)")
            inside.set()
            time.sleep(0.2)
            order.append("first commits")

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert inside.wait(5)
        with second.transaction() as tx:
            order.append("second begins")
            tx.execute("INSERT INTO t (n) VALUES (2)")
    finally:
        holder.join()
    assert order == ["first commits", "second begins"]


def test_a_failed_transaction_releases_the_lock(pair: tuple[Storage, Storage]) -> None:
    first, second = pair
    try:
        with first.transaction() as tx:
            tx.execute("INSERT INTO t (n) VALUES (1)")
            raise RuntimeError("refused")
    except RuntimeError:
        pass
    done = threading.Event()

    def write() -> None:
        with second.transaction() as tx:
            tx.execute("INSERT INTO t (n) VALUES (2)")
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    writer.join(5)
    assert done.is_set()  # not stuck behind the failed one's lock
    with second.transaction() as tx:
        assert [r["n"] for r in tx.all("SELECT n FROM t")] == [2]
