"""Group commit: the gateway's one queue of storage work, so many requests share one commit.

Every write of the gateway - a non-device SR, a device SR accepted, an answer or alert filed,
an inbox entry marked delivered - is a *job*: a function of a
:class:`gateway.storage.Transaction`. :class:`GroupCommit` runs the jobs waiting at one moment
in ONE transaction, a savepoint each (a job that raises undoes only itself and gets its
exception as its outcome): one commit - one fsync - for many requests, and the event loop never
waits on the disk. Jobs arriving while a batch is committed form the next batch.

A batch of *replayable* jobs (each only reads and writes the database, computes, and may run
again with the same effect) is first run without the savepoints, two statements per job saved:
a job that raises having written nothing needs no undoing; one that raises after writing rolls
the whole transaction back and the batch is run again, guarded as above. Same outcomes, same
database, either way.

Where a batch runs: in the queue's one storage thread, or - :attr:`GroupCommit.on_loop`, for a
store whose commit does not wait for the disk (durability ``process``) - on the event loop
itself, since handing each batch to a thread and back then costs more than the batch. Other
storage work that is not a job of a batch (reads for the web view, an RDP flush) goes to the
storage thread with :meth:`GroupCommit.run`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final, TypeVar

from gateway.storage import Storage, Transaction

logger = logging.getLogger(__name__)

__all__ = ["MAX_BATCH", "GroupCommit", "Job", "run_on_loop"]

T = TypeVar("T")

MAX_BATCH: Final = 256
"""Jobs in one transaction at most (the rest form the next batch)."""

Job = Callable[[Transaction], Any]
"""Storage work: reads and writes in the batch's transaction; its result is its outcome."""

_Pending = tuple[Job, Callable[[Any], None], bool]


async def run_on_loop(function: Callable[[], T]) -> T:
    """Run ``function`` on the event loop: where a batch runs in :attr:`GroupCommit.on_loop`
    mode."""
    return function()


class _ReplayError(Exception):
    """A job of an unguarded batch raised after writing: the batch is run again, guarded."""


class GroupCommit:
    """The queue of storage jobs (see the module docstring)."""

    def __init__(
        self,
        storage: Storage,
        *,
        on_loop: bool = False,
        max_batch: int = MAX_BATCH,
        thread_name: str = "gateway-db",
    ) -> None:
        self._storage = storage
        self.on_loop = on_loop
        """Run the batches on the event loop rather than in the storage thread."""
        self._max_batch = max_batch
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=thread_name)
        self._pending: list[_Pending] = []
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.batches = 0
        self.jobs = 0
        self.replays = 0
        """Unguarded batches run again guarded (a job raised after writing)."""

    def enqueue(self, job: Job, done: Callable[[Any], None], *, replayable: bool = False) -> None:
        """Run ``job(tx)``; ``done(result or exception)`` is called on the loop once its batch
        is committed (or failed). ``replayable``: see the module docstring."""
        loop = asyncio.get_running_loop()
        if self._closed:
            loop.call_soon(done, RuntimeError("the gateway is shutting down"))
            return
        self._pending.append((job, done, replayable))
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._drain(), name="gateway-group-commit")

    async def call(self, job: Job, *, replayable: bool = False) -> Any:
        """Run ``job(tx)`` and return its result once committed (or raise its exception)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def done(outcome: Any) -> None:
            if not future.done():
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

        self.enqueue(job, done, replayable=replayable)
        return await future

    async def run(self, function: Callable[[], T]) -> T:
        """Run ``function`` (storage work of its own, not a job of a batch) in the storage
        thread."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, function)

    async def _drain(self) -> None:
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            try:
                if self.on_loop:
                    outcomes = await run_on_loop(lambda b=batch: self._apply(b))  # type: ignore[misc]
                else:
                    outcomes = await self.run(lambda b=batch: self._apply(b))  # type: ignore[misc]
            except Exception as exc:  # the whole transaction failed: every job with it
                outcomes = [exc] * len(batch)
            self.batches += 1
            self.jobs += len(batch)
            for (_, done, _), outcome in zip(batch, outcomes, strict=True):
                try:
                    done(outcome)
                except Exception:
                    logger.exception("a storage job's follow-up failed after its commit")

    def _apply(self, batch: list[_Pending]) -> list[Any]:
        if all(replayable for _, _, replayable in batch):
            outcomes = self._apply_unguarded(batch)
            if outcomes is not None:
                return outcomes
            self.replays += 1
        outcomes = []
        with self._storage.transaction() as tx:
            for job, _, _ in batch:
                try:
                    with self._storage.transaction():
                        outcomes.append(job(tx))
                except Exception as exc:
                    outcomes.append(exc)
        return outcomes

    def _apply_unguarded(self, batch: list[_Pending]) -> list[Any] | None:
        """The batch without a savepoint per job; None (nothing done) when a job raised after
        writing, or its error ended the transaction."""
        outcomes: list[Any] = []
        replay = False
        try:
            with self._storage.transaction() as tx:
                for job, _, _ in batch:
                    before = tx.total_changes
                    try:
                        outcomes.append(job(tx))
                    except Exception as exc:
                        if tx.total_changes != before or not tx.active:
                            replay = True
                            raise _ReplayError from exc
                        outcomes.append(exc)
        except Exception:
            if replay:  # (the rollback itself fails when SQLite ended the transaction)
                return None
            raise
        return outcomes

    async def close(self) -> None:
        """Finish the batches under way, then stop the thread; later jobs are refused."""
        self._closed = True
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task
        # The worker is idle now (the last batch has been awaited): this does not block.
        self._executor.shutdown(wait=True)
