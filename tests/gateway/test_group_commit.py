"""The gateway's group commit: a batch of replayable jobs runs without a savepoint per
job, and ends exactly as the guarded batch would - a job that raises undoes only itself."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from gateway.group_commit import GroupCommit
from gateway.storage import Migration, Storage, Transaction

TABLE = Migration("test-group-commit", 1, "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")


class RefusedError(Exception):
    pass


@pytest.fixture
def storage() -> Iterator[Storage]:
    store = Storage.open(":memory:", migrations=[TABLE])
    yield store
    store.close()


def insert(key: int) -> Callable[[Transaction], int]:
    def job(tx: Transaction) -> int:
        tx.execute("INSERT INTO t (k, v) VALUES (?, 'x')", (key,))
        return key

    return job


def refuse_before_writing(tx: Transaction) -> None:
    tx.one("SELECT count(*) FROM t")
    raise RefusedError("checked, nothing written")


def refuse_after_writing(tx: Transaction) -> None:
    tx.execute("INSERT INTO t (k, v) VALUES (99, 'half')")
    raise RefusedError("written, then refused")


async def run_batch(
    commits: GroupCommit, jobs: list[Callable[[Transaction], Any]], replayable: bool
) -> list[Any]:
    outcomes: list[Any] = [None] * len(jobs)
    finished = asyncio.Event()
    left = len(jobs)

    def done_at(index: int) -> Callable[[Any], None]:
        def done(outcome: Any) -> None:
            nonlocal left
            outcomes[index] = outcome
            left -= 1
            if not left:
                finished.set()

        return done

    for index, job in enumerate(jobs):  # queued together: one batch
        commits.enqueue(job, done_at(index), replayable=replayable)
    await finished.wait()
    await commits.close()
    return outcomes


def keys(storage: Storage) -> list[int]:
    with storage.transaction() as tx:
        return [row["k"] for row in tx.all("SELECT k FROM t ORDER BY k")]


def shape(outcomes: list[Any]) -> list[Any]:
    return [type(o).__name__ if isinstance(o, BaseException) else o for o in outcomes]


@pytest.mark.parametrize("replayable", [True, False])
async def test_a_refusal_before_writing_leaves_the_others(
    storage: Storage, replayable: bool
) -> None:
    commits = GroupCommit(storage, on_loop=True)
    outcomes = await run_batch(commits, [insert(1), refuse_before_writing, insert(2)], replayable)
    assert shape(outcomes) == [1, "RefusedError", 2]
    assert keys(storage) == [1, 2]
    assert commits.batches == 1
    assert commits.replays == 0


@pytest.mark.parametrize("replayable", [True, False])
async def test_a_refusal_after_writing_is_undone_alone(storage: Storage, replayable: bool) -> None:
    commits = GroupCommit(storage, on_loop=True)
    outcomes = await run_batch(commits, [insert(1), refuse_after_writing, insert(2)], replayable)
    assert shape(outcomes) == [1, "RefusedError", 2]
    assert keys(storage) == [1, 2]  # not 99
    assert commits.replays == (1 if replayable else 0)


async def test_a_failing_statement_is_judged_like_the_guarded_batch(storage: Storage) -> None:
    results = []
    for replayable in (True, False):
        with storage.transaction() as tx:
            tx.execute("DELETE FROM t")
        commits = GroupCommit(storage, on_loop=True)
        # The second insert of key 1 fails on the primary key: a statement that fails
        # changes nothing, so no replay is needed to leave the first one.
        outcomes = await run_batch(commits, [insert(1), insert(1), insert(3)], replayable)
        results.append((shape(outcomes), keys(storage), commits.replays))
    assert results[0] == results[1] == (([1, "IntegrityError", 3], [1, 3], 0))


async def test_the_storage_thread_runs_it_too(storage: Storage) -> None:
    commits = GroupCommit(storage)
    outcomes = await run_batch(commits, [insert(1), refuse_after_writing, insert(2)], True)
    assert shape(outcomes) == [1, "RefusedError", 2]
    assert keys(storage) == [1, 2]
