"""The alerts that carry a device's log or name a remote party: ECS68 (the ESME's billing data
log entry at each billing date, encrypted for the supplier), CS14 (the CHF's device log after a
change), ECS100 for a command the ACB sent for a supplementary remote party, and the firmware
alerts of SR 11.4 (CS09 from the PPMID, CCS08 from its hub) - each decoded back to the values
the device holds."""

from __future__ import annotations

import json
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from emulator.devices.base import Device
from emulator.devices.chf import Chf
from emulator.devices.families import Alert
from emulator.fleet import Fleet
from emulator.usecases.billing import billing_alert_plaintext
from emulator.usecases.firmware import transfer_image
from emulator.usecases.reading import UNIX_2000
from gbcs import content as c
from gbcs.alerts import AlertCode
from gbcs.codes import ACB, SUPPLIER
from gbcs.explain import explain
from gbcs.frames import Message
from gbcs.keystore import Keystore
from gbcs.payloads import dlms
from tests.emulator.support import CHF, ESME, GSME, SEED, HeadEnd, pki_for, sandbox_fleet
from tests.emulator.test_alert_vectors import PPMID, billing_period_ends, ppmid_update, skeleton

SRP = SUPPLIER + (200_000).to_bytes(8, "big")


def _fleet(profile: str) -> Fleet:
    fleet = Fleet(SEED, pki_for(), faults=False)
    fleet.add(ESME, profile)
    return fleet


def _billing_alerts(fleet: Fleet) -> tuple[HeadEnd, list[Message]]:
    alerts = billing_period_ends(fleet)
    return HeadEnd(fleet, pki_for()), [a for a in alerts if a.message_code == 0x0061]


def _entry(head: HeadEnd, message: Message) -> tuple[c.BillingDataLogAlert, bytes]:
    alert = c.decode_alert(message.message_code, message.content)
    assert isinstance(alert, c.BillingDataLogAlert)
    return alert, head.decrypt(message)(alert.encrypted)


def _values(plaintext: bytes, twin: bool) -> list[int]:
    """The entry's registers read back from the plaintext (after its type description)."""
    # structure(1), compact array, the entry's type (the blocks' 4 arrays of 8 after the
    # TOU registers), the length (3 bytes: the entry is over 127 bytes)
    types = (
        bytes.fromhex("0209060606010030060100040601000806")
        if twin
        else bytes.fromhex("020706060100300601000806")
    )
    types += bytes.fromhex("01000806") * 3
    header = bytes.fromhex("020113") + types
    assert plaintext.startswith(header)
    count = (3 + 48 + 4 if twin else 2 + 48) + 32
    body = plaintext[len(header) + 3 :]
    assert plaintext[len(header) : len(header) + 3] == b"\x82" + (4 * count).to_bytes(2, "big")
    return list(struct.unpack(f">{count}I", body))


def test_ECS68_a_single_element_esme_alerts_the_entry_it_logged() -> None:
    fleet = _fleet("northbrook-nb100")
    head, alerts = _billing_alerts(fleet)
    assert len(alerts) == 1  # one billing date passed: the first of February
    alert, plaintext = _entry(head, alerts[0])
    assert alert.device == ESME
    assert alert.supplier == SUPPLIER
    assert alert.counter == alerts[0].originator_counter
    assert alerts[0].business_target == SUPPLIER
    assert alerts[0].signature is not None
    (logged,) = fleet.device(ESME, head.now).family_state("reading")["billing"]
    values = _values(plaintext, twin=False)
    assert values[:50] == [v & 0xFFFF_FFFF for v in logged[:50]]  # time, total, 48 TOU
    assert values[50:] == [0] * 32  # no block tariff
    assert logged[0] + UNIX_2000 == int(datetime(2024, 2, 1, tzinfo=UTC).timestamp())


def test_ECS68_a_twin_element_esme_adds_its_secondary_registers() -> None:
    fleet = _fleet("calder-cx3")
    head, alerts = _billing_alerts(fleet)
    _alert, plaintext = _entry(head, alerts[0])
    device: Any = fleet.device(ESME, head.now)
    (logged,) = device.family_state("reading")["billing"]
    values = _values(plaintext, twin=True)
    assert values[0:2] == logged[0:2]
    assert values[3:51] == [v & 0xFFFF_FFFF for v in logged[2:50]]
    secondary_total, secondary_tou = values[2], values[51:55]
    assert 0 < secondary_total <= int(device.secondary.total)
    assert sum(secondary_tou) <= secondary_total


def test_ECS68_no_billing_date_passed_no_alert() -> None:
    fleet = _fleet("northbrook-nb100")
    head = HeadEnd(fleet, pki_for())
    head.send(head.command(ESME, c.ReadFirmwareVersion(head.next_counter())))
    later = head.advance(timedelta(days=2)).alerts + head.advance(timedelta(hours=1)).alerts
    assert [m for m in later if m.message_code == 0x0061] == []


def test_ECS68_plaintext_has_the_dcc_layout(conformance: Path) -> None:
    """Decrypted, each alert's entry has the reference's data structure (the DCC's
    vectors decrypted with the conformance keystore)."""
    keys = Keystore.load(conformance / "keystore")
    for profile, name in (("northbrook-nb100", "SINGLE"), ("calder-cx3", "TWIN")):
        fleet = _fleet(profile)
        head, alerts = _billing_alerts(fleet)
        (path,) = conformance.glob(f"gbcs/*/ECS68_NA_8F0A_{name}_ALERT_GBCS.HEX")
        (reference,) = explain(bytes.fromhex(path.read_text().strip()), keys).decrypted
        (mine,) = explain(alerts[0].to_bytes(), head.keys).decrypted
        assert mine.error is None
        assert reference.error is None
        assert skeleton(mine.tree) == skeleton(reference.tree)


def test_ECS68_plaintext_holds_the_entry_given() -> None:
    detail = struct.pack(">II48I", 5, 7, *range(48))
    assert _values(billing_alert_plaintext(detail), twin=False) == [5, 7, *range(48), *[0] * 32]
    twin = detail + struct.pack(">I4I", 9, 1, 2, 3, 4)
    values = _values(billing_alert_plaintext(twin), twin=True)
    assert values == [5, 7, 9, *range(48), 1, 2, 3, 4, *[0] * 32]


# -- CS14 ---------------------------------------------------------------------------------


def _acb(head: HeadEnd, target: bytes, cmd: Any) -> Message:
    return head.builder.command(
        originator=ACB,
        target=target,
        counter=cmd.counter,
        message_code=cmd.message_code,
        content=cmd.encode(),
        critical=False,
        extensions=SRP,
    )


def _log_alert(message: Message) -> c.DeviceLogAlert:
    assert message.message_code == 0x0018
    assert message.mac is not None
    alert = c.decode_alert(message.message_code, message.content)
    assert isinstance(alert, c.DeviceLogAlert)
    return alert


def test_CS14_carries_the_device_log_after_each_change() -> None:
    fleet = sandbox_fleet()
    head = HeadEnd(fleet, pki_for())
    codes = {ESME: bytes(range(16)), GSME: bytes(range(16, 32))}
    for device, code in codes.items():
        (message,) = head.send(
            _acb(head, CHF, c.AddDeviceLogEntry(head.next_counter(), device, code))
        ).alerts
    alert = _log_alert(message)
    assert alert.entries == ((ESME, codes[ESME]), (GSME, codes[GSME]))
    assert alert.extended_pan_id == CHF  # no restored network: the hub's own
    assert alert.changed == head.now
    (message,) = head.send(
        _acb(head, CHF, c.RemoveDeviceLogEntry(head.next_counter(), ESME))
    ).alerts
    assert _log_alert(message).entries == ((GSME, codes[GSME]),)


def test_CS14_after_a_restore_names_the_restored_network() -> None:
    fleet = sandbox_fleet()
    head = HeadEnd(fleet, pki_for())
    pan = bytes.fromhex("0102030405060708")
    cmd = c.RestoreChfDeviceLog(head.next_counter(), pan, ((ESME, 1), (GSME, 2)))
    (message,) = head.send(_acb(head, CHF, cmd)).alerts
    alert = _log_alert(message)
    assert alert.extended_pan_id == pan
    # The DCC restores no install codes: the hub has none to send.
    assert alert.entries == ((ESME, bytes(16)), (GSME, bytes(16)))
    hub = fleet.device(CHF, head.now)
    assert isinstance(hub, Chf)
    assert hub.log_entries() == alert.entries


# -- ECS100 for a supplementary remote party ----------------------------------------------


def test_ECS100_names_the_remote_party_the_acb_sent_for() -> None:
    fleet = sandbox_fleet()
    head = HeadEnd(fleet, pki_for())
    cmd = c.DlmsRead(0x011C, head.next_counter())  # ECS61d: not in the ESME's firmware
    answer = head.send(_acb(head, ESME, cmd))
    (alert,) = answer.alerts
    assert alert.message_code == 0x0120
    assert alert.extensions == SRP
    assert alert.business_target == ACB  # which forwards it to the party named
    assert alert.signature is not None
    decoded = c.decode_alert(alert.message_code, alert.content)
    assert isinstance(decoded, c.DlmsAlert)
    assert decoded.code == AlertCode.COMMAND_NOT_SUPPORTED
    named = 0x011C.to_bytes(2, "big") + head.counter.to_bytes(8, "big")
    assert decoded.details == dlms.octet_string(named)


def test_ECS100_from_the_supplier_itself_names_no_remote_party() -> None:
    fleet = sandbox_fleet()
    head = HeadEnd(fleet, pki_for())
    (alert,) = head.send(head.command(ESME, c.DlmsRead(0x011C, head.next_counter()))).alerts
    assert alert.extensions == b""
    assert alert.business_target == SUPPLIER


def test_a_queued_alert_keeps_its_target_and_other_information() -> None:
    fleet = sandbox_fleet()
    head = HeadEnd(fleet, pki_for())
    device: Device = fleet.device(ESME, head.now)
    alert = Alert(0x8F85, message_code=0x0120, detail=bytes(10), target=SUPPLIER, extensions=SRP)
    device.queued = [alert]
    other = sandbox_fleet()
    other.load_state(json.loads(json.dumps(fleet.state_of(ESME))))
    restored = other.device(ESME, head.now)
    assert restored is not device
    assert restored.queued == [alert]


# -- CCS08 / CS09 (SR 11.4) ---------------------------------------------------------------


def test_CS09_CCS08_the_ppmid_runs_the_image_and_the_hub_names_it() -> None:
    head, alerts = ppmid_update()
    cs09, ccs08 = alerts
    activated = c.decode_alert(cs09.message_code, cs09.content)
    assert isinstance(activated, c.PpmidActivationAlert)
    assert (activated.version, activated.outcome) == (bytes.fromhex("00000200"), 0)
    assert cs09.business_originator == PPMID
    transfer = c.decode_alert(ccs08.message_code, ccs08.content)
    assert isinstance(transfer, c.FirmwareTransferAlert)
    assert (transfer.device, transfer.version, transfer.outcome) == (
        PPMID,
        bytes.fromhex("00000200"),
        0,
    )
    assert ccs08.business_originator == CHF
    assert head.fleet.device(PPMID, head.now).firmware.version == "00000200"


def test_a_ppmid_drops_an_image_that_is_not_its_own() -> None:
    fleet = sandbox_fleet()
    fleet.add(PPMID, "lumen-pp4-ppmid", hub=CHF)
    head = HeadEnd(fleet, pki_for())
    foreign = fleet.spec(ESME).profile.image("00020000")
    assert head.check(transfer_image(fleet, CHF, PPMID, foreign, head.now)).alerts == []
    (ccs08,) = head.advance(timedelta(seconds=1)).alerts  # the hub did transfer it
    transfer = c.decode_alert(ccs08.message_code, ccs08.content)
    assert isinstance(transfer, c.FirmwareTransferAlert)
    assert transfer.version == bytes(4)
    assert fleet.device(PPMID, head.now).firmware.version == "00000100"


def test_a_meter_sends_its_own_receipt_and_the_hub_no_transfer_alert() -> None:
    fleet = sandbox_fleet()
    head = HeadEnd(fleet, pki_for())
    image = fleet.spec(ESME).profile.image("00020000")
    (receipt,) = head.check(transfer_image(fleet, CHF, ESME, image, head.now)).alerts
    assert receipt.business_originator == ESME
    assert head.advance(timedelta(seconds=1)).alerts == []
