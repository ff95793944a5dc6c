"""GSME and GPF from GBCS command to GBCS response."""

from __future__ import annotations

from datetime import timedelta

from emulator.devices.gsme import Gsme
from emulator.fleet import Fleet
from emulator.supply import SupplyState
from gbcs import content as c
from gbcs.alerts import AlertCode
from tests.emulator.support import GPF, GSME, HeadEnd


def _gsme(fleet: Fleet, head: HeadEnd) -> Gsme:
    device = fleet.device(GSME, head.now)
    assert isinstance(device, Gsme)
    return device


def _read(head: HeadEnd, target: bytes) -> c.GasRegister:
    head.next_counter()
    answer = head.send(head.command(target, c.ReadGasRegister()))
    assert answer.response is not None
    assert answer.response.business_originator == target
    return c.GasRegisterResponse.decode(answer.response.content).register(
        head.decrypt(answer.response)
    )


def test_GCS13a_reads_the_gas_register_encrypted(fleet: Fleet, head: HeadEnd) -> None:
    register = _read(head, GSME)
    assert register.volume == _gsme(fleet, head).meter.total
    assert register.volume_m3 is not None
    head.advance(timedelta(days=1))
    later = _read(head, GSME)
    assert later.volume is not None
    assert register.volume is not None
    assert 500 < later.volume - register.volume < 20_000  # dm3 in a January day


def test_the_GPF_answers_from_its_mirror_of_the_GSME(fleet: Fleet, head: HeadEnd) -> None:
    head.advance(timedelta(hours=5))
    mirrored = _read(head, GPF)
    assert mirrored.volume == _gsme(fleet, head).meter.total
    assert _read(head, GSME).volume == mirrored.volume


def test_GCS28_sets_the_clock_and_commissions(fleet: Fleet, head: HeadEnd) -> None:
    head.next_counter()
    answer = head.send(head.command(GSME, c.SetGasClock.around(head.now)))
    assert answer.response is not None
    assert answer.response.signature is not None
    assert c.GasClockSet.decode(answer.response.content).ok
    assert answer.alert_codes() == [AlertCode.DEVICE_COMMISSIONED]
    head.next_counter()
    stale = head.send(head.command(GSME, c.SetGasClock.around(head.now - timedelta(hours=2))))
    assert stale.response is not None
    assert not c.GasClockSet.decode(stale.response.content).ok


def test_valve_close_arm_read_and_consumer_open(fleet: Fleet, head: HeadEnd) -> None:
    head.next_counter()
    answer = head.send(head.command(GSME, c.ValveClose(issuer_event_id=7)))
    assert answer.response is not None
    state = c.ValveState.decode(answer.response.content)
    assert state.status is c.SupplyStatus.OFF
    assert state.issuer_event_id == 7

    head.next_counter()
    answer = head.send(head.command(GSME, c.ReadValve()))
    assert answer.response is not None
    status = c.ValveStatus.decode(answer.response.content)
    assert status.status is c.SupplyStatus.OFF
    assert 0 < status.battery_days <= 15 * 365

    head.next_counter()
    answer = head.send(head.command(GSME, c.ValveArm(issuer_event_id=8)))
    assert answer.response is not None
    assert c.ValveState.decode(answer.response.content).status is c.SupplyStatus.ARMED
    assert answer.alert_codes() == [AlertCode.SUPPLY_ARMED]

    head.check(fleet.press_button(GSME, head.now))
    assert _gsme(fleet, head).meter.supply is SupplyState.ENABLED

    # Arming an open valve is refused with a ZCL failure.
    head.next_counter()
    answer = head.send(head.command(GSME, c.ValveArm(issuer_event_id=9)))
    assert answer.response is not None
    assert c.ZclFailure.decode(answer.response.content).status == 0xC0
