"""The devices act on GCS25 (the GSME's monthly billing calendar), ECS29f (a polyphase ESME's
RMS voltage counters reset, phase by phase) and CS04b (a meter's method B unjoin): the state
changes and reads back, the response has the GBCS shape, and a refused command changes
nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from emulator.firmware import parse_profile
from emulator.fleet import Fleet
from emulator.usecases.configuration import FAMILY
from emulator.usecases.han import joined
from emulator.usecases.unjoin_b import NOT_IN_LOG, OTHER_FAILURE
from gbcs import content as c
from gbcs.codes import NETWORK_OPERATOR, SUPPLIER
from gbcs.frames import Message
from gbcs.payloads import dlms
from gbcs.payloads.gbz import Cluster, zigbee_time
from tests.emulator.support import CHF, ESME, GPF, GSME, SEED, HeadEnd, pki_for

PPMID = bytes.fromhex("00db123456789098")
NB100 = Path(__file__).resolve().parents[2] / "firmware_profiles" / "northbrook-nb100.toml"


# ----------------------------------------------------------------------------- GCS25


def _gcs25(head: HeadEnd, start: datetime, months: int = 1) -> c.GasSettings:
    period = (
        (0).to_bytes(4, "little")
        + zigbee_time(head.now).to_bytes(4, "little")
        + zigbee_time(start).to_bytes(4, "little")
        + months.to_bytes(3, "little")
    )
    return c.GasSettings(
        0x007E,
        (
            c.ZclCall(Cluster.PRICE, 0x09, period + bytes([0x23, 0x00]), True),
            c.ZclCall(Cluster.PRICE, 0x01, period + bytes([0x02, 0x23, 0x00, 0x01]), True),
        ),
    )


def test_the_gsme_keeps_the_monthly_calendar_gcs25_sets(fleet: Fleet, head: HeadEnd) -> None:
    start = datetime(2024, 2, 1, tzinfo=UTC)
    cmd = _gcs25(head, start)
    answer = head.send(head.command(GSME, cmd, counter=head.next_counter()))
    response = answer.response
    assert isinstance(response, Message)
    assert response.message_code == 0x007E
    assert response.signature is not None  # GCS25 is critical: its response is signed
    done = c.decode_response(0x007E, response.content)
    assert isinstance(done, c.GasSettingsDone)
    assert done == cmd.outcome()
    gas = fleet.device(GSME, head.now).family_state(FAMILY)["gas"]
    assert gas["billing_start"] == int(start.timestamp())
    assert (gas["billing_duration"], gas["billing_unit"]) == (1, 0x23)


def test_gcs25_from_another_party_changes_nothing(fleet: Fleet, head: HeadEnd) -> None:
    cmd = _gcs25(head, datetime(2024, 2, 1, tzinfo=UTC))
    message = head.command(GSME, cmd, originator=NETWORK_OPERATOR, counter=head.next_counter())
    answer = head.send(message)
    assert answer.response is not None
    done = c.decode_response(0x007E, answer.response.content)
    assert isinstance(done, c.GasSettingsDone)
    assert not done.ok
    assert "gas" not in fleet.device(GSME, head.now).family_state(FAMILY)


# ----------------------------------------------------------------------------- ECS29f


def _polyphase_fleet() -> tuple[Fleet, HeadEnd]:
    # The NB100 as a polyphase meter (variant C) whose firmware lists ECS29f: no bundled
    # profile is polyphase.
    text = NB100.read_text().replace('esme_variant = "A"', 'esme_variant = "C"')
    text = text.replace('"ECS29e",', '"ECS29e", "ECS29f",')
    profile = parse_profile(text, name="nb100-polyphase", source="test")
    fleet = Fleet(SEED, pki_for(), faults=False)
    fleet.add(ESME, profile, hub=CHF)
    return fleet, HeadEnd(fleet, pki_for())


def _reset(head: HeadEnd, code: int, phases: tuple[int, ...], originator: bytes) -> tuple:  # type: ignore[type-arg]
    writes = tuple(
        (dlms.action(3, f"1-0:{p}.{k}.0.4", 1), dlms.integer(0)) for p in phases for k in (32, 36)
    )
    cmd = c.DeviceSettings(code, head.next_counter() % (1 << 24), writes)
    answer = head.send(head.command(ESME, cmd, originator=originator, counter=head.counter))
    assert answer.response is not None
    assert answer.response.message_code == code
    return cmd, c.decode_response(code, answer.response.content)


def test_a_polyphase_esme_resets_each_phases_counters() -> None:
    fleet, head = _polyphase_fleet()
    cmd, response = _reset(head, 0x00D4, (32, 52, 72), NETWORK_OPERATOR)
    assert isinstance(response, c.Outcome)
    assert response.ok
    assert response == cmd.outcome()
    assert len(response.results) == 6
    resets = fleet.device(ESME, head.now).family_state(FAMILY)["resets"]
    at = fleet.device(ESME, head.now).device_time(int(head.now.timestamp()))
    for p in (32, 52, 72):
        for k in (32, 36):
            assert resets[f"action 3 1-0:{p}.{k}.0.4/1"] == at


def test_ecs29f_from_the_supplier_is_refused_and_changes_nothing() -> None:
    fleet, head = _polyphase_fleet()
    _, response = _reset(head, 0x00D4, (32, 52, 72), SUPPLIER)
    assert isinstance(response, c.Outcome)
    assert not response.ok
    assert "resets" not in fleet.device(ESME, head.now).family_state(FAMILY)


def test_a_single_phase_esme_does_not_take_ecs29f(fleet: Fleet, head: HeadEnd) -> None:
    _, response = _reset(head, 0x00D4, (32, 52, 72), NETWORK_OPERATOR)
    assert isinstance(response, c.Outcome)
    assert not response.ok
    assert "resets" not in fleet.device(ESME, head.now).family_state(FAMILY)


# ----------------------------------------------------------------------------- CS04b


def _han(head: HeadEnd, code: int, content: bytes) -> c.JoinOutcome:
    message = head.builder.command(
        originator=SUPPLIER,
        target=GSME,
        counter=head.next_counter(),
        message_code=code,
        content=content,
        critical=code == 0x00AF,
    )
    response = head.send(message).response
    assert isinstance(response, Message)
    assert response.message_code == code
    outcome = c.decode_response(code, response.content)
    assert isinstance(outcome, c.JoinOutcome)
    return outcome


def test_cs04b_unjoins_the_gsmes_gpf_from_both_logs(fleet: Fleet, head: HeadEnd) -> None:
    join = c.JoinDevice(c.JOIN_METHODS["CS03B"], GPF, c.OTHER_DEVICE_TYPES["GPF"])
    assert _han(head, 0x000E, join.encode()).ok
    assert _han(head, 0x0010, c.UnjoinMethodB(GPF).encode()).ok
    assert GPF.hex() not in joined(fleet.device(GSME, head.now))
    assert GSME.hex() not in joined(fleet.device(GPF, head.now))
    # the device is no longer in the log: GBCS's "not in device log"
    assert _han(head, 0x0010, c.UnjoinMethodB(GPF).encode()).outcome == NOT_IN_LOG


def test_cs04b_does_not_undo_a_method_c_join(fleet: Fleet, head: HeadEnd) -> None:
    join = c.JoinDevice(c.JOIN_METHODS["CS03C"], PPMID, c.OTHER_DEVICE_TYPES["PPMID"], None)
    fleet.device(GSME, head.now)  # created, so its log can be seeded as a method C join left it
    joined(fleet.device(GSME, head.now))[PPMID.hex()] = {
        "type": join.other_type,
        "method": join.method,
        "at": 0,
    }
    assert _han(head, 0x0010, c.UnjoinMethodB(PPMID).encode()).outcome == OTHER_FAILURE
    assert PPMID.hex() in joined(fleet.device(GSME, head.now))
