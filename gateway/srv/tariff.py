"""Tariff, price, prepayment and account SRs (service references 1, 2, 3): what the meter
bills by, and its credit."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from lxml import etree

from gateway.duis.xml import local_name
from gateway.errors import ServiceError
from gateway.srv.example import Example, Values
from gateway.srv.fields import (
    Fields,
    children,
    cosem_date,
    invalid,
    number,
    one,
    read_int,
    time_of,
)
from gateway.srv.registry import serves
from gateway.srv.spec import Codec, Command
from gbcs import content as gc

__all__ = ["TopUpDevice", "UpdateImportTariff"]


@dataclass(frozen=True, slots=True)
class TopUpDevice:
    """SR2.2 ``TopUpDevice``: CS01a (ESME) / CS01b (GSME) with a 20-digit UTRN."""

    utrn: str


@dataclass(frozen=True, slots=True)
class UpdateImportTariff:
    """SR1.1.1 ``UpdateImportTariffPrimaryElement``: ECS01a (ESME), the typed tariff of
    :mod:`gbcs.content` (its counter is the command's, set when it is built)."""

    tariff: gc.UpdateTariff


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
                       "PriceElements"))  # fmt: skip
    if "GasTariffElements" in f.elements and "ElecTariffElements" not in f.elements:
        raise ServiceError("use_case_unavailable", srv="1.1.1", use_case="GCS01a (a gas tariff)")
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
            rate = read_int(local_name(action[0]), (action[0].text or "").strip(), 1, 48)
            start = time_of(one(schedule, "StartTime").text)
            switches.append(gc.TariffSwitch(start, rate))
        days.append(gc.DayProfile(number(day, "DayName", 1, 16), tuple(switches)))
    weeks = []
    for week in children(one(table, "WeekProfiles"), "WeekProfile"):
        refs = sorted(children(week, "ReferencedDayName"), key=lambda e: int(e.get("index") or "0"))
        found = [read_int("ReferencedDayName", (r.text or "").strip(), 1, 16) for r in refs]
        if len(found) != 7:
            raise invalid("WeekProfile", f"it names {len(found)} days, not 7")
        names = (found[0], found[1], found[2], found[3], found[4], found[5], found[6])
        name = number(week, "WeekName", 1, 4)
        weeks.append(gc.WeekProfile(bytes([name]), names))
    seasons = []
    for season in children(one(table, "Seasons"), "Season"):
        label = (one(season, "SeasonName").text or "").strip().encode("ascii", "replace")[:8]
        season_start = cosem_date(one(season, "SeasonStartDate"), with_time=True)
        week_name = bytes([number(season, "ReferencedWeekName", 1, 4)])
        seasons.append(gc.Season(label, season_start, week_name))
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
    prices = one(one(f.elements["PriceElements"], "ElectricityPriceElements"), "StandingCharge")
    elements = prices.getparent()
    assert elements is not None
    standing = read_int("StandingCharge", (prices.text or "").strip(), -32768, 32767)
    price_scale = number(elements, "PriceScale", -128, 127)
    tou = [0] * 48
    block_prices = [[0] * 8 for _ in range(4)]
    for price in (
        children(children(elements, "TOUTariff")[0], "TOUPrice")
        if children(elements, "TOUTariff")
        else []
    ):
        tou[read_int("TOUPrice", price.get("index"), 1, 48) - 1] = read_int(
            "TOUPrice", (price.text or "").strip(), -32768, 32767
        )
    for rates in (
        children(children(elements, "BlockTariff")[0], "BlockPrices")
        if children(elements, "BlockTariff")
        else []
    ):
        rate = read_int("BlockPrices", rates.get("index"), 1, 8)
        for price in children(rates, "BlockPrice"):
            block = read_int("BlockPrice", price.get("index"), 1, 4)
            block_prices[block - 1][rate - 1] = read_int(
                "BlockPrice", (price.text or "").strip(), -32768, 32767
            )
    if children(elements, "HybridTariff"):
        raise ServiceError("use_case_unavailable", srv="1.1.1", use_case="ECS01a hybrid tariffs")
    return UpdateImportTariff(
        gc.UpdateTariff(
            counter=0,
            seasons=tuple(seasons),
            week_profiles=tuple(weeks),
            day_profiles=tuple(days),
            standing_charge=standing,
            tou_prices=tuple(tou),
            block_prices=tuple(tuple(b) for b in block_prices),
            block_thresholds=tuple(thresholds),
            special_days=special,
            price_scale=price_scale,
        )
    )


def _build_tariff(cmd: Command) -> bytes:
    request: UpdateImportTariff = cmd.request
    problems = request.tariff.problems()
    if problems:
        raise ServiceError(
            "invalid_value",
            field="UpdateImportTariffPrimaryElement",
            value="the tariff",
            reason="; ".join(problems),
        )
    return dataclasses.replace(request.tariff, counter=cmd.counter).encode()


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
        builds=frozenset({"ECS01a"}),
        example=_TARIFF_EXAMPLE,
    ),
)
