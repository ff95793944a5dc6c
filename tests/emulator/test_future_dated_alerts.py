"""A future-dated tariff, price, payment mode or prepayment configuration (the DCC's 1.1.1,
1.2.1, 1.6 and 2.1 reference commands, to the ESME and the GSME) is accepted and held; when
the meter's clock passes its execution date-time the meter acts on it and raises the 8F66
alerts the DCC's vectors show - one for each part of the command, in the vectors' order,
each naming the command (its message code and counter) and the part (the DLMS attribute or
the ZCL command), stamped with the execution date-time. One that can no longer execute
raises 8F67 instead and changes nothing."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import pytest

from emulator.devices.meter import MeterDevice
from emulator.metering import PaymentMode
from gbcs import content as c
from gbcs.frames import Message
from gbcs.payloads import gbz
from gbcs.payloads.dlms import OctetString
from tests.emulator.future_dated import Executed, alert_time, execute, load, vectors
from tests.emulator.support import ESME, GSME, HeadEnd


def _commands() -> dict[str, list[str]]:
    """The alert vectors of each future-dated command, in the order the meter raised them
    (their originator counters)."""
    found: dict[str, list[str]] = defaultdict(list)
    for name in vectors():
        found[name.split("_ALERT_", 1)[0]].append(name)
    return {
        stem: sorted(names, key=lambda n: load(n).originator_counter)
        for stem, names in found.items()
    }


def _parts(message: Message) -> tuple[int, int, int, bytes]:
    """(alert message code, the command's message code, its counter, the part named)."""
    alert = c.decode_alert(message.message_code, message.content)
    if isinstance(alert, c.DlmsAlert):
        assert isinstance(alert.details, OctetString)
        raw = alert.details.value
    else:
        assert isinstance(alert, gbz.GbzAlert)
        assert alert.extra[0] == len(alert.extra) - 1
        raw = alert.extra[1:]
    return (
        message.message_code,
        int.from_bytes(raw[:2], "big"),
        int.from_bytes(raw[2:10], "big"),
        raw[10:],
    )


def _executed_alerts(run: Executed) -> list[Message]:
    return [m for m in run.alerts if m.message_code in (0x00CC, 0x00CD)]


def test_every_command_of_the_families_has_its_vectors(conformance: Path) -> None:
    assert sorted(_commands()) == sorted(
        {
            "ECS01a_1.1.1_8F66_FUTURE_DATED_TOU_BLOCK_SUCCESS",
            "ECS01b_1.2.1_8F66_FUTURE_DATED_TOU_BLOCK_SUCCESS",
            "ECS02_1.6_8F66_FUTURE_DATED_TWIN_SUCCESS",
            "ECS03_1.6_8F66_FUTURE_DATED_TWIN_SUCCESS",
            "ECS08a_2.1_8F66_FUTURE_DATED_SUCCESS",
            "GCS01a_1.1.1_8F66_FUTURE_DATED_BLOCK_SUCCESS",
            "GCS01b_1.2.1_8F66_FUTURE_DATED_BLOCK_SUCCESS",
            "GCS02_1.6_8F66_FUTURE_DATED_SUCCESS",
            "GCS03_1.6_8F66_FUTURE_DATED_SUCCESS",
            "GCS05_2.1_8F66_FUTURE_DATED_SUCCESS",
        }
    )
    assert sum(len(v) for v in _commands().values()) == 35


@pytest.mark.parametrize("restart", [False, True], ids=["running", "restarted"])
@pytest.mark.parametrize("stem", sorted(_commands()))
def test_the_meter_executes_the_command_and_raises_the_vectors_alerts(
    conformance: Path, stem: str, restart: bool
) -> None:
    """(``restarted``: the meter saved and loaded again while it holds the command.)"""
    names = _commands()[stem]
    run = execute(names[0], restart=restart)
    assert run.answer.response is not None
    # held, not executed, when it arrives
    assert not [m for m in run.answer.alerts if m.message_code in (0x00CC, 0x00CD)]
    ours = _executed_alerts(run)
    theirs = [load(n) for n in names]
    # the command is the reference one, counter included: the parts compare whole
    assert [_parts(m) for m in ours] == [_parts(m) for m in theirs]
    assert {alert_time(m) for m in ours} == {run.at}
    assert {(m.signature is not None, m.mac is not None) for m in ours} == {
        (m.signature is not None, m.mac is not None) for m in theirs
    }
    # the meter acts on what it held
    meter = run.meter().meter
    mode, tariff, prepayment = run.held
    use_case = stem.split("_", 1)[0]
    if use_case in ("ECS02", "GCS02"):
        assert (mode, meter.mode) == (PaymentMode.PREPAYMENT, PaymentMode.CREDIT)
    elif use_case in ("ECS03", "GCS03"):
        assert (mode, meter.mode) == (PaymentMode.CREDIT, PaymentMode.PREPAYMENT)
    elif use_case in ("ECS08a", "GCS05"):
        assert meter.prepayment != prepayment
    else:
        assert meter.tariff != tariff


def test_a_held_switch_that_no_longer_applies_alerts_8F67_and_changes_nothing(
    head: HeadEnd,
) -> None:
    """ECS02 future-dated to a credit meter: accepted and held (the mode may change before
    it falls due); at its time the meter is still in credit mode, so 8F67, nothing else."""
    later = head.now + timedelta(hours=2)
    counter = head.next_counter() & 0xFF_FFFF
    answer = head.send(head.command(ESME, c.ElecCreditMode(counter, activate_at=later),
                                    counter=counter))  # fmt: skip
    assert answer.response is not None
    assert c.Outcome.decode(answer.response.content).ok
    due = head.advance(timedelta(hours=3))
    (alert,) = [m for m in due.alerts if m.message_code == 0x00CC]
    decoded = c.decode_alert(alert.message_code, alert.content)
    assert isinstance(decoded, c.DlmsAlert)
    assert decoded.code == 0x8F67
    assert _parts(alert)[1:3] == (0x001A, counter)
    device = head.fleet.device(ESME, head.now)
    assert isinstance(device, MeterDevice)
    assert device.meter.mode is PaymentMode.CREDIT


def test_a_held_gas_switch_that_no_longer_applies_alerts_8F67(head: HeadEnd) -> None:
    """GCS03 future-dated to a gas meter that switches to prepayment at once meanwhile: at its
    time there is nothing to switch, so 8F67 naming ChangePaymentMode, and the mode stays."""
    later = head.now + timedelta(hours=2)
    held = c.GasPaymentMode(c.issuer_id(head.now), True, gbz.zigbee_time(later), cut_off=0)
    counter = head.next_counter()
    assert head.send(head.command(GSME, held, counter=counter)).response is not None
    now = c.GasPaymentMode(c.issuer_id(head.now) + 1, True, cut_off=0)
    assert head.send(head.command(GSME, now, counter=head.next_counter())).response is not None
    device = head.fleet.device(GSME, head.now)
    assert isinstance(device, MeterDevice)
    assert device.meter.mode is PaymentMode.PREPAYMENT
    due = head.advance(timedelta(hours=3))
    (alert,) = [m for m in due.alerts if m.message_code == 0x00CD]
    decoded = c.decode_alert(alert.message_code, alert.content)
    assert isinstance(decoded, gbz.GbzAlert)
    assert decoded.alert_code == 0x8F67
    assert decoded.timestamp == gbz.zigbee_time(later)
    change_payment_mode = (0x0705).to_bytes(2, "big") + bytes([0x01, 0x06])  # ZCL Prepayment
    assert _parts(alert)[1:] == (0x006D, counter, change_payment_mode)
    assert device.meter.mode is PaymentMode.PREPAYMENT
