"""SR11.3 Activate Firmware (CS06): immediate, future-dated (the command carries the time)
and cancelled - each pre-command the DCC's reference; a bad hash and a past date refused."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from gateway.errors import ServiceError
from gateway.model import RequestId
from gateway.schedule import CANCEL_AT
from gateway.services.device import DeviceCall
from gateway.srv.catalogue import entry
from gateway.srv.firmware import ActivateFirmware
from gbcs.codes import SUPPLIER
from tests.gateway.test_device_service import ESME, Harness, hexfile
from tests.gateway.test_device_service import harness as harness  # the fixture

HASH = bytes.fromhex("AA758690730934FF0685AA758690730934FF0685657788990011223344556677")
FOLDER = "11.3_CS06"


def _call(counter: int, when: datetime | None) -> DeviceCall:
    request_id = RequestId(SUPPLIER, ESME, counter)
    return DeviceCall(SUPPLIER, request_id, 4, "11.3", ActivateFirmware(HASH), when)


async def test_immediate_future_dated_and_cancelled_activations_are_the_references(
    harness: Harness, conformance: Path
) -> None:
    cases = [
        (1000, None, "IMMEDIATE_SUCCESS"),
        (1001, datetime(2030, 1, 15, 9, 0, tzinfo=UTC), "FUTURE_DATED_SUCCESS"),
        (1002, CANCEL_AT, "CANCELLATION_SUCCESS"),
    ]
    for counter, when, name in cases:
        accepted = await harness.service.submit(_call(counter, when))
        assert accepted.code == "I0"
        expected = hexfile(conformance, FOLDER, f"CS06_11.3_{name}_PRECOMMAND_GBCS.HEX")
        assert accepted.precommand == expected, name


async def test_an_activation_date_in_the_past_is_refused(harness: Harness) -> None:
    with pytest.raises(ServiceError) as refused:
        await harness.service.submit(_call(1000, datetime(1969, 12, 31, tzinfo=UTC)))
    assert refused.value.code == "E42"
    assert "ExecutionDateTime" in refused.value.sentence


@pytest.mark.parametrize("text", ["AA75", "ZZ" * 32, "AA" * 33, ""])
def test_a_hash_that_is_not_sha256_is_refused(text: str) -> None:
    ns = "http://www.dccinterface.co.uk/ServiceUserGateway"
    body = etree.fromstring(
        f'<sr:ActivateFirmware xmlns:sr="{ns}"><sr:FirmwareHash>{text}</sr:FirmwareHash>'
        "</sr:ActivateFirmware>"
    )
    codec = entry("11.3").codec
    assert codec is not None
    with pytest.raises(ServiceError) as refused:
        codec.read(body)
    assert refused.value.code == "E42"
    assert "FirmwareHash" in refused.value.sentence
