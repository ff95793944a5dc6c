"""The message-code table and the alert names."""

from __future__ import annotations

from pathlib import Path

import pytest

from gbcs.alerts import ALERT_NAMES, AlertCode, alert_name, is_critical_alert
from gbcs.devices import DeviceType
from gbcs.frames import Message
from gbcs.usecases import USE_CASES, PayloadKind, by_name, use_case
from tests.gbcs.vectors import (
    CONFORMANCE_MESSAGES,
    assert_filed_under_its_use_case,
    read_message,
)


def test_lookup_by_code_and_name() -> None:
    ecs17b = use_case(0x0027)
    assert ecs17b is not None
    assert ecs17b.name == "ECS17b"
    assert ecs17b.kind is PayloadKind.DLMS
    assert ecs17b.device is DeviceType.ESME
    assert ecs17b.encrypted_response
    assert not ecs17b.critical
    assert ecs17b.verified
    assert by_name("ecs17b") is ecs17b
    assert by_name("CCS04") is by_name("CCS05") is use_case(0x0004)
    assert use_case(0xBEEF) is None
    with pytest.raises(KeyError, match="XYZ99"):
        by_name("XYZ99")


@pytest.mark.parametrize(
    ("name", "code", "critical", "kind"),
    [
        ("CCS01", 0x0001, False, PayloadKind.DLMS),
        ("CCS02", 0x0002, False, PayloadKind.DLMS),
        ("CS01a", 0x0007, False, PayloadKind.DLMS),
        ("CS01b", 0x0097, False, PayloadKind.GBZ),
        ("CS06", 0x0012, True, PayloadKind.ASN1),
        ("ECS01a", 0x0019, True, PayloadKind.DLMS),
        ("ECS04b", 0x00B3, True, PayloadKind.DLMS),
        ("ECS42", 0x004F, True, PayloadKind.DLMS),
        ("ECS43", 0x0050, True, PayloadKind.DLMS),
        ("ECS44", 0x0051, True, PayloadKind.DLMS),
        ("ECS52", 0x0059, False, PayloadKind.DLMS),
        ("ECS70", 0x0062, True, PayloadKind.DLMS),
        ("GCS13a", 0x0074, False, PayloadKind.GBZ),
        ("GCS28", 0x007F, True, PayloadKind.ASN1),
        ("GCS32", 0x0081, True, PayloadKind.GBZ),
        ("GCS33", 0x0082, False, PayloadKind.GBZ),
        ("GCS39", 0x0085, True, PayloadKind.GBZ),
    ],
)
def test_the_use_cases_the_devices_speak(
    name: str, code: int, critical: bool, kind: PayloadKind
) -> None:
    uc = by_name(name)
    assert (uc.code, uc.critical, uc.kind) == (code, critical, kind)
    assert str(uc).startswith(f"{name} (0x{code:04X})")


def test_table_is_consistent() -> None:
    names = [n.lower() for uc in USE_CASES.values() for n in (*uc.names, *uc.aliases)]
    assert len(names) == len(set(names)), "a use case name appears twice"
    assert len(USE_CASES) > 200
    for code, uc in USE_CASES.items():
        assert uc.code == code
        assert uc.devices
        assert uc.title
    assert by_name("ALERT-CRITICAL").alert
    assert by_name("ALERT-CRITICAL").code == 0x1000
    assert by_name("ALERT-NON-CRITICAL").kind is None
    assert by_name("GCA-ZigBee") is by_name("ALERT-CRITICAL")
    assert by_name("cs02bacbbyacb").code == 0x0104


@pytest.mark.parametrize("name", CONFORMANCE_MESSAGES)
def test_conformance_messages_agree_with_the_table(conformance: Path, name: str) -> None:
    message = Message.from_bytes(read_message(conformance, name))
    uc = use_case(message.message_code)
    assert uc is not None
    assert uc.verified
    assert_filed_under_its_use_case(name, uc)
    signed = message.signature is not None or "PRECOMMAND" in name
    if "COMMAND" in name:
        assert signed == uc.critical


def test_alert_names() -> None:
    for code in AlertCode:
        assert code in ALERT_NAMES
    assert alert_name(0x8F30) == "Source does not have authority for command"
    assert alert_name(0x1234) == "unknown alert 0x1234"
    assert is_critical_alert(AlertCode.CHF_DEVICE_LOG_CHANGED)
    assert not is_critical_alert(AlertCode.CREDIT_ADDED_LOCALLY)
