"""The reads answered from the meters' state by reading_logs / reading_device: payment logs
(GCS15d/e, ECS20a/b/d), the second element's tariff (ECS24b), the load switch (ECS45),
network data (ECS23 / ECS23b, GCS18) and the gas meter's identity (GCS21e / GCS21m) - each
decoded back to the values the device holds."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from emulator.devices.esme import Esme
from emulator.devices.gsme import Gsme
from emulator.devices.trust import DeviceContext
from emulator.errors import CommandError
from emulator.fleet import Fleet
from emulator.supply import SupplyEvent
from emulator.usecases import reading_device as rd
from emulator.usecases.reading import UNIX_2000
from emulator.usecases.reading_logs import read_top_up_log_payload
from gbcs import content as c
from gbcs.codes import SUPPLIER
from gbcs.content.reads_gbz import NOT_FOUND
from gbcs.frames import Message
from gbcs.payloads import dlms
from gbcs.payloads.gbz import (
    CONTROL_ENCRYPTED,
    CONTROL_LAST,
    EncryptedZcl,
    GbzPayload,
    ReadAttributesResponse,
    ZclFrame,
)
from gbcs.payloads.read_values import DEBT_TYPE, MODE_CHANGE_TYPE, labelled, read_samples_plaintext
from gbcs.utrn import make_utrn
from tests.emulator.support import CHF, ESME, GPF, GSME, SEED, HeadEnd, pki_for, sandbox_fleet


def _span(start: int, end: int) -> c.Span:
    """A period from Unix seconds."""
    return c.Span(c.from_utc_seconds(start - UNIX_2000), c.from_utc_seconds(end - UNIX_2000))


def _unix(head: HeadEnd) -> int:
    return int(head.now.timestamp())


def _dlms(head: HeadEnd, target: bytes, cmd: Any) -> c.DlmsReadResponse:
    answer = head.send(head.command(target, cmd))
    assert answer.response is not None
    response = c.decode_response(cmd.message_code, answer.response.content)
    assert isinstance(response, c.DlmsReadResponse), response
    assert response.ok
    return response


def _gbz(head: HeadEnd, target: bytes, cmd: Any) -> tuple[Message, Any]:
    answer = head.send(head.command(target, cmd, counter=head.next_counter()))
    assert answer.response is not None
    return answer.response, c.decode_response(cmd.message_code, answer.response.content)


def _int(value: dlms.Data) -> int:
    assert isinstance(value, dlms.Integer)
    return value.value


def _top_up(head: HeadEnd, target: bytes, counter: int, pence: int) -> str:
    utrn = make_utrn(pki_for(), supplier=SUPPLIER, device=target, counter=counter, value=pence)
    counter = head.next_counter()
    cmd = c.TopUpGas(utrn) if target == GSME else c.TopUp(counter, utrn)
    assert head.send(head.command(target, cmd, counter=counter)).response is not None
    return utrn


# -- payment logs -----------------------------------------------------------------------


def test_gas_top_up_log_lists_the_top_ups_newest_first() -> None:
    fleet = sandbox_fleet(prepayment=True, balance=500_000)
    head = HeadEnd(fleet, pki_for())
    fleet.device(GSME, head.now)
    first = _top_up(head, GSME, 1 << 32, 500)
    head.advance(timedelta(hours=2))
    second = _top_up(head, GSME, 2 << 32, 1200)
    head.advance(timedelta(hours=1))
    now = _unix(head)
    cmd = c.GbzRead(0x00C5, _span(now - 86_400, now))
    _message, response = _gbz(head, GSME, cmd)
    assert isinstance(response, c.GbzReadResponse)
    assert response.ok
    (component,) = response.payload.components
    assert component.control == CONTROL_LAST  # not encrypted, as the DCC's reference
    assert isinstance(component.frame, ZclFrame)
    assert component.frame.command_id == 0x05
    entries = read_top_up_log_payload(component.frame.payload)
    assert [(code, amount) for _, code, amount in entries] == [
        (second.replace("-", "").replace(" ", ""), 1200 * 1000),
        (first.replace("-", "").replace(" ", ""), 500 * 1000),
    ]
    assert entries[0][0] - entries[1][0] == 7200
    # A period before the first top-up holds none: NOT_FOUND.
    _, none = _gbz(head, GSME, c.GbzRead(0x00C5, _span(now - 86_400, now - 4 * 3600)))
    assert isinstance(none, c.ZclFailure)
    assert none.status == NOT_FOUND


def test_top_up_log_keeps_the_last_ten() -> None:
    fleet = sandbox_fleet(prepayment=True, balance=500_000)
    head = HeadEnd(fleet, pki_for())
    for n in range(12):
        _top_up(head, GSME, (n + 1) << 32, 100 + n)
    kept = fleet.device(GSME, head.now).family_state("reading")["top_ups"]
    assert [pence for _, _, pence in kept] == [100 + n for n in range(2, 12)]


def test_gas_debt_log_holds_no_payment_based_collection(fleet: Fleet, head: HeadEnd) -> None:
    fleet.device(GSME, head.now)
    now = _unix(head)
    _, response = _gbz(head, GSME, c.GbzRead(0x00C4, _span(now - 86_400, now)))
    assert isinstance(response, c.ZclFailure)
    assert response.status == NOT_FOUND


def test_top_ups_pay_the_payment_based_debt_and_the_debt_log_shows_it() -> None:
    fleet = sandbox_fleet(prepayment=True, balance=500_000)
    head = HeadEnd(fleet, pki_for())
    gsme = fleet.device(GSME, head.now)
    debt = c.ManageGasDebt(1, (c.DebtChange(3, 100_000, percentage=500),))  # 5% of payments
    assert head.send(head.command(GSME, debt, counter=head.next_counter())).response is not None
    meter = gsme.meter  # type: ignore[attr-defined]
    balance = meter.credit.balance
    _top_up(head, GSME, 1 << 32, 1000)  # GBP 10: 50p collected
    assert meter.credit.balance == balance + 1_000_000 - 50_000
    assert meter.credit.debt == 50_000
    head.advance(timedelta(minutes=10))
    _top_up(head, GSME, 2 << 32, 2000)  # 5% would be GBP 1: only 50p is owed
    assert meter.credit.debt == 0
    now = _unix(head)
    message, response = _gbz(head, GSME, c.GbzRead(0x00C4, _span(now - 86_400, now)))
    assert isinstance(response, c.GbzReadResponse)
    (component,) = response.payload.components
    assert isinstance(component.frame, EncryptedZcl)
    plain = head.decrypt(message)(component.frame.ciphered)
    entries = [struct.unpack("<IIBI", plain[n : n + 13]) for n in range(2, len(plain), 13)]
    assert [(collected, kind, left) for _, collected, kind, left in entries] == [
        (50_000, 2, 50_000),
        (50_000, 2, 0),
    ]
    assert entries[1][0] - entries[0][0] == 600
    _top_up(head, GSME, 3 << 32, 500)  # nothing owed: nothing collected
    assert len(gsme.family_state("reading")["debt_payments"]) == 2


def test_gas_debt_log_entries_are_encrypted_in_a_publish_debt_log(
    fleet: Fleet, head: HeadEnd
) -> None:
    gsme = fleet.device(GSME, head.now)
    now = _unix(head)
    at = now - UNIX_2000 - 600
    gsme.family_state("reading")["debt_payments"] = [[at, 2500, 2, 10_000]]
    message, response = _gbz(head, GSME, c.GbzRead(0x00C4, _span(now - 86_400, now)))
    assert isinstance(response, c.GbzReadResponse)
    assert response.ok
    (component,) = response.payload.components
    assert component.control == CONTROL_LAST | CONTROL_ENCRYPTED
    assert isinstance(component.frame, EncryptedZcl)
    assert component.frame.command_id == 0x06
    plain = head.decrypt(message)(component.frame.ciphered)
    assert plain[:2] == bytes((0, 1))
    assert struct.unpack("<IIBI", plain[2:]) == (at, 2500, 2, 10_000)


def test_esme_credits_log_is_its_top_ups_in_the_period() -> None:
    fleet = sandbox_fleet(prepayment=True, balance=500_000)
    head = HeadEnd(fleet, pki_for())
    fleet.device(ESME, head.now)
    _top_up(head, ESME, 1 << 32, 750)
    head.advance(timedelta(hours=1))
    now = _unix(head)
    response = _dlms(head, ESME, c.DlmsRead(0x00C9, head.next_counter(), _span(now - 7200, now)))
    (log,) = response.data
    assert isinstance(log, dlms.CompactArray)
    (time, credit) = struct.unpack(">II", log.contents)
    assert credit == 750 * 1000
    assert now - 3600 - 60 <= time + UNIX_2000 <= now - 3600 + 60
    empty = _dlms(head, ESME, c.DlmsRead(0x00C9, head.next_counter(), _span(now - 60, now)))
    assert isinstance(empty.data[0], dlms.CompactArray)
    assert empty.data[0].contents == b""


def test_esme_debt_payments_log_shows_what_ecs07s_debt_collected() -> None:
    """ECS07 puts 3.00 GBP of payment-based debt, 5% of each payment; a 10.00 GBP top-up
    collects 0.50 GBP, which ECS20a lists (time, amount) in the period, and nothing outside."""
    fleet = sandbox_fleet(prepayment=True, balance=500_000)
    head = HeadEnd(fleet, pki_for())
    esme = fleet.device(ESME, head.now)
    counter = head.next_counter()
    debt = c.ManageDebt(
        counter & 0xFF_FFFF,
        c.TimeDebtRecovery(0, -2, c.RecoveryInterval.DAILY),
        c.TimeDebtRecovery(0, -2, c.RecoveryInterval.HOURLY),
        per_payment=500,
        payment_debt=300_000,
        time_debt_1=0,
        time_debt_2=0,
    )
    answer = head.send(head.command(ESME, debt, counter=counter))
    assert answer.response is not None
    assert c.Outcome.decode(answer.response.content).ok
    now = _unix(head)
    empty = _dlms(head, ESME, c.DlmsRead(0x002E, head.next_counter(), _span(now - 7200, now)))
    assert isinstance(empty.data[0], dlms.CompactArray)
    assert empty.data[0].contents == b""
    before = esme.meter.credit.debt  # type: ignore[attr-defined]
    _top_up(head, ESME, 3 << 32, 1000)
    head.advance(timedelta(minutes=5))
    now = _unix(head)
    response = _dlms(head, ESME, c.DlmsRead(0x002E, head.next_counter(), _span(now - 600, now)))
    (log,) = response.data
    assert isinstance(log, dlms.CompactArray)
    assert log.description == DEBT_TYPE
    (time, collected) = struct.unpack(">II", log.contents)
    assert collected == 50_000 == before - esme.meter.credit.debt  # type: ignore[attr-defined]
    assert now - 600 <= time + UNIX_2000 <= now
    later = _dlms(head, ESME, c.DlmsRead(0x002E, head.next_counter(), _span(now - 60, now)))
    assert later.data[0] == dlms.CompactArray(DEBT_TYPE, b"")


# -- the ESME's tariff of its second element and its load switch ----------------------------


def _twin_head() -> tuple[Fleet, HeadEnd]:
    fleet = Fleet(SEED, pki_for(), faults=False)
    fleet.add(ESME, "calder-cx3", firmware="03010200", hub=CHF)
    fleet.add(CHF, "tellurian-ch2-chf")
    return fleet, HeadEnd(fleet, pki_for())


def test_second_element_tariff_is_its_meters() -> None:
    fleet, head = _twin_head()
    esme = fleet.device(ESME, head.now)
    assert isinstance(esme, Esme)
    assert esme.secondary is not None
    response = _dlms(head, ESME, c.DlmsRead(0x00BD, head.next_counter()))
    assert len(response.data) == 7
    charge, active, _scaler, *_ = response.data
    assert isinstance(charge, dlms.Structure)
    scales, _, table = charge.items
    assert isinstance(scales, dlms.Structure)
    assert isinstance(table, dlms.Array)
    price_scale = _int(scales.items[1])
    prices = [_int(entry.items[1]) * 10 ** (price_scale + 5) for entry in table.items]  # type: ignore[attr-defined]
    tariff = esme.secondary.tariff.prices
    assert prices == (list(tariff) + [0] * 4)[:4]
    assert _int(active) in tariff


def test_second_element_tariff_of_a_single_element_esme_is_refused(
    fleet: Fleet, head: HeadEnd
) -> None:
    esme = fleet.device(ESME, head.now)
    ctx = fleet.context(esme)
    message = head.command(ESME, c.DlmsRead(0x00BD, head.next_counter()))
    with pytest.raises(CommandError, match="no second element"):
        rd.read_secondary_tariff(esme, message, _unix(head), ctx)


def test_load_switch_state_follows_the_supply(fleet: Fleet, head: HeadEnd) -> None:
    esme = fleet.device(ESME, head.now)
    assert isinstance(esme, Esme)
    states = []
    for event in (None, SupplyEvent.REMOTE_DISABLE, SupplyEvent.REMOTE_ARM):
        if event is not None:
            esme.meter.operate_supply(event)
        (state,) = _dlms(head, ESME, c.DlmsRead(0x0052, head.next_counter())).data
        assert isinstance(state, dlms.Integer)
        assert state.type is dlms.DataType.ENUM
        states.append(state.value)
    assert states == [1, 0, 2]


# -- network data ------------------------------------------------------------------------


def test_network_data_is_the_voltage_of_each_capture_period(fleet: Fleet, head: HeadEnd) -> None:
    esme = fleet.device(ESME, head.now)
    head.advance(timedelta(days=30))
    now = _unix(head)
    response = _dlms(head, ESME, c.DlmsRead(0x0039, head.next_counter(), _span(now - 86_400, now)))
    under, _, over, _, profile, period = response.data
    assert _int(period) == 1800
    assert isinstance(profile, dlms.CompactArray)
    rows = list(struct.iter_unpack(">II", profile.contents))
    assert len(rows) == 49  # both ends of the day included
    assert all((t + UNIX_2000) % 1800 == 0 for t, _ in rows)
    assert rows == [(t - UNIX_2000, v) for t, v in rd.voltage_profile(esme, 32, now - 86_400, now)]
    held = rd.voltage_profile(esme, 32, 0, now)
    assert _int(under) == sum(1 for _, v in held if v < 216)
    assert _int(over) == sum(1 for _, v in held if v > 253)
    assert _int(under) + _int(over) > 0  # a month holds a few excursions
    assert 220 <= sorted(v for _, v in held)[len(held) // 2] <= 240


def test_polyphase_network_data_has_each_phase(fleet: Fleet, head: HeadEnd) -> None:
    esme = fleet.device(ESME, head.now)
    head.advance(timedelta(days=2))
    now = _unix(head)
    message = head.command(ESME, c.DlmsRead(0x00BC, head.next_counter(), _span(now - 3600, now)))
    reply = rd.read_network_data_polyphase(esme, message, now, fleet.context(esme))
    response = c.DlmsReadResponse.decode(reply.content)
    assert len(response.data) == 18
    profiles = [response.data[n] for n in (4, 10, 16)]
    contents = [p.contents for p in profiles if isinstance(p, dlms.CompactArray)]
    assert len(contents) == 3
    assert all(len(b) == 3 * 8 for b in contents)
    assert len(set(contents)) == 3  # each phase its own voltages


def test_gas_network_data_log_samples_the_gas_used(fleet: Fleet, head: HeadEnd) -> None:
    """GCS18 asks for the whole log; the GSME answers the samples it holds (the log's first
    41 six-minute samples), encrypted for the requester."""
    gsme = fleet.device(GSME, head.now)
    assert isinstance(gsme, Gsme)
    _, none = _gbz(head, GSME, c.GbzRead(0x0079))
    assert isinstance(none, c.ZclFailure)
    assert none.status == NOT_FOUND
    started = head.send(head.command(GSME, c.StartNetworkDataLog(1), counter=head.next_counter()))
    assert started.response is not None
    start = _unix(head)
    head.advance(timedelta(hours=5))
    message, response = _gbz(head, GSME, c.GbzRead(0x0079))
    assert isinstance(response, c.GbzReadResponse)
    assert response.ok
    (component,) = response.payload.components
    assert isinstance(component.frame, EncryptedZcl)
    assert component.frame.frame_control == 0x09
    plaintext = head.decrypt(message)(component.frame.ciphered)
    first, samples = read_samples_plaintext(plaintext)
    assert first == start - UNIX_2000
    assert len(samples) == 41  # the log's four hours of six-minute samples, both ends
    slot = start - start % 1800
    held = dict(gsme.meter.half_hours(since=slot, until=start + 5 * 3600))
    assert sum(samples[:5]) == held[slot] if start == slot else sum(samples) > 0


# -- the gas meter's identity ------------------------------------------------------------


def test_gas_identity_is_the_profiles_and_the_supply_states_set(
    fleet: Fleet, head: HeadEnd
) -> None:
    gsme = fleet.device(GSME, head.now)
    gsme.family_state("configuration").setdefault("gas", {})["tamper"] = 1
    for code in (0x009E, 0x00FB):
        _, response = _gbz(head, GSME, c.GbzRead(code))
        assert isinstance(response, c.GbzReadResponse)
        assert response.ok
        values: dict[int, Any] = {}
        for component in response.payload.components:
            assert isinstance(component.frame, ZclFrame)
            for record in ReadAttributesResponse.from_bytes(component.frame.payload).records:
                assert record.value is not None
                values[record.attribute] = record.value.value
        assert values[0x0004] == gsme.profile.manufacturer.encode()
        assert values[0x0005] == gsme.profile.model.encode()
        assert values[0x0607] == 1
        assert values[0x0608] == rd.UNCHANGED
        assert (0x0003 in values) == (code == 0x009E)


def test_an_attribute_the_gas_meter_does_not_keep_is_unsupported(
    fleet: Fleet, head: HeadEnd
) -> None:
    gsme = fleet.device(GSME, head.now)
    asked = GbzPayload.from_bytes(c.GbzRead(0x009E).encode())
    reply = rd.attributes_reply(head.command(GSME, c.GbzRead(0x009E)), {})
    answer = GbzPayload.from_bytes(reply.content)
    assert len(answer.components) == len(asked.components)
    for component in answer.components:
        assert isinstance(component.frame, ZclFrame)
        records = ReadAttributesResponse.from_bytes(component.frame.payload).records
        assert all(r.status == rd.UNSUPPORTED_ATTRIBUTE for r in records)
    assert isinstance(gsme, Gsme)
    assert isinstance(fleet.context(gsme), DeviceContext)


# -- against the DCC's reference responses --------------------------------------------------


def _reference(conformance: Path, folder: str, name: str) -> Message:
    path = conformance / "gbcs" / folder / f"{name}_GBCS.HEX"
    return Message.from_bytes(bytes.fromhex(path.read_text().strip()))


def kinds(value: dlms.Data) -> Any:
    """A value's DLMS types, an array's by its first element (the counts vary)."""
    if isinstance(value, dlms.Array):
        return ("array", kinds(value.items[0]) if value.items else None)
    if isinstance(value, dlms.Structure):
        return ("structure", tuple(kinds(v) for v in value.items))
    return type(value).__name__, getattr(value, "type", None)


def test_second_element_tariff_has_the_reference_layout(conformance: Path) -> None:
    real = _reference(conformance, "4.11.2_ECS24b", "ECS24b_4.11.2_SUCCESS_RESPONSE")
    theirs = c.decode_response(0x00BD, real.content)
    _, head = _twin_head()
    ours = _dlms(head, ESME, c.DlmsRead(0x00BD, head.next_counter()))
    assert isinstance(theirs, c.DlmsReadResponse)
    assert len(ours.data) == len(theirs.data)
    for mine, real in zip(ours.data, theirs.data, strict=True):
        # An empty array (no special days kept) matches the reference's of any elements.
        if kinds(mine) != ("array", None):
            assert kinds(mine) == kinds(real)


def test_gas_top_up_log_has_the_reference_layout(conformance: Path) -> None:
    real = _reference(conformance, "4.4.5_GCS15e", "GCS15e_4.4.5_SUCCESS_RESPONSE")
    (theirs,) = GbzPayload.from_bytes(real.content).components
    fleet = sandbox_fleet(prepayment=True, balance=500_000)
    head = HeadEnd(fleet, pki_for())
    _top_up(head, GSME, 1 << 32, 500)
    now = _unix(head)
    _, response = _gbz(head, GSME, c.GbzRead(0x00C5, _span(now - 60, now)))
    (ours,) = response.payload.components
    assert (ours.cluster_id, ours.control) == (theirs.cluster_id, theirs.control)
    assert isinstance(ours.frame, ZclFrame)
    assert isinstance(theirs.frame, ZclFrame)
    assert (ours.frame.frame_control, ours.frame.command_id) == (
        theirs.frame.frame_control,
        theirs.frame.command_id,
    )
    # Both read as top-up entries: a 20-digit UTRN, an amount, a time.
    for payload in (ours.frame.payload, theirs.frame.payload):
        entries = read_top_up_log_payload(payload)
        assert entries
        assert all(len(code) == 20 and code.isdigit() for _, code, _ in entries)


def test_gas_logs_not_held_answer_as_the_reference_not_found(
    conformance: Path, fleet: Fleet, head: HeadEnd
) -> None:
    fleet.device(GSME, head.now)
    now = _unix(head)
    for folder, name, code in (
        ("4.4.4_GCS15d", "GCS15d_4.4.4_NOT_FOUND_RESPONSE", 0x00C4),
        ("4.4.5_GCS15e", "GCS15e_4.4.5_NOT_FOUND_RESPONSE", 0x00C5),
    ):
        real = _reference(conformance, folder, name)
        answer = head.send(
            head.command(GSME, c.GbzRead(code, _span(now - 60, now)), counter=head.next_counter())
        )
        assert answer.response is not None
        assert answer.response.content == real.content


def test_gas_billing_calendar_is_the_billing_period_last_published(
    fleet: Fleet, head: HeadEnd
) -> None:
    fleet.device(GSME, head.now)
    _, none = _gbz(head, GSME, c.GbzRead(0x00DA))
    assert isinstance(none, c.ZclFailure)
    assert (none.command_id, none.status, none.cluster_id) == (0x0B, NOT_FOUND, 0x0700)
    # GCS25a: a monthly billing period from 2024-02-01 (ZigBee UTC), provider 1, event 7.
    start = c.utc_seconds(datetime(2024, 2, 1, tzinfo=UTC))
    period = struct.pack("<III", 1, 7, start) + (1).to_bytes(3, "little") + bytes((0x03, 0x00))
    settings = c.GasSettings(0x00D8, (c.ZclCall(0x0700, 0x09, period, to_client=True),))
    done = head.send(head.command(GSME, settings, counter=head.next_counter()))
    assert done.response is not None
    _, response = _gbz(head, GSME, c.GbzRead(0x00DA))
    assert isinstance(response, c.GbzReadResponse)
    (component,) = response.payload.components
    assert isinstance(component.frame, ZclFrame)
    assert (component.cluster_id, component.frame.command_id) == (0x0700, 0x09)
    assert component.frame.payload == period


def test_the_answers_read_as_labelled_values() -> None:
    fleet = sandbox_fleet(prepayment=True, balance=500_000)
    head = HeadEnd(fleet, pki_for())
    fleet.device(ESME, head.now)
    fleet.device(GSME, head.now)
    _top_up(head, GSME, 1 << 32, 500)
    _top_up(head, ESME, 2 << 32, 250)
    assert head.send(
        head.command(GSME, c.StartNetworkDataLog(1), counter=head.next_counter())
    ).response
    head.advance(timedelta(hours=2))
    now = _unix(head)
    day = _span(now - 86_400, now)

    def lines(target: bytes, cmd: Any) -> list[str]:
        counter = getattr(cmd, "counter", None) or head.next_counter()
        answer = head.send(head.command(target, cmd, counter=counter))
        assert answer.response is not None
        return labelled(cmd.message_code, answer.response.content, [])

    assert lines(ESME, c.DlmsRead(0x0052, head.next_counter())) == [
        "load switch: connected (supply on)"
    ]
    (credit,) = lines(ESME, c.DlmsRead(0x00C9, head.next_counter(), day))
    assert credit.endswith("credit 2.50 GBP")
    network = lines(ESME, c.DlmsRead(0x0039, head.next_counter(), day))
    assert network[0].startswith("under-voltage periods ")
    assert all(line.endswith(" V") for line in network[1:])
    (top_up,) = lines(GSME, c.GbzRead(0x00C5, day))
    assert top_up.endswith("credit 5.00 GBP")
    counter = head.next_counter()
    answer = head.send(head.command(GSME, c.GbzRead(0x0079), counter=counter))
    assert answer.response is not None
    (component,) = GbzPayload.from_bytes(answer.response.content).components
    assert isinstance(component.frame, EncryptedZcl)
    plaintext = head.decrypt(answer.response)(component.frame.ciphered)
    samples = labelled(0x0079, answer.response.content, [plaintext])
    assert samples
    assert all(line.endswith(" m3") for line in samples)


def test_the_gpf_answers_the_gas_profile_from_its_gsme(fleet: Fleet, head: HeadEnd) -> None:
    gsme = fleet.device(GSME, head.now)
    fleet.device(GPF, head.now)
    head.advance(timedelta(days=2))
    now = _unix(head)
    start = now - now % 1800 - 86_400
    message, response = _gbz(head, GPF, c.GbzRead(0x0078, _span(start, start + 3 * 3600)))
    assert message.business_originator == GPF
    assert isinstance(response, c.GbzReadResponse)
    (component,) = response.payload.components
    assert isinstance(component.frame, EncryptedZcl)
    first, samples = read_samples_plaintext(head.decrypt(message)(component.frame.ciphered))
    held = gsme.meter.half_hours(since=start, until=start + 3 * 3600)  # type: ignore[attr-defined]
    assert first == start - UNIX_2000
    assert samples == [q for _, q in held]
    assert len(samples) == 7


def test_gas_configuration_is_as_gcs23_and_gcs24_set_it(fleet: Fleet, head: HeadEnd) -> None:
    fleet.device(GSME, head.now)

    def read() -> dict[tuple[int, int], int]:
        _, response = _gbz(head, GSME, c.GbzRead(0x007B))
        assert isinstance(response, c.GbzReadResponse)
        assert response.ok
        values = {}
        for component in response.payload.components:
            assert isinstance(component.frame, ZclFrame)
            for record in ReadAttributesResponse.from_bytes(component.frame.payload).records:
                assert record.value is not None
                value = record.value.value
                assert isinstance(value, int)
                values[(component.cluster_id, record.attribute)] = value
        return values

    factory = read()
    assert (factory[(0x0700, 0x0302)], factory[(0x0700, 0x0303)]) == (102_264, 0x50)
    assert factory[(0x0700, 0x0304)] == 395
    # GCS23: a conversion factor of 1.02 and a calorific value of 39.1 MJ/m3.
    cf = bytes(8) + (102_000).to_bytes(4, "little") + bytes((0x50,))
    cv = bytes(8) + (391).to_bytes(4, "little") + bytes((0x01, 0x10))
    gcs23 = c.GasSettings(
        0x007C,
        (
            c.ZclCall(0x0700, 0x02, cf, to_client=True),
            c.ZclCall(0x0700, 0x03, cv, to_client=True),
        ),
    )
    assert head.send(head.command(GSME, gcs23, counter=head.next_counter())).response is not None
    after = read()
    assert (after[(0x0700, 0x0302)], after[(0x0700, 0x0304)]) == (102_000, 391)
    assert after[(0x0702, 0x0B10)] == factory[(0x0702, 0x0B10)]  # GCS24 not sent
    assert len(after) == 11


def _kinds(payload: GbzPayload) -> list[tuple[int, int, int]]:
    """(cluster, frame control, command) of each component, repeats of one kind as one."""
    out: list[tuple[int, int, int]] = []
    for component in payload.components:
        frame = component.frame
        assert isinstance(frame, ZclFrame)
        kind = (component.cluster_id, frame.frame_control, frame.command_id)
        if not out or out[-1] != kind:
            out.append(kind)
    return out


def test_gas_tariff_is_the_meters_in_the_reference_layout(
    conformance: Path, fleet: Fleet, head: HeadEnd
) -> None:
    gsme = fleet.device(GSME, head.now)
    tariff = gsme.meter.tariff  # type: ignore[attr-defined]
    message, response = _gbz(head, GSME, c.GbzRead(0x009F))
    assert isinstance(response, c.GbzReadResponse)
    assert response.ok
    real = _reference(conformance, "4.11.1_GCS21f", "GCS21f_4.11.1_SUCCESS_RESPONSE")
    theirs = GbzPayload.from_bytes(real.content)
    assert _kinds(response.payload) == _kinds(theirs)
    assert response.payload.components[-1].control == theirs.components[-1].control
    ours_ra, their_ra = response.payload.components[0].frame, theirs.components[0].frame
    assert isinstance(ours_ra, ZclFrame)
    assert isinstance(their_ra, ZclFrame)
    mine = ReadAttributesResponse.from_bytes(ours_ra.payload).records
    real_records = ReadAttributesResponse.from_bytes(their_ra.payload).records
    assert [(r.attribute, r.value.type if r.value else None) for r in mine] == [
        (r.attribute, r.value.type if r.value else None) for r in real_records
    ]
    values = {r.attribute: r.value.value for r in mine if r.value is not None}
    assert values[0x0410] == tariff.prices[0]
    assert values[0x0301] == tariff.standing_charge
    price = response.payload.components[-1].frame
    assert isinstance(price, ZclFrame)
    assert int.from_bytes(price.payload[-4:], "little") in tariff.prices
    assert message.business_originator == GSME


def test_gas_prepayment_configuration_in_the_reference_layout(
    conformance: Path, fleet: Fleet, head: HeadEnd
) -> None:
    gsme = fleet.device(GSME, head.now)
    config = gsme.meter.prepayment  # type: ignore[attr-defined]
    _, response = _gbz(head, GSME, c.GbzRead(0x00B5))
    assert isinstance(response, c.GbzReadResponse)
    assert response.ok
    real = _reference(conformance, "4.13_GCS21b", "GCS21b_4.13_SUCCESS_RESPONSE")
    theirs = GbzPayload.from_bytes(real.content)
    assert _kinds(response.payload) == _kinds(theirs)
    for n in (0, 1):  # the prepayment and price attributes
        ours_ra, their_ra = response.payload.components[n].frame, theirs.components[n].frame
        assert isinstance(ours_ra, ZclFrame)
        assert isinstance(their_ra, ZclFrame)
        mine = ReadAttributesResponse.from_bytes(ours_ra.payload).records
        real_records = ReadAttributesResponse.from_bytes(their_ra.payload).records
        assert [(r.attribute, r.value.type if r.value else None) for r in mine] == [
            (r.attribute, r.value.type if r.value else None) for r in real_records
        ]
        if n == 0:
            values = {r.attribute: r.value.value for r in mine if r.value is not None}
            assert values[0x0010] == config.emergency_credit_limit
            assert values[0x0011] == config.emergency_credit_threshold
            assert values[0x0031] == config.low_credit_threshold


def test_gas_prepayment_configuration_is_what_gcs05_set(fleet: Fleet, head: HeadEnd) -> None:
    fleet.device(GSME, head.now)
    day = c.NonDisablementDay(7, ((0, False), (480, True), (1080, False)))
    gcs05 = c.GasPrepayConfig(
        issued=1,
        debt_cap=3_000_000,
        emergency_credit_limit=800_000,
        emergency_credit_threshold=150_000,
        low_credit_threshold=300_000,
        max_meter_balance=20_000_000,
        max_credit_threshold=9_000_000,
        days=(day,),
        weeks=((2, (7,) * 7),),
        seasons=(c.GasSeason(bytes((124, 1, 1, 0xFF)), 2),),
    )
    assert head.send(head.command(GSME, gcs05, counter=head.next_counter())).response is not None
    _, response = _gbz(head, GSME, c.GbzRead(0x00B5))
    assert isinstance(response, c.GbzReadResponse)
    first = response.payload.components[0].frame
    assert isinstance(first, ZclFrame)
    values = {
        r.attribute: r.value.value
        for r in ReadAttributesResponse.from_bytes(first.payload).records
        if r.value is not None
    }
    assert (values[0x0006], values[0x0010], values[0x0021], values[0x0022]) == (
        3_000_000,
        800_000,
        20_000_000,
        9_000_000,
    )
    days = [
        comp.frame.payload
        for comp in response.payload.components
        if isinstance(comp.frame, ZclFrame) and comp.cluster_id == 0x0707
        if comp.frame.command_id == 0x01
    ]
    assert len(days) == 1
    assert days[0][12] == 7  # the day profile GCS05 sent, its three switches
    assert days[0][13] == 3


def test_the_gpf_answers_the_gas_meters_logs_and_configuration() -> None:
    fleet = sandbox_fleet(prepayment=True, balance=500_000)
    head = HeadEnd(fleet, pki_for())
    fleet.device(GPF, head.now)
    utrn = _top_up(head, GSME, 1 << 32, 700)
    now = _unix(head)
    message, response = _gbz(head, GPF, c.GbzRead(0x00C5, _span(now - 3600, now)))
    assert message.business_originator == GPF
    assert isinstance(response, c.GbzReadResponse)
    (component,) = response.payload.components
    assert isinstance(component.frame, ZclFrame)
    ((_, code, amount),) = read_top_up_log_payload(component.frame.payload)
    assert (code, amount) == (utrn.replace("-", "").replace(" ", ""), 700 * 1000)
    _, tariff = _gbz(head, GPF, c.GbzRead(0x009F))
    _, direct = _gbz(head, GSME, c.GbzRead(0x009F))
    assert isinstance(tariff, c.GbzReadResponse)
    assert isinstance(direct, c.GbzReadResponse)
    assert tariff.payload.components[0] == direct.payload.components[0]  # the same attributes


# -- the ESME's change of mode billing log ---------------------------------------------------


def test_mode_change_log_rows_carry_the_registers_and_the_prepayment_values(
    fleet: Fleet, head: HeadEnd
) -> None:
    """ECS20b: each payment mode change of the period as GBCS's row - time, total, TOU and
    block registers, then the six prepayment registers (balance and accumulated debt as
    logged) - encrypted for the requester."""
    esme = fleet.device(ESME, head.now)
    at = head.now - timedelta(hours=1)
    registers = [1234, 1000, 234]
    esme.family_state("tariff")["billing_log"] = [
        {
            "at": at.isoformat(),
            "from": "credit",
            "registers": registers,
            "balance": -500,
            "debt": 7000,
        },
    ]
    now = _unix(head)
    span = _span(now - 7200, now)
    cmd = c.ProtectedRead(0x002F, head.next_counter(), SUPPLIER, ESME, span)
    answer = head.send(head.command(ESME, cmd))
    assert answer.response is not None
    response = c.decode_response(0x002F, answer.response.content)
    assert isinstance(response, c.ProtectedResponse)
    plaintext = head.decrypt(answer.response)(response.encrypted)
    data = dlms.decode_data(plaintext)
    assert isinstance(data, dlms.Structure)
    (log,) = data.items
    assert isinstance(log, dlms.CompactArray)
    assert log.description == MODE_CHANGE_TYPE
    row = struct.unpack(">II48I32I6i", log.contents)
    assert row[0] + UNIX_2000 == int(at.timestamp())
    assert row[1:4] == (1234, 1000, 234)
    assert row[82:] == (-500, 0, 7000, 0, 0, 0)
    empty = c.ProtectedRead(0x002F, head.next_counter(), SUPPLIER, ESME, _span(now - 60, now))
    answer = head.send(head.command(ESME, empty))
    assert answer.response is not None
    response = c.decode_response(0x002F, answer.response.content)
    assert isinstance(response, c.ProtectedResponse)
    assert dlms.decode_data(head.decrypt(answer.response)(response.encrypted)) == dlms.structure(
        dlms.CompactArray(MODE_CHANGE_TYPE, b"")
    )
