"""The meter bills each day by the tariff's season in force (the last whose start is on or
before the day, wildcard years repeating every year), then that season's week day, with
special days overriding - each checked against a hand calculation over the half hours the
meter recorded, and across a restart."""

from __future__ import annotations

import datetime as dt
import json
from datetime import UTC, timedelta

import pytest

from emulator.devices.esme import Esme
from emulator.devices.gsme import Gsme
from emulator.errors import CommandError
from emulator.metering import (
    ANY,
    EVERY_YEAR,
    LAST_DAY,
    Meter,
    NonDisablementCalendar,
    NonDisablementSchedule,
    PrepaymentConfig,
    ScheduleSwitch,
    Season,
    SpecialDay,
    Tariff,
    season_on,
)
from emulator.profiles import shape_named
from emulator.supply import SupplyState
from gbcs import content as c
from gbcs.alerts import AlertCode
from gbcs.payloads.gbz import ZclFrame
from tests.emulator.support import ESME, GSME, HeadEnd, pki_for, sandbox_fleet

SEASON_CHANGE = dt.date(2024, 1, 18)
"""The sandbox starts on Monday 15 January 2024 at 09:00; the second season starts on the
Thursday."""
PRICES = {1: 10_000, 2: 30_000, 3: 5_000}
"""Milli-pence per kWh of TOU rates 1 to 3 (the command's prices at scale -4)."""
STANDING = 24_000


def _start(year: int, month: int, day: int) -> bytes:
    """A season start as a COSEM date-time (year 0xFFFF: every year), midnight."""
    return year.to_bytes(2, "big") + bytes((month, day)) + bytes.fromhex("ff000000008000ff")


def _all_day(day_id: int, rate: int) -> c.DayProfile:
    return c.DayProfile(day_id, (c.TariffSwitch(dt.time(0), rate),))


def _two_seasons(
    head: HeadEnd,
    seasons: tuple[c.Season, ...],
    special_days: tuple[c.SpecialDay, ...] = (),
) -> c.UpdateTariff:
    """Week 1 bills every day on rate 1 (10p); week 2 on rate 2 (30p) but Sundays on rate 3
    (5p); day profile 3 is rate 3 all day. 24p a day."""
    return c.UpdateTariff(
        counter=head.next_counter() & 0xFF_FFFF,
        seasons=seasons,
        week_profiles=(
            c.WeekProfile(b"\x01", (1,) * 7),
            c.WeekProfile(b"\x02", (2,) * 6 + (3,)),
        ),
        day_profiles=(_all_day(1, 1), _all_day(2, 2), _all_day(3, 3)),
        standing_charge=STANDING // 10,
        tou_prices=(1_000, 3_000, 500) + (0,) * 45,
        price_scale=-4,
        special_days=special_days,
    )


def _send_ok(head: HeadEnd, cmd: c.DlmsCommand) -> None:
    answer = head.send(head.command(ESME, cmd, counter=head.next_counter()))
    assert answer.response is not None
    assert c.Outcome.decode(answer.response.content).ok


def _esme(head: HeadEnd) -> Esme:
    device = head.fleet.device(ESME, head.now)
    assert isinstance(device, Esme)
    return device


def _by_rate(meter_half_hours: list[tuple[int, int]], rate_of: object) -> dict[int, int]:
    """Wh by TOU rate, each half hour on the rate ``rate_of(date)`` names."""
    assert callable(rate_of)
    out = {1: 0, 2: 0, 3: 0}
    for start, used in meter_half_hours:
        out[rate_of(dt.datetime.fromtimestamp(start, UTC).date())] += used
    return out


def test_a_two_season_tariff_bills_across_the_season_change() -> None:
    """From Thursday 18 January the second season's week bills: rate 2, Sundays rate 3.
    Registers and the credit match the hand calculation half hour by half hour."""
    head = HeadEnd(sandbox_fleet(prepayment=True, balance=40_000_000), pki_for())
    seasons = (
        c.Season(b"winter", _start(2024, 1, 1), b"\x01"),
        c.Season(b"spring", _start(2024, 1, 18), b"\x02"),
    )
    _send_ok(head, _two_seasons(head, seasons))
    meter = _esme(head).meter
    before = list(meter.registers[1:4])
    balance, carry = meter.credit.balance, meter.credit.carry
    head.advance(timedelta(days=7))

    def rate_of(day: dt.date) -> int:
        if day < SEASON_CHANGE:
            return 1
        return 3 if day.weekday() == 6 else 2

    recorded = meter.half_hours(48 * 7)
    by_rate = _by_rate(recorded, rate_of)
    assert by_rate[1] > 0
    assert by_rate[2] > 0
    assert by_rate[3] > 0
    assert [meter.registers[n] - before[n - 1] for n in (1, 2, 3)] == [
        by_rate[1],
        by_rate[2],
        by_rate[3],
    ]
    owed = sum(by_rate[r] * PRICES[r] for r in (1, 2, 3)) + carry
    spent = owed // 1000 + len(recorded) * (STANDING // 48)
    assert balance - meter.credit.balance == spent


def test_a_special_day_inside_the_second_season_overrides_its_week() -> None:
    """Saturday 20 January (a special day on rate 1, the first season's rate) bills on
    rate 1 though the second season is in force; the other days as the seasons say."""
    head = HeadEnd(sandbox_fleet(), pki_for())
    seasons = (
        c.Season(b"winter", _start(2024, 1, 1), b"\x01"),
        c.Season(b"spring", _start(2024, 1, 18), b"\x02"),
    )
    special = (c.SpecialDay(1, b"\x07\xe8\x01\x14\xff", 1),)
    _send_ok(head, _two_seasons(head, seasons, special))
    meter = _esme(head).meter
    before = list(meter.registers[1:4])
    head.advance(timedelta(days=7))

    def rate_of(day: dt.date) -> int:
        if day < SEASON_CHANGE or day == dt.date(2024, 1, 20):
            return 1
        return 3 if day.weekday() == 6 else 2

    by_rate = _by_rate(meter.half_hours(48 * 7), rate_of)
    assert [meter.registers[n] - before[n - 1] for n in (1, 2, 3)] == [
        by_rate[1],
        by_rate[2],
        by_rate[3],
    ]


def test_a_wildcard_year_season_repeats_and_the_last_one_wraps_into_january() -> None:
    """Seasons from 17 January and from 1 November of every year: 15 and 16 January are
    still in last year's November season (rate 1), from the 17th the January one."""
    head = HeadEnd(sandbox_fleet(), pki_for())
    seasons = (
        c.Season(b"jan", _start(EVERY_YEAR, 1, 17), b"\x02"),
        c.Season(b"nov", _start(EVERY_YEAR, 11, 1), b"\x01"),
    )
    _send_ok(head, _two_seasons(head, seasons))
    meter = _esme(head).meter
    before = list(meter.registers[1:4])
    head.advance(timedelta(days=4))

    def rate_of(day: dt.date) -> int:
        return 1 if day < dt.date(2024, 1, 17) else 2

    by_rate = _by_rate(meter.half_hours(48 * 4), rate_of)
    assert by_rate[1] > 0
    assert by_rate[2] > 0
    assert [meter.registers[n] - before[n - 1] for n in (1, 2, 3)] == [by_rate[1], by_rate[2], 0]


def test_a_restarted_meter_holds_the_seasons_and_bills_by_them() -> None:
    head = HeadEnd(sandbox_fleet(), pki_for())
    seasons = (
        c.Season(b"winter", _start(2024, 1, 1), b"\x01"),
        c.Season(b"spring", _start(2024, 1, 18), b"\x02"),
    )
    _send_ok(head, _two_seasons(head, seasons))
    esme = _esme(head)
    fresh = Esme.create(ESME, head.fleet.spec(ESME), 0, 1)
    fresh.restore_json(json.loads(json.dumps(esme.to_json())))
    assert fresh.meter.tariff == esme.meter.tariff
    assert len(fresh.meter.tariff.seasons) == 2
    meter = fresh.meter
    before = list(meter.registers[1:4])
    meter.advance(meter.accounted_to + 7 * 86_400)

    def rate_of(day: dt.date) -> int:
        if day < SEASON_CHANGE:
            return 1
        return 3 if day.weekday() == 6 else 2

    by_rate = _by_rate(meter.half_hours(48 * 7), rate_of)
    assert by_rate[2] > 0
    assert [meter.registers[n] - before[n - 1] for n in (1, 2, 3)] == [
        by_rate[1],
        by_rate[2],
        by_rate[3],
    ]


def test_a_gas_tariff_bills_on_the_tier_of_the_season_in_force() -> None:
    """GCS01a seasons (ZCL dates): tier 1 from 1 January 2024, tier 2 from 17 January."""
    head = HeadEnd(sandbox_fleet(), pki_for())
    gsme = head.fleet.device(GSME, head.now)
    assert isinstance(gsme, Gsme)
    tariff = c.GasTariff(
        c.GasPrice(c.issuer_id(head.now), 20_000, (5_000, 4_000)),
        days=(c.GasDay(1, 1), c.GasDay(2, 2)),
        weeks=((1, (1,) * 7), (2, (2,) * 7)),
        seasons=(
            c.GasSeason(bytes([124, 1, 1, 0xFF]), 1),
            c.GasSeason(bytes([124, 1, 17, 0xFF]), 2),
        ),
    )
    answer = head.send(head.command(GSME, tariff, counter=head.next_counter()))
    assert answer.response is not None
    assert c.ZclStatus.decode(answer.response.content).ok
    meter = gsme.meter
    first, second = meter.registers[1], meter.registers[2]
    head.advance(timedelta(days=4))
    recorded = meter.half_hours(48 * 4)
    late = sum(u for s, u in recorded if dt.datetime.fromtimestamp(s, UTC).date().day >= 17)
    early = sum(u for _, u in recorded) - late
    assert late > 0
    assert early > 0
    assert (meter.registers[1] - first, meter.registers[2] - second) == (early, late)


WEEK_A, WEEK_B = ((0,) * 48,) * 7, ((1,) * 48,) * 7


@pytest.mark.parametrize(
    ("season", "day", "started"),
    [
        (Season(2024, 3, 1, WEEK_A), dt.date(2024, 2, 29), None),
        (Season(2024, 3, 1, WEEK_A), dt.date(2025, 2, 1), dt.date(2024, 3, 1)),
        (Season(EVERY_YEAR, 2, 29, WEEK_A), dt.date(2027, 3, 1), dt.date(2024, 2, 29)),
        (Season(EVERY_YEAR, ANY, 15, WEEK_A), dt.date(2024, 1, 10), dt.date(2023, 12, 15)),
        (Season(EVERY_YEAR, 2, LAST_DAY, WEEK_A), dt.date(2024, 3, 1), dt.date(2024, 2, 29)),
        (Season(EVERY_YEAR, 4, ANY, WEEK_A), dt.date(2024, 4, 1), dt.date(2024, 4, 1)),
    ],
)
def test_a_seasons_latest_start(season: Season, day: dt.date, started: dt.date | None) -> None:
    assert season.latest_start(day) == started


def test_the_season_in_force_is_the_latest_started_and_before_any_the_first() -> None:
    spring, autumn = Season(2024, 4, 1, WEEK_B), Season(2024, 10, 1, WEEK_A)
    tariff = Tariff(prices=(1, 2), switching=WEEK_A[0], seasons=(autumn, spring))
    assert season_on(tariff.seasons, dt.date(2024, 5, 1)) is spring
    assert season_on(tariff.seasons, dt.date(2024, 12, 1)) is autumn
    assert season_on(tariff.seasons, dt.date(2024, 1, 1)) is None
    assert tariff.switching_on(dt.date(2024, 5, 1)) == WEEK_B[0]
    assert tariff.switching_on(dt.date(2024, 1, 1)) == WEEK_A[0]  # the first's: none yet


def test_a_season_start_the_meter_cannot_follow_is_refused() -> None:
    with pytest.raises(CommandError, match="season start"):
        Season.from_cosem(bytes.fromhex("ffff fe01") + bytes(8), WEEK_A)  # DST month
    with pytest.raises(CommandError, match="season start"):
        Season.from_zcl(bytes([124, 13, 1, 0xFF]), WEEK_A)


def test_gas_non_disablement_follows_the_season_in_force() -> None:
    """GCS05: all day a non-disablement period until 16 January (the first season), none
    from 17 January (the second). A gas meter out of credit on the 15th keeps its valve open
    through the 16th and closes it in the first half hour of the 17th, with its alert."""
    head = HeadEnd(sandbox_fleet(prepayment=True, balance=10_000_000), pki_for())
    gsme = head.fleet.device(GSME, head.now)
    assert isinstance(gsme, Gsme)
    days = (c.NonDisablementDay(1, ((0, False),)), c.NonDisablementDay(2, ((0, True),)))
    seasons = (
        c.GasSeason(bytes([124, 1, 1, 0xFF]), 2),
        c.GasSeason(bytes([124, 1, 17, 0xFF]), 1),
    )
    config = c.GasPrepayConfig(
        c.issuer_id(head.now), 0, 0, 0, 0, 25_000_000, 25_000_000, days,
        ((1, (1,) * 7), (2, (2,) * 7)), seasons,
    )  # fmt: skip
    answer = head.send(head.command(GSME, config, counter=head.next_counter()))
    assert answer.response is not None
    assert c.ZclStatus.decode(answer.response.content).ok
    gsme.meter.credit.balance = 0
    head.advance(timedelta(hours=39))  # Wednesday 17th, 00:00: the 16th all accounted
    assert gsme.meter.supply is SupplyState.ENABLED
    answer = head.advance(timedelta(minutes=30))  # the 17th's first half hour
    assert gsme.meter.supply is SupplyState.DISABLED
    assert AlertCode.CREDIT_BELOW_DISABLEMENT_THRESHOLD in answer.alert_codes()


def test_an_ecs01a_season_naming_a_missing_week_is_refused_and_changes_nothing() -> None:
    head = HeadEnd(sandbox_fleet(), pki_for())
    esme = _esme(head)
    held = esme.meter.tariff
    seasons = (
        c.Season(b"winter", _start(2024, 1, 1), b"\x01"),
        c.Season(b"spring", _start(2024, 1, 18), b"\x09"),
    )
    answer = head.send(head.command(ESME, _two_seasons(head, seasons), counter=head.next_counter()))
    assert answer.response is not None
    assert not c.Outcome.decode(answer.response.content).ok
    assert esme.meter.tariff == held


def test_an_ecs01a_season_start_in_a_daylight_saving_month_is_refused() -> None:
    head = HeadEnd(sandbox_fleet(), pki_for())
    esme = _esme(head)
    held = esme.meter.tariff
    dst = bytes.fromhex("fffffeff") + bytes.fromhex("ff000000008000ff")
    seasons = (
        c.Season(b"winter", _start(2024, 1, 1), b"\x01"),
        c.Season(b"summer", dst, b"\x02"),
    )
    answer = head.send(head.command(ESME, _two_seasons(head, seasons), counter=head.next_counter()))
    assert answer.response is not None
    assert not c.Outcome.decode(answer.response.content).ok
    assert esme.meter.tariff == held


def test_a_gcs05_calendar_naming_a_missing_day_profile_is_refused_and_changes_nothing() -> None:
    head = HeadEnd(sandbox_fleet(prepayment=True, balance=10_000_000), pki_for())
    gsme = head.fleet.device(GSME, head.now)
    assert isinstance(gsme, Gsme)
    held = gsme.meter.prepayment
    days = (c.NonDisablementDay(1, ((0, True),)),)
    seasons = (c.GasSeason(bytes([124, 1, 1, 0xFF]), 1),)
    config = c.GasPrepayConfig(
        c.issuer_id(head.now), 0, 0, 0, 0, 25_000_000, 25_000_000, days,
        ((1, (1,) * 6 + (7,)),), seasons,
    )  # fmt: skip
    answer = head.send(head.command(GSME, config, counter=head.next_counter()))
    assert answer.response is not None
    assert not c.ZclStatus.decode(answer.response.content).ok
    assert gsme.meter.prepayment == held
    assert "prepay" not in gsme.family_state("tariff")


def test_the_gas_tariff_read_carries_each_season_and_the_special_days() -> None:
    """GCS21f after a two-season GCS01a with a special day: PublishSeasons names both
    starts, each with its own week, and PublishSpecialDays the special day on its tier's
    day profile; the current price is the first season's tier 1 (15 January)."""
    head = HeadEnd(sandbox_fleet(), pki_for())
    gsme = head.fleet.device(GSME, head.now)
    assert isinstance(gsme, Gsme)
    tariff = c.GasTariff(
        c.GasPrice(c.issuer_id(head.now), 20_000, (5_000, 4_000)),
        days=(c.GasDay(1, 1), c.GasDay(2, 2)),
        weeks=((1, (1,) * 7), (2, (2,) * 7)),
        seasons=(
            c.GasSeason(bytes([124, 1, 1, 0xFF]), 1),
            c.GasSeason(bytes([0xFF, 6, 1, 0xFF]), 2),
        ),
        special_days=(c.GasSpecialDay(bytes([124, 12, 25, 0xFF]), 2),),
    )
    answer = head.send(head.command(GSME, tariff, counter=head.next_counter()))
    assert answer.response is not None
    assert c.ZclStatus.decode(answer.response.content).ok
    answer = head.send(head.command(GSME, c.GbzRead(0x009F), counter=head.next_counter()))
    assert answer.response is not None
    read = c.decode_response(0x009F, answer.response.content)
    assert isinstance(read, c.GbzReadResponse)
    published = {
        comp.frame.command_id: comp.frame.payload
        for comp in read.payload.components
        if isinstance(comp.frame, ZclFrame) and comp.cluster_id == 0x0707
    }
    assert published[3][14:] == bytes([124, 1, 1, 0xFF, 1, 0xFF, 6, 1, 0xFF, 2])
    assert published[4][-5:] == bytes([124, 12, 25, 0xFF, 2])
    price = read.payload.components[-1].frame
    assert isinstance(price, ZclFrame)
    assert int.from_bytes(price.payload[-4:], "little") == 5_000


@pytest.mark.parametrize(
    "calendar",
    [
        NonDisablementCalendar(
            weekdays=((1,) * 48,) * 7,
            seasons=(Season(EVERY_YEAR, 6, 1, ((0,) * 48,) * 7),),
            special_days=(SpecialDay(EVERY_YEAR, 12, 25, (1,) * 48),),
        ),
        NonDisablementSchedule(
            special_days=((EVERY_YEAR, 12, 25),),
            switches=(
                ScheduleSwitch(
                    True, 0, frozenset(range(5)), frozenset({1}), (2024, 1, 1), (EVERY_YEAR, 12, 31)
                ),
                ScheduleSwitch(
                    False, 570, frozenset(range(5)), frozenset(), (2024, 1, 1), (EVERY_YEAR, 12, 31)
                ),
            ),
        ),
    ],
)
def test_a_restarted_meter_keeps_its_non_disablement_calendar(
    calendar: NonDisablementCalendar | NonDisablementSchedule,
) -> None:
    meter = Meter.new(shape_named("domestic-electricity"), 7, 0)
    meter.prepayment = PrepaymentConfig(non_disablement_calendar=calendar)
    saved = json.loads(json.dumps(meter.to_json()))
    back = Meter.from_json(saved, meter.shape, 7, meter.supply_table)
    assert back.prepayment == meter.prepayment
    for day in (
        dt.date(2024, 1, 15),
        dt.date(2024, 1, 20),
        dt.date(2024, 7, 1),
        dt.date(2024, 12, 25),
    ):
        assert back.prepayment.non_disablement_calendar is not None
        assert back.prepayment.non_disablement_calendar.periods_on(day) == calendar.periods_on(day)
    assert calendar.periods_on(dt.date(2024, 12, 25))[0] == 1
    assert calendar.periods_on(dt.date(2024, 7, 6))[0] == 0  # a Saturday in summer
