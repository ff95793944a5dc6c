"""The tariff engine bills by what the meter holds: block thresholds and the block counter
matrix (reset by 1.7 and, daily, by 6.26), special days and week days (each day by its own
switching table), and the debt recovery rate cap - each checked against a hand calculation
over the half hours the meter recorded."""

from __future__ import annotations

import dataclasses
import datetime as dt
from datetime import UTC, timedelta

from emulator.clock import HALF_HOUR
from emulator.devices.esme import Esme
from emulator.devices.gsme import Gsme
from emulator.metering import BLOCKS, Meter, PrepaymentConfig
from emulator.profiles import shape_named
from gbcs import content as c
from tests.emulator.support import ESME, GSME, HeadEnd, pki_for, sandbox_fleet

WEEK = 7 * 24 * 3600


def _esme(head: HeadEnd) -> Esme:
    device = head.fleet.device(ESME, head.now)
    assert isinstance(device, Esme)
    return device


def _send_ok(head: HeadEnd, target: bytes, cmd: c.DlmsCommand) -> None:
    answer = head.send(head.command(target, cmd, counter=head.next_counter()))
    assert answer.response is not None
    assert c.Outcome.decode(answer.response.content).ok


def _tariff(head: HeadEnd, **changes: object) -> c.UpdateTariff:
    """Block rate 1 all day: 2 kWh at 10p, the next 3 kWh at 20p, then 40p; 24p a day."""
    tariff = c.UpdateTariff(
        counter=head.next_counter() & 0xFF_FFFF,
        seasons=(c.Season(b"all", bytes.fromhex("07e8010fff000000008000ff"), b"\x01"),),
        week_profiles=(c.WeekProfile(b"\x01", (1,) * 7),),
        day_profiles=(c.DayProfile(1, (c.TariffSwitch(dt.time(0), c.BLOCK_SCRIPT_BASE + 1),)),),
        standing_charge=2_400,
        tou_prices=(0,) * 48,
        block_prices=((1000,) + (0,) * 7, (2000,) + (0,) * 7, (4000,) + (0,) * 7, (0,) * 8),
        price_scale=-4,  # 10 milli-pence
        block_thresholds=((2_000, 5_000),) + ((0xFFFF_FFFF,),) * 7,
    )
    return dataclasses.replace(tariff, **changes)  # type: ignore[arg-type]


def _split(total: int, thresholds: tuple[int, ...]) -> list[int]:
    """Wh by block for ``total`` Wh counted from zero."""
    out, low = [], 0
    for high in (*thresholds, None):
        part = max(0, min(total, high) - low) if high is not None else max(0, total - low)
        out.append(part)
        low = high if high is not None else low
    return out + [0] * (BLOCKS - len(out))


def test_block_thresholds_fill_the_block_counter_matrix_and_price_each_block() -> None:
    head = HeadEnd(sandbox_fleet(prepayment=True, balance=40_000_000), pki_for())
    _send_ok(head, ESME, _tariff(head))
    meter = _esme(head).meter
    meter.prepayment = dataclasses.replace(meter.prepayment, low_credit_threshold=0)
    balance, register = meter.credit.balance, meter.registers[1]
    head.advance(timedelta(days=2))
    recorded = meter.half_hours(96)
    total = sum(used for _, used in recorded)
    assert total > 5_000  # the last block is reached
    by_block = _split(total, (2_000, 5_000))
    assert meter.block_counters is not None
    assert meter.block_counters[:BLOCKS] == by_block
    assert sum(meter.block_counters[BLOCKS:]) == 0  # the other block rates are not used
    assert meter.registers[1] - register == total
    owed = by_block[0] * 10_000 + by_block[1] * 20_000 + by_block[2] * 40_000
    assert balance - meter.credit.balance == owed // 1000 + 96 * (24_000 // 48)


def test_1_7_resets_the_matrix_and_the_next_half_hours_start_in_block_a() -> None:
    head = HeadEnd(sandbox_fleet(prepayment=True, balance=40_000_000), pki_for())
    _send_ok(head, ESME, _tariff(head))
    meter = _esme(head).meter
    head.advance(timedelta(days=1))
    assert meter.block_counters is not None
    assert sum(meter.block_counters) > 0
    _send_ok(head, ESME, c.ResetBlockCounters(head.next_counter() & 0xFF_FFFF))
    assert meter.block_counters == [0] * 32
    head.advance(timedelta(hours=3))
    since = sum(used for _, used in meter.half_hours(6))
    assert meter.block_counters[:BLOCKS] == _split(since, (2_000, 5_000))


def test_6_26_resets_the_matrix_at_every_midnight() -> None:
    head = HeadEnd(sandbox_fleet(), pki_for())
    _send_ok(head, ESME, _tariff(head))
    _send_ok(head, ESME, c.DailyBlockCounterReset(head.next_counter() & 0xFF_FFFF, True))
    meter = _esme(head).meter
    head.advance(timedelta(days=2))  # to 09:00 two days on
    today = [used for start, used in meter.half_hours(48) if start % 86_400 < 9 * 3600]
    assert meter.block_counters is not None
    assert meter.block_counters[:BLOCKS] == _split(sum(today), (2_000, 5_000))


def test_special_days_and_week_days_bill_by_their_own_switching_tables() -> None:
    """Rate 1 on weekdays, rate 2 on Sundays (the week profile) and on 17 January of any
    year (a special day): register 2 holds exactly those days' half hours."""
    head = HeadEnd(sandbox_fleet(), pki_for())
    tariff = _tariff(
        head,
        week_profiles=(c.WeekProfile(b"\x01", (1, 1, 1, 1, 1, 1, 2)),),
        day_profiles=(
            c.DayProfile(1, (c.TariffSwitch(dt.time(0), 1),)),
            c.DayProfile(2, (c.TariffSwitch(dt.time(0), 2),)),
        ),
        special_days=(c.SpecialDay(1, b"\xff\xff\x01\x11\xff", 2),),
        tou_prices=(2_000, 1_000) + (0,) * 46,
    )
    _send_ok(head, ESME, tariff)
    meter = _esme(head).meter
    first, second = meter.registers[1], meter.registers[2]
    head.advance(timedelta(days=7))  # Monday 15 January 09:00 to Monday 22nd
    on_two = on_one = 0
    for start, used in meter.half_hours(48 * 7):
        day = dt.datetime.fromtimestamp(start, UTC).date()
        if day.weekday() == 6 or (day.month, day.day) == (1, 17):
            on_two += used
        else:
            on_one += used
    assert on_two > 0
    assert meter.registers[2] - second == on_two
    assert meter.registers[1] - first == on_one


def test_the_debt_recovery_rate_cap_limits_what_a_week_recovers() -> None:
    meter = Meter.new(shape_named("domestic-electricity"), 7, 0)
    meter.set_mode(meter.mode.PREPAYMENT)
    meter.credit.balance = 100_000_000
    meter.credit.debt = 1_000_000
    meter.prepayment = PrepaymentConfig(
        low_credit_threshold=0,
        emergency_credit_threshold=0,
        debt_recovery_per_day=48_000,
        debt_cap=10_000,
        debt_cap_period=WEEK,
    )
    meter.advance(3 * 86_400)  # 1 000 a half hour uncapped: 144 000
    assert meter.credit.debt == 1_000_000 - 10_000
    meter.advance(WEEK + 2 * HALF_HOUR)  # a new week: two more half hours
    assert meter.credit.debt == 1_000_000 - 12_000


def test_gcs05_caps_the_gas_meters_debt_recovery() -> None:
    head = HeadEnd(sandbox_fleet(prepayment=True, balance=10_000_000), pki_for())
    gsme = head.fleet.device(GSME, head.now)
    assert isinstance(gsme, Gsme)
    day = c.NonDisablementDay(1, ((0, False),))
    season = c.GasSeason(bytes([0xFF, 1, 1, 0xFF]), 1)
    config = c.GasPrepayConfig(
        c.issuer_id(head.now), 3_000, 0, 0, 0, 25_000_000, 25_000_000, (day,),
        ((1, (1,) * 7),), (season,),
    )  # fmt: skip
    answer = head.send(head.command(GSME, config, counter=head.next_counter()))
    assert answer.response is not None
    assert gsme.meter.prepayment.debt_cap == 3_000
    changes = (
        c.DebtChange(1, 240_000, 24_000, c.RecoveryPeriod.DAILY),
        c.DebtChange(2, 0, 0, c.RecoveryPeriod.DAILY),
        c.DebtChange(3, 0, percentage=0),
    )
    debt = c.ManageGasDebt(c.issuer_id(head.now), changes)
    head.send(head.command(GSME, debt, counter=head.next_counter()))
    head.advance(timedelta(days=1))  # 24 000 a day uncapped
    assert gsme.meter.credit.debt == 240_000 - 3_000


def _gas_tariff(head: HeadEnd, **changes: object) -> c.GasTariff:
    """A gas block tariff: the first 1 000 dm3 at 5p a m3, the next 2 000 at 3p, the rest at
    1p; 20p a day."""
    price = c.GasPrice(c.issuer_id(head.now), 20_000, (5_000, 3_000, 1_000), True, 2)
    tariff = c.GasTariff(
        price,
        days=(c.GasDay(1, 0),),
        weeks=((1, (1,) * 7),),
        seasons=(c.GasSeason(bytes([0xFF, 1, 1, 0xFF]), 1),),
        thresholds=(1_000, 3_000),
    )
    return dataclasses.replace(tariff, **changes)  # type: ignore[arg-type]


def _gas_ok(head: HeadEnd, cmd: object) -> None:
    answer = head.send(head.command(GSME, cmd, counter=head.next_counter()))
    assert answer.response is not None
    assert c.ZclStatus.decode(answer.response.content).ok


def test_a_gas_block_tariff_prices_each_block() -> None:
    head = HeadEnd(sandbox_fleet(prepayment=True, balance=40_000_000), pki_for())
    gsme = head.fleet.device(GSME, head.now)
    assert isinstance(gsme, Gsme)
    _gas_ok(head, _gas_tariff(head))
    meter = gsme.meter
    meter.prepayment = dataclasses.replace(meter.prepayment, low_credit_threshold=0)
    balance = meter.credit.balance
    head.advance(timedelta(days=4))
    total = sum(used for _, used in meter.half_hours(48 * 4))
    assert total > 3_000
    by_block = _split(total, (1_000, 3_000))
    assert meter.block_counters is not None
    assert meter.block_counters[:BLOCKS] == by_block
    owed = by_block[0] * 5_000 + by_block[1] * 3_000 + by_block[2] * 1_000
    assert balance - meter.credit.balance == owed // 1000 + 48 * 4 * (20_000 // 48)


def test_a_gas_special_day_bills_on_its_tier() -> None:
    """Tier 1 every day, tier 2 on 16 January of any year (a GCS01a special day)."""
    head = HeadEnd(sandbox_fleet(), pki_for())
    gsme = head.fleet.device(GSME, head.now)
    assert isinstance(gsme, Gsme)
    price = c.GasPrice(c.issuer_id(head.now), 20_000, (5_000, 4_000))
    _gas_ok(
        head,
        _gas_tariff(
            head,
            price=price,
            days=(c.GasDay(1, 1), c.GasDay(2, 2)),
            special_days=(c.GasSpecialDay(bytes([0xFF, 1, 16, 0xFF]), 2),),
            thresholds=(),
        ),
    )
    meter = gsme.meter
    second = meter.registers[2]
    head.advance(timedelta(days=3))
    on_special = sum(
        used
        for start, used in meter.half_hours(48 * 3)
        if dt.datetime.fromtimestamp(start, UTC).date() == dt.date(2024, 1, 16)
    )
    assert on_special > 0
    assert meter.registers[2] - second == on_special
