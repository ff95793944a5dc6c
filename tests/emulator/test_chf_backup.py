"""CCS07 on the emulated CHF: the device log it holds, each device with the key CCS01 gave
it, under the network's extended PAN ID, in GBCS's two-log answer."""

from __future__ import annotations

from datetime import UTC, datetime

from emulator.fleet import Fleet
from gbcs import content as c
from tests.emulator.support import CHF, ESME, GSME, HeadEnd
from tests.emulator.test_chf import _from_acb, _log_command


def _backup(head: HeadEnd) -> c.ChfSecurityLogs:
    answer = _from_acb(head, c.ReadChfSecurityLog(head.next_counter()))  # type: ignore[arg-type]
    assert answer.response is not None
    assert answer.response.message_code == 0x00FE
    logs = c.decode_response(0x00FE, answer.response.content)
    assert isinstance(logs, c.ChfSecurityLogs)
    assert logs.counter == head.counter % (1 << 24)
    return logs


def test_the_backup_lists_each_whitelisted_device_with_its_key(fleet: Fleet, head: HeadEnd) -> None:
    assert _backup(head).logs[0].entries == ()
    _log_command(head, c.AddDeviceLogEntry(head.next_counter(), GSME, b"FEDCBA9876543210"))
    _log_command(head, c.AddDeviceLogEntry(head.next_counter(), ESME, b"0123456789ABCDEF"))
    first, second = _backup(head).logs
    assert first.entries == ((ESME, b"0123456789ABCDEF"), (GSME, b"FEDCBA9876543210"))
    assert first.extended_pan_id == CHF
    assert first.taken == datetime.fromtimestamp(int(head.now.timestamp()), UTC)
    assert second.entries == ()


def test_the_backup_takes_the_pan_id_a_restore_gave(fleet: Fleet, head: HeadEnd) -> None:
    pan = bytes.fromhex("00db1234567890c2")
    restore = c.RestoreChfDeviceLog(head.next_counter(), pan, ((ESME, 1),))
    assert c.Outcome.decode(_from_acb(head, restore).response.content).ok  # type: ignore[union-attr]
    assert _backup(head).logs[0].extended_pan_id == pan
