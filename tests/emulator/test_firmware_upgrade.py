"""Firmware images and CS06 activation; the MP125 scenario: an upgrade that turns
an ESME of variant A into AD (boost button)."""

from __future__ import annotations

from datetime import timedelta

from emulator.fleet import Fleet
from gbcs import content as c
from gbcs.alerts import AlertCode
from tests.emulator.support import ESME, GSME, HeadEnd

NEW = "00020000"


def _variant(fleet: Fleet, head: HeadEnd) -> str | None:
    return fleet.device(ESME, head.now).firmware.esme_variant


def _version(head: HeadEnd) -> bytes | None:
    answer = head.send(head.command(ESME, c.ReadFirmwareVersion(head.next_counter())))
    assert answer.response is not None
    return c.FirmwareVersion.decode(answer.response.content).version


def test_upgrade_turns_variant_A_into_AD(fleet: Fleet, head: HeadEnd) -> None:
    profile = fleet.spec(ESME).profile
    assert _variant(fleet, head) == "A"
    assert _version(head) == bytes.fromhex("00010203")

    receipt = head.check(fleet.distribute_firmware(ESME, profile.image(NEW), head.now))
    assert receipt.alert_codes() == [AlertCode.FIRMWARE_VERIFICATION_SUCCESSFUL]

    activate = c.ActivateFirmware(profile.image_hash(NEW), head.next_counter())
    answer = head.send(head.command(ESME, activate))
    assert answer.response is not None
    assert answer.response.signature is not None  # CS06 is critical
    result = c.FirmwareActivated.decode(answer.response.content)
    assert result.ok
    assert result.version == bytes.fromhex(NEW)
    assert answer.alert_codes() == [AlertCode.CHANGE_IN_EXECUTING_FIRMWARE_VERSION]

    assert _variant(fleet, head) == "AD"
    assert _version(head) == bytes.fromhex(NEW)
    assert "ECS62" in fleet.device(ESME, head.now).supported


def test_a_corrupt_image_fails_verification_and_cannot_be_activated(
    fleet: Fleet, head: HeadEnd
) -> None:
    profile = fleet.spec(ESME).profile
    image = bytearray(profile.image(NEW))
    image[100] ^= 1
    receipt = head.check(fleet.distribute_firmware(ESME, bytes(image), head.now))
    assert receipt.alert_codes() == [AlertCode.FIRMWARE_VERIFICATION_FAILED]
    answer = head.send(
        head.command(ESME, c.ActivateFirmware(profile.image_hash(NEW), head.next_counter()))
    )
    assert answer.response is not None
    assert not c.FirmwareActivated.decode(answer.response.content).ok
    assert _variant(fleet, head) == "A"


def test_activation_without_the_image_fails(fleet: Fleet, head: HeadEnd) -> None:
    profile = fleet.spec(ESME).profile
    answer = head.send(
        head.command(ESME, c.ActivateFirmware(profile.image_hash(NEW), head.next_counter()))
    )
    assert answer.response is not None
    failed = c.FirmwareActivated.decode(answer.response.content)
    assert not failed.ok
    assert failed.version == bytes.fromhex("00010203")


def test_future_dated_activation_runs_later_and_alerts(fleet: Fleet, head: HeadEnd) -> None:
    profile = fleet.spec(ESME).profile
    head.check(fleet.distribute_firmware(ESME, profile.image(NEW), head.now))
    at = head.now + timedelta(hours=2)
    counter = head.next_counter()
    answer = head.send(head.command(ESME, c.ActivateFirmware(profile.image_hash(NEW), counter, at)))
    assert answer.response is not None
    c.FirmwareActivationScheduled.decode(answer.response.content)
    assert _variant(fleet, head) == "A"
    later = head.advance(timedelta(hours=3))
    (alert,) = [m for m in later.alerts if m.message_code == 0x00CA]
    decoded = c.FutureDatedFirmwareAlert.decode(alert.content)
    assert decoded.executed
    assert decoded.command_counter == counter
    assert decoded.result.version == bytes.fromhex(NEW)
    assert _variant(fleet, head) == "AD"


def test_the_gas_meter_receipt_is_a_GBZ_alert(fleet: Fleet, head: HeadEnd) -> None:
    profile = fleet.spec(GSME).profile
    receipt = head.check(fleet.distribute_firmware(GSME, profile.image("00030100"), head.now))
    assert receipt.alert_codes() == [AlertCode.FIRMWARE_VERIFICATION_SUCCESSFUL]
    assert receipt.alerts[0].message_code == 0x00CF
    answer = head.send(
        head.command(GSME, c.ActivateFirmware(profile.image_hash("00030100"), head.next_counter()))
    )
    assert answer.response is not None
    assert c.FirmwareActivated.decode(answer.response.content).ok
    assert fleet.device(GSME, head.now).firmware.version == "00030100"
