from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.clock import to_seconds
from emulator.profiles import BUILTIN_SHAPES, LoadShape, device_key, shape_named
from gbcs.devices import Fuel

DAY = 48
JAN = to_seconds(datetime(2024, 1, 15, tzinfo=UTC))
JUL = JAN + 182 * 86400


def _day_total(shape: LoadShape, key: int, start: int) -> int:
    first = start // 1800
    return sum(shape.consumption(key, s) for s in range(first, first + DAY))


def test_consumption_is_a_pure_function_of_key_and_slot() -> None:
    shape = shape_named("domestic-electricity")
    key = device_key(b"seed", bytes.fromhex("00db1234567890a0"))
    slots = range(JAN // 1800, JAN // 1800 + 96)
    first = [shape.consumption(key, s) for s in slots]
    assert [shape.consumption(key, s) for s in reversed(slots)][::-1] == first
    other = device_key(b"seed", bytes.fromhex("00db1234567890a1"))
    assert [shape.consumption(other, s) for s in slots] != first


def test_annual_consumption_is_near_the_shape_mean_over_many_devices() -> None:
    shape = shape_named("domestic-electricity")
    totals = []
    for n in range(40):
        key = device_key(b"fleet", n.to_bytes(8, "big"))
        # one day a week across a year, scaled up
        week_days = [_day_total(shape, key, JAN + d * 7 * 86400) for d in range(52)]
        totals.append(sum(week_days) * 7)
    mean = sum(totals) / len(totals)
    assert 0.7 * shape.annual < mean < 1.4 * shape.annual


def test_gas_is_seasonal_and_peaks_in_winter() -> None:
    shape = shape_named("domestic-gas")
    assert shape.fuel is Fuel.GAS
    key = device_key(b"s", b"\x00" * 8)
    assert _day_total(shape, key, JAN) > 2 * _day_total(shape, key, JUL)


def test_evening_peak_is_higher_than_the_small_hours() -> None:
    shape = shape_named("domestic-electricity")
    base = (JAN // 86400) * 48
    evening = sum(shape.consumption(k, base + 36) for k in range(200))
    night = sum(shape.consumption(k, base + 6) for k in range(200))
    assert evening > 2 * night


def test_unknown_shape_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="domestic-gas"):
        shape_named("nuclear")


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="48 half hours"):
        LoadShape("x", Fuel.GAS, 1, (1.0,) * 47)
    with pytest.raises(ValueError, match="noise"):
        LoadShape("x", Fuel.GAS, 1, (1.0,) * 48, noise=1.5)


@settings(max_examples=200)
@given(key=st.integers(0, 2**64 - 1), slot=st.integers(0, 2**31))
def test_consumption_is_never_negative(key: int, slot: int) -> None:
    for shape in BUILTIN_SHAPES.values():
        assert shape.consumption(key, slot) >= 0


@settings(max_examples=100)
@given(
    key=st.integers(0, 2**64 - 1),
    first=st.integers(0, 2**26),
    count=st.integers(0, 5 * DAY),
)
def test_a_run_is_the_half_hours_one_by_one_and_again(key: int, first: int, count: int) -> None:
    # Whole days of a run are kept and served again: the second run must be the same.
    shape = shape_named("domestic-electricity")
    factor = shape.device_factor(key)
    expected = [shape.consumption(key, s, factor) for s in range(first, first + count)]
    assert shape.consumption_run(key, first, count, factor) == expected
    assert shape.consumption_run(key, first, count, factor) == expected


def test_the_days_kept_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    shape = LoadShape("bounded", Fuel.GAS, 1_000_000, (1.0,) * DAY)
    monkeypatch.setattr("emulator.profiles.DAYS_KEPT", 3)
    first = 19_000 * DAY
    for day in range(5):
        shape.consumption_run(7, first + day * DAY, DAY, 1.0)
    # The two oldest days went; a day asked again is made again, equal.
    assert len(shape._days) == 3
    again = shape.consumption_run(7, first, DAY, 1.0)
    assert again == [shape.consumption(7, s, 1.0) for s in range(first, first + DAY)]
