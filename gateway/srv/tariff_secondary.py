"""SR1.1.2 Update Import Tariff (Secondary Element) and SR1.2.2 Update Price (Secondary
Element): a twin-element ESME's secondary calendar, special days and four TOU prices (ECS01c),
or its prices alone (ECS01d), at once, at the execution date-time, or cancelling the
pending one."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from lxml import etree

from gateway.duis.xml import is_element, local_name
from gateway.errors import ServiceError
from gateway.srv.account import CANCELLATION, execution
from gateway.srv.example import Example, Values
from gateway.srv.fields import Fields, children, cosem_date, invalid, number, one, read_int, time_of
from gateway.srv.registry import serves
from gateway.srv.spec import Codec, Command
from gateway.srv.tariff import elec_seasons, elec_weeks
from gbcs import content as gc

__all__ = ["UpdateSecondaryPrice", "UpdateSecondaryTariff"]


@dataclass(frozen=True, slots=True)
class UpdateSecondaryTariff:
    """SR1.1.2: the typed ECS01c (its counter is the command's, set when it is built)."""

    tariff: gc.SecondaryTariff


@dataclass(frozen=True, slots=True)
class UpdateSecondaryPrice:
    """SR1.2.2: the typed ECS01d (its counter is the command's, set when it is built)."""

    price: gc.SecondaryPrice


def _prices(element: etree._Element) -> tuple[int, tuple[int, ...]]:
    """A ``PriceSecondary``: the price scale and the four TOU prices (the DCC sends all four;
    one the request leaves out is 0)."""
    unknown = {local_name(c) for c in element if is_element(c)} - {
        "PriceScale",
        "ElectricityPriceElement",
    }
    if unknown:
        raise invalid("PriceElements", f"unexpected element {sorted(unknown)[0]}")
    scale = number(element, "PriceScale", -128, 127)
    prices = [0] * gc.SECONDARY_RATES
    seen = set()
    for price in children(element, "ElectricityPriceElement"):
        index = read_int("ElectricityPriceElement", price.get("index"), 1, gc.SECONDARY_RATES)
        if index in seen:
            raise invalid("ElectricityPriceElement", f"index {index} appears twice")
        seen.add(index)
        prices[index - 1] = read_int("ElectricityPriceElement", (price.text or "").strip(),
                                     -32768, 32767)  # fmt: skip
    if not seen:
        raise invalid("PriceElements", "it needs an ElectricityPriceElement")
    return scale, tuple(prices)


def _days(table: etree._Element) -> tuple[gc.DayProfile, ...]:
    days = []
    for day in children(one(table, "DayProfiles"), "DayProfile"):
        switches = []
        for schedule in children(day, "ProfileSchedule"):
            rate = number(schedule, "TOUTariffAction", 1, gc.SECONDARY_RATES)
            start = time_of(one(schedule, "StartTime").text)
            switches.append(gc.TariffSwitch(start, gc.SECONDARY_SCRIPT_BASE + rate))
        days.append(gc.DayProfile(number(day, "DayName", 1, 16), tuple(switches)))
    return tuple(days)


def _read_tariff(body: etree._Element) -> UpdateSecondaryTariff:
    f = Fields(body, ("ExecutionDateTime", "SwitchingTable", "SpecialDays", "PriceElements"),
               dated=True)  # fmt: skip
    when = execution(f)
    for name in ("SwitchingTable", "SpecialDays", "PriceElements"):
        if name not in f.elements:
            raise invalid("UpdateImportTariffSecondaryElement", f"{name} is missing")
    table = f.elements["SwitchingTable"]
    special = tuple(
        gc.SpecialDay(
            index,
            cosem_date(one(sd, "Date"), with_time=False),
            number(sd, "ReferencedDayName", 1, 16),
        )
        for index, sd in enumerate(children(f.elements["SpecialDays"], "SpecialDay"), start=1)
    )
    scale, prices = _prices(f.elements["PriceElements"])
    cancel = when == CANCELLATION
    return UpdateSecondaryTariff(
        gc.SecondaryTariff(
            0,
            elec_seasons(table),
            elec_weeks(table),
            _days(table),
            special,
            prices,
            price_scale=scale,
            activate_at=None if cancel else when,
            cancel_pending=cancel,
        )
    )


def _refuse(problems: list[str], what: str) -> None:
    if problems:
        raise ServiceError(
            "invalid_value", field=what, value="the secondary element", reason="; ".join(problems)
        )


def _build_tariff(cmd: Command) -> bytes:
    request: UpdateSecondaryTariff = cmd.request
    _refuse(request.tariff.problems(), "UpdateImportTariffSecondaryElement")
    return dataclasses.replace(request.tariff, counter=cmd.counter).encode()


def _read_price(body: etree._Element) -> UpdateSecondaryPrice:
    f = Fields(body, ("ExecutionDateTime", "PriceElements"), dated=True)
    when = execution(f)
    if "PriceElements" not in f.elements:
        raise invalid("UpdatePriceSecondaryElement", "PriceElements is missing")
    scale, prices = _prices(f.elements["PriceElements"])
    cancel = when == CANCELLATION
    return UpdateSecondaryPrice(
        gc.SecondaryPrice(
            0, prices, scale, activate_at=None if cancel else when, cancel_pending=cancel
        )
    )


def _build_price(cmd: Command) -> bytes:
    request: UpdateSecondaryPrice = cmd.request
    _refuse(request.price.problems(), "UpdatePriceSecondaryElement")
    return dataclasses.replace(request.price, counter=cmd.counter).encode()


# ---------------------------------------------------------------------------- examples


def _price_elements(v: Values) -> str:
    """Day and night prices of the secondary element (rates 1 and 2)."""
    return (
        f"<sr:PriceElements>{v.element('PriceScale')}"
        f'<sr:ElectricityPriceElement index="1">{v.text("DayPrice")}</sr:ElectricityPriceElement>'
        f'<sr:ElectricityPriceElement index="2">{v.text("NightPrice")}'
        "</sr:ElectricityPriceElement></sr:PriceElements>"
    )


def _tariff_example(v: Values) -> str:
    """An economy 7 heating circuit: rate 2 from 00:00 to 07:00, rate 1 after, every day of
    the year."""
    week = "".join(
        f'<sr:ReferencedDayName index="{i}">1</sr:ReferencedDayName>' for i in range(1, 8)
    )
    switches = "".join(
        f"<sr:ProfileSchedule><sr:StartTime>{start}</sr:StartTime>"
        f"<sr:TOUTariffAction>{rate}</sr:TOUTariffAction></sr:ProfileSchedule>"
        for start, rate in (("00:00:00.00Z", 2), ("07:00:00.00Z", 1))
    )
    start = (
        "<sr:Year><sr:NonSpecifiedYear/></sr:Year>"
        "<sr:Month><sr:SpecifiedMonth>01</sr:SpecifiedMonth></sr:Month>"
        "<sr:DayOfMonth><sr:SpecifiedDayOfMonth>01</sr:SpecifiedDayOfMonth></sr:DayOfMonth>"
        "<sr:DayOfWeek><sr:NonSpecifiedDayOfWeek/></sr:DayOfWeek>"
    )
    return (
        f"{v.element('ExecutionDateTime')}<sr:SwitchingTable><sr:DayProfiles><sr:DayProfile>"
        f"<sr:DayName>1</sr:DayName>{switches}</sr:DayProfile></sr:DayProfiles>"
        f"<sr:WeekProfiles><sr:WeekProfile><sr:WeekName>1</sr:WeekName>{week}</sr:WeekProfile>"
        f"</sr:WeekProfiles><sr:Seasons><sr:Season>{v.element('SeasonName')}"
        f"<sr:SeasonStartDate>{start}</sr:SeasonStartDate>"
        "<sr:ReferencedWeekName>1</sr:ReferencedWeekName></sr:Season></sr:Seasons>"
        f"</sr:SwitchingTable><sr:SpecialDays/>{_price_elements(v)}"
    )


def _price_example(v: Values) -> str:
    """New day and night prices for the secondary element."""
    return v.element("ExecutionDateTime") + _price_elements(v)


_PRICES = {"PriceScale": "-5", "DayPrice": "2800", "NightPrice": "1200"}

serves(
    "1.1.2",
    Codec(
        read=_read_tariff,
        build=_build_tariff,
        builds=frozenset({"ECS01c"}),
        example=Example(
            {"ExecutionDateTime": None, "SeasonName": "all year", **_PRICES}, _tariff_example
        ),
        reads_execution=True,
    ),
)
serves(
    "1.2.2",
    Codec(
        read=_read_price,
        build=_build_price,
        builds=frozenset({"ECS01d"}),
        example=Example({"ExecutionDateTime": None, **_PRICES}, _price_example),
        reads_execution=True,
    ),
)
