"""GBZ components and ZCL payloads round-trip; real RTDS shapes decode."""

from __future__ import annotations

import datetime as dt

import pytest

from gbcs.errors import DecodeError, EncodeError
from gbcs.payloads.gbz import (
    CONTROL_ENCRYPTED,
    CONTROL_FROM_DATE_TIME,
    CONTROL_LAST,
    AttributeRecord,
    Cluster,
    DefaultResponse,
    EncryptedZcl,
    GbzAlert,
    GbzComponent,
    GbzPayload,
    ReadAttributes,
    ReadAttributesResponse,
    ZclFrame,
    ZclType,
    ZclValue,
    decode_gbz,
    from_zigbee_time,
    zigbee_time,
)

# Contents of DCC reference test data (RTDS 4.5.0) messages: GCS32 command and response
# (close valve), GCS33 command and response (read valve status), GCS32 error response.
RTDS_GBZ = [
    "010901010702001501000B00000000804A371C00000000000000000001",
    "010901010702001009000C00000000804A371C0000000000",
    "0109010107020007000000050214 00",
    "010901010702000E08000105020021640014000030 02",
    "010901010702000508000B0BC0",
]


@pytest.mark.parametrize("hexstr", RTDS_GBZ)
def test_rtds_gbz_contents_round_trip(hexstr: str) -> None:
    data = bytes.fromhex(hexstr.replace(" ", ""))
    payload = decode_gbz(data)
    assert payload.to_bytes() == data
    assert isinstance(payload.as_tree(), dict)


def test_components_with_from_date_time_and_encryption_round_trip() -> None:
    plain = GbzComponent(
        Cluster.METERING,
        ZclFrame(0x01, 7, 0x00, b"\x01\x02"),
        CONTROL_FROM_DATE_TIME,
        zigbee_time(dt.datetime(2024, 1, 1)),
    )
    enc = GbzComponent(
        Cluster.PREPAYMENT,
        EncryptedZcl(0x09, 0, 0x01, b"\x31" + bytes(4) + b"ct" + bytes(12)),
        CONTROL_LAST | CONTROL_ENCRYPTED,
    )
    payload = GbzPayload((plain, enc))
    again = GbzPayload.from_bytes(payload.to_bytes())
    assert again == payload
    assert again.components[1].last
    tree = again.as_tree()
    assert tree["components"][0]["from_date_time"] == "2024-01-01T00:00:00Z"
    assert "encrypted" in tree["components"][1]["zcl"]


def test_manufacturer_specific_frame() -> None:
    frame = ZclFrame(0x05, 1, 0x20, b"\xaa", manufacturer_code=0x1234)
    assert ZclFrame.from_bytes(frame.to_bytes()) == frame
    with pytest.raises(EncodeError):
        ZclFrame(0x05, 1, 0x20)


def test_control_bits_must_agree() -> None:
    with pytest.raises(EncodeError):
        GbzComponent(Cluster.METERING, ZclFrame(0, 0, 0), CONTROL_FROM_DATE_TIME)
    with pytest.raises(EncodeError):
        GbzComponent(Cluster.METERING, ZclFrame(0, 0, 0), CONTROL_ENCRYPTED)


def test_zcl_read_attributes_response_types() -> None:
    records = ReadAttributesResponse(
        (
            AttributeRecord(0x0000, 0, ZclValue.uint(ZclType.UINT48, 12345)),
            AttributeRecord(0x0302, 0x86),
            AttributeRecord(0x0100, 0, ZclValue.string(ZclType.OCTET_STRING, b"abc")),
            AttributeRecord(0x0101, 0, ZclValue.string(ZclType.LONG_OCTET_STRING, b"x" * 300)),
            AttributeRecord(0x0102, 0, ZclValue.uint(ZclType.INT24, -5)),
            AttributeRecord(0x0103, 0, ZclValue.uint(ZclType.UTC_TIME, 1)),
        )
    )
    again = ReadAttributesResponse.from_bytes(records.to_bytes())
    assert again == records
    first = again.get(0x0000)
    assert first is not None
    assert first.value is not None
    assert first.value.value == 12345
    neg = again.get(0x0102)
    assert neg is not None
    assert neg.value is not None
    assert neg.value.value == -5
    assert again.get(0x9999) is None
    with pytest.raises(EncodeError):
        ZclValue.uint(ZclType.UINT8, 256)


def test_read_attributes_and_default_response() -> None:
    ids = ReadAttributes((0x0302, 0x0000))
    assert ReadAttributes.from_bytes(ids.to_bytes()) == ids
    assert DefaultResponse.from_bytes(bytes.fromhex("0bc0")) == DefaultResponse(0x0B, 0xC0)
    with pytest.raises(DecodeError):
        ReadAttributes.from_bytes(b"\x01")
    with pytest.raises(DecodeError):
        ReadAttributesResponse.from_bytes(bytes.fromhex("000000ff"))  # unknown type


def test_gbz_alert_with_firmware_hash() -> None:
    alert = GbzAlert(0x8F72, zigbee_time(dt.datetime(2030, 1, 1)), b"\x00\x01" + bytes(32))
    data = alert.to_bytes()
    assert GbzAlert.from_bytes(data) == alert
    tree = alert.as_tree()
    assert tree["alert"] == "Firmware verification successful"


def test_gbz_alert_with_component() -> None:
    component = GbzComponent(Cluster.METERING, ZclFrame(0x09, 0, 0x06, b"\x01"))
    alert = GbzAlert(0x8F0A, 100, b"", (component,))
    assert decode_gbz(alert.to_bytes(), alert=True) == alert


@pytest.mark.parametrize(
    "hexstr",
    ["", "0109", "010a00", "01090101070200ff00", "010901010702000200", "0109020107020003000000"],
)
def test_bad_gbz_is_a_decode_error(hexstr: str) -> None:
    with pytest.raises(DecodeError):
        decode_gbz(bytes.fromhex(hexstr))


def test_zigbee_time() -> None:
    when = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
    assert zigbee_time(when) == 0x1C374A80
    assert from_zigbee_time(0x1C374A80) == when
    with pytest.raises(EncodeError):
        zigbee_time(dt.datetime(1999, 1, 1))
