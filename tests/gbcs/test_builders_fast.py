"""Builder.response's fast construction of the response equals the checked one."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from gbcs.builders import Builder
from gbcs.codes import CRA, SUPPLIER
from gbcs.frames import Message
from gbcs.keystore import generate_test_pki

DEVICE = bytes.fromhex("00db1234567890a0")
PKI = generate_test_pki(b"builders fast path", devices=[DEVICE])


@settings(max_examples=60, deadline=None)
@given(
    counter=st.integers(0, (1 << 64) - 1),
    code=st.integers(0, 0xFFFF),
    extensions=st.binary(max_size=20),
    content=st.binary(max_size=300),
    critical=st.booleans(),
)
def test_response_equals_the_checked_construction(
    counter: int, code: int, extensions: bytes, content: bytes, critical: bool
) -> None:
    builder = Builder(PKI)
    command = Message(CRA.COMMAND, counter, SUPPLIER, DEVICE, None, code, extensions, b"", None)
    built = builder.response(command, content, critical=critical)
    expected = Message(
        cra=CRA.RESPONSE,
        originator_counter=counter,
        business_originator=DEVICE,
        business_target=SUPPLIER,
        date_time=None,
        message_code=code,
        extensions=extensions,
        content=content,
        signature=built.signature,
        mac=built.mac,
    )
    assert built == expected
    assert built.to_bytes() == expected.to_bytes()
    assert {f.name: getattr(built, f.name) for f in dataclasses.fields(built)} == {
        f.name: getattr(expected, f.name) for f in dataclasses.fields(expected)
    }
    # the explicit arguments still take the checked path, with the same result
    slow = builder.response(command, content, critical=False, extensions=extensions)
    if not critical:
        assert slow == built
