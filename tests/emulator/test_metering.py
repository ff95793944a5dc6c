from __future__ import annotations

from datetime import UTC, datetime

import pytest

from emulator.clock import HALF_HOUR, to_seconds
from emulator.errors import CommandError, TransitionError
from emulator.metering import Meter, MeterEvent, PaymentMode, PrepaymentConfig, Tariff
from emulator.profiles import device_key, shape_named
from emulator.supply import VALVE, SupplyEvent, SupplyState

START = to_seconds(datetime(2024, 1, 10, 0, 0, tzinfo=UTC))
DAY = 86400
KEY = device_key(b"metering", bytes.fromhex("00db1234567890a0"))


def _meter(**kwargs: object) -> Meter:
    return Meter.new(shape_named("domestic-electricity"), KEY, START, **kwargs)  # type: ignore[arg-type]


def _supply(meter: Meter) -> SupplyState:
    """The supply state, read through a call so that mypy does not narrow it between steps."""
    return meter.supply


def test_registers_grow_from_the_load_profile_and_half_hours_are_recorded() -> None:
    meter = _meter(initial_total=1_000_000)
    assert meter.advance(START + DAY) == []
    shape = shape_named("domestic-electricity")
    expected = [shape.consumption(KEY, START // HALF_HOUR + i) for i in range(48)]
    assert meter.total == 1_000_000 + sum(expected)
    assert meter.tou == [sum(expected)]
    recorded = meter.half_hours()
    assert [q for _, q in recorded] == expected
    assert recorded[0][0] == START
    assert meter.half_hours(2) == recorded[-2:]


def test_partial_half_hours_wait_for_the_period_to_end() -> None:
    meter = _meter()
    meter.advance(START + HALF_HOUR - 1)
    assert meter.total == 0
    meter.advance(START + HALF_HOUR)
    assert meter.total > 0
    before = meter.total
    meter.advance(START)  # time never runs backwards for a meter
    assert meter.total == before


def test_same_seed_same_history() -> None:
    first, second = _meter(), _meter()
    first.advance(START + 3 * DAY)
    for hour in range(1, 73):
        second.advance(START + hour * 3600)
    assert first.registers == second.registers
    assert first.half_hours() == second.half_hours()


def test_nothing_flows_while_the_supply_is_disabled() -> None:
    meter = _meter()
    meter.operate_supply(SupplyEvent.REMOTE_DISABLE)
    meter.advance(START + DAY)
    assert meter.total == 0
    assert all(q == 0 for _, q in meter.half_hours())


def test_time_of_use_registers_follow_the_switching_table() -> None:
    meter = _meter()
    switching = [1 if 1 <= slot < 15 else 0 for slot in range(48)]  # Economy 7 night rate
    meter.apply_tariff(Tariff(prices=(28_000, 12_000), switching=tuple(switching)), None)
    meter.advance(START + DAY)
    shape = shape_named("domestic-electricity")
    night = sum(shape.consumption(KEY, START // HALF_HOUR + i) for i in range(1, 15))
    assert meter.tou == [meter.total - night, night]


def test_credit_drains_in_prepayment_and_the_supply_is_disabled_then_armed_by_top_up() -> None:
    meter = _meter(mode=PaymentMode.PREPAYMENT, balance=300_000)  # GBP 3.00
    meter.apply_tariff(
        Tariff(prices=(30_000,), standing_charge=60_000),
        PrepaymentConfig(
            emergency_credit_limit=100_000,
            emergency_credit_threshold=50_000,
            low_credit_threshold=200_000,
        ),
    )
    events: list[MeterEvent] = []
    for day in range(1, 6):
        events += meter.advance(START + day * DAY)
    assert events[:3] == [
        MeterEvent.LOW_CREDIT,
        MeterEvent.EMERGENCY_CREDIT_ACTIVATED,
        MeterEvent.SUPPLY_DISABLED_CREDIT,
    ]
    assert _supply(meter) is SupplyState.DISABLED
    assert meter.credit.available(meter.prepayment) <= 0
    frozen = meter.total
    meter.advance(START + 6 * DAY)
    assert meter.total == frozen
    with pytest.raises(TransitionError, match="without credit"):
        meter.operate_supply(SupplyEvent.REMOTE_ENABLE)
    assert meter.add_credit(1_000_000) == [MeterEvent.CREDIT_ADDED, MeterEvent.SUPPLY_ARMED]
    assert _supply(meter) is SupplyState.ARMED
    assert meter.operate_supply(SupplyEvent.CONSUMER_BUTTON) is SupplyState.ENABLED


def test_credit_does_not_drain_in_credit_mode() -> None:
    meter = _meter(balance=100)
    meter.advance(START + 10 * DAY)
    assert meter.credit.balance == 100
    assert meter.supply is SupplyState.ENABLED


def test_prepayment_parameters_are_refused_in_credit_mode_and_nothing_changes() -> None:
    meter = _meter()
    before = meter.tariff
    with pytest.raises(CommandError, match="credit mode"):
        meter.apply_tariff(Tariff(prices=(1,)), PrepaymentConfig())
    assert meter.tariff is before


def test_inconsistent_tariffs_are_refused() -> None:
    meter = _meter()
    with pytest.raises(CommandError, match="no price"):
        meter.apply_tariff(Tariff(prices=(1,), switching=(0,) * 47 + (1,)), None)
    with pytest.raises(CommandError, match="negative"):
        meter.apply_tariff(Tariff(prices=(-1,)), None)
    meter.set_mode(PaymentMode.PREPAYMENT)
    with pytest.raises(CommandError, match="above the low credit"):
        meter.apply_tariff(
            Tariff(), PrepaymentConfig(emergency_credit_threshold=5, low_credit_threshold=1)
        )


def test_a_top_up_must_add_something() -> None:
    with pytest.raises(CommandError):
        _meter().add_credit(0)


def test_snapshot_round_trip_is_exact() -> None:
    meter = _meter(mode=PaymentMode.PREPAYMENT, balance=5_000_000)
    meter.advance(START + 2 * DAY)
    data = meter.to_json()
    again = Meter.from_json(data, meter.shape, KEY, meter.supply_table)
    assert again.to_json() == data
    meter.advance(START + 3 * DAY)
    again.advance(START + 3 * DAY)
    assert again.to_json() == meter.to_json()


def test_gas_meter_uses_the_valve_table() -> None:
    meter = Meter.new(shape_named("domestic-gas"), KEY, START, supply_table=VALVE)
    with pytest.raises(TransitionError):
        meter.operate_supply(SupplyEvent.REMOTE_ENABLE)
