"""Advance Shipment Notification files (CSV and XML): all or nothing, bad rows named."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.asn import AsnError, import_file, import_shipment, parse_asn
from gateway.model import DeviceStatus
from gateway.services import NonDeviceService
from gbcs.devices import DeviceType
from tests.gateway.smi import CHF, ESME, GPF, GSME, NOP, S1, Ids, prenotify, snapshot

HEADER = (
    b"DeviceID,DeviceManufacturer,DeviceModel,DeviceType,"
    b"SMETSCHTSVersion,FirmwareVersion,ESMEVariant,AssociatedGPFDeviceID\n"
)
CSV = (
    HEADER
    + b"""# a shipment of one home
00-DB-12-34-56-78-90-A0,AB01,010A030B,ESME,SMETS V1.58,0002012F,AD,
00-DB-12-34-56-78-90-A1,AB01,020B,GSME,SMETS V1.58,0002012F,,

00-DB-12-34-56-78-90-A2,CH01,CH-1,CHF,CHTS V1.2,00010000,,00-DB-12-34-56-78-90-A3
"""
)

XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<AdvanceShipmentNotification xmlns="urn:smetsim:asn:1">
  <Device>
    <DeviceID>00-DB-12-34-56-78-90-A0</DeviceID>
    <DeviceManufacturer>AB01</DeviceManufacturer>
    <DeviceModel>010A030B</DeviceModel>
    <DeviceType>ESME</DeviceType>
    <SMETSCHTSVersion>SMETS V1.58</SMETSCHTSVersion>
    <FirmwareVersion>0002012F</FirmwareVersion>
    <ESMEVariant>AD</ESMEVariant>
  </Device>
  <!-- the hub -->
  <Device>
    <DeviceID>00DB1234567890A2</DeviceID>
    <DeviceManufacturer>CH01</DeviceManufacturer>
    <DeviceModel>CH-1</DeviceModel>
    <DeviceType>CHF</DeviceType>
    <AssociatedGPFDeviceID>00-DB-12-34-56-78-90-A3</AssociatedGPFDeviceID>
  </Device>
</AdvanceShipmentNotification>
"""


def test_csv_shipment_goes_in(service: NonDeviceService) -> None:
    rows = parse_asn(CSV)
    assert [r.where for r in rows] == ["row 1 (line 3)", "row 2 (line 4)", "row 3 (line 6)"]
    assert import_shipment(service, S1, rows) == 4  # the CHF's GPF too
    for device in (ESME, GSME, CHF, GPF):
        record = service.get_device(device)
        assert record is not None
        assert record.status is DeviceStatus.PENDING
        assert record.installing_supplier == S1
    esme = service.get_device(ESME)
    assert esme is not None
    assert esme.esme_variant == "AD"
    gsme = service.get_device(GSME)
    assert gsme is not None
    assert gsme.esme_variant is None


def test_xml_shipment_goes_in(service: NonDeviceService, tmp_path: Path) -> None:
    path = tmp_path / "shipment.xml"
    path.write_bytes(XML)
    assert import_file(service, S1, path) == 3
    chf = service.get_device(CHF)
    assert chf is not None
    assert chf.device_type is DeviceType.CHF
    assert chf.associated_gpf_id == GPF


def test_columns_in_any_order_and_case(service: NonDeviceService) -> None:
    data = (
        b"devicetype,DEVICEID,devicemodel,DeviceManufacturer\nIHD,00-DB-12-34-56-78-90-A4,I1,AB01\n"
    )
    (row,) = parse_asn(data)
    assert row.device.device_type is DeviceType.IHD
    assert row.device.smets_chts_version is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "lists no device"),
        (b"DeviceID,DeviceModel\n", "header (line 1): the header has no DeviceManufacturer"),
        (b"DeviceID,Colour\n", "unknown column 'Colour'"),
        (b"DeviceID,DeviceID\n", "appears twice"),
        (
            CSV.replace(b"00-DB-12-34-56-78-90-A1", b"00-DB-12-34"),
            "row 2 (line 4), field DeviceID: not an EUI-64: '00-DB-12-34'",
        ),
        (CSV.replace(b"GSME", b"WATER"), "row 2 (line 4), field DeviceType: 'WATER' is not one of"),
        (
            CSV.replace(b",AB01,020B,", b",,020B,"),
            "row 2 (line 4), field DeviceManufacturer: is missing",
        ),
        (
            CSV.replace(b"SMETS V1.58,0002012F,AD,", b"SMETS V1.58,AD,"),
            "row 1 (line 3): has 7 fields",
        ),
        (b"\xff\xfe", "not UTF-8 text"),
        (
            XML.replace(b"<DeviceModel>CH-1", b"<Colour>red</Colour><DeviceModel>CH-1"),
            "row 2 (line 13), field Colour",
        ),
        (
            XML.replace(b"AdvanceShipmentNotification", b"Shipment"),
            "not AdvanceShipmentNotification",
        ),
        (XML[:-30], "not well-formed XML"),
        (
            b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            b"<AdvanceShipmentNotification>&e;</AdvanceShipmentNotification>",
            "DOCTYPE",
        ),
        (
            b"<AdvanceShipmentNotification><Box/></AdvanceShipmentNotification>",
            "unexpected element 'Box'",
        ),
    ],
)
def test_unreadable_files_name_the_row_and_field(data: bytes, message: str) -> None:
    with pytest.raises(AsnError) as err:
        parse_asn(data)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("replace", "where"),
    [
        (
            (b",AD,", b",AD,", b"GSME,SMETS V1.58,0002012F,,", b"GSME,SMETS V1.58,0002012F,A,"),
            "row 2 (line 4), field ESMEVariant: E120203",
        ),
        (
            (b"0002012F,AD,", b"0002012F,ZZ,", b"", b""),
            "row 1 (line 3), field ESMEVariant: E120203",
        ),
        (
            (b"CHTS V1.2,00010000", b"CHTS V1.2,123456789", b"", b""),
            "row 3 (line 6), field FirmwareVersion: E120207",
        ),
        (
            (b"90-A3\n", b"90-A0\n", b"", b""),
            "row 3 (line 6), field AssociatedGPFDeviceID: E120204",
        ),
    ],
)
def test_a_rule_broken_by_one_row_lets_nothing_in(
    service: NonDeviceService, replace: tuple[bytes, bytes, bytes, bytes], where: str
) -> None:
    data = CSV.replace(replace[0], replace[1])
    if replace[2]:
        data = data.replace(replace[2], replace[3])
    before = snapshot(service.storage)
    with pytest.raises(AsnError) as err:
        import_shipment(service, S1, parse_asn(data))
    assert str(err.value).startswith(where)
    assert snapshot(service.storage) == before


def test_a_device_already_known_stops_the_shipment(service: NonDeviceService, ids: Ids) -> None:
    prenotify(service, ids, GSME, DeviceType.GSME)
    with pytest.raises(AsnError) as err:
        import_shipment(service, S1, parse_asn(CSV))
    assert str(err.value).startswith("row 2 (line 4), field DeviceID: E120201")
    assert service.get_device(ESME) is None


def test_duplicate_inside_the_file(service: NonDeviceService) -> None:
    data = CSV + b"00-DB-12-34-56-78-90-A0,AB01,010A030B,ESME,SMETS V1.58,0002012F,A,\n"
    with pytest.raises(AsnError) as err:
        import_shipment(service, S1, parse_asn(data))
    assert str(err.value).startswith("row 4 (line 7), field DeviceID: E120201")
    assert service.get_device(ESME) is None


def test_only_suppliers_import(service: NonDeviceService) -> None:
    with pytest.raises(AsnError, match="E4: DCC User 90-B3-D5-1F-30-02-00-00"):
        import_shipment(service, NOP, parse_asn(CSV))
    with pytest.raises(AsnError, match="E3: "):
        import_shipment(service, bytes(8), parse_asn(CSV))


def test_missing_file(service: NonDeviceService, tmp_path: Path) -> None:
    with pytest.raises(AsnError, match="cannot read"):
        import_file(service, S1, tmp_path / "absent.csv")
