"""Tariff, price, prepayment and account SRs (service references 1, 2, 3): what the meter
bills by, and its credit."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from gateway.duis.xml import local_name
from gateway.errors import ServiceError
from gateway.srv.account import CANCELLATION, execution
from gateway.srv.example import Example, Values
from gateway.srv.fields import (
    Fields,
    children,
    cosem_date,
    date_part,
    invalid,
    number,
    one,
    read_int,
    time_of,
)
from gateway.srv.registry import serves
from gateway.srv.spec import Codec, Command
from gbcs import content as gc
from gbcs.payloads import gbz

__all__ = ["TopUpDevice", "UpdateImportTariff", "UpdatePrice"]


@dataclass(frozen=True, slots=True)
class TopUpDevice:
    """SR2.2 ``TopUpDevice``: CS01a (ESME) / CS01b (GSME) with a 20-digit UTRN."""

    utrn: str


@dataclass(frozen=True, slots=True)
class GasTariff:
    """SR1.1.1 for a GSME (GCS01a): the calendar, special days, block thresholds and the
    prices (:class:`GasPrices`); the DCC's clock gives the issuer event id when it is built."""

    days: tuple[gc.GasDay, ...]
    weeks: tuple[tuple[int, tuple[int, ...]], ...]
    seasons: tuple[gc.GasSeason, ...]
    special_days: tuple[gc.GasSpecialDay, ...]
    thresholds: tuple[int, ...]
    prices: GasPrices


@dataclass(frozen=True, slots=True)
class UpdateImportTariff:
    """SR1.1.1 ``UpdateImportTariffPrimaryElement``: ECS01a (ESME), the typed tariff of
    :mod:`gbcs.content` (its counter is the command's, set when it is built), or the GSME's
    tariff (GCS01a)."""

    tariff: gc.UpdateTariff | None
    gas: GasTariff | None = None


def _read_top_up(body: etree._Element) -> TopUpDevice:
    f = Fields(body, ("UTRN",))
    utrn = f.text("UTRN") or ""
    if not re.fullmatch(r"[0-9]{20}", utrn):
        raise invalid("UTRN", f"{utrn!r} is not 20 decimal digits")
    return TopUpDevice(utrn)


def _build_top_up(cmd: Command) -> bytes:
    request: TopUpDevice = cmd.request
    if cmd.use_case.name == "CS01b":
        return gc.TopUpGas(request.utrn).encode()
    return gc.TopUp(cmd.counter, request.utrn).encode()


def _read_tariff(body: etree._Element) -> UpdateImportTariff:
    """SR1.1.1 ``UpdateImportTariffPrimaryElement`` (electricity, TOU or block tariff) as
    the ECS01a content of :class:`gbcs.content.UpdateTariff` (its counter is set later)."""
    f = Fields(body, ("ExecutionDateTime", "ElecTariffElements", "GasTariffElements",
                       "PriceElements"), dated=True)  # fmt: skip
    when = execution(f)
    if "GasTariffElements" in f.elements and "ElecTariffElements" not in f.elements:
        if "PriceElements" not in f.elements:
            raise invalid("UpdateImportTariffPrimaryElement", "PriceElements is missing")
        return UpdateImportTariff(
            None, _gas_tariff(f.elements["GasTariffElements"], f.elements["PriceElements"], when)
        )
    if "ElecTariffElements" not in f.elements:
        raise invalid("UpdateImportTariffPrimaryElement", "an ESME tariff needs ElecTariffElements")
    tariff = f.elements["ElecTariffElements"]
    table = one(tariff, "SwitchingTable")
    days = []
    for day in children(one(table, "DayProfiles"), "DayProfile"):
        switches = []
        for schedule in children(day, "ProfileSchedule"):
            action = children(schedule, "TOUTariffAction") or children(
                schedule, "BlockTariffAction"
            )
            if len(action) != 1:
                raise invalid("ProfileSchedule", "it needs a TOUTariffAction or BlockTariffAction")
            kind = local_name(action[0])
            rate = read_int(kind, (action[0].text or "").strip(), 1, 48)
            if kind == "BlockTariffAction":
                if rate > gc.BLOCK_RATES:
                    raise invalid(kind, f"{rate} is not a block tariff rate (1 to 8)")
                rate += gc.BLOCK_SCRIPT_BASE
            start = time_of(one(schedule, "StartTime").text)
            switches.append(gc.TariffSwitch(start, rate))
        days.append(gc.DayProfile(number(day, "DayName", 1, 16), tuple(switches)))
    weeks = elec_weeks(table)
    seasons = elec_seasons(table)
    special = tuple(
        gc.SpecialDay(
            index,
            cosem_date(one(sd, "Date"), with_time=False),
            number(sd, "ReferencedDayName", 1, 16),
        )
        for index, sd in enumerate(children(one(tariff, "SpecialDays"), "SpecialDay"), start=1)
    )
    thresholds: list[tuple[int, ...]] = [(0xFFFF_FFFF,)] * 8
    for entry in children(one(tariff, "ThresholdMatrix"), "Thresholds"):
        slot = read_int("Thresholds", entry.get("index"), 1, 8)
        blocks = sorted(children(entry, "BlockThreshold"), key=lambda e: int(e.get("index") or "0"))
        thresholds[slot - 1] = tuple(
            read_int("BlockThreshold", (b.text or "").strip(), 0, 0xFFFF_FFFF) for b in blocks
        )
    standing, price_scale, tou, block_prices = _electricity_prices(f.elements["PriceElements"])
    return UpdateImportTariff(
        gc.UpdateTariff(
            counter=0,
            seasons=seasons,
            week_profiles=weeks,
            day_profiles=tuple(days),
            standing_charge=standing,
            tou_prices=tou,
            block_prices=block_prices,
            block_thresholds=tuple(thresholds),
            special_days=special,
            price_scale=price_scale,
            activate_at=None if when == CANCELLATION else when,
            cancel_pending=when == CANCELLATION,
        )
    )


def elec_weeks(table: etree._Element) -> tuple[gc.WeekProfile, ...]:
    """An ESME switching table's ``WeekProfiles``: each names its seven days, Monday first."""
    weeks = []
    for week in children(one(table, "WeekProfiles"), "WeekProfile"):
        refs = sorted(children(week, "ReferencedDayName"), key=lambda e: int(e.get("index") or "0"))
        found = [read_int("ReferencedDayName", (r.text or "").strip(), 1, 16) for r in refs]
        if len(found) != 7:
            raise invalid("WeekProfile", f"it names {len(found)} days, not 7")
        names = (found[0], found[1], found[2], found[3], found[4], found[5], found[6])
        name = number(week, "WeekName", 1, 4)
        weeks.append(gc.WeekProfile(bytes([name]), names))
    return tuple(weeks)


def elec_seasons(table: etree._Element) -> tuple[gc.Season, ...]:
    """An ESME switching table's ``Seasons``: name, start (a COSEM date-time at midnight)
    and week profile."""
    seasons = []
    for season in children(one(table, "Seasons"), "Season"):
        label = (one(season, "SeasonName").text or "").strip().encode("ascii", "replace")[:8]
        season_start = cosem_date(one(season, "SeasonStartDate"), with_time=True)
        week_name = bytes([number(season, "ReferencedWeekName", 1, 4)])
        seasons.append(gc.Season(label, season_start, week_name))
    return tuple(seasons)


def _gas_weeks(profiles: etree._Element) -> list[tuple[int, tuple[int, ...]]]:
    """A GSME calendar's ``WeekProfiles``: (week name, the seven day names, Monday first)."""
    weeks: list[tuple[int, tuple[int, ...]]] = []
    for week in children(profiles, "WeekProfile"):
        refs = sorted(children(week, "ReferencedDayName"), key=lambda e: int(e.get("index") or "0"))
        found = tuple(read_int("ReferencedDayName", (r.text or "").strip(), 1, 255) for r in refs)
        if len(found) != 7:
            raise invalid("WeekProfile", f"it names {len(found)} days, not 7")
        weeks.append((number(week, "WeekName", 1, 255), found))
    return weeks


def _gas_seasons(seasons: etree._Element) -> tuple[gc.GasSeason, ...]:
    return tuple(
        gc.GasSeason(_zcl_date(one(s, "SeasonStartDate")), number(s, "ReferencedWeekName", 1, 255))
        for s in children(seasons, "Season")
    )


def _gas_special_days(days: etree._Element) -> tuple[gc.GasSpecialDay, ...]:
    return tuple(
        gc.GasSpecialDay(_zcl_date(one(d, "Date")), number(d, "ReferencedDayName", 1, 255))
        for d in children(days, "SpecialDay")
    )


def _zcl_date(date: etree._Element) -> bytes:
    """A DUIS gas date (with wildcards) as a ZCL date: year - 1900, month, day, day of week;
    0xFF where not specified."""
    year = date_part(date, "GasYearWithWildcards", "SpecifiedYear", 1)
    month = date_part(date, "GasMonthWithWildcards", "SpecifiedMonth", 1)
    day = date_part(date, "GasDayOfMonthWithWildcards", "SpecifiedDayOfMonth", 1)
    weekday = date_part(date, "GasDayOfWeekWithWildcards", "SpecifiedDayOfWeek", 1)
    if year != 0xFF and not 1900 <= year <= 2154:
        raise invalid("SpecifiedYear", f"{year} is not a year from 1900 to 2154")
    return bytes([0xFF if year == 0xFF else year - 1900, month, day, weekday])


def _gas_tariff(
    elements: etree._Element, price_elements: etree._Element, when: datetime | None
) -> GasTariff:
    table = one(elements, "SwitchingTable")
    days = []
    for day in children(one(table, "DayProfiles"), "DayProfile"):
        tou = children(day, "TOUTariffAction")
        if len(tou) + len(children(day, "BlockTariff")) != 1:
            raise invalid("DayProfile", "it needs a TOUTariffAction or BlockTariff")
        tier = read_int("TOUTariffAction", (tou[0].text or "").strip(), 1, 4) if tou else 0
        days.append(gc.GasDay(number(day, "DayName", 1, 255), tier))
    weeks = _gas_weeks(one(table, "WeekProfiles"))
    seasons = _gas_seasons(one(table, "Seasons"))
    special = _gas_special_days(one(elements, "SpecialDays"))
    matrix = sorted(
        children(one(elements, "ThresholdMatrix"), "BlockThreshold"),
        key=lambda e: int(e.get("index") or "0"),
    )
    thresholds = tuple(
        read_int("BlockThreshold", (t.text or "").strip(), 0, (1 << 48) - 1) for t in matrix
    )
    prices = _gas_prices(one(price_elements, "GasPriceElements"), when)
    if prices.block:
        # The thresholds in use are those the matrix holds, as the DCC's commands carry.
        prices = dataclasses.replace(prices, thresholds=len(thresholds))
    return GasTariff(tuple(days), tuple(weeks), seasons, special, thresholds, prices)


def _build_gas_tariff(cmd: Command, gas: GasTariff) -> bytes:
    tariff = gc.GasTariff(
        _gas_price(cmd, gas.prices),
        gas.days,
        gas.weeks,
        gas.seasons,
        gas.special_days,
        gas.thresholds,
    )
    problems = tariff.problems()
    if problems:
        raise ServiceError(
            "invalid_value",
            field="UpdateImportTariffPrimaryElement",
            value="the gas tariff",
            reason="; ".join(problems),
        )
    return tariff.encode()


def _build_tariff(cmd: Command) -> bytes:
    request: UpdateImportTariff = cmd.request
    if cmd.use_case.name == "GCS01a":
        if request.gas is None:
            raise invalid(
                "UpdateImportTariffPrimaryElement", "a GSME's tariff is GasTariffElements"
            )
        return _build_gas_tariff(cmd, request.gas)
    if request.tariff is None:
        raise invalid("UpdateImportTariffPrimaryElement", "an ESME's tariff is ElecTariffElements")
    problems = request.tariff.problems()
    if problems:
        raise ServiceError(
            "invalid_value",
            field="UpdateImportTariffPrimaryElement",
            value="the tariff",
            reason="; ".join(problems),
        )
    return dataclasses.replace(request.tariff, counter=cmd.counter).encode()


Prices = tuple[int, int, tuple[int, ...], tuple[tuple[int, ...], ...]]
"""Standing charge, price scale, the 48 TOU prices, the 4 x 8 block prices."""


def _electricity_prices(price_elements: etree._Element) -> Prices:
    """The ``ElectricityPriceElements`` of a DUIS ``PriceElements``."""
    prices = one(one(price_elements, "ElectricityPriceElements"), "StandingCharge")
    elements = prices.getparent()
    assert elements is not None
    standing = read_int("StandingCharge", (prices.text or "").strip(), -32768, 32767)
    price_scale = number(elements, "PriceScale", -128, 127)
    tou = [0] * 48
    block_prices = [[0] * 8 for _ in range(4)]
    # A hybrid tariff holds both TOU prices and block prices.
    tou_holders = children(elements, "TOUTariff") + children(elements, "HybridTariff")
    block_holders = children(elements, "BlockTariff") + children(elements, "HybridTariff")
    for price in (p for holder in tou_holders for p in children(holder, "TOUPrice")):
        tou[read_int("TOUPrice", price.get("index"), 1, 48) - 1] = read_int(
            "TOUPrice", (price.text or "").strip(), -32768, 32767
        )
    for rates in (r for holder in block_holders for r in children(holder, "BlockPrices")):
        rate = read_int("BlockPrices", rates.get("index"), 1, 8)
        for price in children(rates, "BlockPrice"):
            block = read_int("BlockPrice", price.get("index"), 1, 4)
            block_prices[block - 1][rate - 1] = read_int(
                "BlockPrice", (price.text or "").strip(), -32768, 32767
            )
    return standing, price_scale, tuple(tou), tuple(tuple(b) for b in block_prices)


@dataclass(frozen=True, slots=True)
class GasPrices:
    """SR1.2.1 for a GSME (GCS01b): standing charge, the TOU or block prices, the block
    thresholds in use, the currency and the execution date-time (the DCC's clock gives the
    issuer event id when it is built)."""

    standing_charge: int
    prices: tuple[int, ...]
    block: bool
    thresholds: int
    currency: int
    execution: datetime | None


@dataclass(frozen=True, slots=True)
class UpdatePrice:
    """SR1.2.1 ``UpdatePricePrimaryElement``: ECS01b (ESME), the typed prices of
    :mod:`gbcs.content` (its counter is the command's, set when it is built), or the
    GSME's prices (GCS01b)."""

    price: gc.UpdatePrice | None
    gas: GasPrices | None = None


def _gas_prices(elements: etree._Element, when: datetime | None) -> GasPrices:
    f = Fields(elements, ("CurrencyUnits", "StandingCharge", "BlockTariff", "TOUTariff"))
    currency = {"GBP": gc.GBP, "ECB": gc.EUR}.get(f.text("CurrencyUnits") or "")
    if currency is None:
        raise invalid("CurrencyUnits", f"{f.text('CurrencyUnits')!r} is not GBP or ECB")
    standing = read_int("StandingCharge", f.text("StandingCharge"), 0, 0xFFFF_FFFF)
    block = "BlockTariff" in f.elements
    if block == ("TOUTariff" in f.elements):
        raise invalid("GasPriceElements", "it must hold one of BlockTariff, TOUTariff")
    holder = f.elements["BlockTariff" if block else "TOUTariff"]
    name = "BlockPrice" if block else "TOUPrice"
    entries = children(holder, name)
    if not 1 <= len(entries) <= 4:
        raise invalid(name, f"a gas tariff has 1 to 4 prices, not {len(entries)}")
    found: dict[int, int] = {}
    for entry in entries:
        index = read_int(name, entry.get("index"), 1, 4)
        found[index] = read_int(name, (entry.text or "").strip(), 0, 0xFFFF_FFFF)
    if sorted(found) != list(range(1, len(found) + 1)):
        raise invalid(name, "the prices must be numbered 1, 2, ... without gaps")
    thresholds = number(holder, "NumberOfThresholds", 1, 3) if block else 0
    prices = tuple(found[i] for i in sorted(found))
    return GasPrices(standing, prices, block, thresholds, currency, when)


def _gas_price(cmd: Command, gas: GasPrices) -> gc.GasPrice:
    cancel = gas.execution == CANCELLATION
    start = 0 if gas.execution is None or cancel else gbz.zigbee_time(gas.execution)
    return gc.GasPrice(
        gc.issuer_id(cmd.now),
        gas.standing_charge,
        gas.prices,
        gas.block,
        gas.thresholds,
        start,
        cancel,
        gas.currency,
    )


def _build_gas_price(cmd: Command, gas: GasPrices) -> bytes:
    return _gas_price(cmd, gas).encode()


def _read_price(body: etree._Element) -> UpdatePrice:
    f = Fields(body, ("ExecutionDateTime", "PriceElements"), dated=True)
    when = execution(f)
    if "PriceElements" not in f.elements:
        raise invalid("UpdatePricePrimaryElement", "PriceElements is missing")
    elements = f.elements["PriceElements"]
    if children(elements, "GasPriceElements") and not children(
        elements, "ElectricityPriceElements"
    ):
        return UpdatePrice(None, _gas_prices(one(elements, "GasPriceElements"), when))
    standing, price_scale, tou, block_prices = _electricity_prices(elements)
    return UpdatePrice(
        gc.UpdatePrice(
            counter=0,
            standing_charge=standing,
            tou_prices=tou,
            block_prices=block_prices,
            activate_at=None if when == CANCELLATION else when,
            price_scale=price_scale,
            cancel_pending=when == CANCELLATION,
        )
    )


def _build_price(cmd: Command) -> bytes:
    request: UpdatePrice = cmd.request
    if cmd.use_case.name == "GCS01b":
        if request.gas is None:
            raise invalid("PriceElements", "a GSME's prices are GasPriceElements")
        return _build_gas_price(cmd, request.gas)
    if request.price is None:
        raise invalid("PriceElements", "an ESME's prices are ElectricityPriceElements")
    problems = request.price.problems()
    if problems:
        raise ServiceError(
            "invalid_value",
            field="UpdatePricePrimaryElement",
            value="the prices",
            reason="; ".join(problems),
        )
    return dataclasses.replace(request.price, counter=cmd.counter).encode()


# ---------------------------------------------------------------------------- examples


def _date(year: str, month: str, day: str) -> str:
    return (
        f"<sr:Year>{year}</sr:Year>"
        f"<sr:Month><sr:SpecifiedMonth>{month}</sr:SpecifiedMonth></sr:Month>"
        f"<sr:DayOfMonth><sr:SpecifiedDayOfMonth>{day}</sr:SpecifiedDayOfMonth></sr:DayOfMonth>"
        "<sr:DayOfWeek><sr:NonSpecifiedDayOfWeek/></sr:DayOfWeek>"
    )


def _tariff_example(v: Values) -> str:
    """A single-rate time-of-use tariff: rate 1 all day, every day, from 1 January."""
    start = "<sr:ProfileSchedule><sr:StartTime>00:00:00.00Z</sr:StartTime>"
    week = "".join(
        f'<sr:ReferencedDayName index="{i}">1</sr:ReferencedDayName>' for i in range(1, 8)
    )
    thresholds = "".join(
        f'<sr:Thresholds index="{i}"><sr:BlockThreshold index="1">4294967295'
        "</sr:BlockThreshold></sr:Thresholds>"
        for i in range(1, 9)
    )
    return (
        f"<sr:ElecTariffElements>{v.element('CurrencyUnits')}<sr:SwitchingTable>"
        f"<sr:DayProfiles><sr:DayProfile><sr:DayName>1</sr:DayName>{start}"
        "<sr:TOUTariffAction>1</sr:TOUTariffAction></sr:ProfileSchedule>"
        "</sr:DayProfile></sr:DayProfiles>"
        f"<sr:WeekProfiles><sr:WeekProfile><sr:WeekName>1</sr:WeekName>{week}"
        "</sr:WeekProfile></sr:WeekProfiles>"
        f"<sr:Seasons><sr:Season>{v.element('SeasonName')}<sr:SeasonStartDate>"
        f"{_date('<sr:NonSpecifiedYear/>', '01', '01')}</sr:SeasonStartDate>"
        "<sr:ReferencedWeekName>1</sr:ReferencedWeekName></sr:Season></sr:Seasons>"
        "</sr:SwitchingTable><sr:SpecialDays/>"
        f"<sr:ThresholdMatrix>{thresholds}</sr:ThresholdMatrix></sr:ElecTariffElements>"
        f"{_single_rate_prices(v)}"
    )


def _single_rate_prices(v: Values) -> str:
    """The ``PriceElements`` of a single-rate electricity tariff: TOU rate 1's price."""
    return (
        "<sr:PriceElements><sr:ElectricityPriceElements>"
        f"{v.elements('StandingCharge', 'StandingChargeScale', 'PriceScale')}"
        f'<sr:TOUTariff><sr:TOUPrice index="1">{v.text("TOUPrice")}</sr:TOUPrice></sr:TOUTariff>'
        "</sr:ElectricityPriceElements></sr:PriceElements>"
    )


_TARIFF_EXAMPLE = Example(
    {
        "CurrencyUnits": "GBP",
        "SeasonName": "all year",
        "StandingCharge": "20000",
        "StandingChargeScale": "-5",
        "PriceScale": "-5",
        "TOUPrice": "2500",
    },
    _tariff_example,
)


def _price_example(v: Values) -> str:
    """New prices for the single-rate tariff of 1.1.1's example."""
    return v.element("ExecutionDateTime") + _single_rate_prices(v)


_PRICE_EXAMPLE = Example(
    {
        "ExecutionDateTime": None,
        "StandingCharge": "20000",
        "StandingChargeScale": "-5",
        "PriceScale": "-5",
        "TOUPrice": "2600",
    },
    _price_example,
)


serves(
    "2.2",
    Codec(
        read=_read_top_up,
        build=_build_top_up,
        builds=frozenset({"CS01a", "CS01b"}),
        example=Example({"UTRN": "73946144332040217315"}),
    ),
)
serves(
    "1.1.1",
    Codec(
        read=_read_tariff,
        build=_build_tariff,
        builds=frozenset({"ECS01a", "GCS01a"}),
        example=_TARIFF_EXAMPLE,
        reads_execution=True,
    ),
)
serves(
    "1.2.1",
    Codec(
        read=_read_price,
        build=_build_price,
        builds=frozenset({"ECS01b", "GCS01b"}),
        example=_PRICE_EXAMPLE,
        reads_execution=True,
    ),
)
