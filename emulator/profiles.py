"""Load shapes: how much energy (or gas) a premises uses in each half hour.

Consumption is a pure function of (device key, settlement period): the same fleet seed and
EUI always give the same half-hour values, whatever order devices are touched in, so a
simulation is reproducible and a device's history costs no memory until it is recorded.

A shape gives a typical day (48 weights), a seasonal swing (winter heavier), a weekend
factor and a noise amplitude; each device scales the annual quantity by its own factor
drawn from its key. Quantities are in the meter's native unit: Wh for electricity, dm3
(litres) for gas. Half hours are UTC settlement periods (no British Summer Time shift).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gbcs.devices import Fuel

MASK64 = (1 << 64) - 1
SLOTS_PER_DAY = 48
DAYS_PER_YEAR = 365.2425
_INV_2_64 = 1.0 / float(1 << 64)


def mix64(value: int) -> int:
    """SplitMix64 finaliser: a fast, well-spread 64-bit hash of an integer."""
    value = (value + 0x9E3779B97F4A7C15) & MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & MASK64
    return value ^ (value >> 31)


def unit_interval(value: int) -> float:
    """A 64-bit hash mapped to [0, 1)."""
    return mix64(value) * _INV_2_64


def device_key(seed: bytes, eui: bytes) -> int:
    """The 64-bit key that drives everything random about one device."""
    return int.from_bytes(hashlib.blake2b(seed + b"\x00" + eui, digest_size=8).digest(), "big")


def _normalised(weights: Sequence[float]) -> tuple[float, ...]:
    total = float(sum(weights))
    return tuple(w / total for w in weights)


@dataclass(frozen=True, slots=True)
class LoadShape:
    """How a premises consumes over a day and a year."""

    name: str
    fuel: Fuel
    annual: int
    """Mean quantity per year in the native unit (Wh or dm3)."""
    day: tuple[float, ...]
    """48 weights, one per UTC half hour; normalised to sum to 1."""
    seasonal_amplitude: float = 0.2
    """Winter peak: daily use is ``1 + amplitude * cos(2 pi (day - 15) / year)`` times the mean."""
    weekend_factor: float = 1.1
    noise: float = 0.25
    """Each half hour varies uniformly within +- this fraction."""
    spread: tuple[float, float] = (0.5, 1.8)
    """Range of the per-device factor on ``annual`` (log-uniform)."""
    _daily_mean: float = field(init=False, repr=False, compare=False)
    _days: dict[tuple[int, float, int], tuple[int, ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if len(self.day) != SLOTS_PER_DAY:
            raise ValueError(
                f"load shape {self.name!r}: a day has 48 half hours, not {len(self.day)}"
            )
        if any(w < 0 for w in self.day) or sum(self.day) <= 0:
            raise ValueError(f"load shape {self.name!r}: day weights must be >= 0, not all zero")
        if not 0 <= self.noise < 1:
            raise ValueError(f"load shape {self.name!r}: noise must be in [0, 1), got {self.noise}")
        object.__setattr__(self, "day", _normalised(self.day))
        object.__setattr__(self, "_daily_mean", self.annual / DAYS_PER_YEAR)
        object.__setattr__(self, "_days", {})

    def device_factor(self, key: int) -> float:
        """The device's multiplier on ``annual`` (a premises uses more or less than average)."""
        low, high = self.spread
        return float(low * (high / low) ** unit_interval(key ^ 0x5EED))

    def consumption(self, key: int, slot: int, factor: float | None = None) -> int:
        """Quantity used in settlement period ``slot`` (Unix seconds // 1800), an integer."""
        if factor is None:
            factor = self.device_factor(key)
        day_index, period = divmod(slot, SLOTS_PER_DAY)
        season = 1.0 + self.seasonal_amplitude * math.cos(
            2.0 * math.pi * (day_index - 15) / DAYS_PER_YEAR
        )
        weekday = (day_index + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        week = self.weekend_factor if weekday >= 5 else 1.0
        jitter = 1.0 + self.noise * (2.0 * unit_interval(key ^ (slot * 0x9E3779B1)) - 1.0)
        mean = self._daily_mean * factor * season * week * self.day[period]
        return int(mean * jitter + 0.5)

    def consumption_run(self, key: int, first: int, count: int, factor: float) -> list[int]:
        """``consumption(key, slot, factor)`` of ``count`` slots from ``first``, the same
        integers. A whole day of the run is made once and kept (see :data:`DAYS_KEPT`): a
        meter regenerates its record from this on every read, and reads repeat the same days."""
        out: list[int] = []
        slot, end = first, first + count
        days = self._days
        while slot < end:
            day_index = slot // SLOTS_PER_DAY
            day_start = day_index * SLOTS_PER_DAY
            stop = min(end, day_start + SLOTS_PER_DAY)
            if slot == day_start and stop == day_start + SLOTS_PER_DAY:
                whole = days.get((key, factor, day_index))
                if whole is None:
                    if len(days) >= DAYS_KEPT:
                        del days[next(iter(days))]  # the oldest kept
                    whole = days[(key, factor, day_index)] = tuple(
                        self._slots(key, day_index, 0, SLOTS_PER_DAY, factor)
                    )
                out += whole
            else:  # part of a day (a run's ends, one new half hour): made, not kept
                out += self._slots(key, day_index, slot - day_start, stop - day_start, factor)
            slot = stop
        return out

    def _slots(self, key: int, day_index: int, low: int, high: int, factor: float) -> list[int]:
        """The quantities of periods ``low`` to ``high`` (excluded) of one day."""
        out: list[int] = []
        append, day, noise = out.append, self.day, self.noise
        season = 1.0 + self.seasonal_amplitude * math.cos(
            2.0 * math.pi * (day_index - 15) / DAYS_PER_YEAR
        )
        week = self.weekend_factor if (day_index + 3) % 7 >= 5 else 1.0
        # The same products in the same order as consumption(): equal floats.
        base = self._daily_mean * factor * season * week
        slot = day_index * SLOTS_PER_DAY + low
        for period in range(low, high):
            # unit_interval(key ^ (slot * 0x9E3779B1)), inlined (the hot loop).
            v = ((key ^ (slot * 0x9E3779B1)) + 0x9E3779B97F4A7C15) & MASK64
            v = ((v ^ (v >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
            v = ((v ^ (v >> 27)) * 0x94D049BB133111EB) & MASK64
            jitter = 1.0 + noise * (2.0 * ((v ^ (v >> 31)) * _INV_2_64) - 1.0)
            append(int(base * day[period] * jitter + 0.5))
            slot += 1
        return out


DAYS_KEPT = 4096
"""Whole days of consumption a load shape keeps once made (each 48 integers, about 2 MB in
all), oldest out first: a 30-day profile read makes its days once, not on every read."""


# Typical domestic day in GB (UTC half hours from 00:00): low overnight, a morning rise,
# a flat day, the evening peak around 17:00-20:00.
_DOMESTIC_DAY = (
    0.55, 0.50, 0.45, 0.42, 0.40, 0.40, 0.40, 0.40, 0.40, 0.40, 0.42, 0.45,
    0.55, 0.70, 0.85, 0.95, 1.00, 0.95, 0.90, 0.85, 0.85, 0.85, 0.85, 0.85,
    0.88, 0.90, 0.88, 0.85, 0.85, 0.88, 0.92, 0.98, 1.10, 1.30, 1.55, 1.70,
    1.75, 1.70, 1.60, 1.45, 1.35, 1.25, 1.15, 1.05, 0.95, 0.85, 0.75, 0.65,
)  # fmt: skip

# Economy 7: storage heating and water charge between 00:30 and 07:30.
_ECONOMY7_DAY = tuple(w + (2.2 if 1 <= i < 15 else 0.0) for i, w in enumerate(_DOMESTIC_DAY))

# Gas central heating: a morning and an evening burn, a little for hot water in between.
_GAS_DAY = (
    0.10, 0.10, 0.10, 0.10, 0.10, 0.10, 0.10, 0.10, 0.10, 0.10, 0.30, 1.60,
    2.40, 2.60, 2.20, 1.60, 1.00, 0.70, 0.50, 0.40, 0.40, 0.40, 0.40, 0.40,
    0.45, 0.45, 0.45, 0.50, 0.60, 0.80, 1.20, 1.90, 2.40, 2.60, 2.60, 2.50,
    2.40, 2.20, 2.00, 1.80, 1.50, 1.20, 0.80, 0.40, 0.20, 0.15, 0.10, 0.10,
)  # fmt: skip

BUILTIN_SHAPES: Mapping[str, LoadShape] = {
    shape.name: shape
    for shape in (
        # Ofgem's typical domestic consumption: 2,700 kWh a year of electricity.
        LoadShape("domestic-electricity", Fuel.ELECTRICITY, 2_700_000, _DOMESTIC_DAY, 0.2),
        LoadShape("economy7-electricity", Fuel.ELECTRICITY, 4_200_000, _ECONOMY7_DAY, 0.35),
        # 11,500 kWh of gas is about 1,025 m3 (39.5 MJ/m3, volume correction 1.02264).
        LoadShape("domestic-gas", Fuel.GAS, 1_025_000, _GAS_DAY, 0.65, 1.05, 0.3),
    )
}

DEFAULT_SHAPE = {Fuel.ELECTRICITY: "domestic-electricity", Fuel.GAS: "domestic-gas"}


def shape_named(name: str) -> LoadShape:
    """A built-in load shape by name; :class:`KeyError` naming the known ones if absent."""
    try:
        return BUILTIN_SHAPES[name]
    except KeyError:
        known = ", ".join(sorted(BUILTIN_SHAPES))
        raise KeyError(f"no load shape {name!r} (known: {known})") from None
