"""The secondary element of a twin-element ESME: ECS01c (its tariff: the secondary activity
calendar, special days and TOU prices) and ECS01d (its prices alone), each at once, at an
activation date-time, or cancelling the pending one.

The secondary element has four TOU rates and no blocks; a day profile switch runs the tariff
script table's entry :data:`SECONDARY_SCRIPT_BASE` + rate, and its prices are a unit charge
on the secondary element's active import register, without a standing charge (the ESME
takes that once, on its primary element).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import ClassVar

from gbcs.content._common import (
    DlmsCommand,
    Outcome,
    _check_exact,
    _octets,
    _parse_request,
    _request,
    register,
)
from gbcs.content.tariff import (
    DayProfile,
    Season,
    SpecialDay,
    WeekProfile,
    _parse_unit_charge,
    _unit_charge,
    activation,
    calendar_data,
    calendar_problems,
    read_activation,
    read_calendar,
    read_special_days,
    special_days_data,
)
from gbcs.errors import DecodeError
from gbcs.payloads import dlms
from gbcs.payloads.dlms import AccessSpec, Obis

SECONDARY_CALENDAR = "0-0:13.0.1.255"
SECONDARY_SPECIAL_DAYS = "0-1:11.0.1.255"
SECONDARY_PRICE = "0-0:19.20.5.255"
SECONDARY_SPECIAL_DAYS_ACTIVATION = "0-0:94.44.128.30"
SECONDARY_IMPORT = Obis.parse("1-20:1.8.0.255")
"""The register the secondary element's unit charge prices (IC 3 attribute 2)."""
SECONDARY_RATES = 4
SECONDARY_SCRIPT_BASE = 200
"""The tariff script selector of secondary TOU rate n is 200 + n."""


def _price_data(commodity_scale: int, price_scale: int, prices: tuple[int, ...]) -> dlms.Data:
    table = [(bytes([i + 1]), p) for i, p in enumerate(prices)]
    return _unit_charge(commodity_scale, price_scale, (3, SECONDARY_IMPORT.raw, 2), table)


def _read_prices(value: dlms.Data, what: str) -> tuple[int, int, tuple[int, ...]]:
    commodity_scale, price_scale, commodity, table = _parse_unit_charge(value)
    if commodity != (3, SECONDARY_IMPORT.raw, 2):
        raise DecodeError(f"{what}: the unit charge does not price the secondary register")
    found = dict(table)
    if sorted(found) != [bytes([i + 1]) for i in range(len(found))]:
        raise DecodeError(f"{what}: the prices are not numbered 1, 2, ...")
    return commodity_scale, price_scale, tuple(found[bytes([i + 1])] for i in range(len(found)))


def _price_problems(prices: tuple[int, ...]) -> list[str]:
    found = []
    if not 1 <= len(prices) <= SECONDARY_RATES:
        found.append(f"the secondary element has 1 to 4 prices, not {len(prices)}")
    if any(not 0 <= p <= 0x7FFF for p in prices):
        found.append("a secondary price is negative or exceeds 32767 (a DLMS long)")
    return found


@dataclass(frozen=True, slots=True)
class SecondaryTariff(DlmsCommand):
    """ECS01c Set Tariff and Price on ESME secondary (critical): the secondary element's
    passive calendar (seasons, week and day profiles), special days and TOU prices, and when
    they take effect (None: now; ``cancel_pending``: cancel the pending one)."""

    counter: int
    seasons: tuple[Season, ...]
    week_profiles: tuple[WeekProfile, ...]
    day_profiles: tuple[DayProfile, ...]
    special_days: tuple[SpecialDay, ...]
    prices: tuple[int, ...]
    price_scale: int = -5
    commodity_scale: int = 3
    activate_at: _dt.datetime | None = None
    cancel_pending: bool = False
    message_code: ClassVar[int] = 0x00B7

    def specs(self) -> tuple[AccessSpec, ...]:
        return (
            dlms.set_(113, SECONDARY_PRICE, 6),
            dlms.set_(20, SECONDARY_CALENDAR, 7),
            dlms.set_(20, SECONDARY_CALENDAR, 8),
            dlms.set_(20, SECONDARY_CALENDAR, 9),
            dlms.set_(11, SECONDARY_SPECIAL_DAYS, 2),
            dlms.set_(20, SECONDARY_CALENDAR, 10),
            dlms.set_(113, SECONDARY_PRICE, 7),
            dlms.set_(9000, SECONDARY_SPECIAL_DAYS_ACTIVATION, 6),
        )

    def problems(self) -> list[str]:
        """Why a meter would reject this tariff (empty when it is consistent)."""
        found = calendar_problems(self.seasons, self.week_profiles, self.day_profiles)
        days = {d.day_id for d in self.day_profiles}
        for d in self.day_profiles:
            for x in d.switches:
                if not 1 <= x.rate - SECONDARY_SCRIPT_BASE <= SECONDARY_RATES:
                    found.append(
                        f"day profile {d.day_id}: tariff script {x.rate} is not a secondary "
                        "TOU rate (201..204)"
                    )
        for sd in self.special_days:
            if sd.day_id not in days:
                found.append(f"special day {sd.index} uses unknown day profile {sd.day_id}")
        return found + _price_problems(self.prices)

    def encode(self) -> bytes:
        seasons, weeks, days = calendar_data(self.seasons, self.week_profiles, self.day_profiles)
        when = activation(self.activate_at, self.cancel_pending)
        data = (
            _price_data(self.commodity_scale, self.price_scale, self.prices),
            seasons,
            weeks,
            days,
            special_days_data(self.special_days),
            when,
            when,
            when,
        )
        return _request(self.counter, self.specs(), data)

    @classmethod
    def decode(cls, content: bytes) -> SecondaryTariff:
        counter, data = _parse_request(content, cls(0, (), (), (), (), ()).specs())
        commodity_scale, price_scale, prices = _read_prices(data[0], "ECS01c")
        seasons, weeks, days = read_calendar(data[1], data[2], data[3])
        at, cancel = read_activation([_octets(v, "activation") for v in data[5:]], "ECS01c")
        found = cls(
            counter,
            seasons,
            weeks,
            days,
            read_special_days(data[4]),
            prices,
            price_scale,
            commodity_scale,
            at,
            cancel,
        )
        _check_exact(found, content)
        return found


@dataclass(frozen=True, slots=True)
class SecondaryPrice(DlmsCommand):
    """ECS01d Set Price on ESME secondary (critical): the secondary element's TOU prices and
    when they take effect."""

    counter: int
    prices: tuple[int, ...]
    price_scale: int = -5
    commodity_scale: int = 3
    activate_at: _dt.datetime | None = None
    cancel_pending: bool = False
    message_code: ClassVar[int] = 0x00C7

    def specs(self) -> tuple[AccessSpec, ...]:
        return (dlms.set_(113, SECONDARY_PRICE, 6), dlms.set_(113, SECONDARY_PRICE, 7))

    def problems(self) -> list[str]:
        return _price_problems(self.prices)

    def encode(self) -> bytes:
        prices = _price_data(self.commodity_scale, self.price_scale, self.prices)
        when = activation(self.activate_at, self.cancel_pending)
        return _request(self.counter, self.specs(), (prices, when))

    @classmethod
    def decode(cls, content: bytes) -> SecondaryPrice:
        counter, data = _parse_request(content, cls(0, ()).specs())
        commodity_scale, price_scale, prices = _read_prices(data[0], "ECS01d")
        at, cancel = read_activation([_octets(data[1], "activation")], "ECS01d")
        found = cls(counter, prices, price_scale, commodity_scale, at, cancel)
        _check_exact(found, content)
        return found


register(0x00B7, SecondaryTariff.decode, Outcome.decode)
register(0x00C7, SecondaryPrice.decode, Outcome.decode)

Command = SecondaryTariff | SecondaryPrice

__all__ = [
    "SECONDARY_RATES",
    "SECONDARY_SCRIPT_BASE",
    "SecondaryPrice",
    "SecondaryTariff",
]
