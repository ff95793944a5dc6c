"""What a meter measures and charges, moved forward by the clock.

:class:`Meter` holds the registers (total and time-of-use), the recorded half-hour
consumption, the tariff, the payment mode and the prepayment credit. :meth:`Meter.advance`
runs it up to a moment, half hour by half hour: consumption comes from the device's load
shape (nothing flows while the supply is not enabled), registers grow, each period is
recorded, and in prepayment mode credit drains by price and standing charge until the
supply is disabled. What happens on the way comes back as :class:`MeterEvent` values,
which the device turns into GBCS alerts.

Money is in milli-pence (1/1000 p, i.e. 1e-5 GBP), the resolution of SMETS2 price
registers; energy in Wh, gas in dm3. Everything is an integer, so snapshots are exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar

from emulator.clock import HALF_HOUR
from emulator.errors import CommandError, TransitionError
from emulator.profiles import SLOTS_PER_DAY, LoadShape
from emulator.supply import LOAD_SWITCH, SupplyEvent, SupplyState, Table, transition
from emulator.tariff_calendar import ANY as ANY
from emulator.tariff_calendar import EVERY_YEAR as EVERY_YEAR
from emulator.tariff_calendar import LAST_DAY as LAST_DAY
from emulator.tariff_calendar import NonDisablementCalendar as NonDisablementCalendar
from emulator.tariff_calendar import NonDisablementSchedule as NonDisablementSchedule
from emulator.tariff_calendar import ScheduleSwitch as ScheduleSwitch
from emulator.tariff_calendar import Season as Season
from emulator.tariff_calendar import SpecialDay as SpecialDay
from emulator.tariff_calendar import non_disablement_from_json, table_on
from emulator.tariff_calendar import season_on as season_on

MAX_TOU_REGISTERS = 48
PROFILE_DAYS = 396
"""Days of half-hour consumption a meter holds: 13 months (13 x 30.44 days, rounded up), as
SMETS2 asks of an ESME's and a GSME's profile data logs."""
HH_CAPACITY = 48 * PROFILE_DAYS
MAX_CATCH_UP_SLOTS = 48 * 400
"""A meter left alone for longer than this (400 days) catches up only this far; the half
hours it skips are older than any it holds (``HH_CAPACITY`` is less)."""
assert HH_CAPACITY <= MAX_CATCH_UP_SLOTS
BLOCK_RATES, BLOCKS = 8, 4
"""The block counter matrix: consumption (Wh) by block tariff rate and block."""
MAX_THRESHOLDS = BLOCKS - 1
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class PaymentMode(StrEnum):
    CREDIT = "credit"
    PREPAYMENT = "prepayment"


class MeterEvent(StrEnum):
    """Things the meter notices while time passes or credit is added; each becomes an alert."""

    LOW_CREDIT = "low-credit"
    EMERGENCY_CREDIT_ACTIVATED = "emergency-credit-activated"
    SUPPLY_DISABLED_CREDIT = "supply-disabled-credit"
    SUPPLY_ARMED = "supply-armed"
    CREDIT_ADDED = "credit-added"


@dataclass(frozen=True, slots=True)
class BlockRate:
    """A block tariff rate: the TOU register it bills to, its row of the block counter
    matrix (rate 1..8), its thresholds (Wh of the rate's consumption since the matrix was
    last reset, ascending, at most three) and the price of each block (one more than the
    thresholds, milli-pence per kWh)."""

    register: int
    rate: int
    thresholds: tuple[int, ...]
    prices: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Tariff:
    """A time-of-use (and block) tariff: which register each half hour bills to, and at what
    price.

    Immutable, so that a hundred thousand meters on the default tariff share one object.
    """

    prices: tuple[int, ...] = (24_500,)
    """Price per kWh (per m3 for gas) for each TOU register, milli-pence."""
    standing_charge: int = 60_000
    """Per day, milli-pence."""
    switching: tuple[int, ...] = (0,) * SLOTS_PER_DAY
    """For each UTC half hour of the day, the index of the register it bills to."""
    weekdays: tuple[tuple[int, ...], ...] = ()
    """The switching table of each day of the week, Monday first (empty: every day bills by
    :attr:`switching`)."""
    special_days: tuple[SpecialDay, ...] = ()
    seasons: tuple[Season, ...] = ()
    """The calendar's seasons when it has more than one (empty: every day bills by
    :attr:`weekdays`, the only season's week). :attr:`weekdays` is then the first season's,
    billed on days before any season has started."""
    block_rates: tuple[BlockRate, ...] = ()
    """Registers whose price depends on the block counters (the rest bill at their price)."""

    def switching_on(self, day: date) -> tuple[int, ...]:
        """The switching table the meter bills ``day`` by: a special day's, else its week
        day's in the season in force."""
        return table_on(day, self.special_days, self.seasons, self.weekdays, self.switching)

    def problems(self) -> list[str]:
        """Why this tariff is inconsistent (empty when it is fine)."""
        found: list[str] = []
        if not 1 <= len(self.prices) <= MAX_TOU_REGISTERS:
            found.append(f"a tariff has 1 to {MAX_TOU_REGISTERS} prices, not {len(self.prices)}")
        if any(p < 0 for p in self.prices):
            found.append("prices must not be negative")
        if self.standing_charge < 0:
            found.append("the standing charge must not be negative")
        tables = [
            self.switching,
            *self.weekdays,
            *(d.switching for d in self.special_days),
            *(t for season in self.seasons for t in season.weekdays),
        ]
        weeks = [self.weekdays, *(season.weekdays for season in self.seasons)]
        for week in weeks:
            if week and len(week) != 7:
                found.append(f"a week has 7 switching tables, not {len(week)}")
        if any(not season.weekdays for season in self.seasons):
            found.append("a season needs its week's switching tables")
        if any(len(t) != SLOTS_PER_DAY for t in tables):
            found.append("a switching table has 48 half hours")
        elif any(not 0 <= r < len(self.prices) for t in tables for r in t):
            found.append("the switching table names a register that has no price")
        for block in self.block_rates:
            found += _block_problems(block, len(self.prices))
        if len({b.register for b in self.block_rates}) != len(self.block_rates):
            found.append("two block rates bill to one register")
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            "prices": list(self.prices),
            "standing_charge": self.standing_charge,
            "switching": list(self.switching),
            "weekdays": [list(t) for t in self.weekdays],
            "special_days": [
                [d.year, d.month, d.day, list(d.switching)] for d in self.special_days
            ],
            "block_rates": [
                [b.register, b.rate, list(b.thresholds), list(b.prices)] for b in self.block_rates
            ],
            "seasons": [
                [s.year, s.month, s.day, [list(t) for t in s.weekdays]] for s in self.seasons
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tariff:
        def ints(values: Any) -> tuple[int, ...]:
            return tuple(int(v) for v in values)

        return cls(
            prices=ints(data["prices"]),
            standing_charge=int(data["standing_charge"]),
            switching=ints(data["switching"]),
            weekdays=tuple(ints(t) for t in data.get("weekdays", ())),
            special_days=tuple(
                SpecialDay(int(y), int(m), int(d), ints(t))
                for y, m, d, t in data.get("special_days", ())
            ),
            block_rates=tuple(
                BlockRate(int(r), int(n), ints(t), ints(p))
                for r, n, t, p in data.get("block_rates", ())
            ),
            seasons=tuple(
                Season(int(y), int(m), int(d), tuple(ints(t) for t in week))
                for y, m, d, week in data.get("seasons", ())
            ),
        )


def _day_of(slot: int) -> date:
    """The UTC date of a half hour (numbered from the epoch)."""
    return date.fromordinal(EPOCH_ORDINAL + slot // SLOTS_PER_DAY)


def _block_problems(block: BlockRate, registers: int) -> list[str]:
    found = []
    name = f"block rate {block.rate}"
    if not 1 <= block.rate <= BLOCK_RATES:
        found.append(f"{name} is not a block tariff rate (1 to {BLOCK_RATES})")
    if not 0 <= block.register < registers:
        found.append(f"{name} bills to a register that has no price")
    if len(block.thresholds) > MAX_THRESHOLDS:
        found.append(f"{name} has more than {MAX_THRESHOLDS} thresholds")
    if list(block.thresholds) != sorted(set(block.thresholds)) or any(
        t <= 0 for t in block.thresholds
    ):
        found.append(f"{name}: thresholds must be positive and strictly increasing")
    if len(block.prices) != len(block.thresholds) + 1:
        found.append(f"{name} needs one price a block ({len(block.thresholds) + 1})")
    if any(p < 0 for p in block.prices):
        found.append(f"{name}: prices must not be negative")
    return found


@dataclass(frozen=True, slots=True)
class PrepaymentConfig:
    """Parameters that only mean something in prepayment mode (the 2011 DCC design subgroup)."""

    emergency_credit_limit: int = 500_000
    emergency_credit_threshold: int = 100_000
    low_credit_threshold: int = 200_000
    disablement_threshold: int = 0
    debt_recovery_per_day: int = 0
    debt_cap: int = 0
    """The most time-based debt recovered in one :attr:`debt_cap_period` (0: no cap)."""
    debt_cap_period: int = 7 * 24 * 3600
    """Seconds (the ESME's cap period is what ECS08a sends: a week)."""
    non_disablement: tuple[bool, ...] = ()
    """For each UTC half hour of the day, whether the supply may not be disabled for lack of
    credit then (a non-disablement period); empty: never such a period."""
    non_disablement_calendar: NonDisablementCalendar | NonDisablementSchedule | None = None
    """The non-disablement periods of each day (GCS05's calendar, ECS08a's schedule); when
    set, it replaces
    :attr:`non_disablement`."""

    def problems(self) -> list[str]:
        found = [
            f"{name} must not be negative"
            for name in (
                "emergency_credit_limit",
                "emergency_credit_threshold",
                "low_credit_threshold",
                "debt_recovery_per_day",
                "debt_cap",
            )
            if getattr(self, name) < 0
        ]
        if self.debt_cap_period <= 0:
            found.append("the debt cap period must be positive")
        if self.non_disablement and len(self.non_disablement) != SLOTS_PER_DAY:
            found.append("the non-disablement periods cover 48 half hours")
        if self.non_disablement_calendar is not None:
            found += self.non_disablement_calendar.problems()
        if self.emergency_credit_threshold > self.low_credit_threshold:
            found.append("the emergency credit threshold is above the low credit threshold")
        return found


DEFAULT_TARIFF = Tariff()
DEFAULT_PREPAYMENT = PrepaymentConfig()


@dataclass(slots=True)
class Credit:
    """The running prepayment balance (kept in credit mode too, where it does not drain)."""

    balance: int = 0
    """Meter balance, milli-pence; negative once emergency credit is being used."""
    emergency_credit_active: bool = False
    debt: int = 0
    low_credit_alerted: bool = False
    disabled_for_credit: bool = False
    carry: int = 0
    """Sub-milli-pence remainder of energy charges (so rounding loses nothing)."""
    cap_window: int = -1
    """The debt cap period (its number since the epoch) :attr:`cap_used` counts in."""
    cap_used: int = 0
    """Time-based debt recovered in that period, milli-pence."""

    def available(self, config: PrepaymentConfig) -> int:
        """Credit the consumer may still use: balance plus any active emergency credit."""
        extra = config.emergency_credit_limit if self.emergency_credit_active else 0
        return self.balance + extra


@dataclass(slots=True)
class Meter:
    """The measuring and billing part of an ESME or GSME."""

    shape: LoadShape
    key: int
    factor: float
    accounted_to: int
    """Unix seconds, always on a half-hour boundary: everything before it is accounted."""
    registers: list[int]
    """Index 0 is the total import register; 1.. are the TOU registers."""
    supply: SupplyState = SupplyState.ENABLED
    supply_table: Table = field(default_factory=lambda: LOAD_SWITCH)
    mode: PaymentMode = PaymentMode.CREDIT
    tariff: Tariff = DEFAULT_TARIFF
    prepayment: PrepaymentConfig = DEFAULT_PREPAYMENT
    credit: Credit = field(default_factory=Credit)
    hh_capacity: ClassVar[int] = HH_CAPACITY
    """Half hours the record holds (the most recent ones): the same for every meter, so a
    class constant rather than a slot in each."""
    hh_count: int = 0
    """Half hours accounted since the record began (those beyond the capacity are gone)."""
    dark: list[int] | None = None
    """The periods accounted while the supply was not enabled (nothing flowed), as a flat
    list of slot ranges ``[start, end)``, oldest first, those the record still holds (None
    until the first: most meters never have one, and a list each is 56 bytes).

    The record keeps no quantities: a half hour's consumption is a pure function of the
    meter's key and the slot (the load shape), or 0 in a dark period, so 13 months of half
    hours cost a few integers in memory and in the saved state, and are regenerated when
    read (:meth:`half_hours`)."""
    block_counters: list[int] | None = None
    """The block counter matrix, rate by rate (8 x 4, Wh); allocated when a block rate
    first bills."""
    daily_block_reset: bool = False
    """The block counter matrix resets at every UTC midnight (6.26)."""

    @classmethod
    def new(
        cls,
        shape: LoadShape,
        key: int,
        start: int,
        *,
        initial_total: int = 0,
        supply_table: Table = LOAD_SWITCH,
        mode: PaymentMode = PaymentMode.CREDIT,
        balance: int = 0,
    ) -> Meter:
        return cls(
            shape,
            key,
            shape.device_factor(key),
            start - start % HALF_HOUR,
            [initial_total, 0],
            supply_table=supply_table,
            mode=mode,
            credit=Credit(balance),
        )

    # -- reading -------------------------------------------------------------------

    @property
    def total(self) -> int:
        return self.registers[0]

    @property
    def tou(self) -> list[int]:
        return self.registers[1:]

    @property
    def held(self) -> int:
        """How many half hours the record holds (without regenerating them)."""
        return min(self.hh_count, self.hh_capacity)

    def first_held(self) -> int:
        """The start (Unix seconds) of the oldest half hour held (``accounted_to`` when none)."""
        return self.accounted_to - self.held * HALF_HOUR

    def half_hours(
        self, count: int | None = None, *, since: int | None = None, until: int | None = None
    ) -> list[tuple[int, int]]:
        """The recorded periods, oldest first: (start Unix seconds, quantity) - all held, the
        most recent ``count``, or those starting from ``since`` to ``until`` (inclusive)."""
        last = self.accounted_to // HALF_HOUR - 1
        first = self.first_held() // HALF_HOUR
        if count is not None:
            first = max(first, last - count + 1)
        if since is not None:
            first = max(first, -(-since // HALF_HOUR))
        if until is not None:
            last = min(last, until // HALF_HOUR)
        if first > last:
            return []
        used = self.shape.consumption_run(self.key, first, last - first + 1, self.factor)
        dark = self.dark or ()
        for n in range(0, len(dark), 2):
            for slot in range(max(dark[n], first), min(dark[n + 1], last + 1)):
                used[slot - first] = 0
        return [((first + n) * HALF_HOUR, q) for n, q in enumerate(used)]

    # -- time ----------------------------------------------------------------------

    def advance(self, now: int) -> list[MeterEvent]:
        """Account every whole half hour that ended by ``now`` (Unix seconds)."""
        events: list[MeterEvent] = []
        end_slot = now // HALF_HOUR
        slot = self.accounted_to // HALF_HOUR
        if end_slot <= slot:
            return events
        if end_slot - slot > MAX_CATCH_UP_SLOTS:
            slot = end_slot - MAX_CATCH_UP_SLOTS
        dark = self.dark
        consumption = self.shape.consumption
        key, factor = self.key, self.factor
        tariff = self.tariff
        registers, switching, prices = self.registers, tariff.switching, tariff.prices
        by_day = bool(tariff.weekdays or tariff.special_days or tariff.seasons)
        blocks = {b.register: b for b in tariff.block_rates}
        prepayment = self.mode is PaymentMode.PREPAYMENT
        calendar = self.prepayment.non_disablement_calendar if prepayment else None
        protected: tuple[int, ...] = self.prepayment.non_disablement
        if by_day:
            switching = tariff.switching_on(_day_of(slot))
        if calendar is not None:
            protected = calendar.periods_on(_day_of(slot))
        while slot < end_slot:
            in_day = slot % SLOTS_PER_DAY
            if in_day == 0:
                if self.daily_block_reset and self.block_counters is not None:
                    self.block_counters = [0] * (BLOCK_RATES * BLOCKS)
                if by_day:
                    switching = tariff.switching_on(_day_of(slot))
                if calendar is not None:
                    protected = calendar.periods_on(_day_of(slot))
            if self.supply is SupplyState.ENABLED:
                used = consumption(key, slot, factor)
            else:
                used = 0
                if dark and dark[-1] == slot:
                    dark[-1] = slot + 1
                elif dark is None:
                    self.dark = dark = [slot, slot + 1]
                else:
                    dark += (slot, slot + 1)
            register = switching[in_day]
            registers[0] += used
            registers[1 + register] += used
            block = blocks.get(register) if blocks else None
            owed = self._count_blocks(block, used) if block else used * prices[register]
            if prepayment:
                self._charge(owed, events, bool(protected and protected[in_day]), slot)
            slot += 1
        self.hh_count += end_slot - self.accounted_to // HALF_HOUR
        self.accounted_to = end_slot * HALF_HOUR
        if dark:
            self._forget_dark()
        return events

    def _forget_dark(self) -> None:
        """Drop the dark periods that ended before the oldest half hour held."""
        oldest = self.first_held() // HALF_HOUR
        dark = self.dark or []
        gone = 0
        while gone < len(dark) and dark[gone + 1] <= oldest:
            gone += 2
        if gone:
            del dark[:gone]

    def _count_blocks(self, block: BlockRate, used: int) -> int:
        """Add ``used`` Wh to the block rate's row of the block counter matrix, block by
        block as its thresholds fall, and return its cost (Wh x milli-pence per kWh)."""
        if self.block_counters is None:
            self.block_counters = [0] * (BLOCK_RATES * BLOCKS)
        row = (block.rate - 1) * BLOCKS
        counters = self.block_counters
        consumed = sum(counters[row : row + BLOCKS])
        owed = 0
        while used > 0:
            current = sum(1 for t in block.thresholds if t <= consumed)
            room = block.thresholds[current] - consumed if current < len(block.thresholds) else used
            part = min(used, room)
            owed += part * block.prices[current]
            counters[row + current] += part
            consumed += part
            used -= part
        return owed

    def reset_block_counters(self) -> None:
        """1.7: the block counter matrix starts again from zero."""
        if self.block_counters is not None:
            self.block_counters = [0] * (BLOCK_RATES * BLOCKS)

    def _charge(self, owed: int, events: list[MeterEvent], protected: bool, slot: int) -> None:
        """Take a half hour's charges from credit; ``protected``: the half hour is in a
        non-disablement period, so the supply stays on."""
        credit, config = self.credit, self.prepayment
        energy_cost, credit.carry = divmod(owed + credit.carry, 1000)
        cost = energy_cost + self.tariff.standing_charge // SLOTS_PER_DAY
        if config.debt_recovery_per_day and credit.debt > 0:
            recovered = min(credit.debt, config.debt_recovery_per_day // SLOTS_PER_DAY)
            if config.debt_cap:
                window = slot * HALF_HOUR // config.debt_cap_period
                if window != credit.cap_window:
                    credit.cap_window, credit.cap_used = window, 0
                recovered = max(0, min(recovered, config.debt_cap - credit.cap_used))
                credit.cap_used += recovered
            credit.debt -= recovered
            cost += recovered
        credit.balance -= cost
        if not credit.low_credit_alerted and credit.balance < config.low_credit_threshold:
            credit.low_credit_alerted = True
            events.append(MeterEvent.LOW_CREDIT)
        if (
            not credit.emergency_credit_active
            and config.emergency_credit_limit > 0
            and credit.balance < config.emergency_credit_threshold
        ):
            credit.emergency_credit_active = True
            events.append(MeterEvent.EMERGENCY_CREDIT_ACTIVATED)
        if (
            self.supply is not SupplyState.DISABLED
            and credit.available(config) <= config.disablement_threshold
            and not protected
        ):
            self.supply = transition(
                "supply", self.supply_table, self.supply, SupplyEvent.CREDIT_EXHAUSTED
            )
            credit.disabled_for_credit = True
            events.append(MeterEvent.SUPPLY_DISABLED_CREDIT)

    # -- commands ------------------------------------------------------------------

    def operate_supply(self, event: SupplyEvent) -> SupplyState:
        """Apply a remote supply command; :class:`TransitionError` if illegal now."""
        if (
            event is SupplyEvent.REMOTE_ENABLE
            and self.mode is PaymentMode.PREPAYMENT
            and self.credit.available(self.prepayment) <= self.prepayment.disablement_threshold
        ):
            raise TransitionError("supply", self.supply.value, "remote-enable without credit")
        self.supply = transition("supply", self.supply_table, self.supply, event)
        if event is not SupplyEvent.CONSUMER_BUTTON:
            self.credit.disabled_for_credit = False
        return self.supply

    def add_credit(self, amount: int) -> list[MeterEvent]:
        """A top-up of ``amount`` milli-pence (a UTRN already checked by the caller)."""
        if amount <= 0:
            raise CommandError(f"a top-up must add credit, not {amount}")
        events = [MeterEvent.CREDIT_ADDED]
        credit, config = self.credit, self.prepayment
        credit.balance += amount
        if credit.emergency_credit_active and credit.balance >= config.emergency_credit_threshold:
            credit.emergency_credit_active = False
        if credit.balance >= config.low_credit_threshold:
            credit.low_credit_alerted = False
        if (
            credit.disabled_for_credit
            and self.supply is SupplyState.DISABLED
            and credit.available(config) > config.disablement_threshold
        ):
            self.supply = transition(
                "supply", self.supply_table, self.supply, SupplyEvent.CREDIT_RESTORED
            )
            credit.disabled_for_credit = False
            events.append(MeterEvent.SUPPLY_ARMED)
        return events

    def apply_tariff(self, tariff: Tariff, prepayment: PrepaymentConfig | None) -> None:
        """Install a new tariff, checking it the way the 2011 DCC design subgroup asks the meter to.

        Prepayment-only parameters (emergency credit, debt recovery, thresholds) are refused
        while the meter is in credit mode. Nothing changes when anything is refused.
        """
        problems = tariff.problems()
        if prepayment is not None:
            if self.mode is not PaymentMode.PREPAYMENT:
                problems.append("prepayment parameters sent to a meter in credit mode")
            problems.extend(prepayment.problems())
        if problems:
            raise CommandError("; ".join(problems))
        if len(tariff.prices) + 1 > len(self.registers):
            self.registers.extend([0] * (len(tariff.prices) + 1 - len(self.registers)))
        self.tariff = tariff
        if prepayment is not None:
            self.prepayment = prepayment

    def set_mode(self, mode: PaymentMode) -> None:
        self.mode = mode
        if mode is PaymentMode.CREDIT:
            self.credit.disabled_for_credit = False

    # -- snapshot ------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "shape": self.shape.name,
            "accounted_to": self.accounted_to,
            "registers": list(self.registers),
            "supply": self.supply.value,
            "mode": self.mode.value,
            "tariff": self.tariff.to_json(),
            "block_counters": self.block_counters,
            "daily_block_reset": self.daily_block_reset,
            "prepayment": {
                "emergency_credit_limit": self.prepayment.emergency_credit_limit,
                "emergency_credit_threshold": self.prepayment.emergency_credit_threshold,
                "low_credit_threshold": self.prepayment.low_credit_threshold,
                "disablement_threshold": self.prepayment.disablement_threshold,
                "debt_recovery_per_day": self.prepayment.debt_recovery_per_day,
                "debt_cap": self.prepayment.debt_cap,
                "debt_cap_period": self.prepayment.debt_cap_period,
                "non_disablement": [i for i, on in enumerate(self.prepayment.non_disablement) if on]
                if self.prepayment.non_disablement
                else None,
                "non_disablement_calendar": None
                if self.prepayment.non_disablement_calendar is None
                else self.prepayment.non_disablement_calendar.to_json(),
            },
            "credit": {
                "balance": self.credit.balance,
                "emergency_credit_active": self.credit.emergency_credit_active,
                "debt": self.credit.debt,
                "low_credit_alerted": self.credit.low_credit_alerted,
                "disabled_for_credit": self.credit.disabled_for_credit,
                "carry": self.credit.carry,
                "cap_window": self.credit.cap_window,
                "cap_used": self.credit.cap_used,
            },
            "hh_count": self.hh_count,
            "dark": list(self.dark or ()),
        }

    @classmethod
    def from_json(
        cls, data: dict[str, Any], shape: LoadShape, key: int, supply_table: Table
    ) -> Meter:
        tariff = data["tariff"]
        meter = cls(
            shape=shape,
            key=key,
            factor=shape.device_factor(key),
            accounted_to=int(data["accounted_to"]),
            registers=[int(v) for v in data["registers"]],
            supply=SupplyState(data["supply"]),
            supply_table=supply_table,
            mode=PaymentMode(data["mode"]),
            tariff=Tariff.from_json(tariff),
            prepayment=_prepayment_from_json(data["prepayment"]),
            credit=Credit(**data["credit"]),
            hh_count=int(data["hh_count"]),
            block_counters=data.get("block_counters"),
            daily_block_reset=bool(data.get("daily_block_reset", False)),
            dark=[int(v) for v in data.get("dark", ())] or None,
        )
        if "dark" not in data:
            _from_ring(meter, data.get("hh"))
        return meter


def _from_ring(meter: Meter, ring: list[int] | None) -> None:
    """A state saved before the record was regenerated kept its quantities in a ring (the
    last 14 days): it holds those half hours only, dark where the ring has nothing though the
    shape would have."""
    if not ring:
        meter.hh_count = 0
        return
    meter.hh_count = min(meter.hh_count, len(ring))
    for start, quantity in meter.half_hours():
        slot = start // HALF_HOUR
        if ring[slot % len(ring)] == 0 and quantity != 0:
            if meter.dark and meter.dark[-1] == slot:
                meter.dark[-1] = slot + 1
            elif meter.dark is None:
                meter.dark = [slot, slot + 1]
            else:
                meter.dark += (slot, slot + 1)


def _prepayment_from_json(data: dict[str, Any]) -> PrepaymentConfig:
    slots = data.get("non_disablement")
    calendar = data.get("non_disablement_calendar")
    kept = ("non_disablement", "non_disablement_calendar")
    values = {k: int(v) for k, v in data.items() if k not in kept}
    periods = () if slots is None else tuple(i in set(slots) for i in range(SLOTS_PER_DAY))
    return PrepaymentConfig(
        **values,
        non_disablement=periods,
        non_disablement_calendar=None if calendar is None else non_disablement_from_json(calendar),
    )
