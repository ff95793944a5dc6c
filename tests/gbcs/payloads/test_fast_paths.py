"""The decoders' fast paths (A-XDR data, DER elements) read exactly what their checked paths
read: the same values, and the same error with the same offset for every cut or altered
input - the checked path is the reference, the fast one only skips its per-field calls."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gbcs.errors import DecodeError
from gbcs.payloads import asn1, axdr, dlms
from gbcs.payloads._buf import Reader

from .test_dlms import ALL_VALUES

# Every kind of value, nested, with one-byte and longer lengths and counts.
AXDR_SAMPLES = [
    axdr.structure(*ALL_VALUES).to_bytes(),
    axdr.array(*(axdr.double_long_unsigned(n) for n in range(130))).to_bytes(),
    axdr.structure(axdr.octet_string(bytes(200)), axdr.array(axdr.boolean(True))).to_bytes(),
    axdr.BitString(9, b"\xff\x80").to_bytes(),
]
DER_SAMPLES = [
    bytes.fromhex("3009020101a0040402abcd"),
    bytes.fromhex("308103020105"),  # a long-form length that is not minimal
    bytes.fromhex("30820003020107"),
    bytes.fromhex("0481820102") + bytes(0x82 - 2),
    bytes.fromhex("04820100") + bytes(0x100),
    bytes.fromhex("bf1f03020101"),  # a high tag number
]


def _outcome(read: Callable[[Reader, int], object], data: bytes) -> tuple[object, ...]:
    r = Reader(data)
    try:
        value = read(r, 0)
    except DecodeError as exc:
        return ("error", str(exc), exc.offset)
    return ("value", value, r.pos)


def _variants(sample: bytes) -> list[bytes]:
    cut = [sample[:n] for n in range(len(sample))]
    altered = []
    for i in range(min(len(sample), 40)):
        for b in (0x00, 0x01, 0x02, 0x03, 0x04, 0x09, 0x13, 0x7F, 0x80, 0x81, 0x82, 0xFF):
            altered.append(sample[:i] + bytes([b]) + sample[i + 1 :])
    return [sample, *cut, *altered]


@pytest.mark.parametrize("sample", AXDR_SAMPLES, ids=lambda b: b.hex()[:12])
def test_the_a_xdr_fast_path_reads_as_the_checked_path(
    sample: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    variants = _variants(sample)
    fast = [_outcome(axdr.read_data, data) for data in variants]
    # The reference: the checked path at every depth (it reads nested values by the module's
    # read_data, here the checked path itself).
    monkeypatch.setattr(axdr, "read_data", lambda r, depth=0: axdr._read_data(r, depth))
    checked = [_outcome(axdr.read_data, data) for data in variants]
    assert sum(o[0] == "value" for o in fast) > 1
    assert sum(o[0] == "error" for o in fast) > len(sample)
    for data, a, b in zip(variants, fast, checked, strict=True):
        assert a == b, data.hex()


@pytest.mark.parametrize("sample", DER_SAMPLES, ids=lambda b: b.hex()[:12])
def test_the_der_fast_path_reads_as_the_checked_path(
    sample: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    variants = _variants(sample)
    fast = [_outcome(asn1.read_der, data) for data in variants]
    monkeypatch.setattr(asn1, "read_der", lambda r, depth=0: asn1._read_der(r, depth))
    checked = [_outcome(asn1.read_der, data) for data in variants]
    assert sum(o[0] == "value" for o in fast) > 1
    assert sum(o[0] == "error" for o in fast) > len(sample) // 2
    for data, a, b in zip(variants, fast, checked, strict=True):
        assert a == b, data.hex()


def _apdus() -> list[bytes]:
    values = tuple(ALL_VALUES)
    specs = tuple(dlms.get(8, "0-0:1.0.0.255", 2) for _ in values)
    compact = axdr.CompactArray(bytes.fromhex("0281020606"), bytes(16))  # a long count, kept
    return [
        dlms.AccessRequest(0x20000001, specs, values).to_bytes(),
        dlms.AccessResponse(
            0x20000002,
            (compact, axdr.octet_string(bytes(130))),
            (dlms.AccessResult(dlms.AccessKind.GET),) * 2,
            bytes(12),
            specs[:2],
        ).to_bytes(),
        dlms.DataNotification(0x20000003, axdr.structure(*values), bytes(12)).to_bytes(),
    ]


def _widened(apdu: bytes) -> list[bytes]:
    """``apdu`` with one byte that may be a length written one byte longer: ``05`` as
    ``81 05``, ``81 82`` as ``82 00 82``."""
    short = [apdu[:i] + b"\x81" + apdu[i:] for i in range(len(apdu)) if apdu[i] < 0x80]
    long = [apdu[:i] + b"\x82\x00" + apdu[i + 1 :] for i in range(len(apdu)) if apdu[i] == 0x81]
    return short + long


@pytest.mark.parametrize("apdu", _apdus(), ids=lambda b: b.hex()[:12])
def test_the_reader_tells_whether_an_apdu_re_encodes_exactly(apdu: bytes) -> None:
    # decode_content trusts this flag instead of encoding the APDU again to compare.
    exact = inexact = 0
    for data in [*_variants(apdu), *_widened(apdu)]:
        try:
            decoded, flag = dlms.decode_dlms_exact(data)
        except DecodeError:
            continue
        assert flag == (decoded.to_bytes() == data), data.hex()
        exact += flag
        inexact += not flag
    assert exact > 1
    assert inexact > 1
