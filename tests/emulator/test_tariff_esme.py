"""The ESME's payment mode (ECS02, ECS03) and prepayment configuration (ECS08a): each changes
what the meter holds, answers in the DCC reference response's shape, raises the reference
future-dated alerts when a held change falls due, and a command the meter cannot obey is
refused and changes nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt
from datetime import timedelta
from pathlib import Path

import pytest

from emulator.devices.esme import Esme
from emulator.metering import PaymentMode
from gbcs import content as c
from gbcs.frames import Message
from gbcs.payloads.dlms import OctetString
from tests.emulator.support import ESME, HeadEnd, pki_for, sandbox_fleet

TARIFF = "tariff"
ANY_YEAR = b"\xff\xff"


@pytest.fixture
def prepay() -> HeadEnd:
    return HeadEnd(sandbox_fleet(prepayment=True, balance=5_000_000), pki_for())


def _esme(head: HeadEnd) -> Esme:
    device = head.fleet.device(ESME, head.now)
    assert isinstance(device, Esme)
    return device


def _reference(conformance: Path, stem: str) -> Message:
    (path,) = conformance.glob(f"gbcs/*/{stem}_GBCS.HEX")
    return Message.from_bytes(bytes.fromhex(path.read_text().strip()))


def _outcome(head: HeadEnd, cmd: c.DlmsCommand) -> c.Outcome:
    answer = head.send(head.command(ESME, cmd, counter=head.next_counter()))
    assert answer.response is not None
    return c.Outcome.decode(answer.response.content)


def _counter(head: HeadEnd) -> int:
    return head.next_counter() & 0xFF_FFFF


def test_ecs03_switches_to_prepayment_and_answers_the_reference_shape(
    head: HeadEnd, conformance: Path
) -> None:
    esme = _esme(head)
    before = list(esme.meter.registers)
    cmd = c.ElecPrepaymentMode(_counter(head), -25_000, suspend_debt_emergency=True)
    found = _outcome(head, cmd)
    reference = c.Outcome.decode(
        _reference(conformance, "ECS03_1.6_IMMEDIATE_SINGLE_SUCCESS_RESPONSE").content
    )
    assert found.ok
    assert [r.kind for r in found.results] == [r.kind for r in reference.results]
    assert esme.meter.mode is PaymentMode.PREPAYMENT
    assert esme.meter.prepayment.disablement_threshold == -25_000
    state = esme.family_state(TARIFF)
    assert state["debt_suspension"] == {"disabled": True, "emergency": True}
    (logged,) = state["billing_log"]
    assert logged["from"] == "credit"
    assert logged["registers"] == before

    back = _outcome(head, c.ElecCreditMode(_counter(head)))
    assert back.ok
    assert esme.meter.mode is PaymentMode.CREDIT


def test_ecs02_to_a_credit_meter_is_refused_and_changes_nothing(head: HeadEnd) -> None:
    esme = _esme(head)
    found = _outcome(head, c.ElecCreditMode(_counter(head)))
    assert not found.ok
    assert esme.meter.mode is PaymentMode.CREDIT
    assert "billing_log" not in esme.family_state(TARIFF)


def test_a_twin_element_configuration_on_a_single_element_meter_is_refused(
    head: HeadEnd,
) -> None:
    esme = _esme(head)
    assert esme.secondary is None
    found = _outcome(head, c.ElecPrepaymentMode(_counter(head), 0, twin=True))
    assert not found.ok
    assert esme.meter.mode is PaymentMode.CREDIT


def test_a_held_payment_mode_falls_due_with_the_reference_alerts(
    head: HeadEnd, conformance: Path
) -> None:
    esme = _esme(head)
    later = (head.now + timedelta(days=2)).replace(microsecond=0)
    counter = _counter(head)
    cmd = c.ElecPrepaymentMode(counter, 1_000, activate_at=later)
    answer = head.send(head.command(ESME, cmd, counter=counter))
    assert answer.response is not None
    assert c.Outcome.decode(answer.response.content).ok
    assert esme.meter.mode is PaymentMode.CREDIT
    assert 0x8F66 not in head.advance(timedelta(days=1)).alert_codes()
    answer = head.advance(timedelta(days=2))
    assert esme.meter.mode is PaymentMode.PREPAYMENT
    assert esme.meter.prepayment.disablement_threshold == 1_000
    ours = [c.decode_alert(m.message_code, m.content) for m in answer.alerts]
    ours = [a for a in ours if isinstance(a, c.DlmsAlert) and a.code == 0x8F66]
    theirs = []
    for name in ("DISABLEMENT_THRESHOLD", "PAYMENT_MODE"):
        stem = f"ECS03_1.6_8F66_FUTURE_DATED_TWIN_SUCCESS_ALERT_{name}"
        ref = _reference(conformance, stem)
        alert = c.decode_alert(ref.message_code, ref.content)
        assert isinstance(alert, c.DlmsAlert)
        theirs.append(alert)
    assert len(ours) == len(theirs) == 2

    def spec_of(alert: c.DlmsAlert) -> bytes:
        assert isinstance(alert.details, OctetString)
        return alert.details.value[10:]  # after the message code and command counter

    assert sorted(spec_of(a) for a in ours) == sorted(spec_of(a) for a in theirs)
    for alert in ours:
        assert isinstance(alert.details, OctetString)
        assert alert.details.value[:2] == b"\x00\x1b"
        assert int.from_bytes(alert.details.value[2:10], "big") == counter
        assert alert.when == later


def test_a_cancellation_drops_the_held_payment_mode(head: HeadEnd) -> None:
    esme = _esme(head)
    later = head.now + timedelta(days=1)
    assert _outcome(head, c.ElecPrepaymentMode(_counter(head), 0, activate_at=later)).ok
    assert "pending_mode" in esme.family_state(TARIFF)
    assert _outcome(head, c.ElecPrepaymentMode(_counter(head), 0, cancel_pending=True)).ok
    assert "pending_mode" not in esme.family_state(TARIFF)
    assert 0x8F66 not in head.advance(timedelta(days=2)).alert_codes()
    assert esme.meter.mode is PaymentMode.CREDIT


def _weekdays(*names: int) -> frozenset[int]:
    return frozenset(names)


def _config(head: HeadEnd, **changes: object) -> c.ElecPrepayConfig:
    """Non-disablement 00:00-09:30 every day of the year, and all of 25 December."""
    night = (
        c.NonDisablementSwitch(
            True, dt.time(0), _weekdays(*range(7)), frozenset(), ANY_YEAR + b"\x01\x01\xff",
            ANY_YEAR + b"\x0c\x1f\xff",
        ),
        c.NonDisablementSwitch(
            False, dt.time(9, 30), _weekdays(*range(7)), frozenset(), ANY_YEAR + b"\x01\x01\xff",
            ANY_YEAR + b"\x0c\x1f\xff",
        ),
    )  # fmt: skip
    christmas = c.NonDisablementSwitch(
        True, dt.time(0), frozenset(), frozenset({1}), ANY_YEAR + b"\x01\x01\xff",
        ANY_YEAR + b"\x0c\x1f\xff",
    )  # fmt: skip
    config = c.ElecPrepayConfig(
        _counter(head),
        special_days=(ANY_YEAR + b"\x0c\x19\xff",),
        schedule=(*night, christmas),
        max_meter_balance=30_000_000,
        max_credit_threshold=20_000_000,
        debt_cap=5_000,
        low_credit_threshold=300_000,
        emergency_credit_limit=400_000,
        emergency_credit_threshold=150_000,
    )
    return dataclasses.replace(config, **changes)  # type: ignore[arg-type]


def test_ecs08a_configures_prepayment_now(prepay: HeadEnd, conformance: Path) -> None:
    esme = _esme(prepay)
    found = _outcome(prepay, _config(prepay))
    reference = c.Outcome.decode(
        _reference(conformance, "ECS08a_2.1_IMMEDIATE_SUCCESS_RESPONSE").content
    )
    assert found.ok
    assert [r.kind for r in found.results] == [r.kind for r in reference.results]
    config = esme.meter.prepayment
    assert (config.emergency_credit_limit, config.emergency_credit_threshold) == (400_000, 150_000)
    assert config.low_credit_threshold == 300_000
    assert (config.debt_cap, config.debt_cap_period) == (5_000, 7 * 24 * 3600)
    # 15 January: the night's period only (00:00 - 09:30 is half hours 0 to 18)
    calendar = config.non_disablement_calendar
    assert calendar is not None
    periods = calendar.periods_on(dt.date(2024, 1, 15))
    assert [i for i, on in enumerate(periods) if on] == list(range(19))
    held = esme.family_state(TARIFF)["prepay"]
    assert held["max_meter_balance"] == 30_000_000


def test_ecs08a_on_a_special_day_takes_its_periods(prepay: HeadEnd) -> None:
    esme = _esme(prepay)
    christmas = dt.datetime(2024, 12, 25, 9, 0, tzinfo=dt.UTC)
    assert _outcome(prepay, _config(prepay, activate_at=christmas)).ok
    prepay.now = christmas - timedelta(minutes=5)
    prepay.advance(timedelta(minutes=10))
    calendar = esme.meter.prepayment.non_disablement_calendar
    assert calendar is not None
    assert all(calendar.periods_on(christmas.date()))
    # The day after, the week days' entries again: the calendar is followed day by day.
    boxing_day = calendar.periods_on(dt.date(2024, 12, 26))
    assert [i for i, on in enumerate(boxing_day) if on] == list(range(19))


def test_a_held_ecs08a_falls_due_with_one_alert_an_activation(prepay: HeadEnd) -> None:
    esme = _esme(prepay)
    before = esme.meter.prepayment
    later = (prepay.now + timedelta(hours=6)).replace(microsecond=0)
    assert _outcome(prepay, _config(prepay, activate_at=later)).ok
    assert esme.meter.prepayment == before
    answer = prepay.advance(timedelta(hours=7))
    alerts = [c.decode_alert(m.message_code, m.content) for m in answer.alerts]
    executed = [a for a in alerts if isinstance(a, c.DlmsAlert) and a.code == 0x8F66]
    assert len(executed) == 9  # the calendar, special days and seven values
    assert esme.meter.prepayment.debt_cap == 5_000
    assert "pending_prepay" not in esme.family_state(TARIFF)


@pytest.mark.parametrize(
    "changes",
    [
        {"emergency_credit_threshold": 500_000},  # above the limit
        {"low_credit_threshold": 100_000},  # below the emergency credit threshold
        {"schedule": ()},
    ],
)
def test_an_inconsistent_ecs08a_is_refused_and_changes_nothing(
    prepay: HeadEnd, changes: dict[str, object]
) -> None:
    esme = _esme(prepay)
    before = esme.meter.prepayment
    assert not _outcome(prepay, _config(prepay, **changes)).ok
    assert esme.meter.prepayment == before
    assert "prepay" not in esme.family_state(TARIFF)
