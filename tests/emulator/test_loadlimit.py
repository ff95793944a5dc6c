"""The ESME and the CHF act on the load limiting, tamper, randomisation, auxiliary controller
and Sub GHz scan settings (ECS28a, ECS81, ECS38, ECS46d, ECS47a, DBCH05): the values land in
the configuration state, the reads (ECS27, ECS26c, ECS61a) show them, the response is an
Outcome per request, and a value the device refuses changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from emulator.fleet import Fleet
from emulator.usecases.configuration import FAMILY, setting
from gbcs import content as c
from gbcs.payloads import dlms
from tests.emulator.support import CHF, ESME, SEED, HeadEnd, pki_for

Writes = tuple[tuple[dlms.AccessSpec, dlms.Data], ...]


def _send(head: HeadEnd, writes: Writes, code: int, target: bytes = ESME) -> c.Outcome:
    cmd = c.DeviceSettings(code, head.next_counter() % (1 << 24), writes)
    answer = head.send(head.command(target, cmd, counter=head.counter))
    assert answer.response is not None
    response = c.decode_response(code, answer.response.content)
    assert isinstance(response, c.Outcome)
    assert len(response.results) == len(writes)
    return response


def _read(head: HeadEnd, code: int) -> tuple[dlms.Data, ...]:
    cmd = c.DlmsRead(code, head.next_counter() % (1 << 24))
    answer = head.send(head.command(ESME, cmd, counter=head.counter))
    assert answer.response is not None
    response = c.DlmsReadResponse.decode(answer.response.content)
    assert response.ok
    return response.data


IMMEDIATE = bytes(9) + b"\x80\x00\xff"


def _load_limit(
    threshold: int,
    disable: bool = True,
    period: int = 600,
    restoration: int = 90,
    activation: bytes = IMMEDIATE,
) -> Writes:
    """ECS28a's writes: each future-dated object's value (attribute 4), then when it takes
    effect (attribute 6)."""
    u32 = dlms.double_long_unsigned
    values = (
        ("0-0:94.44.0.3", dlms.boolean(disable)),
        ("0-0:94.44.128.7", u32(threshold)),
        ("0-0:94.44.128.6", u32(period)),
        ("0-0:94.44.128.8", u32(restoration)),
    )
    return (
        *((dlms.set_(9000, obis, 4), value) for obis, value in values),
        *((dlms.set_(9000, obis, 6), dlms.octet_string(activation)) for obis, _ in values),
    )


def test_load_limit_settings_are_read_back_by_ecs27(fleet: Fleet, head: HeadEnd) -> None:
    assert _send(head, _load_limit(12_000), 0x0043).ok
    state, _, _, threshold, period, restoration = _read(head, 0x0042)
    assert state == dlms.boolean(True)
    assert (threshold, period, restoration) == (
        dlms.double_long_unsigned(12_000),
        dlms.double_long_unsigned(600),
        dlms.double_long_unsigned(90),
    )


def test_a_zero_load_limit_threshold_changes_nothing(fleet: Fleet, head: HeadEnd) -> None:
    _send(head, _load_limit(12_000), 0x0043)
    refused = _send(head, _load_limit(0, disable=False), 0x0043)
    assert not refused.ok
    device = fleet.device(ESME, head.now)
    assert setting(device, "set 71 0-0:17.0.0.255/4") == dlms.double_long_unsigned(12_000)
    assert setting(device, "set 9000 0-0:94.44.0.3/2") == dlms.boolean(True)


CANCEL = b"\xff" * 9 + b"\x80\x00\xff"


def _cosem(when: datetime) -> bytes:
    return dlms.CosemDateTime.from_datetime(when).to_bytes()


def test_a_future_dated_load_limit_is_held_then_applied_with_an_alert_per_object(
    fleet: Fleet, head: HeadEnd
) -> None:
    assert _send(head, _load_limit(12_000), 0x0043).ok
    device = fleet.device(ESME, head.now)
    when = head.now.replace(microsecond=0) + timedelta(hours=2)
    executed_at = device.device_time(int(when.timestamp()))
    at = datetime.fromtimestamp(executed_at, UTC)  # the device's clock says when
    assert _send(head, _load_limit(5_000, activation=_cosem(at)), 0x0043).ok
    assert _read(head, 0x0042)[3] == dlms.double_long_unsigned(12_000)  # held, not in force
    assert head.advance(timedelta(hours=1)).alerts == []
    answer = head.advance(timedelta(hours=2))
    dated = [a for a in answer.alerts if a.message_code == 0x00CC]
    assert len(dated) == 4
    named = []
    for message in dated:
        alert = c.decode_alert(message.message_code, message.content)
        assert isinstance(alert, c.DlmsAlert)
        assert alert.code == 0x8F66
        assert isinstance(alert.details, dlms.OctetString)
        assert alert.details.value[:2] == b"\x00\x43"  # ECS28a's, then its counter
        named.append(alert.details.value[-9:])  # class 9000, the OBIS, attribute 6
    assert named == [
        bytes.fromhex("2328") + bytes([0, 0, 94, 44, *e]) + b"\x06"
        for e in ((0, 3), (128, 7), (128, 6), (128, 8))
    ]
    assert _read(head, 0x0042)[3] == dlms.double_long_unsigned(5_000)


def test_a_cancellation_drops_the_held_load_limit(fleet: Fleet, head: HeadEnd) -> None:
    assert _send(head, _load_limit(12_000), 0x0043).ok
    later = _cosem(datetime(2030, 1, 1, tzinfo=UTC))
    assert _send(head, _load_limit(5_000, activation=later), 0x0043).ok
    device = fleet.device(ESME, head.now)
    assert "0043" in device.family_state(FAMILY)["future_dated"]
    assert _send(head, _load_limit(5_000, activation=CANCEL), 0x0043).ok
    assert device.family_state(FAMILY)["future_dated"] == {}
    assert _read(head, 0x0042)[3] == dlms.double_long_unsigned(12_000)
    mixed = (
        *_load_limit(5_000)[:7],
        (dlms.set_(9000, "0-0:94.44.128.8", 6), dlms.octet_string(later)),
    )
    assert not _send(head, mixed, 0x0043).ok  # one command, one activation time


def test_tamper_state_and_randomised_offset_limit(fleet: Fleet, head: HeadEnd) -> None:
    tamper = ((dlms.set_(1, "0-0:94.44.0.4", 2), dlms.boolean(True)),)
    assert _send(head, tamper, 0x0068).ok
    assert setting(fleet.device(ESME, head.now), "set 1 0-0:94.44.0.4/2") == dlms.boolean(True)

    limit = ((dlms.set_(1, "0-0:94.44.0.1", 2), dlms.long_unsigned(900)),)
    assert _send(head, limit, 0x004B).ok
    assert _read(head, 0x003D)[2] == dlms.long_unsigned(900)  # ECS26c: the offset limit
    too_long = ((dlms.set_(1, "0-0:94.44.0.1", 2), dlms.long_unsigned(1800)),)
    assert not _send(head, too_long, 0x004B).ok
    assert _read(head, 0x003D)[2] == dlms.long_unsigned(900)


def _alcs_fleet() -> tuple[Fleet, HeadEnd]:
    fleet = Fleet(SEED, pki_for(), faults=False)  # signed frames vary: no random radio drops
    fleet.add(ESME, "northbrook-nb100", firmware="00020000")
    return fleet, HeadEnd(fleet, pki_for())


def _stamp(when: datetime) -> dlms.Data:
    return dlms.octet_string(dlms.CosemDateTime.from_datetime(when).to_bytes())


def _state(n: int, start: datetime, end: datetime, script: int) -> Writes:
    """ECS47a's writes: controller n's start and end, then the script of its level."""
    return (
        (dlms.set_(1, f"0-0:94.44.{116 + n}.1", 2), _stamp(start)),
        (dlms.set_(1, f"0-0:94.44.{116 + n}.2", 2), _stamp(end)),
        (dlms.action(9, "0-0:10.0.103.255", 1), dlms.long_unsigned(script)),
    )


def test_a_commanded_state_switches_the_alcs_for_its_period() -> None:
    fleet, head = _alcs_fleet()
    start = head.now.replace(microsecond=0) + timedelta(minutes=10)
    end = start + timedelta(hours=1)
    assert _send(head, _state(2, start, end, 0x1200 | 100), 0x011E).ok
    controller = fleet.device(ESME, head.now).family_state(FAMILY)["controllers"]["2"]
    assert controller == {
        "level": 100,
        "start": int(start.timestamp()),
        "end": int(end.timestamp()),
        "input": False,
    }
    states = _read(head, 0x00BB)[12:17]  # ECS61a: switches 1..5 on or off
    assert states[1] == dlms.boolean(False)  # not yet
    head.advance(timedelta(minutes=30))
    assert _read(head, 0x00BB)[12:17][1] == dlms.boolean(True)
    head.advance(timedelta(hours=1))
    assert _read(head, 0x00BB)[12:17][1] == dlms.boolean(False)


def test_a_bad_commanded_state_changes_nothing() -> None:
    fleet, head = _alcs_fleet()
    start = datetime(2024, 2, 1, tzinfo=UTC)
    backwards = _state(1, start, start - timedelta(hours=1), 0x1100 | 100)
    assert not _send(head, backwards, 0x011E).ok
    too_high = _state(1, start, start + timedelta(hours=1), 0x1100 | 101)
    assert not _send(head, too_high, 0x011E).ok
    switching = _state(1, start, start + timedelta(hours=1), 0x0111)  # ECS47's "activate"
    assert not _send(head, switching, 0x011E).ok
    nobody = _state(1, start, start + timedelta(hours=1), 0x1600 | 100)  # no controller 6
    assert not _send(head, nobody, 0x011E).ok
    level = ((dlms.action(9, "0-0:10.0.103.255", 1), dlms.long_unsigned(0x11E4)),)
    assert not _send(head, level, 0x0055).ok  # and ECS47 commands no level
    state = fleet.device(ESME, head.now).family_state(FAMILY)
    assert "controllers" not in state
    assert "switches" not in state


def _entry(index: int, script: int) -> dlms.Data:
    return dlms.structure(
        dlms.long_unsigned(index),
        dlms.boolean(True),
        dlms.octet_string(bytes.fromhex("00000a0067ff")),
        dlms.long_unsigned(script),
        dlms.octet_string(bytes([9, 0, 0, 0])),
        dlms.long_unsigned(0xFFFF),
        dlms.BitString(7, b"\xf8"),
        dlms.BitString(0, b""),
        dlms.octet_string(b"\xff" * 5),
        dlms.octet_string(b"\xff" * 5),
    )


def _calendar(calendar: dlms.Data, activation: bytes = IMMEDIATE) -> Writes:
    """ECS46d's writes: the pending special days and schedule, then their activation (now
    unless given)."""
    now = dlms.octet_string(activation)
    return (
        (dlms.set_(11, "0-1:11.0.3.255", 2), dlms.array()),
        (dlms.set_(10, "0-1:12.0.2.255", 2), calendar),
        (dlms.set_(9000, "0-0:94.44.128.26", 6), now),
        (dlms.set_(9000, "0-0:94.44.128.35", 6), now),
    )


def test_the_auxiliary_controller_calendar_is_kept_and_a_bad_one_refused() -> None:
    fleet, head = _alcs_fleet()
    calendar = dlms.array(_entry(1, 0x2180), _entry(2, 0x21B2))
    assert _send(head, _calendar(calendar), 0x011A).ok
    device = fleet.device(ESME, head.now)
    # activated at once: the active pair, which ECS61a and ECS61d read
    assert setting(device, "set 10 0-0:12.0.2.255/2") == calendar
    assert _read(head, 0x00BB)[10:12] == (dlms.array(), calendar)
    switching = dlms.array(_entry(1, 0x0101))  # an ALCS switching script, not a level
    assert not _send(head, _calendar(switching), 0x011A).ok
    assert setting(fleet.device(ESME, head.now), "set 10 0-0:12.0.2.255/2") == calendar


def test_a_future_dated_calendar_becomes_active_at_its_time() -> None:
    fleet, head = _alcs_fleet()
    calendar = dlms.array(_entry(1, 0x2180), _entry(2, 0x21B2))
    device = fleet.device(ESME, head.now)
    due = device.device_time(int((head.now + timedelta(hours=1)).timestamp()))
    at = datetime.fromtimestamp(due, UTC).replace(microsecond=0)
    assert _send(head, _calendar(calendar, _cosem(at + timedelta(seconds=1))), 0x011A).ok
    assert _read(head, 0x00BB)[11] == dlms.array()  # held
    answer = head.advance(timedelta(hours=2))
    alerts = [c.decode_alert(a.message_code, a.content) for a in answer.alerts]
    details = [a.details for a in alerts if isinstance(a, c.DlmsAlert) and a.code == 0x8F66]
    # the calendar's activation, then the special days': each named in its own alert
    assert [d.value[-3:-1] for d in details if isinstance(d, dlms.OctetString)] == [
        bytes([128, 26]),
        bytes([128, 35]),
    ]
    assert _read(head, 0x00BB)[11] == calendar


def test_each_activation_makes_its_own_pending_table_active() -> None:
    _fleet, head = _alcs_fleet()
    days = dlms.array(
        dlms.structure(
            dlms.long_unsigned(1), dlms.octet_string(b"\xff\xff\x0c\x19\xff"), dlms.unsigned(1)
        )
    )
    calendar = dlms.array(_entry(1, 0x2180))
    now = dlms.octet_string(IMMEDIATE)
    calendar_only = (
        (dlms.set_(11, "0-1:11.0.3.255", 2), days),
        (dlms.set_(10, "0-1:12.0.2.255", 2), calendar),
        (dlms.set_(9000, "0-0:94.44.128.26", 6), now),  # the calendar's activation alone
    )
    assert _send(head, calendar_only, 0x011A).ok
    assert _read(head, 0x00BB)[10:12] == (dlms.array(), calendar)
    days_too = (*calendar_only, (dlms.set_(9000, "0-0:94.44.128.35", 6), now))
    assert _send(head, days_too, 0x011A).ok
    assert _read(head, 0x00BB)[10:12] == (days, calendar)


def test_ecs61a_reads_labels_types_and_the_alcs_calendar_as_set() -> None:
    _fleet, head = _alcs_fleet()
    label = ((dlms.set_(1, "0-0:94.44.0.13", 2), dlms.visible_string(b"Storage heater")),)
    assert _send(head, label, 0x0053).ok
    data = _read(head, 0x00BB)
    assert data[2] == dlms.visible_string(b"Storage heater")
    assert data[0] == dlms.visible_string(b"Switch 1")  # never labelled
    assert data[5] == dlms.octet_string(bytes(8))  # an ALCS, not an HC ALCS
    assert data[10:12] == (dlms.array(), dlms.array())  # no special days, no calendar yet
    assert data[12:] == (dlms.boolean(False),) * 5  # every switch off


def test_the_chf_asks_for_a_channel_scan_and_alerts_its_assessment(
    fleet: Fleet, head: HeadEnd
) -> None:
    cmd = c.DeviceSettings(
        0x010E,
        head.next_counter() % (1 << 24),
        ((dlms.set_(1, "0-0:94.44.10.1", 2), dlms.unsigned(0)),),
    )
    answer = head.send(head.command(CHF, cmd, counter=head.counter))
    assert answer.response is not None
    assert c.Outcome.decode(answer.response.content).ok
    (alert,) = answer.alerts
    assert alert.message_code == 0x0112  # DBCH08
    decoded = c.decode_alert(alert.message_code, alert.content)
    assert isinstance(decoded, c.DlmsAlert)
    assert decoded.code == 0x8F28
    assert decoded.counter == alert.originator_counter % (1 << 24)
    assert decoded.details == dlms.structure(dlms.octet_string(b"\x00"), dlms.octet_string(b"\x00"))
    chf = fleet.device(CHF, head.now)
    assert chf.family_state(FAMILY)["channel_scans"] == [chf.device_time(int(head.now.timestamp()))]


def test_the_load_limit_arms_the_supply_then_restores_it(fleet: Fleet, head: HeadEnd) -> None:
    writes = _load_limit(1, disable=True, period=60, restoration=4 * 3600)
    assert _send(head, writes, 0x0043).ok
    assert head.advance(timedelta(hours=1)).alert_codes() == []  # earlier half hours do not count
    tripped = head.advance(timedelta(hours=1)).alert_codes()
    assert tripped[:2] == [0x8F01, 0x8F33]
    assert fleet.device(ESME, head.now).meter.supply.value == "armed"
    restored = head.advance(timedelta(hours=5)).alert_codes()
    assert 0x8F34 in restored
    assert fleet.device(ESME, head.now).meter.supply.value == "enabled"


def test_an_unchanged_supply_state_only_alerts(fleet: Fleet, head: HeadEnd) -> None:
    writes = _load_limit(1, disable=False, period=60, restoration=60)
    assert _send(head, writes, 0x0043).ok
    head.advance(timedelta(hours=1))
    assert 0x8F01 in head.advance(timedelta(hours=1)).alert_codes()
    assert fleet.device(ESME, head.now).meter.supply.value == "enabled"


def test_responses_of_use_cases_that_may_be_future_dated_carry_the_execution_time(
    fleet: Fleet, head: HeadEnd
) -> None:
    cmd = c.DeviceSettings(0x0043, head.next_counter() % (1 << 24), _load_limit(12_000))
    answer = head.send(head.command(ESME, cmd, counter=head.counter))
    assert answer.response is not None
    device = fleet.device(ESME, head.now)
    executed = device.device_time(int(head.now.timestamp()))
    when = dlms.CosemDateTime.from_bytes(answer.response.date_time or b"").to_datetime()
    assert when is not None
    assert int(when.timestamp()) == executed
    # ECS81 cannot be future-dated: no date-time
    tamper = c.DeviceSettings(
        0x0068,
        head.next_counter() % (1 << 24),
        ((dlms.set_(1, "0-0:94.44.0.4", 2), dlms.boolean(True)),),
    )
    answer = head.send(head.command(ESME, tamper, counter=head.counter))
    assert answer.response is not None
    assert answer.response.date_time is None
