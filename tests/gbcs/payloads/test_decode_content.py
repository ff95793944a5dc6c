"""decode_content never raises and always re-encodes its input exactly."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from gbcs.codes import CRA
from gbcs.payloads import Der, GbzAlert, Raw, decode_content, sniff_kind
from gbcs.payloads.dlms import AccessRequest
from gbcs.usecases import PayloadKind

CODES = st.sampled_from([0x0027, 0x0074, 0x0012, 0x1000, 0x1001, 0xBEEF, 0x004F])


@settings(max_examples=200, deadline=None)
@given(code=CODES, cra=st.sampled_from(list(CRA)), content=st.binary(max_size=80))
def test_random_bytes_never_raise(code: int, cra: CRA, content: bytes) -> None:
    payload = decode_content(code, cra, content)
    assert payload.to_bytes() == content
    json.dumps(payload.as_tree())


PREFIXES = st.sampled_from([b"\xd9\x20\x00\x00\x01", b"\xda", b"\x0f", b"\x01\x09", b"\x30"])


@settings(max_examples=200, deadline=None)
@given(code=CODES, cra=st.sampled_from(list(CRA)), prefix=PREFIXES, tail=st.binary(max_size=60))
def test_plausible_prefixes_never_raise(code: int, cra: CRA, prefix: bytes, tail: bytes) -> None:
    content = prefix + tail
    payload = decode_content(code, cra, content)
    assert payload.to_bytes() == content
    json.dumps(payload.as_tree())


def test_raw_reasons() -> None:
    assert decode_content(0x0027, CRA.COMMAND, b"") == Raw(b"", "empty content")
    unknown = decode_content(0x0027, CRA.COMMAND, b"\x55\x66")
    assert isinstance(unknown, Raw)
    assert "not DLMS" in unknown.reason
    truncated = decode_content(0x0027, CRA.COMMAND, bytes.fromhex("d92000"))
    assert isinstance(truncated, Raw)
    assert truncated.reason.startswith("dlms:")
    canonical = decode_content(0x0027, CRA.COMMAND, bytes.fromhex("d92000000100000100"))
    assert isinstance(canonical, AccessRequest)
    padded = decode_content(0x0027, CRA.COMMAND, bytes.fromhex("d9200000018100000100"))
    assert isinstance(padded, Raw)
    assert "canonical" in padded.reason


def test_kind_follows_the_use_case_then_the_bytes() -> None:
    alert = GbzAlert(0x8F1F, 5).to_bytes()
    assert isinstance(decode_content(0x1001, CRA.ALERT, alert), GbzAlert)
    der = bytes.fromhex("300302012a")
    assert isinstance(decode_content(0xBEEF, CRA.RESPONSE, der), Der)
    assert sniff_kind(der) is PayloadKind.ASN1
    assert sniff_kind(b"") is None
