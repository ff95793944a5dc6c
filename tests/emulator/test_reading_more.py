"""The ESME's configuration, load-limit and maximum demand reads: what a settings command
wrote (or the factory value before) reads back, and the registers computed from the
half-hour record are that record's, decoded back from the response."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import itertools
from datetime import timedelta
from pathlib import Path

from emulator.devices.esme import tariff_of
from emulator.fleet import Fleet
from emulator.metering import EVERY_YEAR, BlockRate, PaymentMode, Season, SpecialDay, Tariff
from emulator.usecases.billing import (
    billing_plaintext,
    prepay_snapshot_plaintext,
    read_billing_plaintext,
    read_prepay_snapshot_plaintext,
)
from emulator.usecases.configuration import FAMILY
from emulator.usecases.reading import DAY, UNIX_2000, daily_reads
from emulator.usecases.reading_more import (
    FACTORY,
    HALF_HOUR,
    active_price,
    read_snapshot_plaintext,
    snapshot_plaintext,
)
from gbcs import content as c
from gbcs.builders import Builder
from gbcs.codes import NETWORK_OPERATOR, SUPPLIER
from gbcs.content.reads import LAST_SECOND as LAST
from gbcs.frames import Message
from gbcs.keystore import Keystore
from gbcs.payloads import dlms
from gbcs.payloads.dlms import CosemDateTime
from gbcs.payloads.gbz import EncryptedZcl, ReadAttributesResponse, ZclFrame, ZclType
from tests.emulator.support import ESME, GSME, HeadEnd


def _like(ours: dlms.Data, theirs: dlms.Data) -> bool:
    """The same DLMS types, arrays compared by their first elements (the device's lists are
    its own length, not the reference's: an empty one is like any array)."""
    if isinstance(ours, dlms.Array):
        if not isinstance(theirs, dlms.Array):
            return False
        return not ours.items or not theirs.items or _like(ours.items[0], theirs.items[0])
    if isinstance(ours, dlms.Structure):
        return (
            isinstance(theirs, dlms.Structure)
            and len(ours.items) == len(theirs.items)
            and all(_like(a, b) for a, b in zip(ours.items, theirs.items, strict=True))
        )
    return type(ours) is type(theirs) and ours.type == theirs.type


def _read(head: HeadEnd, code: int) -> tuple[dlms.Data, ...]:
    cmd = c.DlmsRead(code, head.next_counter() % (1 << 24))
    answer = head.send(head.command(ESME, cmd, counter=head.counter))
    assert answer.response is not None
    response = c.decode_response(code, answer.response.content)
    assert isinstance(response, c.DlmsReadResponse)
    assert response.ok
    return response.data


def _write(
    head: HeadEnd,
    code: int,
    spec: dlms.AccessSpec,
    value: dlms.Data,
    originator: bytes = SUPPLIER,
) -> None:
    cmd = c.DeviceSettings(code, head.next_counter() % (1 << 24), ((spec, value),))
    answer = head.send(head.command(ESME, cmd, counter=head.counter, originator=originator))
    assert answer.response is not None
    outcome = c.decode_response(code, answer.response.content)
    assert isinstance(outcome, c.Outcome)
    assert outcome.ok


def _unix(value: dlms.Data) -> int | None:
    assert isinstance(value, dlms.OctetString)
    when = CosemDateTime.from_bytes(value.value).to_datetime()
    return None if when is None else int(when.replace(tzinfo=_dt.UTC).timestamp())


def _uint(value: dlms.Data) -> int:
    assert isinstance(value, dlms.Integer)
    return value.value


def test_power_thresholds_read_factory_then_as_written(fleet: Fleet, head: HeadEnd) -> None:
    fleet.device(ESME, head.now)
    assert _read(head, 0x0040) == (FACTORY["set 21 0-0:16.0.0.255/2"],)
    values = dlms.array(dlms.double_long_unsigned(2300), dlms.double_long_unsigned(4600))
    _write(head, 0x0047, dlms.set_(21, "0-0:16.0.0.255", 2), values)
    assert _read(head, 0x0040) == (values,)


def test_billing_calendar_reads_as_ecs30_wrote_it(fleet: Fleet, head: HeadEnd) -> None:
    fleet.device(ESME, head.now)
    assert _read(head, 0x003E) == (dlms.array(),)
    calendar = dlms.array(
        dlms.structure(
            dlms.octet_string(bytes.fromhex("0c000000")),
            dlms.octet_string(bytes.fromhex("ffffff01ff")),
        )
    )
    _write(head, 0x0046, dlms.set_(22, "0-0:15.0.0.255", 4), calendar)
    assert _read(head, 0x003E) == (calendar,)
    assert _read(head, 0x00D9) == (calendar,)


def test_voltage_configuration_reads_the_written_threshold(fleet: Fleet, head: HeadEnd) -> None:
    device = fleet.device(ESME, head.now)
    before = _read(head, 0x003C)
    assert len(before) == 10
    # The device's own record, as ECS29a leaves it (its writes land in the same place).
    written = dlms.double_long_unsigned(260)
    objects = device.family_state(FAMILY).setdefault("objects", {})
    objects["set 1 1-0:32.35.0.4/2"] = written.to_bytes().hex()
    after = _read(head, 0x003C)
    assert after[8] == written
    assert after[:8] == before[:8]
    assert after[9] == before[9]


def test_load_limit_counter_counts_half_hours_over_the_threshold(
    fleet: Fleet, head: HeadEnd
) -> None:
    device = fleet.device(ESME, head.now)
    head.advance(timedelta(days=1))
    held = device.meter.half_hours()
    powers = sorted(wh * 2 for _, wh in held)
    threshold = powers[len(powers) // 2]  # about half the half hours go over
    objects = device.family_state(FAMILY).setdefault("objects", {})
    objects["set 71 0-0:17.0.0.255/4"] = dlms.double_long_unsigned(threshold).to_bytes().hex()
    state, count, unit, active, over, under = _read(head, 0x0042)
    expected = sum(1 for _, wh in held if wh * 2 > threshold)
    assert 0 < expected < len(held)
    assert _uint(count) == expected
    assert _uint(active) == threshold
    assert state == dlms.boolean(False)
    assert unit == dlms.structure(dlms.integer(0), dlms.enum(255))
    assert (over, under) == (FACTORY["set 71 0-0:17.0.0.255/6"], FACTORY["set 71 0-0:17.0.0.255/7"])
    # ECS28b resets it: only the half hours after count again.
    _write(head, 0x0044, dlms.action(3, "0-0:94.44.42.255", 1), dlms.integer(0))
    assert _uint(_read(head, 0x0042)[1]) == 0


def test_maximum_demand_import_is_the_highest_half_hour(fleet: Fleet, head: HeadEnd) -> None:
    device = fleet.device(ESME, head.now)
    head.advance(timedelta(days=2))
    held = device.meter.half_hours()
    data = _read(head, 0x002C)
    reset, period_reset, value, unit, captured, p_value, _, p_captured, schedule = data
    best = max(wh * 2 for _, wh in held)
    first = next(b for b, wh in held if wh * 2 == best)
    assert (_uint(value), _unix(captured)) == (best, first + HALF_HOUR)
    assert unit == dlms.structure(dlms.integer(0), dlms.enum(27))
    assert _unix(reset) is None
    assert _unix(period_reset) is None
    # The configurable period: the factory schedule's 16:00 to 19:00 UTC.
    window = [(b, wh) for b, wh in held if 16 * 3600 <= b % 86_400 < 19 * 3600]
    p_best = max(wh * 2 for _, wh in window)
    assert _uint(p_value) == p_best
    p_at = _unix(p_captured)
    assert p_at is not None
    assert 16 * 3600 < p_at % 86_400 <= 19 * 3600
    assert schedule == FACTORY["set 10 0-0:12.0.0.255/2"]
    assert p_best <= best


def test_maximum_demand_reset_starts_the_registers_again(fleet: Fleet, head: HeadEnd) -> None:
    device = fleet.device(ESME, head.now)
    head.advance(timedelta(days=1))
    reset = dlms.action(4, "1-0:1.6.0.255", 1)
    _write(head, 0x005A, reset, dlms.integer(0), NETWORK_OPERATOR)  # ECS57 is the DNO's
    at = device.device_time(int(head.now.timestamp()))
    data = _read(head, 0x002C)
    # No half hour has passed since the reset: nothing held, nothing captured.
    assert _unix(data[0]) == at
    assert (_uint(data[2]), _unix(data[4])) == (0, None)
    head.advance(timedelta(hours=2))
    after = [(b, wh) for b, wh in device.meter.half_hours() if b >= at]
    assert _uint(_read(head, 0x002C)[2]) == max(wh * 2 for _, wh in after)


def test_maximum_demand_export_is_nothing_exported(fleet: Fleet, head: HeadEnd) -> None:
    fleet.device(ESME, head.now)
    head.advance(timedelta(hours=6))
    reset, value, unit, captured = _read(head, 0x002B)
    assert _uint(value) == 0
    assert unit == dlms.structure(dlms.integer(0), dlms.enum(27))
    assert _unix(reset) is None
    assert _unix(captured) is None


def _reference_data(conformance: Path, folder: str, stem: str) -> tuple[dlms.Data, ...]:
    text = (conformance / "gbcs" / folder / f"{stem}_SUCCESS_RESPONSE_GBCS.HEX").read_text()
    message = Message.from_bytes(bytes.fromhex("".join(text.split())))
    response = c.decode_response(message.message_code, message.content)
    assert isinstance(response, c.DlmsReadResponse)
    return response.data


def test_tariff_read_is_the_meters_tariff(fleet: Fleet, head: HeadEnd) -> None:
    device = fleet.device(ESME, head.now)
    # Off-peak 00:00-07:00 on register 2, peak 16:00-19:00 on register 3, else register 1.
    switching = tuple(1 if s < 14 else 2 if 32 <= s < 38 else 0 for s in range(48))
    tariff = Tariff(prices=(24_500, 9_000, 41_000), standing_charge=60_000, switching=switching)
    device.meter.apply_tariff(tariff, None)
    data = _read(head, 0x003A)
    assert len(data) == 17
    at = device.device_time(int(head.now.timestamp()))
    assert _uint(data[0]) == tariff.prices[switching[(at // HALF_HOUR) % 48]]
    # The day profile gives back the switching table.
    (day,) = data[4].items  # type: ignore[union-attr]
    switches = [(s.items[0].value, _uint(s.items[2])) for s in day.items[1].items]  # type: ignore[union-attr]
    rebuilt = []
    for slot in range(48):
        minutes = slot * 30
        rate = [r for t, r in switches if t[0] * 60 + t[1] <= minutes][-1]
        rebuilt.append(rate - 1)
    assert tuple(rebuilt) == switching
    # Standing charge and prices at the scale the response names (1e-5 currency units).
    standing, prices = data[15], data[16]
    assert isinstance(standing, dlms.Structure)
    assert isinstance(prices, dlms.Structure)
    scale = _signed(standing.items[0].items[1])  # type: ignore[union-attr]
    unit = 10 ** (scale + 5)
    assert _signed(standing.items[2].items[0].items[1]) * unit == 60_000  # type: ignore[union-attr]
    table = prices.items[2].items  # type: ignore[union-attr]
    assert [_signed(e.items[1]) * unit for e in table[:3]] == [24_500, 9_000, 41_000]  # type: ignore[union-attr]
    assert all(_signed(e.items[1]) == 0 for e in table[3:48])  # type: ignore[union-attr]


def _as_update_tariff(data: tuple[dlms.Data, ...]) -> c.UpdateTariff:
    """The ECS24 answer's tariff (after the active price and its unit) as the ECS01a that
    would write it, activation now."""
    start = CosemDateTime.from_datetime(_dt.datetime(2000, 1, 1, tzinfo=_dt.UTC)).to_bytes()
    blank = c.UpdateTariff(
        counter=1,
        seasons=(c.Season(b"\x01", start, b"\x01"),),
        week_profiles=(c.WeekProfile(b"\x01", (1, 1, 1, 1, 1, 1, 1)),),
        day_profiles=(c.DayProfile(1, (c.TariffSwitch(_dt.time(0, 0), 1),)),),
        standing_charge=0,
        tou_prices=(0,) * c.TOU_RATES,
    )
    written = dlms.decode_dlms(blank.encode())
    assert isinstance(written, dlms.AccessRequest)
    tail = written.data[15:]  # the activation date-times
    request = dlms.AccessRequest(written.invoke_id, written.specs, (*data[2:17], *tail))
    return c.UpdateTariff.decode(request.to_bytes())


def test_tariff_read_has_the_weeks_special_days_and_blocks(fleet: Fleet, head: HeadEnd) -> None:
    """A tariff whose weekend bills off-peak, with a special day and a block rate on
    register 3, reads back as the same tariff (ECS01a's reading of it), and the active price
    is the one the meter bills the current half hour at."""
    device = fleet.device(ESME, head.now)
    weekday = tuple(0 if s < 14 else 1 for s in range(48))
    weekend = (1,) * 48
    christmas = (2,) * 48
    tariff = Tariff(
        prices=(9_000, 24_500, 30_000),
        standing_charge=60_000,
        switching=weekday,
        weekdays=(weekday,) * 5 + (weekend,) * 2,
        special_days=(SpecialDay(EVERY_YEAR, 12, 25, christmas),),
        block_rates=(BlockRate(2, 3, (100_000, 200_000), (30_000, 35_000, 40_000)),),
    )
    device.meter.apply_tariff(tariff, None)
    data = _read(head, 0x003A)
    read = tariff_of(_as_update_tariff(data))
    # The price matrix has a price for all 48 TOU rates: those the tariff does not use are 0.
    assert read.prices[3:] == (0,) * 45
    assert dataclasses.replace(read, prices=read.prices[:3]) == tariff
    at = device.device_time(int(head.now.timestamp()))
    day = _dt.datetime.fromtimestamp(at, _dt.UTC).date()
    register = tariff.switching_on(day)[(at // HALF_HOUR) % 48]
    assert _uint(data[0]) == tariff.prices[register]


def test_tariff_read_has_every_season_and_the_active_price_is_the_seasons(
    fleet: Fleet, head: HeadEnd
) -> None:
    """A tariff of two seasons (every year from 1 November: rate 1; from 15 January 2024:
    rate 2 on weekdays, rate 3 at weekends) reads back as the same tariff, and the active
    price is that of the season in force (the sandbox's clock: Monday 15 January 2024)."""
    device = fleet.device(ESME, head.now)
    winter, spring, weekend = (0,) * 48, (1,) * 48, (2,) * 48
    tariff = Tariff(
        prices=(9_000, 24_500, 30_000),
        standing_charge=60_000,
        switching=winter,
        seasons=(
            Season(EVERY_YEAR, 11, 1, (winter,) * 7),
            Season(2024, 1, 15, (spring,) * 5 + (weekend,) * 2),
        ),
    )
    device.meter.apply_tariff(tariff, None)
    data = _read(head, 0x003A)
    read = tariff_of(_as_update_tariff(data))
    assert dataclasses.replace(read, prices=read.prices[:3]) == tariff
    assert _uint(data[0]) == 24_500


def _signed(value: dlms.Data) -> int:
    assert isinstance(value, dlms.Integer)
    return value.value


def test_tariff_read_has_the_reference_types(
    conformance: Path, fleet: Fleet, head: HeadEnd
) -> None:
    fleet.device(ESME, head.now)
    ours = _read(head, 0x003A)
    theirs = _reference_data(conformance, "4.11.1_ECS24", "ECS24_4.11.1")
    assert len(ours) == len(theirs)
    for index, (mine, real) in enumerate(zip(ours, theirs, strict=True)):
        assert _like(mine, real), f"value {index}: {mine} is not like {real}"


def _gas_payment_control(head: HeadEnd) -> int:
    cmd = c.GbzRead(0x00BF)
    answer = head.send(head.command(GSME, cmd))
    assert answer.response is not None
    response = c.decode_response(0x00BF, answer.response.content)
    assert isinstance(response, c.GbzReadResponse)
    assert response.ok
    (component,) = response.payload.components
    assert isinstance(component.frame, ZclFrame)
    (record,) = ReadAttributesResponse.from_bytes(component.frame.payload).records
    assert record.attribute == 0x0000
    assert record.value is not None
    assert record.value.type is ZclType.BITMAP16
    return int.from_bytes(record.value.raw, "little")


def test_gas_payment_mode_reads_the_meters_mode(fleet: Fleet, head: HeadEnd) -> None:
    meter = fleet.device(GSME, head.now).meter
    meter.set_mode(PaymentMode.CREDIT)
    credit = _gas_payment_control(head)
    assert credit & 0x0003 == 0  # prepayment and disconnection off
    meter.set_mode(PaymentMode.PREPAYMENT)
    head.next_counter()
    prepayment = _gas_payment_control(head)
    assert prepayment & 0x0003 == 0x0003
    assert prepayment == c.GasPaymentMode(0, True).control
    assert credit == c.GasPaymentMode(0, False).control


# -- billing data log (ECS20c) ---------------------------------------------------------------


def _billing_log(
    head: HeadEnd, start: int, end: int
) -> list[tuple[int, int, list[int], tuple[int, ...]]]:
    span = c.Span(c.from_utc_seconds(start), c.from_utc_seconds(end))
    cmd = c.ProtectedRead(0x0030, head.next_counter(), SUPPLIER, ESME, span)
    answer = head.send(head.command(ESME, cmd))
    assert answer.response is not None
    response = c.decode_response(0x0030, answer.response.content)
    assert isinstance(response, c.ProtectedResponse)
    return read_billing_plaintext(head.decrypt(answer.response)(response.encrypted))


def _step(head: HeadEnd, days: int) -> None:
    for _ in range(days):
        head.advance(timedelta(days=1))


def test_billing_log_holds_the_registers_at_each_billing_date(fleet: Fleet, head: HeadEnd) -> None:
    device = fleet.device(ESME, head.now)
    _read(head, 0x003D)  # any command: the device keeps family state from here
    head.advance(timedelta(hours=1))  # the clock first sees it: the log starts
    start = int(head.now.timestamp())
    _step(head, 20)
    firsts = [d for d in range(start, int(head.now.timestamp()), 1800) if _is_first(d)]
    assert firsts  # 15 January + 20 days holds 1 February
    entries = _billing_log(head, 0, LAST)
    assert [t + UNIX_2000 for t, *_ in entries] == firsts
    # The registers are those at the billing date: the daily read log's at that midnight.
    for t, total, tou, prepay in entries:
        (daily,) = daily_reads(device.meter, c.Span(c.from_utc_seconds(t), c.from_utc_seconds(t)))
        assert (daily[1], daily[2]) == (total, tou)
        assert len(prepay) == 6
    # A period before the first billing date holds none.
    assert _billing_log(head, 0, firsts[0] - UNIX_2000 - 1) == []


def _is_first(unix: int) -> bool:
    when = _dt.datetime.fromtimestamp(unix, _dt.UTC)
    return when.day == 1 and when.hour == 0 and when.minute == 0


def test_billing_log_follows_the_calendar_ecs30_wrote(fleet: Fleet, head: HeadEnd) -> None:
    fleet.device(ESME, head.now)
    every_day_at_six = dlms.array(
        dlms.structure(
            dlms.octet_string(bytes.fromhex("06000000")),
            dlms.octet_string(bytes.fromhex("ffffffffff")),
        )
    )
    _write(head, 0x0046, dlms.set_(22, "0-0:15.0.0.255", 4), every_day_at_six)
    head.advance(timedelta(hours=1))
    _step(head, 15)
    entries = _billing_log(head, 0, LAST)
    assert len(entries) == 12  # the log keeps the last twelve
    times = [t + UNIX_2000 for t, *_ in entries]
    assert all(t % DAY == 6 * 3600 for t in times)
    assert [b - a for a, b in itertools.pairwise(times)] == [DAY] * 11
    totals = [total for _, total, _, _ in entries]
    assert totals == sorted(totals)
    assert totals[-1] > totals[0]


def test_billing_log_has_the_reference_layout(conformance: Path) -> None:
    base = conformance / "gbcs" / "4.4.3_ECS20c"
    text = (base / "ECS20c_4.4.3_SINGLE_SUCCESS_RESPONSE_GBCS.HEX").read_text()
    message = Message.from_bytes(bytes.fromhex("".join(text.split())))
    response = c.decode_response(0x0030, message.content)
    assert isinstance(response, c.ProtectedResponse)
    reader = Builder(Keystore.load(conformance / "keystore"))
    plaintext = reader.decrypt_payload(message, response.encrypted)
    real = read_billing_plaintext(plaintext)  # the reference parses as our layout
    assert real
    # Ours of the same entries: the same layout and length (the reference also fills the
    # block registers, which the emulated meter leaves 0).
    ours = billing_plaintext([[t, total, *tou, *prepay] for t, total, tou, prepay in real])
    assert len(ours) == len(plaintext)
    assert read_billing_plaintext(ours) == real


# -- the gas daily read log (GCS16a) ---------------------------------------------------------


def test_gas_daily_log_is_the_registers_at_each_midnight(fleet: Fleet, head: HeadEnd) -> None:
    meter = fleet.device(GSME, head.now).meter
    head.advance(timedelta(days=4))
    end = int(head.now.timestamp()) - UNIX_2000
    span = c.Span(c.from_utc_seconds(end - 10 * DAY), c.from_utc_seconds(end))
    expected = list(reversed(daily_reads(meter, span)))  # offset 0: the most recent
    assert len(expected) >= 3
    answer = head.send(head.command(GSME, c.GbzRead(0x0077, span)))
    assert answer.response is not None
    response = c.decode_response(0x0077, answer.response.content)
    assert isinstance(response, c.GbzReadResponse)
    assert response.ok
    components = response.payload.components
    assert len(components) == 31
    decrypt = head.decrypt(answer.response)
    for offset, component in enumerate(components):
        if offset >= len(expected):
            assert isinstance(component.frame, ZclFrame)
            assert component.frame.payload == bytes([0x06, 0x8B])  # NOT_FOUND
            continue
        assert isinstance(component.frame, EncryptedZcl)
        snapshot_id, at, found, total, tou = read_snapshot_plaintext(
            decrypt(component.frame.ciphered)
        )
        midnight, held_total, held_tou = expected[offset]
        assert (at, found, total, tou) == (midnight, len(expected), held_total, held_tou[:4])
        assert at % DAY == 0
        assert snapshot_id == at // DAY


def test_gas_daily_log_has_the_reference_layout(conformance: Path) -> None:
    base = conformance / "gbcs" / "4.6.1_GCS16a"
    text = (base / "GCS16a_4.6.1_SUCCESS_RESPONSE_GBCS.HEX").read_text()
    message = Message.from_bytes(bytes.fromhex("".join(text.split())))
    response = c.decode_response(0x0077, message.content)
    assert isinstance(response, c.GbzReadResponse)
    reader = Builder(Keystore.load(conformance / "keystore"))
    sealed = [x.frame for x in response.payload.components if isinstance(x.frame, EncryptedZcl)]
    assert sealed
    for frame in sealed:
        plaintext = reader.decrypt_payload(message, frame.ciphered)
        snapshot_id, at, found, total, tou = read_snapshot_plaintext(plaintext)
        ours = snapshot_plaintext(snapshot_id, at, found, total, tou)
        assert len(ours) == len(plaintext)
        assert ours[:14] == plaintext[:14]  # the header, cause and payload type alike
        assert read_snapshot_plaintext(ours) == (snapshot_id, at, found, total, tou)


# -- the gas prepayment daily read log (GCS16b) -------------------------------------------------


def test_gas_prepay_daily_log_holds_each_midnights_status(fleet: Fleet, head: HeadEnd) -> None:
    gsme = fleet.device(GSME, head.now)
    _gas_payment_control(head)  # any command: the device keeps family state from here
    head.advance(timedelta(hours=1))
    balances = []
    for day in range(5):
        gsme.meter.credit.balance = 1000 * (day + 1)
        balances.append(gsme.meter.credit.balance)
        head.advance(timedelta(days=1))
    end = int(head.now.timestamp()) - UNIX_2000
    span = c.Span(c.from_utc_seconds(end - 10 * DAY), c.from_utc_seconds(end))
    head.next_counter()
    answer = head.send(head.command(GSME, c.GbzRead(0x0096, span)))
    assert answer.response is not None
    response = c.decode_response(0x0096, answer.response.content)
    assert isinstance(response, c.GbzReadResponse)
    assert response.ok
    decrypt = head.decrypt(answer.response)
    found = []
    for component in response.payload.components:
        if isinstance(component.frame, EncryptedZcl):
            found.append(read_prepay_snapshot_plaintext(decrypt(component.frame.ciphered)))
        else:
            assert isinstance(component.frame, ZclFrame)
            assert component.frame.payload == bytes([0x07, 0x8B])
    assert len(found) == 5
    times = [t for _, t, _, _ in found]
    assert times == sorted(times, reverse=True)  # most recent first
    assert all(t % DAY == 0 for t in times)
    # Each midnight logged the balance of the day that ended there.
    assert [values[5] for _, _, _, values in found] == list(reversed(balances))
    assert all(n == 5 for _, _, n, _ in found)


def test_gas_prepay_daily_log_has_the_reference_layout(conformance: Path) -> None:
    base = conformance / "gbcs" / "4.14_GCS16b"
    text = (base / "GCS16b_4.14_KRP_SUCCESS_RESPONSE_GBCS.HEX").read_text()
    message = Message.from_bytes(bytes.fromhex("".join(text.split())))
    response = c.decode_response(0x0096, message.content)
    assert isinstance(response, c.GbzReadResponse)
    reader = Builder(Keystore.load(conformance / "keystore"))
    sealed = [x.frame for x in response.payload.components if isinstance(x.frame, EncryptedZcl)]
    assert sealed
    for frame in sealed:
        plaintext = reader.decrypt_payload(message, frame.ciphered)
        snapshot_id, at, found, values = read_prepay_snapshot_plaintext(plaintext)
        assert prepay_snapshot_plaintext(snapshot_id, found, [at, *values]) == plaintext


# -- the gas billing calendar billing log (GCS15c) -----------------------------------------------


def test_gas_billing_log_holds_registers_and_status_at_each_billing_date(
    fleet: Fleet, head: HeadEnd
) -> None:
    gsme = fleet.device(GSME, head.now)
    meter = gsme.meter
    # The billing calendar as GCS25a keeps it: every day at 06:00 UTC from 2024-01-01.
    gsme.family_state(FAMILY)["gas"] = {
        "billing_start": int(_dt.datetime(2024, 1, 1, 6, tzinfo=_dt.UTC).timestamp()),
        "billing_duration": 1,
        "billing_unit": 1,
    }
    head.advance(timedelta(hours=1))  # the clock first sees it: the log starts
    balances = []
    for day in range(3):
        meter.credit.balance = 700 * (day + 1)
        balances.append(meter.credit.balance)
        head.advance(timedelta(days=1))
    end = int(head.now.timestamp()) - UNIX_2000
    span = c.Span(c.from_utc_seconds(end - 10 * DAY), c.from_utc_seconds(end))
    head.next_counter()
    answer = head.send(head.command(GSME, c.GbzRead(0x0076, span)))
    assert answer.response is not None
    response = c.decode_response(0x0076, answer.response.content)
    assert isinstance(response, c.GbzReadResponse)
    assert response.ok
    decrypt = head.decrypt(answer.response)
    registers, status = [], []
    for component in response.payload.components:
        if not isinstance(component.frame, EncryptedZcl):
            continue
        plaintext = decrypt(component.frame.ciphered)
        if component.cluster_id == 0x0702:
            registers.append(read_snapshot_plaintext(plaintext))
        else:
            status.append(read_prepay_snapshot_plaintext(plaintext))
    assert len(registers) == len(status) == 3
    times = [at for _, at, _, _, _ in registers]
    assert times == [at for _, at, _, _ in status]
    assert times == sorted(times, reverse=True)
    assert all((t + UNIX_2000) % DAY == 6 * 3600 for t in times)
    # Registers at the billing date: the meter's total less every half hour since.
    for _, at, found, total, _ in registers:
        since = sum(q for b, q in meter.half_hours() if b >= at + UNIX_2000)
        assert total + since == meter.total
        assert found == 3
    assert [values[5] for _, _, _, values in status] == list(reversed(balances))


def test_gas_billing_log_has_the_reference_layout(conformance: Path) -> None:
    base = conformance / "gbcs" / "4.4.3_GCS15c"
    text = (base / "GCS15c_4.4.3_SUCCESS_RESPONSE_GBCS.HEX").read_text()
    message = Message.from_bytes(bytes.fromhex("".join(text.split())))
    response = c.decode_response(0x0076, message.content)
    assert isinstance(response, c.GbzReadResponse)
    reader = Builder(Keystore.load(conformance / "keystore"))
    checked = 0
    for component in response.payload.components:
        frame = component.frame
        if not isinstance(frame, EncryptedZcl):
            continue
        plaintext = reader.decrypt_payload(message, frame.ciphered)
        if component.cluster_id == 0x0702:
            sid, at, found, total, tou = read_snapshot_plaintext(plaintext)
            ours = snapshot_plaintext(sid, at, found, total, tou, 0x0000_0002)
            assert ours[:14] == plaintext[:14]
            assert len(ours) == len(plaintext)
        else:
            sid, at, found, values = read_prepay_snapshot_plaintext(plaintext)
            assert prepay_snapshot_plaintext(sid, found, [at, *values], 2) == plaintext
        checked += 1
    assert checked == 4


# -- the gas change of mode billing log (GCS15b) -------------------------------------------------


def test_gas_mode_billing_log_holds_what_the_mode_change_logged(
    fleet: Fleet, head: HeadEnd
) -> None:
    gsme = fleet.device(GSME, head.now)
    gsme.meter.set_mode(PaymentMode.CREDIT)
    head.advance(timedelta(hours=5))
    gsme.meter.credit.balance = 4321
    registers = list(gsme.meter.registers)
    at = gsme.device_time(int(head.now.timestamp())) - UNIX_2000
    head.next_counter()
    switch = c.GasPaymentMode(at, prepayment=True)
    answer = head.send(head.command(GSME, switch))
    assert answer.response is not None
    end = int(head.now.timestamp()) - UNIX_2000 + 60
    span = c.Span(c.from_utc_seconds(end - DAY), c.from_utc_seconds(end))
    head.next_counter()
    answer = head.send(head.command(GSME, c.GbzRead(0x00C3, span)))
    assert answer.response is not None
    response = c.decode_response(0x00C3, answer.response.content)
    assert isinstance(response, c.GbzReadResponse)
    assert response.ok
    decrypt = head.decrypt(answer.response)
    sealed = [x for x in response.payload.components if isinstance(x.frame, EncryptedZcl)]
    assert [x.cluster_id for x in sealed] == [0x0705, 0x0702]
    status = read_prepay_snapshot_plaintext(decrypt(sealed[0].frame.ciphered))  # type: ignore[union-attr]
    snapshot = read_snapshot_plaintext(decrypt(sealed[1].frame.ciphered))  # type: ignore[union-attr]
    assert status[1] == snapshot[1] == at
    assert status[3][5] == 4321
    assert snapshot[3] == registers[0]
    assert snapshot[4] == (registers[1:] + [0] * 4)[:4]


def test_active_price_on_a_block_rate_is_the_blocks_reached(fleet: Fleet, head: HeadEnd) -> None:
    device = fleet.device(ESME, head.now)
    block = BlockRate(0, 1, (100_000, 200_000), (30_000, 35_000, 40_000))
    tariff = Tariff(prices=(30_000,), switching=(0,) * 48, block_rates=(block,))
    device.meter.apply_tariff(tariff, None)
    at = device.device_time(int(head.now.timestamp()))
    for used, price in ((0, 30_000), (150_000, 35_000), (250_000, 40_000)):
        device.meter.block_counters = [used] + [0] * 31
        assert active_price(device.meter, at) == price
