"""The meters' half-hour record holds 13 months: regenerated from the load shape, dark where
the supply was off, a few integers in the saved state however long the meter has run."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from emulator.clock import HALF_HOUR, to_seconds
from emulator.fleet import Fleet
from emulator.metering import HH_CAPACITY, PROFILE_DAYS, Meter
from emulator.profiles import BUILTIN_SHAPES, device_key, shape_named
from emulator.supply import LOAD_SWITCH, SupplyEvent
from emulator.usecases.reading import UNIX_2000
from gbcs import content as c
from gbcs.codes import SUPPLIER
from gbcs.payloads.read_values import read_pairs_plaintext
from tests.emulator.support import ESME, HeadEnd

START = to_seconds(datetime(2024, 1, 10, 0, 0, tzinfo=UTC))
DAY = 86_400
KEY = device_key(b"record", bytes.fromhex("00db1234567890a0"))
SHAPE = shape_named("domestic-electricity")


def _meter() -> Meter:
    return Meter.new(SHAPE, KEY, START)


def _restored(meter: Meter) -> Meter:
    data = json.loads(json.dumps(meter.to_json()))
    return Meter.from_json(data, SHAPE, KEY, LOAD_SWITCH)


def test_a_run_of_consumption_is_the_same_integers_as_each_half_hour() -> None:
    for shape in BUILTIN_SHAPES.values():
        for key in (0, KEY, (1 << 64) - 1):
            factor = shape.device_factor(key)
            first = START // HALF_HOUR - 17  # not on a day boundary
            run = shape.consumption_run(key, first, 5 * 48 + 3, factor)
            assert run == [shape.consumption(key, first + n, factor) for n in range(5 * 48 + 3)]


def test_the_meter_holds_thirteen_months_of_half_hours() -> None:
    assert PROFILE_DAYS * 12 >= 365 * 13  # 13 months of days
    meter = _meter()
    meter.advance(START + 450 * DAY)
    held = meter.half_hours()
    assert len(held) == HH_CAPACITY == PROFILE_DAYS * 48
    assert held[-1][0] == START + 450 * DAY - HALF_HOUR
    assert held[0][0] == START + (450 - PROFILE_DAYS) * DAY
    first = START // HALF_HOUR
    slot = held[0][0] // HALF_HOUR
    assert [q for _, q in held[:96]] == [SHAPE.consumption(KEY, s) for s in range(slot, slot + 96)]
    assert first < slot


def test_a_range_returns_exactly_the_half_hours_starting_in_it() -> None:
    meter = _meter()
    meter.advance(START + 400 * DAY)
    everything = meter.half_hours()
    since, until = START + 100 * DAY + 600, START + 101 * DAY + HALF_HOUR
    inside = [(b, q) for b, q in everything if since <= b <= until]
    assert meter.half_hours(since=since, until=until) == inside
    assert len(inside) == 48 + 1  # 00:30 on day 100 to 00:30 on day 101, both included
    assert meter.half_hours(since=START - 10 * DAY, until=START - DAY) == []
    assert meter.half_hours(3) == everything[-3:]


def test_the_supply_off_records_nothing_and_survives_a_restart() -> None:
    meter = _meter()
    meter.advance(START + 2 * DAY)
    meter.operate_supply(SupplyEvent.REMOTE_DISABLE)
    meter.advance(START + 2 * DAY + 5 * HALF_HOUR)
    meter.operate_supply(SupplyEvent.REMOTE_ARM)
    meter.operate_supply(SupplyEvent.CONSUMER_BUTTON)
    meter.advance(START + 3 * DAY)
    held = meter.half_hours()
    off = [q for b, q in held if START + 2 * DAY <= b < START + 2 * DAY + 5 * HALF_HOUR]
    assert off == [0] * 5
    assert sum(q for _, q in held) == meter.total
    back = _restored(meter)
    assert back.half_hours() == held
    assert back.total == meter.total


def test_the_saved_state_does_not_grow_with_the_record() -> None:
    young, old = _meter(), _meter()
    young.advance(START + DAY)
    old.advance(START + 400 * DAY)
    assert len(old.half_hours()) == HH_CAPACITY
    assert len(json.dumps(old.to_json())) < len(json.dumps(young.to_json())) + 100


def test_dark_periods_older_than_the_record_are_forgotten() -> None:
    meter = _meter()
    meter.operate_supply(SupplyEvent.REMOTE_DISABLE)
    meter.advance(START + DAY)
    meter.operate_supply(SupplyEvent.REMOTE_ARM)
    meter.operate_supply(SupplyEvent.CONSUMER_BUTTON)
    meter.advance(START + 2 * DAY)
    assert meter.dark == [START // HALF_HOUR, START // HALF_HOUR + 48]
    meter.advance(START + (PROFILE_DAYS + 1) * DAY)
    assert meter.dark == []  # the dark day has left the record
    assert all(q > 0 for _, q in meter.half_hours(48))


def test_a_state_saved_with_the_old_ring_keeps_what_the_ring_held() -> None:
    meter = _meter()
    meter.advance(START + 20 * DAY)
    ring_size = 48 * 14
    held = meter.half_hours(ring_size)
    ring = [0] * ring_size
    for begin, used in held:
        ring[(begin // HALF_HOUR) % ring_size] = used
    off = held[100][0] // HALF_HOUR
    ring[off % ring_size] = 0  # the supply was off then
    data = meter.to_json()
    del data["dark"]
    data["hh"] = ring
    back = Meter.from_json(data, SHAPE, KEY, LOAD_SWITCH)
    assert len(back.half_hours()) == ring_size
    assert back.half_hours() == [(b, 0 if b // HALF_HOUR == off else q) for b, q in held]


def _profile_read(head: HeadEnd, start: int, end: int) -> c.ProtectedResponse | None:
    span = c.Span(c.from_utc_seconds(start - UNIX_2000), c.from_utc_seconds(end - UNIX_2000))
    cmd = c.ProtectedRead(0x0037, head.next_counter(), SUPPLIER, ESME, span)
    answer = head.send(head.command(ESME, cmd))
    assert answer.response is not None
    response = c.decode_response(0x0037, answer.response.content)
    if isinstance(response, c.ProtectedResponse):
        entries = read_pairs_plaintext(head.decrypt(answer.response)(response.encrypted))
        expected = [
            (b + HALF_HOUR - UNIX_2000, q)
            for b, q in head.fleet.device(ESME, head.now).meter.half_hours()  # type: ignore[attr-defined]
            if start <= b + HALF_HOUR <= end
        ]
        assert entries == expected
        return response
    return None


def test_an_esme_returns_a_day_of_profile_data_from_a_year_ago(fleet: Fleet, head: HeadEnd) -> None:
    fleet.device(ESME, head.now)
    head.advance(timedelta(days=380))
    now = int(head.now.timestamp())
    day = now - now % DAY - 365 * DAY
    assert _profile_read(head, day + HALF_HOUR, day + DAY) is not None


def test_a_period_too_long_for_one_response_is_refused(fleet: Fleet, head: HeadEnd) -> None:
    fleet.device(ESME, head.now)
    head.advance(timedelta(days=390))
    now = int(head.now.timestamp())
    # 390 days of 8-byte entries do not fit the 65535 bytes a GBCS message carries.
    assert _profile_read(head, now - 389 * DAY, now) is None


def test_the_count_held_is_the_record_without_regenerating_it() -> None:
    meter = _meter()
    assert meter.held == 0
    meter.advance(START + 3 * DAY)
    assert meter.held == len(meter.half_hours()) == 3 * 48
    meter.advance(START + 500 * DAY)
    assert meter.held == len(meter.half_hours()) == HH_CAPACITY
