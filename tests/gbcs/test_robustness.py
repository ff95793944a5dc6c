"""Fuzzing: random bytes and mutated real vectors (truncation, bit flips, lying
lengths, garbage before and after). Nothing but the package's own DecodeError may escape; what
decodes re-encodes byte for byte and decodes again to the same fields; a changed byte anywhere in
a MAC'd message never leaves a valid MAC."""

from __future__ import annotations

import contextlib
import dataclasses
from functools import cache

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from gbcs.codes import CRA
from gbcs.errors import DecodeError
from gbcs.explain import explain
from gbcs.frames import (
    GbtBlock,
    GbtReassembler,
    Message,
    gbt_blocks,
)
from gbcs.keystore import Keystore
from gbcs.verify import Check, Verifier
from tests.gbcs.vectors import CONFORMANCE_MESSAGES, GBCS_DIR, V18_4

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@cache
def real_messages() -> tuple[bytes, ...]:
    found = [bytes.fromhex((GBCS_DIR / name).read_text().strip()) for name in CONFORMANCE_MESSAGES]
    return (V18_4, *found)


@cache
def conformance_verifier() -> Verifier | None:
    directory = GBCS_DIR.parent / "keystore"
    return Verifier(Keystore.load(directory)) if directory.is_dir() else None


def check_decode(data: bytes) -> Message | None:
    """Decode; success must mean exact re-encoding, also from the fields alone (no cached
    encoding), and the re-encoded bytes must decode to the same message."""
    try:
        message = Message.from_bytes(data)
    except DecodeError:
        return None
    assert message.to_bytes() == data
    fields = {f.name: getattr(message, f.name) for f in dataclasses.fields(Message) if f.init}
    assert Message(**fields).to_bytes() == data, f"fields do not rebuild {data.hex()}"
    assert Message.from_bytes(bytes(data)) == message
    return message


real = st.integers(min_value=0, max_value=10_000).map(
    lambda i: real_messages()[i % len(real_messages())]
)


@FUZZ
@given(st.binary(max_size=300))
@example(b"")
@example(b"\xdd")
@example(b"\xdf")
def test_random_bytes(data: bytes) -> None:
    check_decode(data)


@FUZZ
@given(
    st.sampled_from([b"\xdd\x00\x00\x00\x00\x00\x00", b"\xdf\x09", b"\xdd\x09"]),
    st.binary(max_size=300),
)
def test_random_bytes_behind_real_tags(prefix: bytes, rest: bytes) -> None:
    check_decode(prefix + rest)


@FUZZ
@given(real, st.data())
def test_truncation(data: bytes, draw: st.DataObject) -> None:
    cut = draw.draw(st.integers(min_value=0, max_value=len(data) - 1))
    assert check_decode(data[:cut]) is None or data[0] == 0xDF


@FUZZ
@given(real, st.data())
def test_bit_flips(data: bytes, draw: st.DataObject) -> None:
    changed = bytearray(data)
    for _ in range(draw.draw(st.integers(min_value=1, max_value=4))):
        index = draw.draw(st.integers(min_value=0, max_value=len(data) - 1))
        changed[index] ^= 1 << draw.draw(st.integers(min_value=0, max_value=7))
    check_decode(bytes(changed))


@FUZZ
@given(real, st.data())
def test_lying_lengths(data: bytes, draw: st.DataObject) -> None:
    message = Message.from_bytes(data)
    apdu = message.general_signing_apdu()
    start = len(data) - len(apdu) - (12 if message.mac is not None else 0)
    # The positions of every length in the message: the DD length, date-time,
    # other-information, content and signature lengths.
    other_info_at = start + (30 if message.date_time is None else 42)
    positions = [other_info_at, other_info_at + 1 + 2 + len(message.extensions)]
    if message.mac is not None:
        positions.append(7)
    positions.append(start + 29)  # date-time length
    index = draw.draw(st.sampled_from(positions))
    lie = draw.draw(st.integers(min_value=0, max_value=255))
    assume(lie != data[index])
    check_decode(data[:index] + bytes([lie]) + data[index + 1 :])


@FUZZ
@given(real, st.binary(min_size=1, max_size=20), st.binary(min_size=1, max_size=20))
def test_garbage_before_and_after(data: bytes, before: bytes, after: bytes) -> None:
    appended = check_decode(data + after)
    # Only a pre-command (no signature byte) can take bytes after it: a signature field.
    assert appended is None or Message.from_bytes(data).signature_omitted
    if before[0] not in (0xDD, 0xDF):
        assert check_decode(before + data) is None
    else:
        check_decode(before + data)


@FUZZ
@given(real, st.data())
def test_a_changed_byte_never_leaves_a_valid_mac(data: bytes, draw: st.DataObject) -> None:
    verifier = conformance_verifier()
    if verifier is None:
        pytest.skip("../shared/conformance is absent: no keystore to check MACs with")
    assume(data != V18_4 and data[0] == 0xDD)
    assert verifier is not None
    index = draw.draw(st.integers(min_value=0, max_value=len(data) - 1))
    mask = draw.draw(st.integers(min_value=1, max_value=255))
    changed = bytearray(data)
    changed[index] ^= mask
    message = check_decode(bytes(changed))
    if message is not None:
        assert verifier.verify_mac(message) is not Check.VALID


eui = st.binary(min_size=8, max_size=8)
messages = st.builds(
    Message,
    cra=st.sampled_from(list(CRA)),
    originator_counter=st.integers(min_value=0, max_value=(1 << 64) - 1),
    business_originator=eui,
    business_target=eui,
    date_time=st.none() | st.binary(min_size=12, max_size=12),
    message_code=st.integers(min_value=0, max_value=0xFFFF),
    extensions=st.binary(max_size=300),
    content=st.binary(max_size=600),
    signature=st.none() | st.binary(min_size=64, max_size=64),
    mac=st.none() | st.binary(min_size=12, max_size=12),
)


@FUZZ
@given(messages)
def test_any_message_round_trips(message: Message) -> None:
    data = message.to_bytes()
    assert check_decode(data) == message


@FUZZ
@given(st.binary(max_size=120))
def test_gbt_blocks_raise_only_decode_errors(data: bytes) -> None:
    for candidate in (data, b"\xdd\x09" + data):
        try:
            block: GbtBlock | None = GbtBlock.from_bytes(candidate)
        except DecodeError:
            block = None
        if block is None:
            continue
        assert block.to_bytes() == candidate
        fields = {f.name: getattr(block, f.name) for f in dataclasses.fields(GbtBlock) if f.init}
        assert GbtBlock(**fields).to_bytes() == candidate
        with contextlib.suppress(DecodeError):
            GbtReassembler().add(block)


@FUZZ
@given(real, st.integers(min_value=8, max_value=100), st.randoms(use_true_random=False))
def test_gbt_reassembly_in_any_order(data: bytes, size: int, rng: object) -> None:
    blocks = gbt_blocks(Message.from_bytes(data), block_size=size)
    assert hasattr(rng, "shuffle")
    rng.shuffle(blocks)
    reassembler = GbtReassembler()
    results = [reassembler.add(b) for b in blocks]
    assert results[-1] == data
    assert all(r is None for r in results[:-1])


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_explain_never_raises(data: bytes) -> None:
    result = explain(data)
    assert (result.error is None) == (result.message is not None)
