"""The ESME's alert behaviours (SR 6.22): a disabled alert is no longer sent, enabling it
again sends it, the reads (ECS25r1 / ECS25r2) show the settings, the responses are the
reference shape, and a refused command (polyphase alerts on a single-phase meter, the wrong
remote party) changes nothing. The GSME's (GCS20): each event's behaviour kept, an event
whose WAN alert is off not sent."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from emulator.clock import from_seconds
from emulator.errors import CommandError
from emulator.fleet import Fleet
from emulator.usecases.alerts import (
    FAMILY,
    disabled,
    gas_behaviour,
    integrity_warning,
    supply_outage,
)
from gbcs import content as c
from gbcs.alerts import AlertCode
from gbcs.codes import NETWORK_OPERATOR, SUPPLIER
from gbcs.frames import Message
from gbcs.payloads import dlms
from gbcs.payloads.dlms import BitString
from tests.emulator.support import (
    CHF,
    ESME,
    GSME,
    SEED,
    Answer,
    HeadEnd,
    pki_for,
    sandbox_fleet,
)

OUTSIDE = AlertCode.CLOCK_NOT_ADJUSTED_OUTSIDE_TOLERANCE  # 0x81C6, a supplier alert


def _behaviour(
    head: HeadEnd, use_case: str, settings: tuple[tuple[int, bool], ...], originator: bytes
) -> tuple[c.SetAlertBehaviour, Answer]:
    cmd = c.SetAlertBehaviour(
        c.BEHAVIOUR_BY_NAME[use_case], head.next_counter() % (1 << 24), settings
    )
    answer = head.send(head.command(ESME, cmd, originator=originator, counter=head.counter))
    return cmd, answer


def _clock_out_of_tolerance(head: HeadEnd) -> Answer:
    """An ECS70 whose validity window has passed: the ESME raises 0x81C6."""
    cmd = c.SetClock.around(head.next_counter() % (1 << 24), head.now - timedelta(hours=1))
    return head.send(head.command(ESME, cmd, counter=head.counter))


def _read(head: HeadEnd, code: int, originator: bytes) -> tuple[int, ...]:
    cmd = c.DlmsRead(code, head.next_counter() % (1 << 24))
    answer = head.send(head.command(ESME, cmd, originator=originator, counter=head.counter))
    assert answer.response is not None
    response = c.decode_response(code, answer.response.content)
    assert isinstance(response, c.DlmsReadResponse)
    assert response.ok
    out = []
    for value in response.data:
        assert isinstance(value, BitString)
        assert value.bits == 256
        out.append(int.from_bytes(value.data, "big"))
    return tuple(out)


def test_a_disabled_alert_is_not_sent_until_enabled_again(fleet: Fleet, head: HeadEnd) -> None:
    assert OUTSIDE in _clock_out_of_tolerance(head).alert_codes()

    cmd, answer = _behaviour(head, "ECS25a", ((OUTSIDE, False),), SUPPLIER)
    assert answer.response is not None
    response = c.decode_response(cmd.message_code, answer.response.content)
    assert response == cmd.outcome()
    assert disabled(fleet.device(ESME, head.now), "ECS25a") == {OUTSIDE}
    assert OUTSIDE not in _clock_out_of_tolerance(head).alert_codes()

    _behaviour(head, "ECS25a", ((OUTSIDE, True),), SUPPLIER)
    assert OUTSIDE in _clock_out_of_tolerance(head).alert_codes()


def test_settings_of_one_object_leave_the_others_and_critical_alerts_alone(
    fleet: Fleet, head: HeadEnd
) -> None:
    _behaviour(head, "ECS25a1", ((OUTSIDE, False),), SUPPLIER)
    _behaviour(head, "ECS25b", ((0x8014, False),), NETWORK_OPERATOR)
    device = fleet.device(ESME, head.now)
    assert disabled(device, "ECS25a1") == {OUTSIDE}
    assert disabled(device, "ECS25b") == {0x8014}
    assert disabled(device, "ECS25a") == frozenset()
    assert OUTSIDE in _clock_out_of_tolerance(head).alert_codes()


def test_the_reads_show_the_settings(fleet: Fleet, head: HeadEnd) -> None:
    everything = (1 << 256) - 1
    assert _read(head, 0x00EE, SUPPLIER) == (everything,) * 4
    _behaviour(head, "ECS25a2", ((0x8154, False), (0x8155, True)), SUPPLIER)
    _behaviour(head, "ECS25b3", ((0x8015, False),), NETWORK_OPERATOR)
    alerts, han, alarm, logging = _read(head, 0x00EE, SUPPLIER)
    assert (alerts, han, logging) == (everything,) * 3
    assert alarm == everything & ~(1 << 0x54)
    assert _read(head, 0x00EF, NETWORK_OPERATOR) == (everything, everything & ~(1 << 0x15))


def test_polyphase_alerts_are_refused_by_a_single_phase_esme(fleet: Fleet, head: HeadEnd) -> None:
    _behaviour(head, "ECS25b", ((0x8014, False),), NETWORK_OPERATOR)
    cmd, answer = _behaviour(head, "ECS25b", ((0x8003, True), (0x8015, False)), NETWORK_OPERATOR)
    assert answer.response is not None
    response = c.decode_response(cmd.message_code, answer.response.content)
    assert isinstance(response, c.Outcome)
    assert not response.ok
    assert disabled(fleet.device(ESME, head.now), "ECS25b") == {0x8014}


def test_the_network_operators_objects_refuse_the_supplier(fleet: Fleet, head: HeadEnd) -> None:
    _, answer = _behaviour(head, "ECS25b", ((0x8014, False),), SUPPLIER)
    assert answer.response is None
    assert answer.alert_codes() == [AlertCode.SOURCE_HAS_NO_AUTHORITY]
    device = fleet.device(ESME, head.now)
    assert FAMILY not in (device.extra or {})


@pytest.mark.parametrize(
    ("code", "wrong"), [(0x00EE, NETWORK_OPERATOR), (0x00EF, SUPPLIER)], ids=["ECS25r1", "ECS25r2"]
)
def test_each_partys_settings_are_read_by_that_party_only(
    head: HeadEnd, code: int, wrong: bytes
) -> None:
    cmd = c.DlmsRead(code, head.next_counter() % (1 << 24))
    answer = head.send(head.command(ESME, cmd, originator=wrong, counter=head.counter))
    assert answer.response is None
    assert answer.alert_codes() == [AlertCode.SOURCE_HAS_NO_AUTHORITY]


@pytest.mark.parametrize("use_case", ["ECS25a1", "ECS25a2", "ECS25b", "ECS25b3"])
@pytest.mark.parametrize("scenario", ["SUCCESS", "ERROR"])
def test_the_reference_commands_are_answered_as_the_references(
    fleet: Fleet, head: HeadEnd, conformance: Path, use_case: str, scenario: str
) -> None:
    """The DCC's SUCCESS settings are accepted; its ERROR ones that set polyphase alerts
    (0x8003, 0x81B7: ECS25a2, ECS25b, ECS25b3) on a single-phase ESME get result 1, as the
    reference ERROR responses say."""
    (folder,) = (conformance / "gbcs").glob(f"6.22_{use_case}")

    def load(kind: str) -> Message:
        path = folder / f"{use_case}_6.22_{scenario}_{kind}_GBCS.HEX"
        return Message.from_bytes(bytes.fromhex(path.read_text().strip()))

    theirs, command = load("RESPONSE"), load("COMMAND")
    cmd = c.decode_command(command.message_code, command.content)
    assert isinstance(cmd, c.SetAlertBehaviour)
    if scenario == "ERROR" and not {code for code, _ in cmd.settings} & c.POLYPHASE_ALERTS:
        pytest.skip(
            "this ERROR command's settings are its SUCCESS ones: its failure is a device "
            "condition the reference does not show, which the emulator does not model"
        )
    originator = NETWORK_OPERATOR if use_case.startswith("ECS25b") else SUPPLIER
    _, answer = _behaviour(head, use_case, cmd.settings, originator)
    assert answer.response is not None
    ours = c.decode_response(command.message_code, answer.response.content)
    expected = c.decode_response(theirs.message_code, theirs.content)
    assert isinstance(ours, c.Outcome)
    assert isinstance(expected, c.Outcome)
    assert ours.results == expected.results
    changed = {code for code, on in cmd.settings if not on}
    assert disabled(fleet.device(ESME, head.now), use_case) == (
        changed if scenario == "SUCCESS" else frozenset()
    )


def test_a_supply_outage_is_alerted_to_the_network_operator(fleet: Fleet, head: HeadEnd) -> None:
    end = int(head.now.timestamp())
    supply_outage(fleet.device(ESME, head.now), end - 60, end)  # a short one: 0x8F35
    supply_outage(fleet.device(ESME, head.now), end - 3600, end)  # an hour: 0x8F36
    answer = head.advance(timedelta(seconds=1))
    assert [m.business_target for m in answer.alerts] == [NETWORK_OPERATOR] * 2
    decoded = [c.decode_alert(m.message_code, m.content) for m in answer.alerts]
    assert all(isinstance(d, c.SupplyOutageAlert) for d in decoded)
    outages = [(d.code, d.start, d.end) for d in decoded if isinstance(d, c.SupplyOutageAlert)]
    assert outages == [
        (0x8F35, from_seconds(end - 60), from_seconds(end)),
        (0x8F36, from_seconds(end - 3600), from_seconds(end)),
    ]


def test_queued_alerts_survive_a_restart_with_their_recipient(fleet: Fleet, head: HeadEnd) -> None:
    _behaviour(head, "ECS25a", ((0x81A1, False),), SUPPLIER)
    end = int(head.now.timestamp())
    meter = fleet.device(ESME, head.now)
    supply_outage(meter, end - 600, end)
    integrity_warning(meter, 7)
    saved = json.loads(json.dumps(fleet.state_of(ESME)))
    other = sandbox_fleet()
    other.load_state(saved)
    restored = other.device(ESME, head.now)
    assert restored is not meter
    assert restored.queued == meter.queued
    assert [a.network_operator for a in restored.queued or []] == [True, False]
    assert disabled(restored, "ECS25a") == {0x81A1}


def test_events_that_do_not_fit_the_device_change_nothing(fleet: Fleet, head: HeadEnd) -> None:
    chf = fleet.device(CHF, head.now)
    with pytest.raises(CommandError, match="no metrology"):
        integrity_warning(chf, 5)
    meter = fleet.device(ESME, head.now)
    with pytest.raises(CommandError, match="2-byte"):
        integrity_warning(meter, 0x10000)
    with pytest.raises(CommandError, match="not a period"):
        supply_outage(meter, 100, 100)
    with pytest.raises(CommandError, match="from an ESME"):
        supply_outage(fleet.device(GSME, head.now), 0, 600)
    assert not meter.queued
    assert not chf.queued


def test_an_apc_level_limit_ending_is_alerted_once() -> None:
    fleet = Fleet(SEED, pki_for(), faults=False)
    fleet.add(ESME, "northbrook-nb100", firmware="00020000")  # has the controllers
    head = HeadEnd(fleet, pki_for())
    end = head.now + timedelta(minutes=30)
    stamp = dlms.octet_string(dlms.CosemDateTime.from_datetime(end).to_bytes())
    start = dlms.octet_string(dlms.CosemDateTime.from_datetime(head.now).to_bytes())
    writes = (
        (dlms.set_(1, "0-0:94.44.119.3", 2), start),
        (dlms.set_(1, "0-0:94.44.119.4", 2), stamp),
        (dlms.action(9, "0-0:10.0.107.255", 1), dlms.long_unsigned(0x2332)),  # input, 3, 50%
    )
    answer = head.send(head.command(ESME, c.DeviceSettings(0x011F, head.next_counter(), writes)))
    assert answer.response is not None
    assert head.advance(timedelta(minutes=10)).alerts == []  # still limited
    (alert,) = head.advance(timedelta(minutes=30)).alerts
    decoded = c.decode_alert(alert.message_code, alert.content)
    assert isinstance(decoded, c.ApcLimitEndedAlert)
    assert (decoded.controller, decoded.level) == (0x23, 50)
    assert alert.signature is not None  # 0x8F87 is critical
    assert head.advance(timedelta(hours=1)).alerts == []  # once


def _gas_behaviours(head: HeadEnd, settings: dict[int, c.EventBehaviour]) -> Answer:
    cmd = c.GasEventBehaviours.of(c.issuer_id(head.now), sorted(settings.items()))
    return head.send(head.command(GSME, cmd, counter=head.next_counter()))


_QUIET = c.EventBehaviour(wan=False, han=False, log=True, alarm=True)
_LOUD = c.EventBehaviour(wan=True, han=True, log=True, alarm=True)


def test_a_gsme_keeps_each_events_behaviour_and_answers_each_command(
    fleet: Fleet, head: HeadEnd
) -> None:
    """GCS20: the GSME answers a ZCL Default Response (success) per Set Event
    Configuration, in the reference response's shape, and keeps every event's byte."""
    settings = {0x81A0: _QUIET, 0x810E: c.EventBehaviour(True, False, False, False), 0x81AA: _LOUD}
    answer = _gas_behaviours(head, settings)
    assert answer.response is not None
    response = c.decode_response(0x00AD, answer.response.content)
    assert isinstance(response, c.ZclStatus)
    assert response.ok
    assert response.statuses == ((0x04, 0),) * 3  # three distinct configurations
    meter = fleet.device(GSME, head.now)
    assert {code: gas_behaviour(meter, code) for code in settings} == settings
    assert gas_behaviour(meter, 0x8119) is None  # not configured: the factory behaviour
    saved = json.loads(json.dumps(fleet.state_of(GSME)))
    other = sandbox_fleet()
    other.load_state(saved)
    assert gas_behaviour(other.device(GSME, head.now), 0x81A0) == _QUIET


def test_a_gsme_event_without_its_wan_alert_is_not_sent(fleet: Fleet, head: HeadEnd) -> None:
    meter = fleet.device(GSME, head.now)
    integrity_warning(meter, 3)
    assert 0x81A0 in head.advance(timedelta(seconds=1)).alert_codes()

    _gas_behaviours(head, {0x81A0: _QUIET})
    integrity_warning(fleet.device(GSME, head.now), 3)
    assert 0x81A0 not in head.advance(timedelta(seconds=1)).alert_codes()

    _gas_behaviours(head, {0x81A0: _LOUD})
    integrity_warning(fleet.device(GSME, head.now), 3)
    assert 0x81A0 in head.advance(timedelta(seconds=1)).alert_codes()
