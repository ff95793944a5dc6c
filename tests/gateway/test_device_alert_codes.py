"""The alert code a device alert is filed and delivered under (the DUIS ``AlertCode``): the
alert's own code, 8F66 / 8F67 for the future-dated alerts with a message code of their own
(0x00CA firmware, 0x00CB security credentials), a GSME's GBZ alert's own code - not their
message code."""

from __future__ import annotations

import pytest

from gateway.services.device_rules import alert_code
from gbcs import content as gc
from tests.gbcs.test_alert_values import WHEN, alert_message, credentials_alert


@pytest.mark.parametrize(("executed", "code"), [(True, 0x8F66), (False, 0x8F67)])
def test_a_credentials_alert_is_filed_under_its_alert_code(executed: bool, code: int) -> None:
    content = credentials_alert(executed).encode()
    assert alert_code(alert_message(0x00CB, content)) == code


def test_the_other_alerts_keep_theirs() -> None:
    firmware = gc.FutureDatedFirmwareAlert(True, WHEN, 3, gc.FirmwareActivated(0, b"\x01" * 4))
    assert alert_code(alert_message(0x00CA, firmware.encode())) == 0x8F66
    plain = gc.DlmsAlert(9, 0x8119, WHEN)
    assert alert_code(alert_message(0x1001, plain.encode())) == 0x8119
    # content no decoder knows: the message code, as before
    assert alert_code(alert_message(0x00CB, b"\x05\x00")) == 0x00CB


def test_a_gsme_alert_is_filed_under_its_alert_code() -> None:
    """A GBZ alert with a message code of its own (MIIW-GSME 0x00F2, 0x81A0): was filed
    under 00F2, as the decoder's GBZ alert names its code ``alert_code``."""
    content = gc.gbz_alert(0x81A0, WHEN, b"\x00\x03").to_bytes()
    assert alert_code(alert_message(0x00F2, content)) == 0x81A0
    assert alert_code(alert_message(0x1001, content)) == 0x81A0
