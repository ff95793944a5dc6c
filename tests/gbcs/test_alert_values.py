"""The shared alert decoder knows every alert with a message code of its own, typed: the
0x00CB future-dated security credentials alert too (its layout is the 0x00CA firmware
alert's), and ``smetsim decode`` shows it (tests/gateway/test_device_alert_codes.py: the
gateway files it under 8F66 / 8F67)."""

from __future__ import annotations

import datetime as _dt

import pytest

from gbcs import content as gc
from gbcs.codes import CRA, SUPPLIER
from gbcs.explain import explain
from gbcs.frames import Message

ESME = bytes.fromhex("00db1234567890a0")
NEW = bytes.fromhex("90b3d51f30010001")
WHEN = _dt.datetime(2026, 12, 7, 22, 0, tzinfo=_dt.UTC)


def credentials_alert(executed: bool) -> gc.FutureDatedCredentialsAlert:
    outcome = gc.CellOutcome.SUCCESS if executed else gc.CellOutcome.FAILED
    # The alert carries one counter, the future-dated command's: its outcome's is that one.
    result = gc.CredentialsUpdated(
        counter=42,
        mode=0,
        results=(
            gc.CellResult(
                gc.Cell(1, b"\x07\x80"),
                outcome,
                SUPPLIER,
                bytes(20),
                NEW if executed else SUPPLIER,
                bytes(range(20)),
            ),
        ),
    )
    return gc.FutureDatedCredentialsAlert(executed, WHEN, 42, result)


def alert_message(code: int, content: bytes) -> Message:
    return Message(
        cra=CRA.ALERT,
        originator_counter=5,
        business_originator=ESME,
        business_target=NEW,
        date_time=None,
        message_code=code,
        extensions=b"",
        content=content,
        signature=None,
    )


@pytest.mark.parametrize(("executed", "code"), [(True, 0x8F66), (False, 0x8F67)])
def test_the_credentials_alert_decodes_typed(executed: bool, code: int) -> None:
    alert = credentials_alert(executed)
    decoded = gc.decode_alert(0x00CB, alert.encode())
    assert decoded == alert
    assert isinstance(decoded, gc.FutureDatedCredentialsAlert)
    assert decoded.alert_code == code
    assert decoded.result.ok is executed


def test_decode_shows_the_credentials_alert() -> None:
    found = explain(alert_message(0x00CB, credentials_alert(True).encode()).to_bytes())
    assert found.values == (
        "alert code: 0x8F66",
        "future-dated command executed at 2026-12-07T22:00:00+00:00 (its originator counter 42)",
        "outcome: success",
        "cell (role 1): success, 90-B3-D5-1F-30-01-00-00 -> 90-B3-D5-1F-30-01-00-01",
    )


def test_decode_shows_the_firmware_alert_and_plain_alerts() -> None:
    firmware = gc.FutureDatedFirmwareAlert(
        False, WHEN, 16, gc.FirmwareActivated(1, b"\x00\x02\x00\x00")
    )
    assert firmware.alert_code == 0x8F67
    assert explain(alert_message(0x00CA, firmware.encode()).to_bytes()).values == (
        "alert code: 0x8F67",
        "future-dated command not executed at 2026-12-07T22:00:00+00:00 "
        "(its originator counter 16)",
        "outcome: failure",
        "firmware version: 00020000",
    )
    plain = gc.DlmsAlert(9, 0x8119, WHEN)
    assert explain(alert_message(0x1001, plain.encode()).to_bytes()).values == (
        "alert code: 0x8119",
    )


def test_content_that_is_no_alert_shows_no_values() -> None:
    assert gc.alert_values(0x00CB, b"\x30\x03\x02\x01\x05") == []
