"""The ESME's meter balance (ECS04a, ECS04b), debt (ECS07), privacy PIN (ECS14) and event log
(ECS15a), and the GSME's prepayment-mode balance (GCS40a, GCS40b): each changes what the meter
holds and answers with one result a request; what the meter cannot take is refused and
changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from emulator.devices.esme import Esme
from emulator.devices.gsme import Gsme
from emulator.usecases.reading import EVENT_LOG, log_entries
from gbcs import content as c
from tests.emulator.support import ESME, GSME, HeadEnd, pki_for, sandbox_fleet

TARIFF = "tariff"


@pytest.fixture
def prepay() -> HeadEnd:
    return HeadEnd(sandbox_fleet(prepayment=True, balance=5_000_000), pki_for())


def _esme(head: HeadEnd) -> Esme:
    device = head.fleet.device(ESME, head.now)
    assert isinstance(device, Esme)
    return device


def _counter(head: HeadEnd) -> int:
    return head.next_counter() & 0xFF_FFFF


def _outcome(head: HeadEnd, cmd: c.DlmsCommand) -> c.Outcome:
    answer = head.send(head.command(ESME, cmd, counter=head.next_counter()))
    assert answer.response is not None
    found = c.Outcome.decode(answer.response.content)
    assert len(found.results) == len(cmd.specs())
    return found


def test_ecs04a_adjusts_and_ecs04b_resets_the_balance(prepay: HeadEnd) -> None:
    credit = _esme(prepay).meter.credit
    before = credit.balance
    assert _outcome(prepay, c.AdjustMeterBalance(_counter(prepay), -120_000)).ok
    assert credit.balance == before - 120_000
    credit.emergency_credit_active = True
    assert _outcome(prepay, c.ResetMeterBalance(_counter(prepay))).ok
    assert credit.balance == 0
    assert not credit.emergency_credit_active


def _debt(head: HeadEnd, t1: int, t2: int = 0, rate: int = 48, scale: int = -2) -> c.ManageDebt:
    """Time-based debt 1 recovered at ``rate`` x 10**scale GBP a day (48 x 0.01 = 48p)."""
    return c.ManageDebt(
        _counter(head),
        c.TimeDebtRecovery(rate, scale, c.RecoveryInterval.DAILY),
        c.TimeDebtRecovery(0, scale, c.RecoveryInterval.HOURLY),
        per_payment=500,
        payment_debt=0,
        time_debt_1=t1,
        time_debt_2=t2,
    )


def test_ecs07_adds_debt_that_recovery_draws_from_credit(prepay: HeadEnd) -> None:
    esme = _esme(prepay)
    meter = esme.meter
    assert _outcome(prepay, _debt(prepay, 200_000)).ok
    assert meter.credit.debt == 200_000
    # 48 x 10**-2 GBP a day = 48 000 milli-pence: 1 000 a half hour
    assert meter.prepayment.debt_recovery_per_day == 48_000
    held = esme.family_state(TARIFF)["debt"]
    assert held["registers"] == [200_000, 0, 0]
    assert held["terms"][2] == {"percentage": 500}
    prepay.advance(timedelta(days=1))
    assert meter.credit.debt == 200_000 - 48_000


def test_ecs07_that_would_leave_a_register_negative_is_refused(prepay: HeadEnd) -> None:
    esme = _esme(prepay)
    assert _outcome(prepay, _debt(prepay, 10_000)).ok
    before = (esme.meter.credit.debt, esme.meter.prepayment, esme.family_state(TARIFF)["debt"])
    assert not _outcome(prepay, _debt(prepay, -20_000)).ok
    assert not _outcome(prepay, _debt(prepay, 0, scale=-8)).ok  # finer than a milli-penny
    after = (esme.meter.credit.debt, esme.meter.prepayment, esme.family_state(TARIFF)["debt"])
    assert after == before


def test_ecs14_and_ecs15a_change_what_later_reads_show(head: HeadEnd) -> None:
    esme = _esme(head)
    esme.family_state("reading")["events"] = [[1, 0x8F0F], [2, 0x8F32]]  # as saved before
    assert log_entries(esme, EVENT_LOG) == [(1, 0x8F0F), (2, 0x8F32)]
    assert _outcome(head, c.ClearEsmeEventLog(_counter(head))).ok
    assert log_entries(esme, EVENT_LOG) == []
    assert "event_log_cleared" in esme.family_state(TARIFF)
    assert _outcome(head, c.DisableEsmePrivacyPin(_counter(head))).ok
    assert esme.family_state(TARIFF)["privacy_pin"] is False


def _gas(head: HeadEnd, kind: c.CreditAdjustment, amount: int = 0) -> c.ZclStatus:
    cmd = c.GasMeterBalance(c.issuer_id(head.now), kind, amount)
    answer = head.send(head.command(GSME, cmd, counter=head.next_counter()))
    assert answer.response is not None
    return c.ZclStatus.decode(answer.response.content)


def test_gcs40a_and_gcs40b_move_the_prepayment_balance(prepay: HeadEnd) -> None:
    gsme = prepay.fleet.device(GSME, prepay.now)
    assert isinstance(gsme, Gsme)
    before = gsme.meter.credit.balance
    assert _gas(prepay, c.CreditAdjustment.INCREMENTAL, 23_130).ok
    assert gsme.meter.credit.balance == before + 23_130
    assert _gas(prepay, c.CreditAdjustment.ABSOLUTE).ok
    assert gsme.meter.credit.balance == 0


def test_gcs40a_in_credit_mode_is_refused(head: HeadEnd) -> None:
    gsme = head.fleet.device(GSME, head.now)
    assert isinstance(gsme, Gsme)
    before = gsme.meter.credit.balance
    assert not _gas(head, c.CreditAdjustment.INCREMENTAL, 1_000).ok
    assert gsme.meter.credit.balance == before
