"""The fleet: lazy state, addressing by EUI, quirks from the seed, snapshot and restore."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

import pytest

from emulator.errors import EmulatorError, UnknownDeviceError
from emulator.firmware import Quirks, load_profiles
from emulator.fleet import Fleet, _frame_draw
from emulator.profiles import mix64, unit_interval
from gbcs import content as c
from gbcs.codes import SUPPLIER, KeyPurpose
from gbcs.frames import Message
from tests.emulator.support import (
    CHF,
    ESME,
    GPF,
    GSME,
    SEED,
    T0,
    HeadEnd,
    pki_for,
    sandbox_fleet,
)


def test_devices_are_created_on_first_use_only() -> None:
    fleet = Fleet(SEED, pki_for())
    for n in range(1000):
        fleet.add(bytes.fromhex("00db0000") + n.to_bytes(4, "big"), "northbrook-nb100")
    assert len(fleet) == 1000
    assert fleet.materialised == 0
    first = bytes.fromhex("00db000000000000")
    fleet.device(first, T0)
    assert fleet.materialised == 1
    # A thousand devices added with the same settings share one spec.
    assert len({id(fleet.spec(e)) for e in fleet.euis()}) == 1


def test_duplicate_and_unknown_devices_are_errors(fleet: Fleet, head: HeadEnd) -> None:
    with pytest.raises(EmulatorError, match="already hosts 00-DB-12-34-56-78-90-A0"):
        fleet.add(ESME, "northbrook-nb100")
    with pytest.raises(KeyError, match="known"):
        fleet.add(b"\x01" * 8, "no-such-profile")
    with pytest.raises(KeyError, match="99999999"):
        fleet.add(b"\x02" * 8, "northbrook-nb100", firmware="99999999")
    with pytest.raises(UnknownDeviceError, match="03-03-03-03-03-03-03-03"):
        fleet.handle(b"\x03" * 8, b"not gbcs", head.now)


def test_a_frame_sent_to_the_hub_reaches_its_target(fleet: Fleet, head: HeadEnd) -> None:
    command = head.command(ESME, c.ReadFirmwareVersion(head.next_counter()))
    answer = head.check(fleet.handle(CHF, command.to_bytes(), head.now))
    assert answer.response is not None
    assert answer.response.business_originator == ESME


def test_device_keys_are_derived_from_seed_and_eui() -> None:
    first = Fleet(SEED, pki_for())
    second = Fleet(SEED, pki_for())
    other = Fleet(b"another seed", pki_for())
    for fleet in (first, second, other):
        fleet.add(ESME, "northbrook-nb100")
    key = first.public_key(ESME, KeyPurpose.DS).public_numbers()
    assert second.public_key(ESME, KeyPurpose.DS).public_numbers() == key
    assert other.public_key(ESME, KeyPurpose.DS).public_numbers() != key
    # ... and they are the test PKI's device keys for the same seed.
    assert pki_for().public_key(ESME, KeyPurpose.DS).public_numbers() == key


def test_snapshot_and_restore_continue_identically(tmp_path: Path) -> None:
    fleet = sandbox_fleet(prepayment=True, balance=3_000_000)
    head = HeadEnd(fleet, pki_for())
    head.send(head.command(ESME, c.SupplyDisable(head.next_counter())))
    head.send(head.command(ESME, c.SupplyArm(head.next_counter())))
    head.next_counter()
    head.send(head.command(GSME, c.ReadGasRegister()))
    head.advance(timedelta(hours=7))
    path = tmp_path / "fleet.json"
    fleet.snapshot(path)
    assert json.loads(path.read_text())["format"] == "smetsim-fleet/1"

    restored = Fleet.restore(path, pki_for(), faults=False)
    assert len(restored) == len(fleet)
    assert restored.materialised == fleet.materialised
    for eui in (ESME, GSME):
        assert restored.device(eui, head.now).to_json() == fleet.device(eui, head.now).to_json()

    # Both go on the same way: the replayed command is refused by both, time moves both alike.
    twin = HeadEnd(restored, pki_for(), head.now)
    twin.counter = head.counter
    replay = head.command(ESME, c.SupplyArm(head.counter), counter=head.counter)
    assert head.send(replay).alert_codes() == twin.send(replay).alert_codes()
    head.advance(timedelta(days=1))
    twin.advance(timedelta(days=1))
    assert restored.device(ESME, head.now).to_json() == fleet.device(ESME, head.now).to_json()


def test_damaged_snapshots_are_refused_with_a_sentence(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(EmulatorError, match="cannot read fleet snapshot"):
        Fleet.restore(path, pki_for())
    path.write_text(json.dumps({"format": "smetsim-fleet/1", "seed": "00", "specs": [{}]}))
    with pytest.raises(EmulatorError, match="damaged"):
        Fleet.restore(path, pki_for())
    path.write_text(json.dumps({"format": "other"}))
    with pytest.raises(EmulatorError, match="not a smetsim-fleet/1"):
        Fleet.restore(path, pki_for())


def _faulty_fleet(quirks: Quirks) -> Fleet:
    catalogue = load_profiles()
    profile = dataclasses.replace(catalogue["northbrook-nb100"], quirks=quirks)
    fleet = Fleet(SEED, pki_for(), faults=True)
    fleet.add(ESME, profile)
    return fleet


def _run(fleet: Fleet, n: int) -> list[list[tuple[bytes, float]]]:
    head = HeadEnd(fleet, pki_for())
    runs = []
    for _ in range(n):
        command = head.command(ESME, c.ReadFirmwareVersion(head.next_counter()))
        runs.append([(o.frame, o.delay) for o in fleet.deliver(ESME, command.to_bytes(), head.now)])
    return runs


def test_quirks_drop_corrupt_and_delay_deterministically() -> None:
    quirks = Quirks(latency_ms=(100, 900), drop_rate=0.3, corrupt_mac_rate=0.3)
    first = _run(_faulty_fleet(quirks), 60)
    assert first == _run(_faulty_fleet(quirks), 60)  # same seed, same faults
    dropped = sum(1 for r in first if not r)
    assert 5 < dropped < 35
    delays = [d for r in first for _, d in r]
    assert all(0.1 <= d <= 0.9 for d in delays)
    assert len(set(delays)) > 10
    head = HeadEnd(_faulty_fleet(quirks), pki_for())
    verdicts = [head.verifier.verify(Message.from_bytes(f)).ok for r in first for f, _ in r]
    assert 3 < verdicts.count(False) < 30  # corrupted MACs do not verify


def test_delays_follow_the_frame_draw_of_seed_device_and_frame() -> None:
    """The fleet's cached draw (keyed hash state copied, device key kept) is the reference
    _frame_draw: each delay is the latency range at the draw's own value."""
    quirks = Quirks(latency_ms=(100, 900))
    fleet = _faulty_fleet(quirks)
    head = HeadEnd(fleet, pki_for())
    for _ in range(5):
        frame = head.command(ESME, c.ReadFirmwareVersion(head.next_counter())).to_bytes()
        out = fleet.deliver(ESME, frame, head.now)
        assert out
        draw = _frame_draw(SEED, ESME, frame)
        for index, outgoing in enumerate(out):
            own = mix64(draw + index + 1)
            assert outgoing.delay == (100 + 800 * unit_interval(own)) / 1000.0


def test_faults_can_be_switched_off() -> None:
    fleet = _faulty_fleet(Quirks(drop_rate=1.0))
    fleet.faults = False
    assert all(_run(fleet, 5))


def test_profiles_share_the_supplier_trust(fleet: Fleet) -> None:
    assert fleet.device(ESME, T0).trust.supplier == SUPPLIER


def test_only_devices_with_timed_work_are_ticked(fleet: Fleet) -> None:
    hub = fleet.device(CHF, T0)
    before = hub.has_timed_work
    hub.pending_activation = (bytes(32), int(T0.timestamp()) + 60, 1)
    assert (before, hub.has_timed_work) == (False, True)
    assert fleet.device(ESME, T0).has_timed_work  # a meter always has time-driven state


def test_a_neighbour_first_reached_through_another_device_starts_now(
    fleet: Fleet, head: HeadEnd
) -> None:
    head.advance(timedelta(days=3))
    head.next_counter()
    head.send(head.command(GPF, c.ReadGasRegister()))  # the GPF wakes its GSME
    assert fleet.device(GSME, head.now).created == int(head.now.timestamp())
