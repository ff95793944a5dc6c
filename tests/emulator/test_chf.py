"""The CHF device log: CCS01 whitelists (and joins), CCS02 removes (and unjoins), CCS03
restores a whole log (a replacement hub's)."""

from __future__ import annotations

from emulator.devices.chf import Chf
from emulator.fleet import Fleet
from gbcs import content as c
from gbcs.alerts import AlertCode
from gbcs.codes import ACB, SUPPLIER
from tests.emulator.support import CHF, ESME, Answer, HeadEnd

NEW_DEVICE = bytes.fromhex("00db1234567890b7")
EXTENSIONS = SUPPLIER + (1000).to_bytes(8, "big")  # supplementary remote party and counter


def _chf(fleet: Fleet, head: HeadEnd) -> Chf:
    device = fleet.device(CHF, head.now)
    assert isinstance(device, Chf)
    return device


def _from_acb(
    head: HeadEnd, cmd: c.AddDeviceLogEntry | c.RemoveDeviceLogEntry | c.RestoreChfDeviceLog
) -> Answer:
    """``cmd`` sent to the CHF by the ACB for the supplier (the extensions); it answers."""
    message = head.builder.command(
        originator=ACB,
        target=CHF,
        counter=cmd.counter,
        message_code=cmd.message_code,
        content=cmd.encode(),
        critical=False,
        extensions=EXTENSIONS,
    )
    answer = head.send(message)
    assert answer.response is not None
    return answer


def _log_command(head: HeadEnd, cmd: c.AddDeviceLogEntry | c.RemoveDeviceLogEntry) -> None:
    answer = _from_acb(head, cmd)
    assert answer.response is not None
    assert answer.response.extensions == EXTENSIONS
    assert c.Outcome.decode(answer.response.content).ok
    assert answer.alert_codes() == [AlertCode.CHF_DEVICE_LOG_CHANGED]


def test_CCS01_whitelists_and_a_hosted_device_joins(fleet: Fleet, head: HeadEnd) -> None:
    _log_command(head, c.AddDeviceLogEntry(head.next_counter(), ESME, b"0123456789ABCDEF"))
    entry = (_chf(fleet, head).device_log or {})[ESME]
    assert entry.joined
    assert entry.install_code == b"0123456789ABCDEF"
    _log_command(head, c.AddDeviceLogEntry(head.next_counter(), NEW_DEVICE, b"FEDCBA9876543210"))
    assert not (_chf(fleet, head).device_log or {})[NEW_DEVICE].joined


def test_CCS02_unjoins_and_the_hub_stops_delivering(fleet: Fleet, head: HeadEnd) -> None:
    _log_command(head, c.RemoveDeviceLogEntry(head.next_counter(), ESME))
    assert not _chf(fleet, head).delivers_to(ESME)
    answer = head.send(head.command(ESME, c.ReadFirmwareVersion(head.next_counter())))
    assert answer.response is None
    assert answer.alert_codes() == [AlertCode.FAILURE_TO_DELIVER_REMOTE_PARTY_MESSAGE]
    assert answer.alerts[0].business_originator == CHF
    # Whitelisted again, it is reachable again.
    _log_command(head, c.AddDeviceLogEntry(head.next_counter(), ESME, b"0123456789ABCDEF"))
    assert head.send(head.command(ESME, c.ReadFirmwareVersion(head.next_counter()))).response


def test_only_the_ACB_may_change_the_device_log(head: HeadEnd) -> None:
    answer = head.send(head.command(CHF, c.RemoveDeviceLogEntry(head.next_counter(), ESME)))
    assert answer.alert_codes() == [AlertCode.SOURCE_HAS_NO_AUTHORITY]


def test_ECS52_reads_the_hub_firmware(head: HeadEnd) -> None:
    answer = head.send(head.command(CHF, c.ReadFirmwareVersion(head.next_counter())))
    assert answer.response is not None
    assert c.FirmwareVersion.decode(answer.response.content).version == bytes.fromhex("01020304")


def _restore(head: HeadEnd, cmd: c.RestoreChfDeviceLog) -> c.Outcome:
    answer = _from_acb(head, cmd)
    assert answer.response is not None
    assert answer.response.message_code == 0x0003
    return c.Outcome.decode(answer.response.content)


def test_CCS03_replaces_the_device_log_and_takes_the_old_hubs_network(
    fleet: Fleet, head: HeadEnd
) -> None:
    old_hub = bytes.fromhex("00db1234567890c2")
    _log_command(head, c.AddDeviceLogEntry(head.next_counter(), NEW_DEVICE, b"FEDCBA9876543210"))
    _log_command(head, c.RemoveDeviceLogEntry(head.next_counter(), ESME))
    entries = ((ESME, c.OTHER_DEVICE_TYPES["ESME"]), (NEW_DEVICE, c.OTHER_DEVICE_TYPES["PPMID"]))
    assert _restore(head, c.RestoreChfDeviceLog(head.next_counter(), old_hub, entries)).ok
    chf = _chf(fleet, head)
    log = chf.device_log or {}
    assert {eui: e.device_type for eui, e in log.items()} == dict(entries)
    assert log[ESME].joined  # hosted by this fleet: on the HAN again at once
    assert not log[NEW_DEVICE].joined
    assert chf.delivers_to(ESME)
    assert chf.family_state("han")["extended_pan_id"] == old_hub.hex()
    saved = chf.to_json()  # what the fleet's snapshot and device store keep
    assert set(saved["device_log"]) == {ESME.hex(), NEW_DEVICE.hex()}
    assert saved["extra"]["han"]["extended_pan_id"] == old_hub.hex()
    assert head.send(head.command(ESME, c.ReadFirmwareVersion(head.next_counter()))).response


def test_CCS03_beyond_the_log_capacity_fails_and_changes_nothing(
    fleet: Fleet, head: HeadEnd
) -> None:
    _log_command(head, c.AddDeviceLogEntry(head.next_counter(), ESME, b"0123456789ABCDEF"))
    too_many = tuple((bytes([0, 0xDB, 0, 0, 0, 0, 0, i]), 1) for i in range(17))
    outcome = _restore(head, c.RestoreChfDeviceLog(head.next_counter(), CHF, too_many))
    assert not outcome.ok
    assert set(_chf(fleet, head).device_log or {}) == {ESME}
