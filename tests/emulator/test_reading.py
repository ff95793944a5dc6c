"""The reading family on the emulated devices: a day of simulated time fills the logs, and
each read returns exactly what the meter recorded in the period asked, decoded back from the
encrypted response."""

from __future__ import annotations

import itertools
import struct
from datetime import datetime, timedelta

import pytest

from emulator.devices.base import Refusal
from emulator.errors import CommandError
from emulator.fleet import Fleet
from emulator.usecases.reading import (
    DAY,
    HALF_HOUR,
    SECURITY_LOG,
    UNIX_2000,
    log_entries,
    reactive_of,
    read_tou_registers,
)
from gbcs import content as c
from gbcs.codes import NETWORK_OPERATOR, SUPPLIER
from gbcs.payloads import dlms
from gbcs.payloads.gbz import EncryptedZcl, ZclFrame
from gbcs.payloads.read_values import (
    labelled,
    read_daily_plaintext,
    read_pairs_plaintext,
    read_prepay_plaintext,
    read_samples_plaintext,
    read_tou_plaintext,
    when,
)
from tests.emulator.support import ESME, GSME, HeadEnd


def _at(unix: int) -> datetime:
    return c.from_utc_seconds(unix - UNIX_2000)


def test_a_day_of_profile_data_after_a_simulated_day(fleet: Fleet, head: HeadEnd) -> None:
    meter = fleet.device(ESME, head.now).meter  # made now, then a day passes
    head.advance(timedelta(days=1, hours=1))
    held = meter.half_hours()
    assert len(held) >= 48
    # Half-past the first held half hour's end to the end of the 24th: 23 entries, the
    # capture times being the ends of the half hours.
    start = held[0][0] + HALF_HOUR + 1
    end = held[23][0] + HALF_HOUR
    cmd = c.ProtectedRead(0x0037, head.next_counter(), SUPPLIER, ESME, c.Span(_at(start), _at(end)))
    answer = head.send(head.command(ESME, cmd))
    assert answer.response is not None
    response = c.decode_response(0x0037, answer.response.content)
    assert isinstance(response, c.ProtectedResponse)
    entries = read_pairs_plaintext(head.decrypt(answer.response)(response.encrypted))
    assert entries == [(b + HALF_HOUR - UNIX_2000, used) for b, used in held[1:24]]
    assert sum(used for _, used in entries) > 0


def test_a_period_the_meter_does_not_hold_returns_no_entries(fleet: Fleet, head: HeadEnd) -> None:
    head.advance(timedelta(hours=3))
    span = c.Span(_at(UNIX_2000 + DAY), _at(UNIX_2000 + 2 * DAY))  # 2000-01-02: long gone
    cmd = c.ProtectedRead(0x0037, head.next_counter(), SUPPLIER, ESME, span)
    answer = head.send(head.command(ESME, cmd))
    assert answer.response is not None
    response = c.decode_response(0x0037, answer.response.content)
    assert isinstance(response, c.ProtectedResponse)
    assert read_pairs_plaintext(head.decrypt(answer.response)(response.encrypted)) == []


def test_daily_consumption_sums_each_whole_day(fleet: Fleet, head: HeadEnd) -> None:
    meter = fleet.device(ESME, head.now).meter
    head.advance(timedelta(days=3))
    held = meter.half_hours()
    span = c.Span(_at(held[0][0]), _at(held[-1][0] + HALF_HOUR))
    cmd = c.ProtectedRead(0x0060, head.next_counter(), SUPPLIER, ESME, span)
    answer = head.send(head.command(ESME, cmd))
    assert answer.response is not None
    response = c.decode_response(0x0060, answer.response.content)
    assert isinstance(response, c.ProtectedResponse)
    days = read_pairs_plaintext(head.decrypt(answer.response)(response.encrypted))
    assert len(days) >= 2
    for midnight, used in days:
        assert midnight % DAY == 0
        day = [q for b, q in held if midnight - DAY <= b - UNIX_2000 < midnight]
        assert len(day) == 48
        assert used == sum(day)


def test_tou_registers_are_the_meters(fleet: Fleet, head: HeadEnd) -> None:
    fleet.device(ESME, head.now)
    head.advance(timedelta(hours=5))
    cmd = c.ProtectedRead(0x0029, head.next_counter(), SUPPLIER, ESME)
    answer = head.send(head.command(ESME, cmd))
    assert answer.response is not None
    response = c.decode_response(0x0029, answer.response.content)
    assert isinstance(response, c.ProtectedResponse)
    primary, secondary = read_tou_plaintext(head.decrypt(answer.response)(response.encrypted))
    tou = list(fleet.device(ESME, head.now).meter.tou)
    assert len(primary) == 48
    assert primary[: len(tou)] == tou
    assert sum(primary) > 0
    assert secondary is None


def test_a_read_naming_other_parties_is_refused(fleet: Fleet, head: HeadEnd) -> None:
    esme = fleet.device(ESME, head.now)
    cmd = c.ProtectedRead(0x0029, head.next_counter(), NETWORK_OPERATOR, ESME)
    with pytest.raises(CommandError, match="other parties"):
        read_tou_registers(esme, head.command(ESME, cmd), 0, fleet.context(esme))


def test_gas_profile_samples_are_the_gas_meters(fleet: Fleet, head: HeadEnd) -> None:
    meter = fleet.device(GSME, head.now).meter
    head.advance(timedelta(days=1))
    held = meter.half_hours()
    start, end = held[2][0], held[11][0]
    cmd = c.GbzRead(0x0078, c.Span(_at(start), _at(end)))
    answer = head.send(head.command(GSME, cmd))
    assert answer.response is not None
    response = c.decode_response(0x0078, answer.response.content)
    assert isinstance(response, c.GbzReadResponse)
    assert response.ok
    (component,) = response.payload.components
    frame = component.frame
    assert isinstance(frame, EncryptedZcl)
    first, samples = read_samples_plaintext(head.decrypt(answer.response)(frame.ciphered))
    assert first == start - UNIX_2000
    assert samples == [used for _, used in held[2:12]]


def test_gas_profile_of_a_period_not_held_is_not_found(fleet: Fleet, head: HeadEnd) -> None:
    head.advance(timedelta(hours=2))
    cmd = c.GbzRead(0x0078, c.Span(_at(UNIX_2000 + DAY), _at(UNIX_2000 + DAY + 3600)))
    answer = head.send(head.command(GSME, cmd))
    assert answer.response is not None
    failure = c.decode_response(0x0078, answer.response.content)
    assert isinstance(failure, c.ZclFailure)
    assert failure.status == 0x8B


def _dlms_data(head: HeadEnd, target: bytes, cmd: object) -> tuple[dlms.Data, ...]:
    answer = head.send(head.command(target, cmd))
    assert answer.response is not None
    response = c.decode_response(cmd.message_code, answer.response.content)  # type: ignore[attr-defined]
    assert isinstance(response, c.DlmsReadResponse)
    assert response.ok
    return response.data


def _rows(value: dlms.Data, layout: str) -> list[tuple[int, ...]]:
    assert isinstance(value, dlms.CompactArray)
    size = struct.calcsize(layout)
    return list(struct.iter_unpack(layout, value.contents)) if size else []


def test_reactive_and_export_profiles_follow_the_recorded_half_hours(
    fleet: Fleet, head: HeadEnd
) -> None:
    meter = fleet.device(ESME, head.now).meter
    head.advance(timedelta(hours=6))
    held = meter.half_hours()
    span = c.Span(_at(held[1][0] + HALF_HOUR), _at(held[-1][0] + HALF_HOUR))
    (reactive,) = _dlms_data(head, ESME, c.DlmsRead(0x0038, head.next_counter(), span))
    expected = [(b + HALF_HOUR - UNIX_2000, reactive_of(meter, q)) for b, q in held[1:]]
    assert _rows(reactive, ">II") == expected
    assert any(v for _, v in expected)
    (export,) = _dlms_data(head, ESME, c.DlmsRead(0x0036, head.next_counter(), span))
    assert _rows(export, ">III") == [(t, 0, 0) for t, _ in expected]


def test_meter_balance_is_the_meters(fleet: Fleet, head: HeadEnd) -> None:
    meter = fleet.device(ESME, head.now).meter
    meter.credit.balance = 123_456
    (balance,) = _dlms_data(head, ESME, c.DlmsRead(0x0069, head.next_counter()))
    assert balance == dlms.double_long(123_456)


def test_the_logs_hold_the_commands_executed_and_refused_and_the_alerts_raised(
    fleet: Fleet, head: HeadEnd
) -> None:
    esme = fleet.device(ESME, head.now)
    head.advance(timedelta(minutes=5))
    before = int(head.now.timestamp()) - UNIX_2000
    # A command executed, then a replay (refused with an alert), then the reads.
    counter = head.next_counter()
    executed = head.command(ESME, c.ReadImportRegisters(counter, SUPPLIER, ESME))
    assert head.send(executed).response is not None
    replay = head.send(executed)
    assert replay.alerts
    span = c.Span(_at(before + UNIX_2000), _at(before + UNIX_2000 + 3600))
    (security,) = _dlms_data(head, ESME, c.DlmsRead(0x0049, head.next_counter(), span))
    rows = _rows(security, ">IH")
    assert (before, 0x0027) in rows  # ECS17b executed
    assert (before, int(Refusal.REPLAY)) in rows  # the replay, refused
    (events,) = _dlms_data(head, ESME, c.DlmsRead(0x0048, head.next_counter(), span))
    assert _rows(events, ">IHB") == [(before, int(Refusal.REPLAY), 0)]  # its alert
    # The logs live in the family's state, saved with the device.
    assert log_entries(esme, SECURITY_LOG)[-1][1] == 0x0048  # the last read


def test_a_log_read_of_a_period_before_anything_happened_is_empty(
    fleet: Fleet, head: HeadEnd
) -> None:
    fleet.device(ESME, head.now)
    span = c.Span(_at(UNIX_2000 + DAY), _at(UNIX_2000 + 2 * DAY))
    (security,) = _dlms_data(head, ESME, c.DlmsRead(0x0049, head.next_counter(), span))
    assert _rows(security, ">IH") == []


def test_daily_read_log_rebuilds_the_registers_at_each_midnight(
    fleet: Fleet, head: HeadEnd
) -> None:
    meter = fleet.device(ESME, head.now).meter
    head.advance(timedelta(days=3, hours=7))
    held = meter.half_hours()
    span = c.Span(_at(held[0][0]), _at(held[-1][0] + HALF_HOUR))
    cmd = c.ProtectedRead(0x0033, head.next_counter(), SUPPLIER, ESME, span)
    answer = head.send(head.command(ESME, cmd))
    assert answer.response is not None
    response = c.decode_response(0x0033, answer.response.content)
    assert isinstance(response, c.ProtectedResponse)
    days = read_daily_plaintext(head.decrypt(answer.response)(response.encrypted))
    assert len(days) >= 3
    assert all(t % DAY == 0 for t, _, _ in days)
    # The newest midnight's total plus every half hour since is the register now.
    last_time, last_total, last_tou = days[-1]
    since = sum(q for b, q in held if b - UNIX_2000 >= last_time)
    assert last_total + since == meter.total
    # Between two midnights, total and TOU registers both grow by that day's half hours.
    for (t0, total0, tou0), (t1, total1, tou1) in itertools.pairwise(days):
        day = sum(q for b, q in held if t0 <= b - UNIX_2000 < t1)
        assert total1 - total0 == day == sum(tou1) - sum(tou0)
    assert sum(last_tou) + since == sum(meter.tou)


def test_gas_daily_consumption_sums_each_whole_day(fleet: Fleet, head: HeadEnd) -> None:
    meter = fleet.device(GSME, head.now).meter
    head.advance(timedelta(days=4))
    held = meter.half_hours()
    first_day = held[0][0] - held[0][0] % DAY + DAY  # the first day held whole
    span = c.Span(_at(first_day), _at(first_day + 2 * DAY))
    answer = head.send(head.command(GSME, c.GbzRead(0x00A0, span)))
    assert answer.response is not None
    response = c.decode_response(0x00A0, answer.response.content)
    assert isinstance(response, c.GbzReadResponse)
    (component,) = response.payload.components
    assert isinstance(component.frame, EncryptedZcl)
    start, days = read_samples_plaintext(head.decrypt(answer.response)(component.frame.ciphered))
    assert start == first_day - UNIX_2000
    assert len(days) == 3
    for n, used in enumerate(days):
        begin = first_day + n * DAY
        assert used == sum(q for b, q in held if begin <= b < begin + DAY)


def test_the_gas_meters_security_log_holds_the_read_it_ran(fleet: Fleet, head: HeadEnd) -> None:
    gsme = fleet.device(GSME, head.now)
    head.advance(timedelta(minutes=5))
    at = gsme.device_time(int(head.now.timestamp())) - UNIX_2000
    read = head.command(GSME, c.ReadGasRegister(), counter=head.next_counter())
    assert head.send(read).response is not None
    span = c.Span(_at(at + UNIX_2000 - 60), _at(at + UNIX_2000 + 60))
    answer = head.send(head.command(GSME, c.GbzRead(0x00A1, span), counter=head.next_counter()))
    assert answer.response is not None
    response = c.decode_response(0x00A1, answer.response.content)
    assert isinstance(response, c.GbzReadResponse)
    (component,) = response.payload.components
    assert isinstance(component.frame, ZclFrame)
    assert component.cluster_id == 0x0709
    assert labelled(0x00A1, answer.response.content, []) == [f"{when(at)}  event 0x0074"]
    # Nothing raised: the event log of the period holds nothing.
    answer = head.send(head.command(GSME, c.GbzRead(0x0014, span), counter=head.next_counter()))
    assert answer.response is not None
    failure = c.decode_response(0x0014, answer.response.content)
    assert isinstance(failure, c.ZclFailure)
    assert failure.status == 0x8B


def test_prepayment_registers_are_the_meters_credit(fleet: Fleet, head: HeadEnd) -> None:
    meter = fleet.device(ESME, head.now).meter
    meter.credit.balance = -120_000
    meter.credit.emergency_credit_active = True
    meter.credit.debt = 3_000
    cmd = c.ProtectedRead(0x002D, head.next_counter(), SUPPLIER, ESME)
    answer = head.send(head.command(ESME, cmd))
    assert answer.response is not None
    response = c.decode_response(0x002D, answer.response.content)
    assert isinstance(response, c.ProtectedResponse)
    values = read_prepay_plaintext(head.decrypt(answer.response)(response.encrypted))
    limit = meter.prepayment.emergency_credit_limit
    assert values == (-120_000, limit - 120_000, 3_000, 0, 0, 0)


def test_a_log_saved_as_pairs_goes_on_packed_and_holds_its_last_hundred(
    fleet: Fleet, head: HeadEnd
) -> None:
    esme = fleet.device(ESME, head.now)
    old = [[n, 0x0027] for n in range(1, 100)]  # a state saved before logs were packed
    esme.family_state("reading")[SECURITY_LOG] = old
    for _ in range(3):
        command = head.command(ESME, c.ReadImportRegisters(head.next_counter(), SUPPLIER, ESME))
        assert head.send(command).response is not None
    entries = log_entries(esme, SECURITY_LOG)
    assert len(entries) == 100
    assert entries[:97] == [(n, 0x0027) for n in range(3, 100)]
    assert isinstance(esme.to_json()["extra"]["reading"][SECURITY_LOG], str)
