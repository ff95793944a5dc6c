"""Requests that run later, on the gateway's clock: future-dated DSP-pattern device requests
held until their execution date-time.

A future-dated request whose DUIS response pattern is *DSP* is checked and built when it
arrives (every rule then, so a refusal is synchronous), stored as ``held`` with its execution
date-time, and sent by :class:`Scheduler` once the gateway's clock passes that time. The
clock is read, not slept on: a sandbox whose clock is moved forward (or accelerated) sends
what fell due at the next poll, so a test moves time instead of waiting.

DUIS cancels a pending future-dated request with the same SR carrying the execution
date-time ``3000-12-31T00:00:00Z`` (:data:`CANCEL_AT`): :func:`cancel` takes the held
requests of that user, device and variant out of the schedule.

The held requests live in the component ``device-schedule`` (:data:`MIGRATIONS`), beside the
``device_requests`` rows they point at, so a restart keeps them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Final

from gateway.storage import Migration, Transaction

__all__ = ["CANCEL_AT", "MIGRATIONS", "Scheduler", "cancel", "due", "hold", "is_cancellation"]

logger = logging.getLogger(__name__)

CANCEL_AT: Final = datetime(3000, 12, 31, tzinfo=UTC)
"""The execution date-time with which DUIS cancels a pending future-dated request."""

MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(
        "device-schedule",
        1,
        """
        CREATE TABLE held_requests (
            request_id TEXT PRIMARY KEY,
            sender BLOB NOT NULL,
            device BLOB NOT NULL,
            variant TEXT NOT NULL,
            execute_at TEXT NOT NULL
        );
        CREATE INDEX held_requests_due ON held_requests (execute_at);
        """,
    ),
)


def is_cancellation(when: datetime) -> bool:
    """Whether ``when`` is DUIS's cancellation date-time (3000-12-31, or any later one)."""
    return when >= CANCEL_AT


def _stamp(when: datetime) -> str:
    """UTC ISO text, which sorts as time does."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def hold(
    tx: Transaction, rid: str, sender: bytes, device: bytes, variant: str, when: datetime
) -> None:
    """Put the request ``rid`` (stored as ``held``) in the schedule for ``when``."""
    tx.execute(
        "INSERT INTO held_requests (request_id, sender, device, variant, execute_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (rid, sender, device, variant, _stamp(when)),
    )


def due(tx: Transaction, now: datetime) -> list[str]:
    """The held requests whose execution date-time has come, earliest first."""
    rows = tx.all(
        "SELECT request_id FROM held_requests WHERE execute_at <= ? "
        "ORDER BY execute_at, request_id",
        (_stamp(now),),
    )
    return [str(r["request_id"]) for r in rows]


def cancel(tx: Transaction, sender: bytes, device: bytes, variant: str, now: str) -> list[str]:
    """Take ``sender``'s held requests of ``variant`` to ``device`` out of the schedule (their
    rows become ``cancelled``); returns their RequestIDs, earliest first."""
    rows = tx.all(
        "SELECT request_id FROM held_requests WHERE sender = ? AND device = ? AND variant = ? "
        "ORDER BY execute_at, request_id",
        (sender, device, variant),
    )
    rids = [str(r["request_id"]) for r in rows]
    for rid in rids:
        tx.execute("DELETE FROM held_requests WHERE request_id = ?", (rid,))
        tx.execute(
            "UPDATE device_requests SET state = 'cancelled', finished_at = ? "
            "WHERE request_id = ? AND state = 'held'",
            (now, rid),
        )
    return rids


class Scheduler:
    """Polls the gateway's clock and releases what fell due (``release(rid)``, which sends
    it); started and stopped with the device service."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        find_due: Callable[[datetime], Awaitable[list[str]]],
        release: Callable[[str], Awaitable[None]],
        *,
        poll: float = 0.5,
    ) -> None:
        self.clock = clock
        self.find_due = find_due
        self.release = release
        self.poll = poll
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="device-sr-schedule")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def wake(self) -> None:
        """Look again now (a request was held, or the clock was moved)."""
        self._wake.set()

    async def run_due(self) -> int:
        """Release every request due on the clock now; how many."""
        released = 0
        for rid in await self.find_due(self.clock()):
            try:
                await self.release(rid)
                released += 1
            except Exception:  # one bad request must not stop the others
                logger.exception("held request %s could not be released", rid)
        return released

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.run_due()
            except Exception:  # keep polling
                logger.exception("the schedule poll failed")
            # asyncio.wait, not wait_for: Python 3.11's wait_for can swallow a cancellation
            # that arrives as its timeout fires, and the task would never stop.
            waiter = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({waiter}, timeout=self.poll)
            finally:
                waiter.cancel()
