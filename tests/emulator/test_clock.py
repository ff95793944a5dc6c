from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from emulator.clock import (
    AcceleratedClock,
    SimulatedClock,
    SystemClock,
    from_seconds,
    half_hour_slot,
    to_seconds,
)

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def test_simulated_clock_moves_only_when_told() -> None:
    clock = SimulatedClock(T0)
    assert clock.now() == T0
    assert clock.advance(timedelta(hours=1)) == T0 + timedelta(hours=1)
    assert clock.now() == T0 + timedelta(hours=1)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(timedelta(seconds=-1))
    clock.set(T0)
    assert clock.now() == T0


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        SimulatedClock(datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="naive"):
        to_seconds(datetime(2024, 1, 1))


def test_accelerated_clock_multiplies_elapsed_time() -> None:
    ticks = iter([100.0, 101.0, 103.5])
    clock = AcceleratedClock(48, T0, monotonic=lambda: next(ticks))
    assert clock.now() == T0 + timedelta(seconds=48)
    assert clock.now() == T0 + timedelta(seconds=3.5 * 48)
    with pytest.raises(ValueError, match="positive rate"):
        AcceleratedClock(0)


def test_system_clock_is_aware_utc() -> None:
    assert SystemClock().now().tzinfo is not None


def test_seconds_round_trip_and_slots() -> None:
    seconds = to_seconds(T0)
    assert from_seconds(seconds) == T0
    assert half_hour_slot(seconds) == seconds // 1800
    assert half_hour_slot(seconds + 1799) == half_hour_slot(seconds)
