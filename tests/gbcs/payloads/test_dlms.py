"""A-XDR data and the DLMS APDUs: every type round-trips, bad input is a DecodeError."""

from __future__ import annotations

import datetime as dt

import pytest

from gbcs.errors import DecodeError, EncodeError
from gbcs.payloads import dlms
from gbcs.payloads._buf import Reader
from gbcs.payloads.dlms import (
    AccessKind,
    AccessRequest,
    AccessResponse,
    AccessResult,
    AccessSpec,
    BitString,
    CompactArray,
    CosemDateTime,
    DataNotification,
    DataType,
    Fixed,
    Obis,
    OctetString,
    decode_data,
    decode_dlms,
)

ALL_VALUES: list[dlms.Data] = [
    dlms.NULL,
    dlms.DontCare(),
    dlms.boolean(True),
    dlms.boolean(False),
    dlms.integer(-128),
    dlms.long(-2),
    dlms.double_long(-(2**31)),
    dlms.long64(-(2**63)),
    dlms.unsigned(255),
    dlms.long_unsigned(65535),
    dlms.double_long_unsigned(2**32 - 1),
    dlms.long64_unsigned(2**64 - 1),
    dlms.enum(3),
    dlms.Integer(DataType.BCD, 0x42),
    dlms.octet_string(b""),
    dlms.octet_string(bytes(200)),  # two-byte length
    dlms.visible_string(b"SMETS2"),
    OctetString(b"\xc3\xa9", DataType.UTF8_STRING),
    BitString(12, b"\xab\xc0"),
    Fixed(DataType.FLOAT32, bytes.fromhex("3f800000")),
    Fixed(DataType.FLOAT64, bytes(8)),
    Fixed(DataType.DATE_TIME, CosemDateTime.UNSPECIFIED),
    Fixed(DataType.DATE, bytes.fromhex("07df0101ff")),
    Fixed(DataType.TIME, bytes.fromhex("0c000000")),
    dlms.array(*(dlms.unsigned(i) for i in range(130))),
    dlms.structure(dlms.structure(dlms.array(), dlms.NULL), dlms.enum(1)),
]


@pytest.mark.parametrize("value", ALL_VALUES, ids=lambda v: type(v).__name__)
def test_every_data_type_round_trips(value: dlms.Data) -> None:
    encoded = value.to_bytes()
    assert decode_data(encoded) == value
    assert decode_data(encoded).to_bytes() == encoded
    assert isinstance(value.as_tree(), dict)


def test_integer_width_is_checked() -> None:
    with pytest.raises(EncodeError):
        dlms.unsigned(256)
    with pytest.raises(EncodeError):
        dlms.integer(128)
    with pytest.raises(EncodeError):
        dlms.Integer(DataType.OCTET_STRING, 1)


@pytest.mark.parametrize(
    "hexstr",
    ["", "02", "0203", "0902aa", "13", "0301", "01ff", "1200", "0980"],
)
def test_bad_data_is_a_decode_error(hexstr: str) -> None:
    with pytest.raises(DecodeError):
        decode_data(bytes.fromhex(hexstr))


def test_non_minimal_length_decodes_but_reencodes_minimally() -> None:
    data = bytes.fromhex("098103aabbcc")
    value = decode_data(data)
    assert value == dlms.octet_string(b"\xaa\xbb\xcc")
    assert value.to_bytes() == bytes.fromhex("0903aabbcc")


def test_obis_parse_and_format() -> None:
    obis = Obis.parse("0-0:10.0.106.255")
    assert obis.raw == bytes.fromhex("00000a006aff")
    assert str(obis) == "0-0:10.0.106.255"
    with pytest.raises(ValueError, match="not an OBIS code"):
        Obis.parse("1.8.0")


def test_cosem_date_time() -> None:
    when = dt.datetime(2015, 1, 1, 0, 0, 0, tzinfo=dt.UTC)
    stamp = CosemDateTime.from_datetime(when)
    assert stamp.to_bytes() == bytes.fromhex("07df0101ff000000008000ff")
    assert CosemDateTime.from_bytes(stamp.to_bytes()).to_datetime() == when
    assert CosemDateTime.from_bytes(CosemDateTime.UNSPECIFIED).to_datetime() is None
    assert str(CosemDateTime.from_bytes(CosemDateTime.UNSPECIFIED)) == "not specified"


def test_access_request_round_trip_with_selection() -> None:
    spec = AccessSpec(
        AccessKind.GET_WITH_SELECTION,
        7,
        Obis.parse("1-0:99.1.0.255"),
        2,
        selector=1,
        parameters=dlms.structure(dlms.NULL),
    )
    apdu = AccessRequest(
        dlms.invoke_id_for(1000),
        (spec, dlms.action(9, "0-0:10.0.106.255", 1)),
        (dlms.NULL, dlms.long_unsigned(51)),
        CosemDateTime.from_datetime(dt.datetime(2020, 5, 1)).to_bytes(),
    )
    assert AccessRequest.from_bytes(apdu.to_bytes()) == apdu
    assert decode_dlms(apdu.to_bytes()) == apdu
    tree = apdu.as_tree()
    assert tree["requests"][1]["method"] == 1
    assert tree["date_time"] == "2020-05-01T00:00:00Z"


def test_access_response_with_echoed_specs() -> None:
    apdu = AccessResponse(
        0x200003E8,
        (dlms.NULL, dlms.octet_string(b"\x01\x23")),
        (AccessResult(AccessKind.ACTION), AccessResult(AccessKind.GET, 250)),
        specs=(dlms.get(1, "0-0:0.2.1.255", 2),),
    )
    again = AccessResponse.from_bytes(apdu.to_bytes())
    assert again == apdu
    assert not again.ok
    assert again.as_tree()["responses"][1]["meaning"] == "other-reason"


def test_data_notification_round_trip() -> None:
    apdu = DataNotification(
        0x20000001,
        dlms.structure(dlms.long_unsigned(0x8F30), dlms.octet_string(bytes(12))),
        CosemDateTime.UNSPECIFIED,
    )
    assert decode_dlms(apdu.to_bytes()) == apdu
    assert apdu.as_tree()["apdu"] == "data-notification"


@pytest.mark.parametrize(
    "hexstr",
    [
        "",
        "d9",
        "d920000001",
        "d9200000010001",  # spec count 1, nothing after
        "d92000000100010300090000",  # truncated spec
        "da20000001000200",  # bad OPTIONAL flag
        "da2000000100000001",  # results count but no result
        "da200000010000000109",  # unknown response spec
        "d920000001000101000100000000020201000000",  # trailing byte
        "0f20000001",
        "aa",
    ],
)
def test_bad_apdus_are_decode_errors(hexstr: str) -> None:
    with pytest.raises(DecodeError):
        decode_dlms(bytes.fromhex(hexstr))


def test_reader_reports_truncation_offset() -> None:
    r = Reader(b"\x01\x02")
    r.u8()
    with pytest.raises(DecodeError) as info:
        r.u16()
    assert info.value.offset == 1


def test_compact_array_round_trips_and_reads_its_values() -> None:
    # compact-array of structure {long-unsigned, unsigned}, two entries.
    data = bytes.fromhex("13" + "020212" + "11" + "06" + "0001" + "02" + "0003" + "04")
    value = decode_data(data)
    assert isinstance(value, CompactArray)
    assert value.to_bytes() == data
    tree = value.as_tree()
    assert tree["type"] == "compact-array"
    assert [[i["value"] for i in item["items"]] for item in tree["items"]] == [[1, 2], [3, 4]]


def test_compact_array_with_a_bad_description_is_refused() -> None:
    with pytest.raises(DecodeError, match="0x13 in a compact-array"):
        decode_data(bytes.fromhex("131300"))


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "data",
    [
        # An array of 1794 nulls for each element: the contents (5 bytes) are never used up.
        "01091301070200050000000602",
        # Arrays of 65535 arrays of 65535 nulls beside one unsigned: four billion items a byte.
        "1302020201ffff01ffff00110105",
        "1300020000",  # null-data values filling two bytes
    ],
)
def test_compact_values_of_no_bytes_are_refused_not_counted_forever(data: str) -> None:
    from gbcs.payloads.compact import decode_tree

    with pytest.raises(DecodeError, match="no bytes"):
        decode_tree(bytes.fromhex(data))


def test_compact_arrays_of_nulls_that_stay_bounded_still_decode() -> None:
    from gbcs.payloads.compact import decode_tree

    # A structure of a null and an unsigned takes a byte: the contents count its elements.
    tree = decode_tree(bytes.fromhex("13020200110400000005"))
    assert len(tree["items"]) == 4
    assert tree["items"][3]["items"] == [{"type": "null-data"}, {"type": "unsigned", "value": 5}]
    assert decode_tree(bytes.fromhex("130100050000")) == {"type": "compact-array", "items": []}
