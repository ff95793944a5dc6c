"""SR1.1.2 and SR1.2.2 (ECS01c, ECS01d): a body becomes the secondary element's calendar,
special days and four prices as GBCS lays them out (switches run tariff scripts 201..204,
every price sent, one left out is 0, one activation time for each element), and bad bodies
are refused with a sentence.

The DCC publishes no template for these two SRs in the conformance set: the bodies here are
written from the DUIS schema, and the content is checked field by field."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime

import pytest
from lxml import etree

from gateway.errors import ServiceError
from gateway.srv.catalogue import entry
from gateway.srv.spec import Command
from gbcs import content as gc
from gbcs.codes import SUPPLIER
from gbcs.content.tariff import CANCEL
from gbcs.devices import DeviceType
from gbcs.usecases import by_name

NS = "http://www.dccinterface.co.uk/ServiceUserGateway"
ESME = bytes.fromhex("00DB1234567890A0")
NOW = datetime(2015, 1, 1, tzinfo=UTC)


def _date(year: int | None, month: int, day: int) -> str:
    y = "<sr:NonSpecifiedYear/>" if year is None else f"<sr:SpecifiedYear>{year}</sr:SpecifiedYear>"
    return (
        f"<sr:Year>{y}</sr:Year><sr:Month><sr:SpecifiedMonth>{month}</sr:SpecifiedMonth>"
        f"</sr:Month><sr:DayOfMonth><sr:SpecifiedDayOfMonth>{day}</sr:SpecifiedDayOfMonth>"
        "</sr:DayOfMonth><sr:DayOfWeek><sr:NonSpecifiedDayOfWeek/></sr:DayOfWeek>"
    )


def _prices(*prices: tuple[int, int]) -> str:
    entries = "".join(
        f'<sr:ElectricityPriceElement index="{i}">{p}</sr:ElectricityPriceElement>'
        for i, p in prices
    )
    return f"<sr:PriceElements><sr:PriceScale>-5</sr:PriceScale>{entries}</sr:PriceElements>"


def _day(name: int, *switches: tuple[str, int]) -> str:
    schedule = "".join(
        f"<sr:ProfileSchedule><sr:StartTime>{t}</sr:StartTime>"
        f"<sr:TOUTariffAction>{r}</sr:TOUTariffAction></sr:ProfileSchedule>"
        for t, r in switches
    )
    return f"<sr:DayProfile><sr:DayName>{name}</sr:DayName>{schedule}</sr:DayProfile>"


def _week(name: int, days: tuple[int, ...]) -> str:
    refs = "".join(
        f'<sr:ReferencedDayName index="{i}">{d}</sr:ReferencedDayName>'
        for i, d in enumerate(days, start=1)
    )
    return f"<sr:WeekProfile><sr:WeekName>{name}</sr:WeekName>{refs}</sr:WeekProfile>"


TARIFF = (
    "<sr:ExecutionDateTime>2030-01-15T09:00:00.00Z</sr:ExecutionDateTime><sr:SwitchingTable>"
    "<sr:DayProfiles>"
    + _day(1, ("00:00:00Z", 1), ("07:00:00Z", 4), ("19:00:00Z", 3))
    + _day(3, ("00:00:00Z", 4))
    + "</sr:DayProfiles><sr:WeekProfiles>"
    + _week(1, (1, 1, 1, 1, 1, 3, 3))
    + "</sr:WeekProfiles><sr:Seasons><sr:Season><sr:SeasonName>winter</sr:SeasonName>"
    f"<sr:SeasonStartDate>{_date(2014, 10, 27)}</sr:SeasonStartDate>"
    "<sr:ReferencedWeekName>1</sr:ReferencedWeekName></sr:Season></sr:Seasons>"
    "</sr:SwitchingTable><sr:SpecialDays>"
    f"<sr:SpecialDay><sr:Date>{_date(2015, 5, 1)}</sr:Date>"
    "<sr:ReferencedDayName>3</sr:ReferencedDayName></sr:SpecialDay>"
    f"<sr:SpecialDay><sr:Date>{_date(None, 12, 25)}</sr:Date>"
    "<sr:ReferencedDayName>1</sr:ReferencedDayName></sr:SpecialDay></sr:SpecialDays>"
    + _prices((1, 10100), (3, 12300), (4, 13400))
)


def _build(srv: str, element: str, inner: str, use_case: str, counter: int = 1003) -> bytes:
    found = entry(srv)
    assert found.codec is not None
    body = etree.fromstring(f'<sr:{element} xmlns:sr="{NS}">{inner}</sr:{element}>')
    request = found.codec.read(body)
    assert found.use_case(DeviceType.ESME, request, ESME) == use_case
    return found.codec.build(Command(request, by_name(use_case), counter, SUPPLIER, ESME, NOW))


def test_the_secondary_tariff_is_laid_out_as_gbcs_says() -> None:
    content = _build("1.1.2", "UpdateImportTariffSecondaryElement", TARIFF, "ECS01c")
    found = gc.decode_command(0x00B7, content)
    assert isinstance(found, gc.SecondaryTariff)
    assert found.counter == 1003
    assert found.prices == (10100, 0, 12300, 13400)
    assert (found.price_scale, found.commodity_scale) == (-5, 3)
    assert [s.rate for s in found.day_profiles[0].switches] == [201, 204, 203]
    assert found.day_profiles[0].switches[2].start == dt.time(19)
    assert found.week_profiles == (gc.WeekProfile(b"\x01", (1, 1, 1, 1, 1, 3, 3)),)
    assert found.seasons[0].name == b"winter"
    assert found.seasons[0].start == bytes.fromhex("07de0a1bff000000008000ff")
    assert [(d.index, d.date.hex(), d.day_id) for d in found.special_days] == [
        (1, "07df0501ff", 3),
        (2, "ffff0c19ff", 1),
    ]
    assert found.activate_at == datetime(2030, 1, 15, 9, tzinfo=UTC)
    assert found.problems() == []


def test_the_secondary_price_and_its_cancellation() -> None:
    inner = "<sr:ExecutionDateTime>3000-12-31T00:00:00Z</sr:ExecutionDateTime>" + _prices(
        (1, 1010), (2, 1120), (3, 1230), (4, 1340)
    )
    content = _build("1.2.2", "UpdatePriceSecondaryElement", inner, "ECS01d")
    found = gc.decode_command(0x00C7, content)
    assert isinstance(found, gc.SecondaryPrice)
    assert found.prices == (1010, 1120, 1230, 1340)
    assert found.cancel_pending
    assert content.endswith(CANCEL)


@pytest.mark.parametrize(
    ("srv", "element", "old", "new", "words"),
    [
        ("1.1.2", "UpdateImportTariffSecondaryElement", "<sr:TOUTariffAction>3<",
         "<sr:TOUTariffAction>5<", "1 to 4"),
        ("1.1.2", "UpdateImportTariffSecondaryElement", '"7">3<', '"7">9<', "unknown day"),
        ("1.1.2", "UpdateImportTariffSecondaryElement", '"3">12300<', '"3">40000<', "32767"),
        ("1.1.2", "UpdateImportTariffSecondaryElement", '"4">13400<', '"1">13400<', "twice"),
        ("1.2.2", "UpdatePriceSecondaryElement", "<sr:PriceScale>-5<", "<sr:PriceScale>x<",
         "PriceScale"),
    ],
)  # fmt: skip
def test_bad_secondary_bodies_are_refused_with_a_sentence(
    srv: str, element: str, old: str, new: str, words: str
) -> None:
    inner = TARIFF if srv == "1.1.2" else _prices((1, 1010))
    assert old in inner
    use_case = "ECS01c" if srv == "1.1.2" else "ECS01d"
    with pytest.raises(ServiceError) as caught:
        _build(srv, element, inner.replace(old, new, 1), use_case)
    assert words in str(caught.value)
