"""The CHF's Sub GHz alerts: DBCH09 after a DBCH04 it ran (the configuration it now holds),
DBCH06 / DBCH07 / DBCH10 from the radio's events - each a MAC'd DLMS alert with its own message
code, decoded back to what the hub keeps; bad events are refused and change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from emulator.errors import CommandError
from emulator.usecases.configuration import setting
from emulator.usecases.sub_ghz import (
    CONFIGURATION,
    FAMILY,
    channel_changed,
    duty_cycle_limited,
    message_discarded,
)
from gbcs import content as c
from gbcs.codes import ACB, CRA, NETWORK_OPERATOR, SUPPLIER
from gbcs.frames import Message
from gbcs.payloads import dlms
from tests.emulator.support import CHF, ESME, GSME, HeadEnd, pki_for, sandbox_fleet
from tests.emulator.test_alert_vectors import channel_mask, sub_ghz_configured


def _alert(message: Message, code: int) -> c.DlmsAlert:
    assert message.message_code == code
    assert message.mac is not None
    assert message.signature is None
    alert = c.decode_alert(message.message_code, message.content)
    assert isinstance(alert, c.DlmsAlert)
    return alert


def test_DBCH09_reports_the_configuration_DBCH04_set() -> None:
    head, alerts = sub_ghz_configured()
    (message,) = alerts
    alert = _alert(message, 0x0113)
    assert alert.code == 0x8F2A
    assert alert.details == setting(head.fleet.device(CHF, head.now), CONFIGURATION)


def test_a_refused_DBCH04_changes_nothing_and_alerts_nothing() -> None:
    fleet = sandbox_fleet()
    head = HeadEnd(fleet, pki_for())
    writes = ((dlms.set_(1, "0-0:94.44.10.0", 2), dlms.unsigned(1)),)
    cmd = c.DeviceSettings(0x010D, head.next_counter() % (1 << 24), writes)
    # The network operator may not configure the hub's radio.
    answer = head.send(head.command(CHF, cmd, counter=head.counter, originator=NETWORK_OPERATOR))
    later = head.advance(timedelta(seconds=1)).alerts
    assert [m.message_code for m in answer.alerts + later if m.message_code == 0x0113] == []
    assert setting(fleet.device(CHF, head.now), CONFIGURATION) is None


def test_DBCH06_names_the_device_held_back() -> None:
    fleet = sandbox_fleet()
    head = HeadEnd(fleet, pki_for())
    hub = fleet.device(CHF, head.now)
    duty_cycle_limited(hub, GSME, int(head.now.timestamp()))
    (message,) = head.advance(timedelta(seconds=1)).alerts
    alert = _alert(message, 0x0110)
    assert (alert.code, alert.details) == (0x8F20, dlms.octet_string(GSME))
    assert hub.family_state(FAMILY)["limited"] == int(head.now.timestamp()) - 1


def test_DBCH07_names_the_new_channel_once() -> None:
    fleet = sandbox_fleet()
    head = HeadEnd(fleet, pki_for())
    hub = fleet.device(CHF, head.now)
    channel_changed(hub, 0xE000_0001, 2)
    (message,) = head.advance(timedelta(seconds=1)).alerts
    alert = _alert(message, 0x0111)
    assert alert.code == 0x8F26
    assert alert.details == dlms.structure(channel_mask(28, 0), dlms.octet_string(b"\x02"))
    with pytest.raises(CommandError, match="already"):
        channel_changed(hub, 0xE000_0001, 0)
    assert hub.queued is None
    assert hub.family_state(FAMILY)["channel_reason"] == 2


def test_DBCH10_names_the_user_an_acb_command_was_for() -> None:
    fleet = sandbox_fleet()
    head = HeadEnd(fleet, pki_for())
    read = c.DlmsRead(0x011C, head.next_counter())
    message = head.builder.command(
        originator=ACB,
        target=ESME,
        counter=head.counter,
        message_code=read.message_code,
        content=read.encode(),
        critical=False,
        extensions=SUPPLIER + (1000).to_bytes(8, "big"),
    )
    hub = fleet.device(CHF, head.now)
    message_discarded(hub, message)
    (alert_message,) = head.advance(timedelta(seconds=1)).alerts
    alert = _alert(alert_message, 0x0114)
    expected = SUPPLIER + ESME + bytes([CRA.COMMAND]) + (1000).to_bytes(8, "big")
    assert (alert.code, alert.details) == (0x8F2C, dlms.octet_string(expected))
    assert hub.family_state(FAMILY)["discarded"] == 1


@pytest.mark.parametrize(
    "event",
    [
        lambda hub, meter: duty_cycle_limited(meter, GSME, 0),
        lambda hub, meter: duty_cycle_limited(hub, b"\x01", 0),
        lambda hub, meter: channel_changed(hub, 1 << 32, 0),
        lambda hub, meter: channel_changed(hub, 1, 256),
    ],
)
def test_bad_events_are_refused_and_change_nothing(event: object) -> None:
    fleet = sandbox_fleet()
    head = HeadEnd(fleet, pki_for())
    hub, meter = fleet.device(CHF, head.now), fleet.device(ESME, head.now)
    with pytest.raises(CommandError):
        event(hub, meter)  # type: ignore[operator]
    assert hub.queued is None
    assert meter.queued is None
    assert FAMILY not in (hub.extra or {})
