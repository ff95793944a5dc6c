"""Time for the devices: real, simulated (stepped by hand) and accelerated.

Device cores never read a clock themselves: the host passes ``now`` into every call. A
clock is what the host reads it from. All times are timezone-aware UTC datetimes; device
state keeps integer Unix seconds (cheap to store for a hundred thousand devices).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

HALF_HOUR = 1800
"""Seconds in a settlement period."""

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Clock(Protocol):
    """Anything that tells the time."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


def to_seconds(moment: datetime) -> int:
    """Unix seconds of an aware datetime (naive datetimes are refused: ambiguous)."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: give a timezone (UTC)")
    return int((moment - EPOCH).total_seconds())


def from_seconds(seconds: int) -> datetime:
    """The aware UTC datetime of Unix seconds."""
    return EPOCH + timedelta(seconds=seconds)


def half_hour_slot(seconds: int) -> int:
    """Index of the settlement period that contains ``seconds`` (since the Unix epoch)."""
    return seconds // HALF_HOUR


class SystemClock:
    """The machine's wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """A clock that moves only when told to: tests and fast simulations."""

    def __init__(self, start: datetime) -> None:
        to_seconds(start)  # refuses naive datetimes
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` (never backwards) and return the new time."""
        if delta < timedelta(0):
            raise ValueError(f"a simulated clock does not go backwards (advance by {delta})")
        self._now += delta
        return self._now

    def set(self, moment: datetime) -> None:
        """Jump to ``moment`` (forwards or backwards: a test may rewind)."""
        to_seconds(moment)
        self._now = moment.astimezone(UTC)


class AcceleratedClock:
    """Real time multiplied by ``rate`` from ``start``: ``rate=48`` runs a day in half an hour."""

    def __init__(
        self,
        rate: float,
        start: datetime | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not rate > 0:
            raise ValueError(f"an accelerated clock needs a positive rate, got {rate}")
        self._rate = rate
        self._start = (start or datetime.now(UTC)).astimezone(UTC)
        self._monotonic = monotonic
        self._origin = monotonic()

    @property
    def rate(self) -> float:
        return self._rate

    def now(self) -> datetime:
        elapsed = (self._monotonic() - self._origin) * self._rate
        return self._start + timedelta(seconds=elapsed)
