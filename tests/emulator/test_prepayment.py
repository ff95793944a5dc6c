"""Tariffs (ECS01a), top-ups (CS01a / CS01b) and credit that drains with time."""

from __future__ import annotations

import dataclasses
import datetime as dt
from datetime import timedelta

import pytest

from emulator.devices.esme import Esme
from emulator.devices.gsme import Gsme
from emulator.fleet import Fleet
from emulator.metering import PaymentMode
from emulator.supply import SupplyState
from gbcs import content as c
from gbcs.alerts import AlertCode
from gbcs.codes import SUPPLIER
from gbcs.payloads.dlms import CosemDateTime, OctetString
from gbcs.utrn import ValueClass, make_utrn
from tests.emulator.support import ESME, GSME, T0, HeadEnd, pki_for, sandbox_fleet


def _tariff(counter: int, **changes: object) -> c.UpdateTariff:
    tariff = c.UpdateTariff(
        counter=counter,
        seasons=(c.Season(b"all", CosemDateTime.from_datetime(T0).to_bytes(), b"\x01"),),
        week_profiles=(c.WeekProfile(b"\x01", (1, 1, 1, 1, 1, 1, 1)),),
        day_profiles=(
            c.DayProfile(1, (c.TariffSwitch(dt.time(0), 2), c.TariffSwitch(dt.time(7), 1))),
        ),
        standing_charge=32_000,  # price scale -5 (1e-5 GBP): 32p a day
        tou_prices=(28_000, 12_000) + (0,) * 46,  # per kWh: 28p day, 12p night
    )
    return dataclasses.replace(tariff, **changes)  # type: ignore[arg-type]


@pytest.fixture
def prepay() -> Fleet:
    return sandbox_fleet(prepayment=True, balance=2_000_000)  # GBP 20


@pytest.fixture
def prepay_head(prepay: Fleet) -> HeadEnd:
    return HeadEnd(prepay, pki_for())


def _esme(head: HeadEnd) -> Esme:
    device = head.fleet.device(ESME, head.now)
    assert isinstance(device, Esme)
    return device


def test_ECS01a_installs_a_consistent_tariff(head: HeadEnd) -> None:
    answer = head.send(head.command(ESME, _tariff(head.next_counter())))
    assert answer.response is not None
    assert answer.response.signature is not None
    assert c.Outcome.decode(answer.response.content).ok
    tariff = _esme(head).meter.tariff
    assert tariff.prices[:2] == (28_000, 12_000)  # milli-pence per kWh
    assert tariff.standing_charge == 32_000
    assert tariff.switching[:14] == (1,) * 14
    assert tariff.switching[14:] == (0,) * 34


def test_ECS01a_inconsistent_tariffs_are_refused_and_change_nothing(head: HeadEnd) -> None:
    before = _esme(head).meter.tariff
    broken = _tariff(
        head.next_counter(),
        day_profiles=(
            c.DayProfile(1, (c.TariffSwitch(dt.time(7), 1), c.TariffSwitch(dt.time(6), 2))),
        ),
    )
    answer = head.send(head.command(ESME, broken))
    assert answer.response is not None
    assert not c.Outcome.decode(answer.response.content).ok
    assert _esme(head).meter.tariff is before


def test_ECS01a_future_dated_switches_later_with_an_alert(head: HeadEnd) -> None:
    when = head.now + timedelta(hours=3)
    answer = head.send(head.command(ESME, _tariff(head.next_counter(), activate_at=when)))
    assert answer.response is not None
    assert c.Outcome.decode(answer.response.content).ok
    assert _esme(head).meter.tariff.prices[0] == 24_500  # not yet
    later = head.advance(timedelta(hours=4))
    # one alert an activation time the command set, naming it, in the command's order
    assert later.alert_codes() == [0x8F66] * 6
    assert {m.message_code for m in later.alerts} == {0x00CC}
    named = []
    for message in later.alerts:
        alert = c.decode_alert(message.message_code, message.content)
        assert isinstance(alert, c.DlmsAlert)
        assert isinstance(alert.details, OctetString)
        raw = alert.details.value
        assert raw[:2] == b"\x00\x19"  # ECS01a
        named.append((int.from_bytes(raw[10:12], "big"), raw[12:18], raw[18]))
    assert named == [(s.class_id, s.obis.raw, s.index) for s in c.UpdateTariff.activations()]
    assert _esme(head).meter.tariff.prices[0] == 28_000


def test_credit_drains_then_supply_is_disabled_then_a_UTRN_arms_it(prepay_head: HeadEnd) -> None:
    head = prepay_head
    head.send(head.command(ESME, _tariff(head.next_counter())))
    codes: list[int] = []
    for _ in range(30):
        codes += head.advance(timedelta(days=1)).alert_codes()
        if AlertCode.CREDIT_BELOW_DISABLEMENT_THRESHOLD in codes:
            break
    assert codes[-1] == AlertCode.CREDIT_BELOW_DISABLEMENT_THRESHOLD
    assert 0x810D in codes  # low credit came first
    assert _esme(head).meter.supply is SupplyState.DISABLED

    utrn = make_utrn(
        pki_for(),
        supplier=SUPPLIER,
        device=ESME,
        counter=1 << 32,
        value=20,
        value_class=ValueClass.POUNDS,
    )
    answer = head.send(head.command(ESME, c.TopUp(head.next_counter(), utrn)))
    assert answer.response is not None
    assert c.Outcome.decode(answer.response.content).ok
    assert answer.alert_codes() == [AlertCode.SUPPLY_ARMED]
    assert _esme(head).meter.supply is SupplyState.ARMED

    # The same UTRN again: refused, no credit.
    balance = _esme(head).meter.credit.balance
    answer = head.send(head.command(ESME, c.TopUp(head.next_counter(), utrn)))
    assert answer.response is not None
    assert not c.Outcome.decode(answer.response.content).ok
    assert answer.alert_codes() == [AlertCode.DUPLICATE_UTRN_ENTERED]
    assert _esme(head).meter.credit.balance == balance


def test_a_UTRN_for_another_meter_is_not_authentic(prepay_head: HeadEnd) -> None:
    head = prepay_head
    utrn = make_utrn(pki_for(), supplier=SUPPLIER, device=GSME, counter=1 << 32, value=500)
    answer = head.send(head.command(ESME, c.TopUp(head.next_counter(), utrn)))
    assert answer.alert_codes() == [AlertCode.UTRN_NOT_AUTHENTIC]
    assert _esme(head).meter.credit.balance == 2_000_000


def test_a_keypad_UTRN_raises_credit_added_locally(prepay_head: HeadEnd) -> None:
    head = prepay_head
    utrn = make_utrn(pki_for(), supplier=SUPPLIER, device=ESME, counter=2 << 32, value=500)
    answer = head.check(head.fleet.enter_utrn(ESME, utrn, head.now))
    assert answer.alert_codes() == [AlertCode.CREDIT_ADDED_LOCALLY]
    assert _esme(head).meter.credit.balance == 2_000_000 + 500_000


def test_a_top_up_to_a_credit_meter_is_refused(head: HeadEnd) -> None:
    utrn = make_utrn(pki_for(), supplier=SUPPLIER, device=ESME, counter=1 << 32, value=500)
    answer = head.send(head.command(ESME, c.TopUp(head.next_counter(), utrn)))
    assert answer.response is not None
    assert not c.Outcome.decode(answer.response.content).ok
    assert _esme(head).meter.mode is PaymentMode.CREDIT


def test_CS01b_tops_up_the_gas_meter(prepay_head: HeadEnd) -> None:
    head = prepay_head
    utrn = make_utrn(pki_for(), supplier=SUPPLIER, device=GSME, counter=3 << 32, value=1000)
    head.next_counter()
    answer = head.send(head.command(GSME, c.TopUpGas(utrn)))
    assert answer.response is not None
    result = c.GasTopUpResult.decode(answer.response.content)
    assert result.ok
    assert result.value == 1000
    assert result.credit_remaining == 3_000  # pence
    head.next_counter()
    again = head.send(head.command(GSME, c.TopUpGas(utrn)))
    assert again.response is not None
    assert (
        c.GasTopUpResult.decode(again.response.content).result is c.TopUpResult.REJECTED_DUPLICATE
    )
    gsme = head.fleet.device(GSME, head.now)
    assert isinstance(gsme, Gsme)
    assert gsme.meter.credit.balance == 3_000_000


def test_a_simulated_day_is_deterministic() -> None:
    results = []
    for _ in range(2):
        fleet = sandbox_fleet(prepayment=True, balance=5_000_000)
        head = HeadEnd(fleet, pki_for(), T0)
        head.advance(timedelta(seconds=1))  # state created
        head.fleet.device(ESME, head.now)
        head.fleet.device(GSME, head.now)
        head.advance(timedelta(days=1))
        esme = fleet.device(ESME, head.now)
        assert isinstance(esme, Esme)
        gsme = fleet.device(GSME, head.now)
        assert isinstance(gsme, Gsme)
        results.append(
            (
                esme.meter.to_json(),
                gsme.to_json()["meter"],
                esme.meter.half_hours(),
                gsme.meter.half_hours(),
            )
        )
    assert results[0] == results[1]
    assert len(results[0][2]) >= 48
