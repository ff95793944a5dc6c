"""Future-dated SR6.15.1 (CS02b / CS02g) and SR6.14.2 (ECS46c) on the emulated ESME: the
command is checked and acknowledged, held until the meter's clock passes its time, then
executed with its 8F66 alert (8F67 when it can no longer be), and a cancellation removes it."""

from __future__ import annotations

from datetime import timedelta

from gbcs import content as c
from gbcs.codes import SUPPLIER
from gbcs.payloads import dlms
from tests.emulator.future_dated_credentials import (
    CANCEL,
    LOAD_CONTROLLER,
    NEW_SUPPLIER,
    schedule,
    setup,
    update,
)
from tests.emulator.support import ESME


def test_a_future_dated_credentials_update_runs_when_the_meter_clock_passes_it() -> None:
    fleet, head, pki = setup()
    at = head.now + timedelta(hours=2)
    answer = head.send(head.command(ESME, update(head, pki, at=at)))
    assert answer.response is not None
    acknowledged = c.decode_response(0x0102, answer.response.content)
    assert isinstance(acknowledged, c.CredentialsUpdated)
    assert acknowledged.accepted
    assert not acknowledged.results
    assert head.advance(timedelta(hours=1)).alerts == []
    assert fleet.device(ESME, head.now).trust.supplier == SUPPLIER

    due = head.advance(timedelta(hours=1, minutes=1))
    (alert,) = [a for a in due.alerts if a.message_code == 0x00CB]
    assert alert.business_target == NEW_SUPPLIER  # the supplier it now trusts
    executed = c.FutureDatedCredentialsAlert.decode(alert.content)
    assert executed.executed
    assert executed.when == at
    assert executed.result.ok
    assert fleet.device(ESME, head.now).trust.supplier == NEW_SUPPLIER


def test_a_future_dated_update_no_longer_authorised_alerts_8f67_and_changes_nothing() -> None:
    fleet, head, pki = setup()
    at = head.now + timedelta(hours=2)
    head.send(head.command(ESME, update(head, pki, at=at, load_controller=True)))
    # The supplier hands its role to another at once: it no longer authorises the pending update.
    head.send(head.command(ESME, update(head, pki, at=None)))
    due = head.advance(timedelta(hours=3))
    (alert,) = [a for a in due.alerts if a.message_code == 0x0124]
    failed = c.FutureDatedLoadControllerAlert.decode(alert.content)
    assert not failed.executed
    assert [r.outcome for r in failed.result.results] == [c.CellOutcome.FAILED] * 2
    assert "load_controller" not in fleet.device(ESME, head.now).family_state("security")


def test_a_future_dated_load_controller_update_alerts_0x0124() -> None:
    fleet, head, pki = setup()
    head.send(
        head.command(
            ESME, update(head, pki, at=head.now + timedelta(hours=1), load_controller=True)
        )
    )
    due = head.advance(timedelta(hours=2))
    (alert,) = [a for a in due.alerts if a.message_code == 0x0124]
    assert c.FutureDatedLoadControllerAlert.decode(alert.content).executed
    state = fleet.device(ESME, head.now).family_state("security")
    assert state["load_controller"] == LOAD_CONTROLLER.hex()


def test_the_cancellation_removes_the_pending_update() -> None:
    fleet, head, pki = setup()
    head.send(head.command(ESME, update(head, pki, at=head.now + timedelta(hours=2))))
    assert "scheduled" in fleet.device(ESME, head.now).family_state("security")
    answer = head.send(head.command(ESME, update(head, pki, at=CANCEL)))
    assert answer.response is not None
    cancelled = c.decode_response(0x0102, answer.response.content)
    assert isinstance(cancelled, c.CredentialsUpdated)
    assert cancelled.accepted
    assert "scheduled" not in fleet.device(ESME, head.now).family_state("security")
    assert head.advance(timedelta(hours=3)).alerts == []
    assert fleet.device(ESME, head.now).trust.supplier == SUPPLIER


def _calendar(fleet, head) -> dlms.Data | None:  # type: ignore[no-untyped-def]
    from emulator.usecases.configuration import setting

    return setting(fleet.device(ESME, head.now), "set 10 0-1:12.0.2.255/2")


def test_a_future_dated_switching_schedule_is_held_then_applied_with_two_alerts() -> None:
    fleet, head, _ = setup(switches=True)
    at = head.now + timedelta(hours=2)
    command = schedule(head, at)
    message = head.command(ESME, command)
    answer = head.send(message)
    assert answer.response is not None
    assert c.Outcome.decode(answer.response.content).ok
    assert _calendar(fleet, head) is None  # held, not yet the device's calendar

    due = head.advance(timedelta(hours=3))
    alerts = [c.DlmsAlert.decode(a.content) for a in due.alerts if a.message_code == 0x00CC]
    assert [a.code for a in alerts] == [0x8F66, 0x8F66]
    assert all(a.when == at for a in alerts)
    details = [a.details.value for a in alerts if isinstance(a.details, dlms.OctetString)]
    assert [d[:2] for d in details] == [b"\x00\x54"] * 2
    assert [int.from_bytes(d[2:10], "big") for d in details] == [message.originator_counter] * 2
    assert [d[12:18].hex() for d in details] == ["00005e2c801a", "00005e2c8023"]
    values = {c.spec_key(spec): data for spec, data in command.writes}
    assert _calendar(fleet, head) == values["set 10 0-1:12.0.2.255/2"]


def test_an_immediate_switching_schedule_applies_at_once() -> None:
    fleet, head, _ = setup(switches=True)
    answer = head.send(head.command(ESME, schedule(head, None)))
    assert answer.response is not None
    assert c.Outcome.decode(answer.response.content).ok
    assert _calendar(fleet, head) is not None
    assert head.advance(timedelta(hours=3)).alerts == []


def test_the_cancellation_removes_the_pending_switching_schedule() -> None:
    fleet, head, _ = setup(switches=True)
    head.send(head.command(ESME, schedule(head, head.now + timedelta(hours=2))))
    answer = head.send(head.command(ESME, schedule(head, CANCEL)))
    assert answer.response is not None
    assert c.Outcome.decode(answer.response.content).ok
    assert "pending" not in fleet.device(ESME, head.now).family_state("auxiliary")
    assert [a for a in head.advance(timedelta(hours=3)).alerts if a.message_code == 0x00CC] == []
    assert _calendar(fleet, head) is None
