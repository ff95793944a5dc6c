"""Tariff and prepayment: ECS01a (update the ESME import tariff) and CS01a / CS01b (apply a
prepayment top-up, ESME and GSME).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar

from gbcs.content._common import (
    DlmsCommand,
    Outcome,
    ZclFailure,
    _check_exact,
    _int,
    _items,
    _octets,
    _parse_request,
    _request,
    _stamp,
    register,
)
from gbcs.errors import DecodeError, EncodeError
from gbcs.payloads import dlms, gbz
from gbcs.payloads.dlms import (
    AccessSpec,
    CosemDateTime,
    Data,
    Obis,
    OctetString,
    Structure,
)
from gbcs.payloads.gbz import (
    CONTROL_LAST,
    Cluster,
    GbzComponent,
    GbzPayload,
    ZclFrame,
    ZclType,
    ZclValue,
)

# =========================================================================== ECS01a

ACTIVITY_CALENDAR = "0-0:13.0.0.255"
SPECIAL_DAYS = "0-1:11.0.0.255"
TARIFF_SCRIPTS = Obis.parse("0-0:10.0.100.255")
STANDING_CHARGE = "0-0:19.20.4.255"
PRICE_MATRIX = "0-0:19.20.0.255"
GB_TARIFF_FLAG = "0-0:94.44.2.0"
GB_TARIFF_ACTIVATION = "0-0:94.44.128.29"
GB_TARIFF_ACTIVATION_2 = "0-0:63.1.1.255"
BLOCK_THRESHOLD_MONITORS = tuple(f"0-0:16.1.{n}.255" for n in range(11, 19))
IMMEDIATE = bytes.fromhex("0000000000000000008000ff")
"""The activation date-time the reference data sends for 'activate now'."""
CANCEL = bytes.fromhex("ffffffffffffffffff8000ff")
"""The activation date-time (all wildcards) that cancels a pending future-dated update, as
the reference data's ECS01a CANCELLATION command sends it."""


def activation(when: _dt.datetime | None, cancel: bool) -> OctetString:
    """The activation date-time of a tariff-family write: now (``when`` None), at ``when``,
    or - ``cancel`` - the wildcards that cancel the pending future-dated one."""
    if cancel:
        if when is not None:
            raise EncodeError("a cancellation has no activation time")
        return dlms.octet_string(CANCEL)
    return dlms.octet_string(IMMEDIATE) if when is None else _stamp(when)


def read_activation(values: list[bytes], what: str) -> tuple[_dt.datetime | None, bool]:
    """(``when``, ``cancel``) of the activation date-times of one write, which must agree."""
    if len(set(values)) != 1:
        raise DecodeError(f"{what}: the elements activate at different times")
    raw = values[0]
    if raw in (IMMEDIATE, CANCEL):
        return None, raw == CANCEL
    return CosemDateTime.from_bytes(raw).to_datetime(), False


TOU_RATES = 48
BLOCK_SCRIPT_BASE = 100
"""The tariff script selector of block tariff rate n is 100 + n (TOU rate n's is n)."""
BLOCKS = 4
BLOCK_RATES = 8


@dataclass(frozen=True, slots=True)
class Season:
    """A season of the passive activity calendar: its name, start (12-byte COSEM
    date-time as sent) and the week profile it uses."""

    name: bytes
    start: bytes
    week: bytes


@dataclass(frozen=True, slots=True)
class WeekProfile:
    """A week profile: its name and the day profile id for Monday .. Sunday."""

    name: bytes
    days: tuple[int, int, int, int, int, int, int]


@dataclass(frozen=True, slots=True)
class TariffSwitch:
    """From ``start`` (hour, minute, second) the tariff script ``rate`` runs: a TOU rate
    1..48, or :data:`BLOCK_SCRIPT_BASE` + a block tariff rate 1..8 (101..108)."""

    start: _dt.time
    rate: int


@dataclass(frozen=True, slots=True)
class DayProfile:
    day_id: int
    switches: tuple[TariffSwitch, ...]


@dataclass(frozen=True, slots=True)
class SpecialDay:
    """A special day: entry index, 5-byte COSEM date (0xFFFF year = every year), day id."""

    index: int
    date: bytes
    day_id: int


Calendar = tuple[tuple[Season, ...], tuple[WeekProfile, ...], tuple[DayProfile, ...]]


def calendar_data(
    seasons: Sequence[Season], weeks: Sequence[WeekProfile], days: Sequence[DayProfile]
) -> tuple[Data, Data, Data]:
    """An activity calendar's passive season, week and day profile tables (IC 20 attributes
    7, 8 and 9), each day's switches running the tariff script table's entry ``rate``."""
    season_table = dlms.array(
        *(
            dlms.structure(
                dlms.octet_string(s.name), dlms.octet_string(s.start), dlms.octet_string(s.week)
            )
            for s in seasons
        )
    )
    week_table = dlms.array(
        *(
            dlms.structure(dlms.octet_string(w.name), *(dlms.unsigned(d) for d in w.days))
            for w in weeks
        )
    )
    day_table = dlms.array(
        *(
            dlms.structure(
                dlms.unsigned(d.day_id),
                dlms.array(
                    *(
                        dlms.structure(
                            dlms.octet_string(
                                bytes([x.start.hour, x.start.minute, x.start.second, 0])
                            ),
                            dlms.octet_string(TARIFF_SCRIPTS.raw),
                            dlms.long_unsigned(x.rate),
                        )
                        for x in d.switches
                    )
                ),
            )
            for d in days
        )
    )
    return season_table, week_table, day_table


def read_calendar(seasons: Data, weeks: Data, days: Data) -> Calendar:
    """The inverse of :func:`calendar_data`."""
    season_list = tuple(
        Season(*(_octets(v, "season") for v in _items(s, "season", 3)))
        for s in _items(seasons, "season profiles")
    )
    week_list = []
    for w in _items(weeks, "week profiles"):
        name, *day_ids = _items(w, "week profile", 8)
        ids = tuple(_int(d, "day id", dlms.DataType.UNSIGNED) for d in day_ids)
        week_list.append(
            WeekProfile(
                _octets(name, "week name"), (ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], ids[6])
            )
        )
    day_list = []
    for d in _items(days, "day profiles"):
        day_id, actions = _items(d, "day profile", 2)
        switches = []
        for a in _items(actions, "day profile actions"):
            start, script, rate = _items(a, "day profile action", 3)
            t = _octets(start, "switch time")
            if len(t) != 4 or _octets(script, "script") != TARIFF_SCRIPTS.raw:
                raise DecodeError("day profile action not in the GBCS form")
            try:
                when = _dt.time(t[0], t[1], t[2])
            except ValueError:
                raise DecodeError(f"bad switch time {t.hex()}") from None
            switches.append(
                TariffSwitch(when, _int(rate, "tariff rate", dlms.DataType.LONG_UNSIGNED))
            )
        day_list.append(DayProfile(_int(day_id, "day id", dlms.DataType.UNSIGNED), tuple(switches)))
    return season_list, tuple(week_list), tuple(day_list)


def special_days_data(days: Sequence[SpecialDay]) -> Data:
    """A special days table (IC 11 attribute 2)."""
    return dlms.array(
        *(
            dlms.structure(
                dlms.long_unsigned(s.index), dlms.octet_string(s.date), dlms.unsigned(s.day_id)
            )
            for s in days
        )
    )


def read_special_days(value: Data) -> tuple[SpecialDay, ...]:
    return tuple(
        SpecialDay(
            _int(i, "special day index", dlms.DataType.LONG_UNSIGNED),
            _octets(date, "special day date"),
            _int(day, "special day id", dlms.DataType.UNSIGNED),
        )
        for i, date, day in (_items(s, "special day", 3) for s in _items(value, "special days"))
    )


def calendar_problems(
    seasons: Sequence[Season], weeks: Sequence[WeekProfile], days: Sequence[DayProfile]
) -> list[str]:
    """Why a meter would reject this calendar: names it does not define, switch times out of
    order (the rates are the caller's to check)."""
    found: list[str] = []
    week_names = {w.name for w in weeks}
    day_ids = {d.day_id for d in days}
    if not seasons:
        found.append("the calendar has no season")
    for s in seasons:
        if s.week not in week_names:
            found.append(f"season {s.name!r} uses unknown week profile {s.week!r}")
    for w in weeks:
        for day_id in w.days:
            if day_id not in day_ids:
                found.append(f"week profile {w.name!r} uses unknown day profile {day_id}")
    for d in days:
        if not d.switches:
            found.append(f"day profile {d.day_id} has no tariff switch")
        starts = [x.start for x in d.switches]
        if starts != sorted(starts) or len(set(starts)) != len(starts):
            found.append(f"day profile {d.day_id}: switch times not strictly increasing")
    return found


@dataclass(frozen=True, slots=True)
class UpdateTariff(DlmsCommand):
    """ECS01a Set Tariff and Price on ESME (critical), in the layout of the reference
    command: the passive activity calendar (seasons, week and day profiles: the TOU
    switching table), special days, the eight block-threshold register monitors, the
    standing charge and the price matrix (IC 113 unit charges: TOU prices for rates 1..48,
    block prices for blocks A..D x rates 1..8) and the activation date-times.

    Charges are in units of ``10**price_scale`` (currency) per ``10**commodity_scale`` Wh
    (prices) or per day (standing charge). ``activate_at`` None means activate now.
    ``tariff_flag`` is 0-0:94.44.2.0 attribute 4 (TRUE in the reference data; its GBCS
    name is not confirmed here).
    """

    counter: int
    seasons: tuple[Season, ...]
    week_profiles: tuple[WeekProfile, ...]
    day_profiles: tuple[DayProfile, ...]
    standing_charge: int
    tou_prices: tuple[int, ...]
    block_prices: tuple[tuple[int, ...], ...] = ((0,) * BLOCK_RATES,) * BLOCKS
    block_thresholds: tuple[tuple[int, ...], ...] = ((0xFFFF_FFFF,),) * 8
    special_days: tuple[SpecialDay, ...] = ()
    activate_at: _dt.datetime | None = None
    price_scale: int = -5
    commodity_scale: int = 3
    tariff_flag: bool = True
    cancel_pending: bool = False
    """Send the cancelling activation time instead of ``activate_at`` (which must be None)."""
    message_code: ClassVar[int] = 0x0019

    def specs(self) -> tuple[AccessSpec, ...]:
        return (
            dlms.set_(20, ACTIVITY_CALENDAR, 7),
            dlms.set_(20, ACTIVITY_CALENDAR, 8),
            dlms.set_(20, ACTIVITY_CALENDAR, 9),
            dlms.set_(11, SPECIAL_DAYS, 2),
            *(dlms.set_(21, obis, 2) for obis in BLOCK_THRESHOLD_MONITORS),
            dlms.set_(9000, GB_TARIFF_FLAG, 4),
            dlms.set_(113, STANDING_CHARGE, 6),
            dlms.set_(113, PRICE_MATRIX, 6),
            *self.activations(),
        )

    @staticmethod
    def activations() -> tuple[AccessSpec, ...]:
        """The six activation date-time attributes, in the command's order - of the
        switching table, special days, currency unit, standing charge, price matrix and
        threshold matrix, as the DCC's reference alerts name them. A meter executing a
        future-dated ECS01a alerts 0x8F66 once for each, naming it."""
        return (
            dlms.set_(20, ACTIVITY_CALENDAR, 10),
            dlms.set_(9000, GB_TARIFF_ACTIVATION, 6),
            dlms.set_(9000, GB_TARIFF_FLAG, 6),
            dlms.set_(113, STANDING_CHARGE, 7),
            dlms.set_(113, PRICE_MATRIX, 7),
            dlms.set_(9000, GB_TARIFF_ACTIVATION_2, 6),
        )

    def problems(self) -> list[str]:
        """Why a meter would reject this tariff (empty when it is consistent)."""
        found = calendar_problems(self.seasons, self.week_profiles, self.day_profiles)
        days = {d.day_id for d in self.day_profiles}
        for d in self.day_profiles:
            for x in d.switches:
                block = x.rate - BLOCK_SCRIPT_BASE
                if not 1 <= x.rate <= TOU_RATES and not 1 <= block <= BLOCK_RATES:
                    found.append(
                        f"day profile {d.day_id}: tariff rate {x.rate} is neither a TOU rate "
                        "(1..48) nor a block rate (101..108)"
                    )
        for sd in self.special_days:
            if sd.day_id not in days:
                found.append(f"special day {sd.index} uses unknown day profile {sd.day_id}")
        if len(self.tou_prices) != TOU_RATES:
            found.append(f"{len(self.tou_prices)} TOU prices, expected {TOU_RATES}")
        if len(self.block_prices) != BLOCKS or any(
            len(b) != BLOCK_RATES for b in self.block_prices
        ):
            found.append("block prices must be 4 blocks x 8 rates")
        if len(self.block_thresholds) != len(BLOCK_THRESHOLD_MONITORS):
            found.append("block thresholds must be 8 register monitors")
        charges = [
            self.standing_charge,
            *self.tou_prices,
            *(p for b in self.block_prices for p in b),
        ]
        if any(x < 0 for x in charges):
            found.append("negative standing charge or price")
        if any(x > 0x7FFF for x in charges):
            found.append("a charge exceeds 32767 (a DLMS long): use a larger price_scale")
        return found

    def _activation(self) -> OctetString:
        return activation(self.activate_at, self.cancel_pending)

    def encode(self) -> bytes:
        seasons, weeks, days = calendar_data(self.seasons, self.week_profiles, self.day_profiles)
        special = special_days_data(self.special_days)
        thresholds = [
            dlms.array(*(dlms.double_long_unsigned(v) for v in t)) for t in self.block_thresholds
        ]
        standing = _unit_charge(
            0, self.price_scale, (0, bytes(6), 0), [(b"", self.standing_charge)]
        )
        table = [(bytes([i + 1]), p) for i, p in enumerate(self.tou_prices)]
        for b, prices in enumerate(self.block_prices):
            table += [(bytes([0xA1 + 0x10 * b + r]), p) for r, p in enumerate(prices)]
        price = _unit_charge(
            self.commodity_scale, self.price_scale, (3, Obis.parse("1-0:1.8.0.255").raw, 2), table
        )
        data: list[Data] = [seasons, weeks, days, special, *thresholds]
        data += [dlms.boolean(self.tariff_flag), standing, price]
        data += [self._activation()] * 6
        return _request(self.counter, self.specs(), data)

    @classmethod
    def decode(cls, content: bytes) -> UpdateTariff:
        template = cls(0, (), (), (), 0, ())
        counter, data = _parse_request(content, template.specs())
        seasons, weeks, day_profiles = read_calendar(data[0], data[1], data[2])
        special = read_special_days(data[3])
        thresholds = tuple(
            tuple(
                _int(v, "block threshold", dlms.DataType.DOUBLE_LONG_UNSIGNED)
                for v in _items(t, "thresholds")
            )
            for t in data[4:12]
        )
        flag = data[12]
        if not isinstance(flag, dlms.Boolean):
            raise DecodeError("tariff flag: expected a boolean")
        _, price_scale, _, standing_table = _parse_unit_charge(data[13])
        commodity_scale, price_scale_2, _, price_table = _parse_unit_charge(data[14])
        if len(standing_table) != 1 or price_scale != price_scale_2:
            raise DecodeError("standing charge not in the GBCS form")
        prices = dict(price_table)
        tou = tuple(prices.get(bytes([i + 1]), 0) for i in range(TOU_RATES))
        blocks = tuple(
            tuple(prices.get(bytes([0xA1 + 0x10 * b + r]), 0) for r in range(BLOCK_RATES))
            for b in range(BLOCKS)
        )
        activate_at, cancel_pending = read_activation(
            [_octets(v, "activation time") for v in data[15:21]], "the tariff"
        )
        found = cls(
            counter,
            seasons,
            weeks,
            day_profiles,
            standing_table[0][1],
            tou,
            blocks,
            thresholds,
            special,
            activate_at,
            price_scale,
            commodity_scale,
            flag.value,
            cancel_pending,
        )
        _check_exact(found, content)
        return found


@dataclass(frozen=True, slots=True)
class UpdatePrice(DlmsCommand):
    """ECS01b Set Price on ESME (critical): the standing charge and the price matrix of
    :class:`UpdateTariff` without its calendar, and their activation date-time (None: now;
    ``cancel_pending``: cancel the pending future-dated price)."""

    counter: int
    standing_charge: int
    tou_prices: tuple[int, ...]
    block_prices: tuple[tuple[int, ...], ...] = ((0,) * BLOCK_RATES,) * BLOCKS
    activate_at: _dt.datetime | None = None
    price_scale: int = -5
    commodity_scale: int = 3
    cancel_pending: bool = False
    message_code: ClassVar[int] = 0x00A2

    def specs(self) -> tuple[AccessSpec, ...]:
        return (
            dlms.set_(113, STANDING_CHARGE, 6),
            dlms.set_(113, PRICE_MATRIX, 6),
            dlms.set_(113, STANDING_CHARGE, 7),
            dlms.set_(113, PRICE_MATRIX, 7),
        )

    def problems(self) -> list[str]:
        """Why a meter would reject these prices (empty when they are consistent)."""
        return [
            p
            for p in self._as_tariff().problems()
            if "TOU prices" in p or "block prices" in p or "charge" in p
        ]

    def _as_tariff(self) -> UpdateTariff:
        return UpdateTariff(
            self.counter,
            (),
            (),
            (),
            self.standing_charge,
            self.tou_prices,
            self.block_prices,
            activate_at=self.activate_at,
            price_scale=self.price_scale,
            commodity_scale=self.commodity_scale,
            cancel_pending=self.cancel_pending,
        )

    def encode(self) -> bytes:
        tariff = self._as_tariff()
        standing = _unit_charge(
            0, self.price_scale, (0, bytes(6), 0), [(b"", self.standing_charge)]
        )
        table = [(bytes([i + 1]), p) for i, p in enumerate(self.tou_prices)]
        for b, prices in enumerate(self.block_prices):
            table += [(bytes([0xA1 + 0x10 * b + r]), p) for r, p in enumerate(prices)]
        price = _unit_charge(
            self.commodity_scale, self.price_scale, (3, Obis.parse("1-0:1.8.0.255").raw, 2), table
        )
        activation = tariff._activation()
        return _request(self.counter, self.specs(), [standing, price, activation, activation])

    @classmethod
    def decode(cls, content: bytes) -> UpdatePrice:
        counter, data = _parse_request(content, cls(0, 0, ()).specs())
        _, price_scale, _, standing_table = _parse_unit_charge(data[0])
        commodity_scale, price_scale_2, _, price_table = _parse_unit_charge(data[1])
        if len(standing_table) != 1 or price_scale != price_scale_2:
            raise DecodeError("ECS01b: standing charge not in the GBCS form")
        prices = dict(price_table)
        tou = tuple(prices.get(bytes([i + 1]), 0) for i in range(TOU_RATES))
        blocks = tuple(
            tuple(prices.get(bytes([0xA1 + 0x10 * b + r]), 0) for r in range(BLOCK_RATES))
            for b in range(BLOCKS)
        )
        activate_at, cancelled = read_activation(
            [_octets(v, "activation time") for v in data[2:]], "ECS01b"
        )
        found = cls(
            counter,
            standing_table[0][1],
            tou,
            blocks,
            activate_at,
            price_scale,
            commodity_scale,
            cancelled,
        )
        _check_exact(found, content)
        return found


def _unit_charge(
    commodity_scale: int,
    price_scale: int,
    commodity: tuple[int, bytes, int],
    table: Sequence[tuple[bytes, int]],
) -> Structure:
    """IC 113 unit_charge: scaling, commodity reference, charge table (index, long charge)."""
    return dlms.structure(
        dlms.structure(dlms.integer(commodity_scale), dlms.integer(price_scale)),
        dlms.structure(
            dlms.long_unsigned(commodity[0]),
            dlms.octet_string(commodity[1]),
            dlms.integer(commodity[2]),
        ),
        dlms.array(*(dlms.structure(dlms.octet_string(i), dlms.long(v)) for i, v in table)),
    )


def _parse_unit_charge(
    value: Data,
) -> tuple[int, int, tuple[int, bytes, int], list[tuple[bytes, int]]]:
    scaling, commodity, table = _items(value, "unit charge", 3)
    cs, ps = _items(scaling, "charge scaling", 2)
    cls_, obis, attr = _items(commodity, "commodity", 3)
    entries = []
    for e in _items(table, "charge table"):
        index, charge = _items(e, "charge table entry", 2)
        entries.append((_octets(index, "charge index"), _int(charge, "charge", dlms.DataType.LONG)))
    return (
        _int(cs, "commodity scale", dlms.DataType.INTEGER),
        _int(ps, "price scale", dlms.DataType.INTEGER),
        (
            _int(cls_, "commodity class"),
            _octets(obis, "commodity OBIS"),
            _int(attr, "commodity attribute"),
        ),
        entries,
    )


# =========================================================================== CS01a / CS01b

TOKEN_GATEWAY = "0-0:19.40.0.255"
"""IC 115 token gateway; method 1 ``enter`` takes the token."""


def _check_utrn(utrn: str) -> None:
    if not (utrn.isascii() and utrn.isdigit() and len(utrn) == 20):
        raise EncodeError(f"a UTRN is 20 decimal digits, not {utrn!r}")


@dataclass(frozen=True, slots=True)
class TopUp(DlmsCommand):
    """CS01a Apply Prepayment Top Up to an ESME: the UTRN (20 digits, as ASCII) entered
    through the DLMS token gateway. *Unverified*: no reference message for CS01a was
    available; the object (IC 115 0-0:19.40.0.255 method 1) is the DLMS token gateway."""

    counter: int
    utrn: str
    message_code: ClassVar[int] = 0x0007

    def __post_init__(self) -> None:
        _check_utrn(self.utrn)

    def specs(self) -> tuple[AccessSpec, ...]:
        return (dlms.action(115, TOKEN_GATEWAY, 1),)

    def encode(self) -> bytes:
        return _request(self.counter, self.specs(), [dlms.octet_string(self.utrn.encode("ascii"))])

    @classmethod
    def decode(cls, content: bytes) -> TopUp:
        counter, (token,) = _parse_request(content, (dlms.action(115, TOKEN_GATEWAY, 1),))
        try:
            return cls(counter, _octets(token, "UTRN").decode("ascii"))
        except (UnicodeDecodeError, EncodeError) as exc:
            raise DecodeError(f"CS01a: {exc}") from None


class TopUpOrigin(IntEnum):
    """ZCL Prepayment ConsumerTopUp originating device."""

    ENERGY_SERVICE_INTERFACE = 0
    METER = 1
    IHD = 2


@dataclass(frozen=True, slots=True)
class TopUpGas:
    """CS01b Apply Prepayment Top Up to a GSME: ZCL Prepayment ConsumerTopUp (0x04) with the
    UTRN as the top-up code. *Unverified* against reference data (none was available)."""

    utrn: str
    origin: TopUpOrigin = TopUpOrigin.ENERGY_SERVICE_INTERFACE
    message_code: ClassVar[int] = 0x0097

    def __post_init__(self) -> None:
        _check_utrn(self.utrn)

    def encode(self) -> bytes:
        code = ZclValue.string(ZclType.OCTET_STRING, self.utrn.encode("ascii")).to_bytes()
        frame = ZclFrame(gbz.FC_CLUSTER_SPECIFIC, 0, 0x04, bytes([self.origin]) + code)
        return GbzPayload((GbzComponent(Cluster.PREPAYMENT, frame, CONTROL_LAST),)).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> TopUpGas:
        payload = GbzPayload.from_bytes(content)
        if len(payload.components) != 1 or payload.components[0].cluster_id != Cluster.PREPAYMENT:
            raise DecodeError("CS01b: expected one Prepayment cluster component")
        frame = payload.components[0].frame
        if not isinstance(frame, ZclFrame) or frame.command_id != 0x04 or len(frame.payload) < 2:
            raise DecodeError("CS01b: expected a ZCL ConsumerTopUp")
        try:
            found = cls(frame.payload[2:].decode("ascii"), TopUpOrigin(frame.payload[0]))
        except (UnicodeDecodeError, EncodeError, ValueError) as exc:
            raise DecodeError(f"CS01b: {exc}") from None
        _check_exact(found, content)
        return found


class TopUpResult(IntEnum):
    """ZCL Prepayment ConsumerTopUpResponse result type."""

    ACCEPTED = 0x00
    REJECTED_INVALID = 0x01
    REJECTED_DUPLICATE = 0x02
    REJECTED_ERROR = 0x03
    REJECTED_MAX_CREDIT = 0x04
    REJECTED_KEYPAD_LOCK = 0x05
    REJECTED_TOO_LARGE = 0x06
    ACCEPTED_SUPPLY_ENABLED = 0x10
    ACCEPTED_SUPPLY_DISABLED = 0x11
    ACCEPTED_SUPPLY_ARMED = 0x12


@dataclass(frozen=True, slots=True)
class GasTopUpResult:
    """CS01b response: ZCL ConsumerTopUpResponse (0x03): result, top-up value, source,
    credit remaining (values in the meter's currency units). *Unverified* shape."""

    result: TopUpResult
    value: int
    credit_remaining: int
    origin: TopUpOrigin = TopUpOrigin.ENERGY_SERVICE_INTERFACE

    @property
    def ok(self) -> bool:
        return self.result in (
            TopUpResult.ACCEPTED,
            TopUpResult.ACCEPTED_SUPPLY_ENABLED,
            TopUpResult.ACCEPTED_SUPPLY_DISABLED,
            TopUpResult.ACCEPTED_SUPPLY_ARMED,
        )

    def encode(self) -> bytes:
        payload = (
            bytes([self.result])
            + self.value.to_bytes(4, "little", signed=True)
            + bytes([self.origin])
            + self.credit_remaining.to_bytes(4, "little", signed=True)
        )
        frame = ZclFrame(gbz.FC_CLUSTER_SPECIFIC | gbz.FC_SERVER_TO_CLIENT, 0, 0x03, payload)
        return GbzPayload((GbzComponent(Cluster.PREPAYMENT, frame, CONTROL_LAST),)).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> GasTopUpResult:
        payload = GbzPayload.from_bytes(content)
        frame = payload.components[0].frame if len(payload.components) == 1 else None
        if not isinstance(frame, ZclFrame) or frame.command_id != 0x03 or len(frame.payload) != 10:
            raise DecodeError("CS01b response: expected a ZCL ConsumerTopUpResponse")
        p = frame.payload
        try:
            found = cls(
                TopUpResult(p[0]),
                int.from_bytes(p[1:5], "little", signed=True),
                int.from_bytes(p[6:10], "little", signed=True),
                TopUpOrigin(p[5]),
            )
        except ValueError as exc:
            raise DecodeError(f"CS01b response: {exc}") from None
        _check_exact(found, content)
        return found


# =========================================================================== registry

Command = UpdateTariff | UpdatePrice | TopUp | TopUpGas
Response = GasTopUpResult
"""This family's own response shapes (besides the shared ``Outcome`` / ``ZclFailure``)."""

register(0x0019, UpdateTariff.decode, Outcome.decode)
register(0x00A2, UpdatePrice.decode, Outcome.decode)
register(0x0007, TopUp.decode, Outcome.decode)
register(0x0097, TopUpGas.decode, GasTopUpResult.decode, ZclFailure.decode)


__all__ = [
    "ACTIVITY_CALENDAR",
    "BLOCKS",
    "BLOCK_RATES",
    "BLOCK_SCRIPT_BASE",
    "BLOCK_THRESHOLD_MONITORS",
    "GB_TARIFF_ACTIVATION",
    "GB_TARIFF_ACTIVATION_2",
    "GB_TARIFF_FLAG",
    "IMMEDIATE",
    "PRICE_MATRIX",
    "SPECIAL_DAYS",
    "STANDING_CHARGE",
    "TARIFF_SCRIPTS",
    "TOKEN_GATEWAY",
    "TOU_RATES",
    "DayProfile",
    "GasTopUpResult",
    "Season",
    "SpecialDay",
    "TariffSwitch",
    "TopUp",
    "TopUpGas",
    "TopUpOrigin",
    "TopUpResult",
    "UpdatePrice",
    "UpdateTariff",
    "WeekProfile",
    "activation",
    "read_activation",
]
