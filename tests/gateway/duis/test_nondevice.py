"""Non-device SR bodies to the service model: every template and every UpdateInventory form."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.duis.envelope import parse_request
from gateway.duis.nondevice import read_non_device_request
from gateway.duis.xml import parse_document
from gateway.errors import ServiceError
from gateway.model import (
    DecommissionDevice,
    DeleteDevice,
    DevicePrenotification,
    DeviceStatus,
    PropertyFilter,
    ReadInventory,
    ServiceOptOut,
    UpdateDeviceDetails,
    UpdateDeviceStatus,
    UpdateMPxN,
)
from gbcs.devices import DeviceType
from tests.gateway.duis.support import request_document

S1 = bytes.fromhex("90b3d51f30010000")
A0 = bytes.fromhex("00db1234567890a0")


def read(srv: str, body: str) -> object:
    document = request_document(originator=S1, counter=1, srv=srv, body=body)
    return read_non_device_request(parse_request(parse_document(document)))


def refused(srv: str, body: str) -> ServiceError:
    with pytest.raises(ServiceError) as exc:
        read(srv, body)
    return exc.value


def test_templates(templates: Path) -> None:
    def template(name: str) -> object:
        data = (templates / name).read_bytes()
        return read_non_device_request(parse_request(parse_document(data)))

    assert template("12.2_DEVICE_PRE_NOTIFICATION_REQUEST_DUIS.XML") == DevicePrenotification(
        device_id=A0,
        manufacturer="AB01",
        model="010A030B",
        device_type=DeviceType.ESME,
        smets_chts_version="SMETS V1.58",
        firmware_version="0002012F",
        esme_variant="AD",
    )
    assert template("8.2_READ_INVENTORY_REQUEST_DUIS.XML") == ReadInventory(
        device_id=bytes.fromhex("00db1234567890a2")
    )
    assert template("8.3_DECOMMISSION_DEVICE_REQUEST_DUIS.XML") == DecommissionDevice(A0)
    assert template("8.4_UPDATE_INVENTORY_REQUEST_DUIS.XML") == DeleteDevice(A0)


def inv(choice: str) -> str:
    device = "<sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID>"
    return f"<sr:UpdateInventory>{device}{choice}</sr:UpdateInventory>"


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (
            "<sr:UpdateDeviceStatusExceptCH>InstalledNotCommissioned</sr:UpdateDeviceStatusExceptCH>",
            UpdateDeviceStatus(A0, DeviceStatus.INSTALLED_NOT_COMMISSIONED, comms_hub=False),
        ),
        (
            "<sr:UpdateDeviceStatusCH>Withdrawn</sr:UpdateDeviceStatusCH>",
            UpdateDeviceStatus(A0, DeviceStatus.WITHDRAWN, comms_hub=True),
        ),
        (
            "<sr:UpdateDeviceDetails><sr:FirmwareVersion>0003</sr:FirmwareVersion>"
            "<sr:ESMEVariant>ADE</sr:ESMEVariant></sr:UpdateDeviceDetails>",
            UpdateDeviceDetails(A0, firmware_version="0003", esme_variant="ADE"),
        ),
        (
            "<sr:UpdateDeviceDetails><sr:DeviceManufacturer>M</sr:DeviceManufacturer>"
            "<sr:DeviceModel>X</sr:DeviceModel><sr:SMETSCHTSVersion>S</sr:SMETSCHTSVersion>"
            "</sr:UpdateDeviceDetails>",
            UpdateDeviceDetails(A0, manufacturer="M", model="X", smets_chts_version="S"),
        ),
        ("<sr:DeleteDevice/>", DeleteDevice(A0)),
        (
            "<sr:UpdateMPxN><sr:ImportMPxN>2345678901</sr:ImportMPxN></sr:UpdateMPxN>",
            UpdateMPxN(A0, import_mpxn="2345678901"),
        ),
        (
            "<sr:UpdateMPxN><sr:SecondaryImportMPAN>1312345678222</sr:SecondaryImportMPAN></sr:UpdateMPxN>",
            UpdateMPxN(A0, secondary_import_mpan="1312345678222"),
        ),
        (
            "<sr:UpdateMPxN><sr:ExportMPAN>1312345678333</sr:ExportMPAN></sr:UpdateMPxN>",
            UpdateMPxN(A0, export_mpan="1312345678333"),
        ),
    ],
)
def test_every_update_inventory_form(choice: str, expected: object) -> None:
    assert read("8.4", inv(choice)) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "<sr:ReadInventory><sr:MPxN>1312345678111</sr:MPxN></sr:ReadInventory>",
            ReadInventory(mpxn="1312345678111"),
        ),
        (
            "<sr:ReadInventory><sr:UPRN>010023456789</sr:UPRN></sr:ReadInventory>",
            ReadInventory(uprn="10023456789"),
        ),
        (
            "<sr:ReadInventory><sr:PropertyFilter><sr:PostCode>AB1 2CD</sr:PostCode>"
            "<sr:AddressIdentifier>Flat 1</sr:AddressIdentifier></sr:PropertyFilter>"
            "</sr:ReadInventory>",
            ReadInventory(property_filter=PropertyFilter("AB1 2CD", "Flat 1")),
        ),
    ],
)
def test_read_inventory_criteria(body: str, expected: ReadInventory) -> None:
    assert read("8.2", body) == expected


def test_opt_out_names_the_target_device() -> None:
    document = request_document(
        originator=S1, counter=1, srv="8.5", cv=1, target=A0, body="<sr:ServiceOptOut/>"
    )
    assert read_non_device_request(parse_request(parse_document(document))) == ServiceOptOut(A0)


@pytest.mark.parametrize(
    ("srv", "body", "needle"),
    [
        (
            "8.4",
            inv("<sr:UpdateDeviceStatusExceptCH>Commissioned</sr:UpdateDeviceStatusExceptCH>"),
            "Commissioned",
        ),
        ("8.4", inv("<sr:UpdateMPxN><sr:ExportMPAN>123</sr:ExportMPAN></sr:UpdateMPxN>"), "MPAN"),
        ("8.4", inv("<sr:DeleteDevice/><sr:UpdateMPxN/>"), "exactly one"),
        (
            "8.4",
            inv(
                "<sr:UpdateDeviceDetails><sr:ESMEVariant>Z</sr:ESMEVariant></sr:UpdateDeviceDetails>"
            ),
            "'Z'",
        ),
        ("8.4", inv("<sr:DeleteDevice>x</sr:DeleteDevice>"), "empty"),
        ("8.2", "<sr:ReadInventory/>", "exactly one"),
        ("8.2", "<sr:ReadInventory><sr:UPRN>0</sr:UPRN></sr:ReadInventory>", "UPRN"),
        ("8.2", "<sr:ReadInventory><sr:DeviceID>00-DB</sr:DeviceID></sr:ReadInventory>", "00-DB"),
        ("8.3", "<sr:DecommissionDevice/>", "DeviceID is missing"),
        (
            "12.2",
            "<sr:DevicePrenotification><sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID></sr:DevicePrenotification>",
            "missing",
        ),
        ("12.2", "<sr:DevicePrenotification><sr:Extra/></sr:DevicePrenotification>", "Extra"),
    ],
)
def test_bad_values_are_named(srv: str, body: str, needle: str) -> None:
    error = refused(srv, body)
    assert error.rule == "duis_invalid_element"
    assert needle in error.sentence


def test_a_body_of_another_sr() -> None:
    error = refused("8.3", "<sr:ReadInventory><sr:MPxN>1</sr:MPxN></sr:ReadInventory>")
    assert error.rule == "duis_body_mismatch"
    assert "DecommissionDevice" in error.sentence


def test_a_non_device_sr_this_gateway_does_not_serve() -> None:
    assert refused("12.1", "<sr:RequestWANMatrix/>").rule == "duis_sr_not_supported"
