"""The tariff family's device behaviour (emulator/usecases/tariff.py): each command changes
what the meter holds - its mode, balance, debt, emergency credit, message, supplier, tenancy
date, logs - answers in the DCC reference response's shape, and a command the meter cannot
obey in its state is refused with the error response and changes nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest

from emulator.devices.esme import Esme
from emulator.devices.gpf import Gpf
from emulator.devices.gsme import Gsme
from emulator.metering import PaymentMode
from emulator.supply import SupplyState
from gbcs import content as c
from gbcs.alerts import AlertCode
from gbcs.content.account import CANCEL_PENDING
from gbcs.frames import Message
from gbcs.payloads import gbz
from gbcs.payloads.dlms import OctetString
from tests.emulator.support import ESME, GPF, GSME, HeadEnd, pki_for, sandbox_fleet

TARIFF = "tariff"


@pytest.fixture
def prepay() -> HeadEnd:
    return HeadEnd(sandbox_fleet(prepayment=True, balance=50_000), pki_for())


def _gsme(head: HeadEnd) -> Gsme:
    device = head.fleet.device(GSME, head.now)
    assert isinstance(device, Gsme)
    return device


def _esme(head: HeadEnd) -> Esme:
    device = head.fleet.device(ESME, head.now)
    assert isinstance(device, Esme)
    return device


def _issued(head: HeadEnd) -> int:
    return c.issuer_id(head.now)


def _zcl_ok(head: HeadEnd, target: bytes, cmd: object) -> c.ZclStatus:
    answer = head.send(head.command(target, cmd, counter=head.next_counter()))
    assert answer.response is not None
    found = c.decode_response(answer.response.message_code, answer.response.content)
    assert isinstance(found, c.ZclStatus)
    return found


def test_gcs03_then_gcs02_switch_the_gas_meter_and_log_its_billing_data(head: HeadEnd) -> None:
    gsme = _gsme(head)
    assert gsme.meter.mode is PaymentMode.CREDIT
    before = list(gsme.meter.registers)
    cmd = c.GasPaymentMode(_issued(head), True, suspend_debt_disabled=False, cut_off=-5)
    answer = head.send(head.command(GSME, cmd, counter=head.next_counter()))
    assert answer.response is not None
    found = c.decode_response(0x006D, answer.response.content)
    assert isinstance(found, c.GasPaymentModeAnswer)
    assert found.emergency_credit_limit == gsme.meter.prepayment.emergency_credit_limit
    assert found.emergency_credit_threshold == gsme.meter.prepayment.emergency_credit_threshold
    assert gsme.meter.mode is PaymentMode.PREPAYMENT
    assert gsme.meter.prepayment.disablement_threshold == -5
    (logged,) = gsme.family_state(TARIFF)["billing_log"]
    assert logged["from"] == "credit"
    assert logged["registers"] == before

    back = c.GasPaymentMode(_issued(head), False)
    head.send(head.command(GSME, back, counter=head.next_counter()))
    assert gsme.meter.mode is PaymentMode.CREDIT
    assert len(gsme.family_state(TARIFF)["billing_log"]) == 2


def test_a_switch_to_the_mode_held_is_refused_and_changes_nothing(head: HeadEnd) -> None:
    gsme = _gsme(head)
    snapshot = gsme.to_json()
    refused = c.GasPaymentMode(_issued(head), False)
    answer = head.send(head.command(GSME, refused, counter=head.next_counter()))
    assert answer.response is not None
    found = c.decode_response(0x006C, answer.response.content)
    assert isinstance(found, c.ZclStatus)
    assert not found.ok
    after = gsme.to_json()
    assert after["meter"] == snapshot["meter"]
    assert gsme.family_state(TARIFF).get("billing_log") is None


def test_a_future_dated_switch_is_held_and_a_cancellation_drops_it(head: HeadEnd) -> None:
    gsme = _gsme(head)
    later = gbz.zigbee_time(head.now + timedelta(days=30))
    held = c.GasPaymentMode(_issued(head), True, later)
    head.send(head.command(GSME, held, counter=head.next_counter()))
    assert gsme.meter.mode is PaymentMode.CREDIT
    assert gsme.family_state(TARIFF)["pending_mode"]["mode"] == "prepayment"
    cancel = c.GasPaymentMode(_issued(head), True, CANCEL_PENDING)
    head.send(head.command(GSME, cancel, counter=head.next_counter()))
    assert "pending_mode" not in gsme.family_state(TARIFF)


def test_credit_mode_balance_is_adjusted_and_reset(head: HeadEnd) -> None:
    gsme = _gsme(head)
    start = gsme.meter.credit.balance
    adjust = c.GasMeterBalance(_issued(head), c.CreditAdjustment.ADJUST, 5_000_000)
    assert _zcl_ok(head, GSME, adjust).ok
    assert gsme.meter.credit.balance == start + 5_000_000
    assert _zcl_ok(head, GSME, c.GasMeterBalance(_issued(head), c.CreditAdjustment.RESET)).ok
    assert gsme.meter.credit.balance == 0


def test_credit_mode_balance_is_refused_in_prepayment(prepay: HeadEnd) -> None:
    gsme = _gsme(prepay)
    adjust = c.GasMeterBalance(_issued(prepay), c.CreditAdjustment.ADJUST, 1000)
    assert not _zcl_ok(prepay, GSME, adjust).ok
    assert gsme.meter.credit.balance == 50_000


def test_gcs04_adds_debt_that_recovery_then_draws_from_credit(prepay: HeadEnd) -> None:
    gsme = _gsme(prepay)
    gsme.meter.credit.balance = 10_000_000
    changes = (
        c.DebtChange(1, 240_000, 24_000, c.RecoveryPeriod.DAILY),
        c.DebtChange(2, 0, 0, c.RecoveryPeriod.HOURLY),
        c.DebtChange(3, 100_000, percentage=500),
    )
    found = _zcl_ok(prepay, GSME, c.ManageGasDebt(_issued(prepay), changes))
    assert found.statuses == ((0x02, 0), (0x02, 0), (0x02, 0))
    state = gsme.family_state(TARIFF)["debt"]
    assert state["registers"] == [240_000, 0, 100_000]
    assert state["terms"][2]["percentage"] == 500
    assert gsme.meter.credit.debt == 340_000
    assert gsme.meter.prepayment.debt_recovery_per_day == 24_000
    prepay.advance(timedelta(days=1))
    assert gsme.meter.credit.debt == 340_000 - 24_000  # 48 half hours of 500


def test_emergency_credit_on_request_only_below_its_threshold(prepay: HeadEnd) -> None:
    gsme = _gsme(prepay)
    gsme.meter.credit.balance = gsme.meter.prepayment.emergency_credit_threshold + 1
    assert not _zcl_ok(prepay, GSME, c.GasEmergencyCredit()).ok
    assert not gsme.meter.credit.emergency_credit_active
    gsme.meter.credit.balance = 0
    answer = prepay.send(
        prepay.command(GSME, c.GasEmergencyCredit(), counter=prepay.next_counter())
    )
    assert answer.response is not None
    assert c.ZclStatus.decode(answer.response.content).ok
    assert gsme.meter.credit.emergency_credit_active
    assert answer.alert_codes() == [0x81AB]


def test_ecs09_activates_esme_emergency_credit(prepay: HeadEnd) -> None:
    esme = _esme(prepay)
    esme.meter.credit.balance = 0
    cmd = c.ActivateEmergencyCredit(prepay.next_counter())
    answer = prepay.send(prepay.command(ESME, cmd))
    assert answer.response is not None
    assert c.Outcome.decode(answer.response.content).ok
    assert esme.meter.credit.emergency_credit_active
    again = prepay.send(prepay.command(ESME, c.ActivateEmergencyCredit(prepay.next_counter())))
    assert again.response is not None
    assert not c.Outcome.decode(again.response.content).ok  # active already


def test_messages_supplier_tenancy_and_pin_are_held(head: HeadEnd) -> None:
    esme, gsme = _esme(head), _gsme(head)
    for make in (
        lambda n: c.SendMessage(n, b"Hello"),
        lambda n: c.SupplierContact(n, b"E-ON", b"0333 202 4650"),
        lambda n: c.SetTenancyDate(n, dt.datetime(2026, 3, 1, tzinfo=UTC)),
        lambda n: c.DailyBlockCounterReset(n, True),
        c.ResetBlockCounters,
        c.ClearAlcsLog,
    ):
        cmd = make(head.next_counter())
        answer = head.send(head.command(ESME, cmd))
        assert answer.response is not None
        assert c.Outcome.decode(answer.response.content).ok, cmd
    held = esme.family_state(TARIFF)
    assert held["message"] == "Hello"
    assert held["supplier"] == {"name": "E-ON", "telephone": "0333 202 4650"}
    assert held["tenancy"] == "2026-03-01T00:00:00+00:00"
    assert held["daily_block_reset"] is True
    assert held["block_counters"] == [0, 0, 0, 0]
    assert "alcs_log_cleared" in held

    assert _zcl_ok(head, GSME, c.GasMessage(_issued(head), b"Gas")).ok
    assert _zcl_ok(head, GSME, c.GasContact(_issued(head), b"X", b"01")).ok
    assert _zcl_ok(head, GSME, c.GasPrivacyPin(_issued(head))).ok
    gas = gsme.family_state(TARIFF)
    assert (gas["message"], gas["supplier"]["name"], gas["privacy_pin"]) == ("Gas", "X", False)

    gpf = head.fleet.device(GPF, head.now)
    assert isinstance(gpf, Gpf)
    when = dt.datetime(2026, 4, 1, tzinfo=UTC)
    assert _zcl_ok(head, GPF, c.GasTenancy(_issued(head), when)).ok
    assert gpf.family_state(TARIFF)["tenancy"] == when.isoformat()


def test_cs11_empties_the_gas_event_log(head: HeadEnd) -> None:
    gsme = _gsme(head)
    gsme._log("something happened")
    answer = head.send(head.command(GSME, c.ClearGasEventLog(), counter=head.next_counter()))
    assert answer.response is not None
    assert c.GasLogCleared.decode(answer.response.content).ok
    assert not gsme.log


def test_the_family_state_survives_a_restart(head: HeadEnd) -> None:
    head.send(head.command(ESME, c.SendMessage(head.next_counter(), b"Kept")))
    data = _esme(head).to_json()
    fresh = Esme.create(ESME, head.fleet.spec(ESME), 0, 1)
    assert fresh.family_state(TARIFF) == {}
    fresh.restore_json(json.loads(json.dumps(data)))
    assert fresh.family_state(TARIFF)["message"] == "Kept"


@pytest.mark.parametrize(
    ("reference", "target", "make"),
    [
        ("GCS07_3.1", GSME, lambda i: c.GasMessage(i, b"Reset")),
        ("GCS44_3.4", GSME, lambda i: c.GasContact(i, b"E-ON", b"0333 202 4650")),
        ("GCS11_3.5", GSME, c.GasPrivacyPin),
        ("GCS09_3.2", GPF, lambda i: c.GasTenancy(i, dt.datetime(2015, 2, 1, tzinfo=UTC))),
        ("CS11_3.3", GSME, lambda i: c.ClearGasEventLog()),
        ("GCS40c_1.5", GSME, lambda i: c.GasMeterBalance(i, c.CreditAdjustment.ADJUST, 5)),
        ("GCS40d_1.5", GSME, lambda i: c.GasMeterBalance(i, c.CreditAdjustment.RESET)),
    ],
)
def test_gas_answers_are_the_reference_responses(
    head: HeadEnd, conformance: Path, reference: str, target: bytes, make: Any
) -> None:
    answer = head.send(head.command(target, make(_issued(head)), counter=head.next_counter()))
    assert answer.response is not None
    expected = _reference(conformance, f"{reference}_SUCCESS_RESPONSE")
    assert answer.response.message_code == expected.message_code
    assert answer.response.content == expected.content


def test_payment_mode_answer_has_the_reference_shape(head: HeadEnd, conformance: Path) -> None:
    cmd = c.GasPaymentMode(_issued(head), True, cut_off=0)
    answer = head.send(head.command(GSME, cmd, counter=head.next_counter()))
    assert answer.response is not None
    expected = _reference(conformance, "GCS03_1.6_IMMEDIATE_SUCCESS_RESPONSE")
    ours = c.decode_response(0x006D, answer.response.content)
    theirs = c.decode_response(0x006D, expected.content)
    assert type(ours) is type(theirs) is c.GasPaymentModeAnswer


def _reference(conformance: Path, stem: str) -> Message:
    (path,) = conformance.glob(f"gbcs/*/{stem}_GBCS.HEX")
    return Message.from_bytes(bytes.fromhex(path.read_text().strip()))


def test_a_block_tariff_bills_block_a_prices(head: HeadEnd, conformance: Path) -> None:
    """A block tariff (block tariff scripts 101..) is installed: each block rate bills on
    its register at block A's price (block thresholds are not modelled)."""
    from tests.gateway.srv.support_account import transform

    xml = conformance / "duis/templates/ECS01a_1.1.1_IMMEDIATE_BLOCK_SUCCESS_REQUEST_DUIS.XML"
    _, content = transform(xml.read_bytes())
    tariff = c.UpdateTariff.decode(content)
    cmd = dataclasses.replace(tariff, counter=head.next_counter() & 0xFF_FFFF)
    answer = head.send(head.command(ESME, cmd))
    assert answer.response is not None
    assert c.Outcome.decode(answer.response.content).ok
    installed = _esme(head).meter.tariff
    used = sorted(set(installed.switching))
    assert used
    # milli-pence per kWh: 10**(price_scale + 5) milli-pence, 10**(3 - commodity_scale) Wh
    factor = 10 ** (tariff.price_scale + 5 + 3 - tariff.commodity_scale)
    for register in used:
        assert installed.prices[register] == tariff.block_prices[0][register] * factor


def test_ecs01b_reprices_the_tariff_held_and_holds_a_future_price(head: HeadEnd) -> None:
    esme = _esme(head)
    switching = esme.meter.tariff.switching
    now_price = c.UpdatePrice(head.next_counter(), 30_000, (25_000,) + (0,) * 47)
    answer = head.send(head.command(ESME, now_price))
    assert answer.response is not None
    assert c.Outcome.decode(answer.response.content).ok
    assert esme.meter.tariff.prices[0] == 25_000  # price scale -5: milli-pence per kWh
    assert esme.meter.tariff.standing_charge == 30_000
    assert esme.meter.tariff.switching == switching
    later = head.now + timedelta(days=10)
    held = c.UpdatePrice(head.next_counter(), 1, (2,) + (0,) * 47, activate_at=later)
    head.send(head.command(ESME, held))
    assert esme.meter.tariff.prices[0] == 25_000
    assert esme.family_state(TARIFF)["pending_price"]["prices"][0] == 2
    cancel = c.UpdatePrice(head.next_counter(), 0, (0,) * 48, cancel_pending=True)
    head.send(head.command(ESME, cancel))
    assert "pending_price" not in esme.family_state(TARIFF)


def test_ecs01b_with_a_negative_price_is_refused_and_changes_nothing(head: HeadEnd) -> None:
    esme = _esme(head)
    before = esme.meter.tariff
    bad = c.UpdatePrice(head.next_counter(), 100, (-1,) + (0,) * 47)
    answer = head.send(head.command(ESME, bad))
    assert answer.response is not None
    assert not c.Outcome.decode(answer.response.content).ok
    assert esme.meter.tariff == before


def test_an_ecs01a_cancellation_installs_nothing(head: HeadEnd, conformance: Path) -> None:
    from tests.gateway.srv.support_account import transform

    name = "ECS01a_1.1.1_CANCELLATION_TOU_BLOCK_SUCCESS_REQUEST_DUIS.XML"
    _, content = transform((conformance / "duis/templates" / name).read_bytes())
    tariff = c.UpdateTariff.decode(content)
    assert tariff.cancel_pending
    esme = _esme(head)
    before = esme.meter.tariff
    cmd = dataclasses.replace(tariff, counter=head.next_counter() & 0xFF_FFFF)
    answer = head.send(head.command(ESME, cmd))
    assert answer.response is not None
    assert c.Outcome.decode(answer.response.content).ok
    assert esme.meter.tariff == before
    assert esme.pending_tariff is None


def test_gcs01b_reprices_the_gas_meter(head: HeadEnd, conformance: Path) -> None:
    gsme = _gsme(head)
    cmd = c.GasPrice(_issued(head), 22_465, (9_600, 10_200))
    answer = head.send(head.command(GSME, cmd, counter=head.next_counter()))
    assert answer.response is not None
    expected = _reference(conformance, "GCS01b_1.2.1_IMMEDIATE_TOU_SUCCESS_RESPONSE")
    assert answer.response.content == expected.content
    assert gsme.meter.tariff.prices[0] == 9_600
    assert gsme.meter.tariff.standing_charge == 22_465


@pytest.mark.parametrize("stem", ["GCS01a_1.1.1_IMMEDIATE_TOU", "GCS01a_1.1.1_CANCELLATION_BLOCK"])
def test_gcs01a_installs_the_gas_tariff_and_answers_the_reference(
    head: HeadEnd, conformance: Path, stem: str
) -> None:
    from tests.gateway.srv.support_account import transform

    xml = (conformance / f"duis/templates/{stem}_SUCCESS_REQUEST_DUIS.XML").read_bytes()
    _, content = transform(xml, now=head.now)
    cmd = c.GasTariff.decode(content)
    gsme = _gsme(head)
    before = gsme.meter.tariff
    answer = head.send(head.command(GSME, cmd, counter=head.next_counter()))
    assert answer.response is not None
    expected = _reference(conformance, f"{stem}_SUCCESS_RESPONSE")
    assert answer.response.content == expected.content
    if cmd.price.cancel:
        assert gsme.meter.tariff == before
    else:
        # Monday of the first season is day 1, tier 1 all day: 9600 per unit.
        assert set(gsme.meter.tariff.switching) == {0}
        assert gsme.meter.tariff.prices[0] == 9_600
        assert gsme.meter.tariff.standing_charge == 22_465


def test_a_month_on_a_tou_tariff_bills_as_the_tariff_says_by_hand() -> None:
    """Thirty days of prepayment on a two-rate tariff (night 00:00-07:00 at 12p/kWh, day at
    28p/kWh, 32p a day): each TOU register holds exactly the half hours its rate covers, and
    the credit falls by the energy at each half hour's price plus the standing charge."""
    head = HeadEnd(sandbox_fleet(prepayment=True, balance=40_000_000), pki_for())
    tariff = c.UpdateTariff(
        counter=head.next_counter() & 0xFF_FFFF,
        seasons=(c.Season(b"all", bytes.fromhex("07e8010fff000000008000ff"), b"\x01"),),
        week_profiles=(c.WeekProfile(b"\x01", (1,) * 7),),
        day_profiles=(
            c.DayProfile(1, (c.TariffSwitch(dt.time(0), 2), c.TariffSwitch(dt.time(7), 1))),
        ),
        standing_charge=32_000,
        tou_prices=(28_000, 12_000) + (0,) * 46,
    )
    answer = head.send(head.command(ESME, tariff))
    assert answer.response is not None
    assert c.Outcome.decode(answer.response.content).ok
    esme = _esme(head)
    meter = esme.meter
    meter.prepayment = dataclasses.replace(meter.prepayment, low_credit_threshold=0)
    day_start, night_start = meter.registers[1], meter.registers[2]
    balance = meter.credit.balance
    day = night = 0
    owed = 0  # milli-pence x 1000 (Wh x milli-pence per kWh)
    slots = 0
    for _ in range(30 // 6):
        head.advance(timedelta(days=6))
        for start, used in meter.half_hours(48 * 6):
            if (start % 86_400) // 1800 < 14:  # 00:00 - 07:00 UTC
                night += used
                owed += used * 12_000
            else:
                day += used
                owed += used * 28_000
            slots += 1
    assert slots == 48 * 30
    assert meter.registers[1] - day_start == day
    assert meter.registers[2] - night_start == night
    assert day > 0
    assert night > 0
    standing = slots * (32_000 // 48)
    assert balance - meter.credit.balance == owed // 1000 + standing


def test_a_held_payment_mode_change_happens_at_its_time_with_the_reference_alert(
    head: HeadEnd, conformance: Path
) -> None:
    gsme = _gsme(head)
    later = head.now + timedelta(days=3)
    counter = head.next_counter()
    cmd = c.GasPaymentMode(_issued(head), True, gbz.zigbee_time(later), cut_off=0)
    head.send(head.command(GSME, cmd, counter=counter))
    assert gsme.meter.mode is PaymentMode.CREDIT
    answer = head.advance(timedelta(days=2))
    assert 0x8F66 not in answer.alert_codes()
    answer = head.advance(timedelta(days=2))
    assert answer.alert_codes().count(0x8F66) == 1
    assert gsme.meter.mode is PaymentMode.PREPAYMENT
    assert "pending_mode" not in gsme.family_state(TARIFF)
    (alert,) = [m for m in answer.alerts if m.message_code == 0x00CD]
    ours = c.decode_alert(alert.message_code, alert.content)
    reference = _reference(
        conformance, "GCS03_1.6_8F66_FUTURE_DATED_SUCCESS_ALERT_CHANGE_PAYMENT_MODE"
    )
    theirs = c.decode_alert(reference.message_code, reference.content)
    assert isinstance(ours, gbz.GbzAlert)
    assert isinstance(theirs, gbz.GbzAlert)
    assert ours.timestamp == gbz.zigbee_time(later)
    # same fields but the command's counter: length, message code, counter, cluster, command
    assert ours.extra[:3] == theirs.extra[:3]
    assert int.from_bytes(ours.extra[3:11], "big") == counter
    assert ours.extra[11:] == theirs.extra[11:]


def test_a_held_esme_price_applies_at_its_time(head: HeadEnd) -> None:
    esme = _esme(head)
    later = head.now + timedelta(hours=5)
    held = c.UpdatePrice(head.next_counter(), 10_000, (20_000,) + (0,) * 47, activate_at=later)
    head.send(head.command(ESME, held))
    assert esme.meter.tariff.prices[0] != 20_000
    answer = head.advance(timedelta(hours=6))
    assert answer.alert_codes().count(0x8F66) == 2
    assert esme.meter.tariff.prices[0] == 20_000
    # the alerts name the standing charge's and the price matrix's activation (attribute 7)
    found = [c.decode_alert(m.message_code, m.content) for m in answer.alerts]
    details = [a.details for a in found if isinstance(a, c.DlmsAlert) and a.code == 0x8F66]
    raw = [d.value for d in details if isinstance(d, OctetString)]
    assert [r[-7:] for r in raw] == [
        bytes.fromhex("0000131404ff07"),
        bytes.fromhex("0000131400ff07"),
    ]
    assert esme.meter.tariff.standing_charge == 10_000


def test_gcs05_configures_prepayment_and_answers_the_reference(
    prepay: HeadEnd, conformance: Path
) -> None:
    from tests.gateway.srv.support_account import transform

    name = "GCS05_2.1_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML"
    _, content = transform((conformance / "duis/templates" / name).read_bytes(), now=prepay.now)
    cmd = c.GasPrepayConfig.decode(content)
    answer = prepay.send(prepay.command(GSME, cmd, counter=prepay.next_counter()))
    assert answer.response is not None
    expected = _reference(conformance, "GCS05_2.1_IMMEDIATE_SUCCESS_RESPONSE")
    assert answer.response.content == expected.content
    config = _gsme(prepay).meter.prepayment
    assert (config.emergency_credit_limit, config.emergency_credit_threshold) == (
        10_000_000,
        100_000,
    )
    assert config.low_credit_threshold == 5_000_000
    held = _gsme(prepay).family_state(TARIFF)["prepay"]
    assert held["max_meter_balance"] == 25_000_000
    assert held["non_disablement"][0]["switches"] == [[0, True], [480, False], [1080, True]]


def test_gcs05_with_the_emergency_threshold_above_low_credit_is_refused(prepay: HeadEnd) -> None:
    gsme = _gsme(prepay)
    before = gsme.meter.prepayment
    day = c.NonDisablementDay(1, ((0, True),))
    season = c.GasSeason(bytes([0xFF, 1, 1, 0xFF]), 1)
    cmd = c.GasPrepayConfig(
        _issued(prepay), 0, 500, 300, 200, 1000, 1000, (day,), ((1, (1,) * 7),), (season,)
    )
    answer = prepay.send(prepay.command(GSME, cmd, counter=prepay.next_counter()))
    assert answer.response is not None
    assert not c.ZclStatus.decode(answer.response.content).ok
    assert gsme.meter.prepayment == before


def test_credit_running_out_in_a_non_disablement_period_waits_for_its_end(
    prepay: HeadEnd,
) -> None:
    """Non-disablement from 00:00 to 08:00 and from 18:00 (GCS05): a gas meter whose credit
    runs out at night keeps the valve open until 08:00, then closes it with its alert."""
    gsme = _gsme(prepay)
    day = c.NonDisablementDay(1, ((0, True), (480, False), (1080, True)))
    season = c.GasSeason(bytes([0xFF, 1, 1, 0xFF]), 1)
    config = c.GasPrepayConfig(
        _issued(prepay), 0, 0, 0, 0, 25_000_000, 25_000_000, (day,), ((1, (1,) * 7),), (season,)
    )
    answer = prepay.send(prepay.command(GSME, config, counter=prepay.next_counter()))
    assert answer.response is not None
    assert c.ZclStatus.decode(answer.response.content).ok
    calendar = gsme.meter.prepayment.non_disablement_calendar
    assert calendar is not None
    periods = calendar.periods_on(dt.date(2024, 1, 15))
    assert periods[0]
    assert not periods[16]
    # T0 is 09:00: let the day pass to 23:00 on plenty of credit, then empty it.
    gsme.meter.credit.balance = 5_000_000
    prepay.advance(timedelta(hours=14))
    assert gsme.meter.supply is SupplyState.ENABLED
    gsme.meter.credit.balance = 0
    answer = prepay.advance(timedelta(hours=8))  # to 07:00: inside the period
    assert gsme.meter.supply is SupplyState.ENABLED
    assert AlertCode.CREDIT_BELOW_DISABLEMENT_THRESHOLD not in answer.alert_codes()
    answer = prepay.advance(timedelta(hours=2))  # 09:00: the period ended at 08:00
    assert gsme.meter.supply is SupplyState.DISABLED
    assert AlertCode.CREDIT_BELOW_DISABLEMENT_THRESHOLD in answer.alert_codes()
