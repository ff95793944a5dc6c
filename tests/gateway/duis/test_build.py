"""Responses: every one the builder makes validates against the DUIS 5.4 schema (xmlschema)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from lxml import etree

from gateway.duis.build import (
    build_response,
    comment_text,
    duis_datetime,
    gbcs_payload_element,
    inventory_element,
    precommand_element,
    serialise,
)
from gateway.duis.signature import XmlSignatureVerifier
from gateway.duis.xml import SR_NS
from gateway.model import DeviceRecord, DeviceStatus, PropertyFilter
from gbcs.devices import DeviceType
from tests.gateway.duis.support import assert_valid_response, gateway_signer, xmlschema_errors

WHEN = dt.datetime(2026, 3, 1, 9, 30, 5, 123456, tzinfo=dt.UTC)
RID = "90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:1000"

FULL = DeviceRecord(
    device_id=bytes.fromhex("00db1234567890a0"),
    device_type=DeviceType.ESME,
    status=DeviceStatus.COMMISSIONED,
    manufacturer="AB01",
    model="010A030B",
    smets_chts_version="SMETS V1.58",
    firmware_version="0002012F",
    esme_variant="AD",
    installing_supplier=bytes.fromhex("90b3d51f30010000"),
    import_mpxn="1312345678111",
    secondary_import_mpan="1312345678222",
    export_mpan="1312345678333",
    date_commissioned=dt.date(2026, 2, 1),
    uprn="10023456789",
    property_filter=PropertyFilter("AB1 2CD", "Flat 1"),
)
MINIMAL = DeviceRecord(
    device_id=bytes.fromhex("00db1234567890a1"),
    device_type=DeviceType.GPF,
    status=DeviceStatus.PENDING,
    manufacturer="",
    model="",
    smets_chts_version=None,
    firmware_version=None,
    esme_variant=None,
    installing_supplier=bytes.fromhex("90b3d51f30010000"),
)


def test_date_time_format() -> None:
    assert duis_datetime(WHEN) == "2026-03-01T09:30:05.123Z"
    assert duis_datetime(WHEN.replace(tzinfo=None)) == "2026-03-01T09:30:05.123Z"


def test_comment_text_is_safe() -> None:
    assert "--" not in comment_text("a -- b --- c")
    etree.Comment(comment_text("ends with -"))


def responses() -> list[etree._Element]:
    return [
        build_response(
            code="I0",
            service_reference="12.2",
            service_reference_variant="12.2",
            date_time=WHEN,
            request_id=RID,
        ),
        build_response(
            code="I0",
            service_reference="8.2",
            service_reference_variant="8.2",
            date_time=WHEN,
            request_id=RID,
            content=inventory_element([FULL, MINIMAL]),
        ),
        build_response(
            code="E080405",
            service_reference="8.4",
            service_reference_variant="8.4",
            date_time=WHEN,
            request_id=RID,
            reason="device 00-DB -- is not there -",
        ),
        build_response(
            code="E40",
            service_reference="8.2",
            service_reference_variant="8.2",
            date_time=WHEN,
            reason="x",
        ),
        build_response(
            code="I0",
            service_reference="7.1",
            service_reference_variant="7.1",
            date_time=WHEN,
            request_id=RID,
            response_id=RID,
            content=precommand_element(b"\xdf\x09" + bytes(30), gbcs_version="4.0"),
        ),
        build_response(
            code="I0",
            service_reference="4.1",
            service_reference_variant="4.1.1",
            date_time=WHEN,
            content=gbcs_payload_element(b"\xdd\x00" + bytes(20)),
            schema_version="5.1",
        ),
    ]


@pytest.mark.parametrize("index", range(6))
def test_responses_validate_unsigned_and_signed(conformance: Path, index: int) -> None:
    response = responses()[index]
    assert_valid_response(serialise(response), conformance)
    signed = gateway_signer().sign_to_bytes(response)
    assert_valid_response(signed, conformance)
    XmlSignatureVerifier().verify(etree.fromstring(signed), gateway_signer().certificate)


def test_the_reason_travels_as_a_comment_outside_the_signature() -> None:
    response = responses()[2]
    signed = gateway_signer().sign_to_bytes(response)
    assert b"<!-- E080405: device 00-DB - - is not there - -->" in signed
    root = etree.fromstring(signed)
    for comment in root.iter(etree.Comment):
        comment.text = " changed "
    XmlSignatureVerifier().verify(root, gateway_signer().certificate)


def test_inventory_device_elements_in_schema_order() -> None:
    device = inventory_element([FULL])[0]
    assert [etree.QName(e).localname for e in device] == [
        "DeviceID", "DeviceType", "DeviceStatus", "DeviceManufacturer", "DeviceModel",
        "SMETSCHTSVersion", "DeviceFirmwareVersion", "DateCommissioned", "ImportMPxN",
        "SecondaryImportMPAN", "ExportMPAN", "ESMEVariant", "UPRN", "PropertyFilter",
    ]  # fmt: skip
    assert device.findtext(f"{{{SR_NS}}}DeviceID") == "00-DB-12-34-56-78-90-A0"


def test_inventory_size_limits() -> None:
    with pytest.raises(ValueError, match="1 to 17"):
        inventory_element([])
    with pytest.raises(ValueError, match="1 to 17"):
        inventory_element([MINIMAL] * 18)
    inventory_element([MINIMAL] * 17)


def test_the_schema_check_itself_can_fail(conformance: Path) -> None:
    bad = serialise(responses()[0]).replace(b">I0<", b">I12345<")
    assert xmlschema_errors(bad, conformance)
