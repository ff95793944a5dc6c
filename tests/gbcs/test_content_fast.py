"""The template fast paths of gbcs.content agree with the reference tree codecs: same bytes
out of every encoder, and every decoder gives the same value or the same error - for
arbitrary fields, for the reference vectors, and for mangled (truncated, flipped, extended)
encodings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gbcs import content as c
from gbcs.content.supply import _decode_script_tree
from gbcs.errors import DecodeError, EncodeError
from gbcs.frames import Message
from gbcs.payloads.dlms import AccessKind, AccessResult
from tests.gbcs.test_content import RTDS_COMMANDS, RTDS_RESPONSES
from tests.gbcs.untyped import UNTYPED, decode_typed, untyped_key
from tests.gbcs.vectors import CONFORMANCE_MESSAGES, read_message

EXAMPLES = settings(max_examples=100, deadline=None)

counters = st.one_of(
    st.integers(0, (1 << 64) - 1),
    st.integers(0, 0xFF_FFFF),
    st.integers(-(1 << 65), 1 << 66),  # out of range: both paths must fail alike
)
titles = st.one_of(st.binary(min_size=8, max_size=8), st.binary(max_size=300))
u32 = st.one_of(st.integers(0, (1 << 32) - 1), st.integers(-5, (1 << 33)))
scalers = st.one_of(st.integers(-128, 127), st.integers(-300, 300))


def outcome(f: Callable[[], object]) -> tuple[str, object]:
    """What calling ``f`` comes to: ("ok", value) or ("error", (type, message))."""
    try:
        return "ok", f()
    except Exception as exc:  # any difference counts
        return "error", (type(exc), str(exc))


def same(fast: Callable[[], object], reference: Callable[[], object]) -> tuple[str, object]:
    found, expected = outcome(fast), outcome(reference)
    assert found == expected
    return found


def mangled(data: bytes, drawn: st.DataObject) -> bytes:
    draw = drawn.draw
    """``data`` truncated, with a byte changed, inserted or appended."""
    how = draw(st.sampled_from(["truncate", "flip", "insert", "append", "same"]))
    if how == "same" or not data:
        return data
    at = draw(st.integers(0, len(data) - 1))
    if how == "truncate":
        return data[:at]
    if how == "flip":
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    if how == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=3)) + data[at:]
    return data + draw(st.binary(min_size=1, max_size=3))


# ---------------------------------------------------------------------------- ECS17b


@EXAMPLES
@given(counters, titles, titles, st.data())
def test_ecs17b_request(counter: int, requester: bytes, device: bytes, data: st.DataObject) -> None:
    cmd = c.ReadImportRegisters(counter, requester, device)
    kind, encoded = same(cmd.encode, cmd._encode_tree)
    if kind != "ok":
        return
    assert isinstance(encoded, bytes)
    assert c.ReadImportRegisters.decode(encoded) == cmd
    content = mangled(encoded, data)
    same(
        lambda: c.ReadImportRegisters.decode(content),
        lambda: c.ReadImportRegisters._decode_tree(content),
    )


@EXAMPLES
@given(u32, u32, st.one_of(st.none(), u32), scalers, scalers, st.data())
def test_ecs17b_registers(
    active: int,
    reactive: int,
    secondary: int | None,
    a_scaler: int,
    r_scaler: int,
    data: st.DataObject,
) -> None:
    registers = c.ImportRegisters(active, reactive, secondary, a_scaler, r_scaler)
    kind, plaintext = same(registers.to_plaintext, registers._plaintext_tree)
    if kind != "ok":
        return
    assert isinstance(plaintext, bytes)
    assert c.ImportRegisters.from_plaintext(plaintext) == registers
    mangled_plaintext = mangled(plaintext, data)
    same(
        lambda: c.ImportRegisters.from_plaintext(mangled_plaintext),
        lambda: c.ImportRegisters._from_plaintext_tree(mangled_plaintext),
    )


@EXAMPLES
@given(counters, titles, titles, st.binary(max_size=400), st.data())
def test_ecs17b_response(
    counter: int, device: bytes, requester: bytes, encrypted: bytes, data: st.DataObject
) -> None:
    rsp = c.ImportRegistersResponse(counter, device, requester, encrypted)
    kind, encoded = same(rsp.encode, rsp._encode_tree)
    if kind != "ok":
        return
    assert isinstance(encoded, bytes)
    assert c.ImportRegistersResponse.decode(encoded) == rsp
    content = mangled(encoded, data)
    same(
        lambda: c.ImportRegistersResponse.decode(content),
        lambda: c.ImportRegistersResponse._decode_tree(content),
    )
    same(
        lambda: c.decode_response(0x0027, content),
        lambda: _reference_first(
            (c.ImportRegistersResponse._decode_tree, c.Outcome._decode_tree), content
        ),
    )


def _reference_first(decoders: tuple[Callable[[bytes], object], ...], content: bytes) -> object:
    """decode_response with the reference decoders and encoders only."""
    errors = []
    for decoder in decoders:
        try:
            found = decoder(content)
            if found._encode_tree() != content:  # type: ignore[attr-defined]
                raise DecodeError(
                    f"{type(found).__name__}: content is not in the form GBCS devices send; "
                    "kept raw"
                )
        except (DecodeError, EncodeError, ValueError) as exc:
            errors.append(str(exc))
            continue
        return found
    raise DecodeError("response 0x0027: " + "; ".join(errors))


# ---------------------------------------------------------------- outcomes, ECS42/43/44, ECS52

results = st.lists(
    st.builds(
        AccessResult,
        st.sampled_from([AccessKind.GET, AccessKind.SET, AccessKind.ACTION]),
        st.one_of(st.integers(0, 255), st.integers(-2, 300)),
    ),
    max_size=140,
)


@EXAMPLES
@given(counters, results, st.data())
def test_outcome(counter: int, found: list[AccessResult], data: st.DataObject) -> None:
    rsp = c.Outcome(counter, tuple(found))
    kind, encoded = same(rsp.encode, rsp._encode_tree)
    if kind != "ok":
        return
    assert isinstance(encoded, bytes)
    assert c.Outcome.decode(encoded) == c.Outcome(counter & 0xFF_FFFF, tuple(found))
    content = mangled(encoded, data)
    same(lambda: c.Outcome.decode(content), lambda: c.Outcome._decode_tree(content))


SIMPLE_COMMANDS = [c.SupplyEnable, c.SupplyDisable, c.SupplyArm, c.ReadFirmwareVersion]


@EXAMPLES
@given(st.sampled_from(SIMPLE_COMMANDS), counters, st.data())
def test_fixed_requests(
    cls: type[c.SupplyEnable | c.SupplyDisable | c.SupplyArm | c.ReadFirmwareVersion],
    counter: int,
    data: st.DataObject,
) -> None:
    cmd = cls(counter)
    kind, encoded = same(cmd.encode, cmd._encode_tree)
    if kind != "ok":
        return
    assert isinstance(encoded, bytes)
    assert cls.decode(encoded) == cls(counter & 0xFF_FFFF)
    content = mangled(encoded, data)
    reference: Callable[[], object]
    if cls is c.ReadFirmwareVersion:
        reference = lambda: c.ReadFirmwareVersion._decode_tree(content)  # noqa: E731
    else:
        reference = lambda: cls(_decode_script_tree(content, cls.script))  # type: ignore[union-attr]  # noqa: E731
    same(lambda: cls.decode(content), reference)


# ---------------------------------------------------------------------------- vectors

_TREE_DECODERS: dict[type, Callable[[bytes], object]] = {
    c.ReadImportRegisters: c.ReadImportRegisters._decode_tree,
    c.ImportRegistersResponse: c.ImportRegistersResponse._decode_tree,
    c.Outcome: c.Outcome._decode_tree,
    c.ReadFirmwareVersion: c.ReadFirmwareVersion._decode_tree,
    c.SupplyEnable: lambda b: c.SupplyEnable(_decode_script_tree(b, c.SupplyEnable.script)),
    c.SupplyDisable: lambda b: c.SupplyDisable(_decode_script_tree(b, c.SupplyDisable.script)),
    c.SupplyArm: lambda b: c.SupplyArm(_decode_script_tree(b, c.SupplyArm.script)),
}


def _check_vector(typed: object, content: bytes) -> None:
    tree_decode = _TREE_DECODERS.get(type(typed))
    if tree_decode is None:
        return
    assert tree_decode(content) == typed
    assert typed._encode_tree() == content  # type: ignore[attr-defined]


@pytest.mark.parametrize(("code", "hexstr"), sorted(RTDS_COMMANDS.items()))
def test_rtds_commands_fast_and_reference_agree(code: int, hexstr: str) -> None:
    content = bytes.fromhex(hexstr)
    _check_vector(c.decode_command(code, content), content)


@pytest.mark.parametrize(("code", "hexstr", "ok"), RTDS_RESPONSES)
def test_rtds_responses_fast_and_reference_agree(code: int, hexstr: str, ok: bool) -> None:
    content = bytes.fromhex(hexstr)
    _check_vector(c.decode_response(code, content), content)


@pytest.mark.parametrize("name", CONFORMANCE_MESSAGES)
def test_conformance_fast_and_reference_agree(conformance: Path, name: str) -> None:
    message = Message.from_bytes(read_message(conformance, name))
    if untyped_key(message) in UNTYPED:
        # No typed codec, so no fast path to compare: the typed decoder must refuse it (the
        # generic tree's byte-exact round trip is checked in test_content).
        with pytest.raises(DecodeError):
            decode_typed(message)
        return
    _check_vector(decode_typed(message), message.content)


def test_ecs17b_plaintext_of_the_reference_layout() -> None:
    """The registers layout the fast path packs, spelled out (RTDS ECS17b plaintext shape)."""
    registers = c.ImportRegisters(0x3039, 0x2A6, None, -1, 2)
    assert registers.to_plaintext().hex() == (
        "02010204060000303902020fff161e06000002a602020f021620"
    )
    twin = c.ImportRegisters(1, 2, 3)
    assert twin.to_plaintext() == twin._plaintext_tree()
    assert c.ImportRegisters.from_plaintext(twin.to_plaintext()) == twin


# ------------------------------------------------------------ ECS17b: the device's one step

valid_counters = st.one_of(st.integers(0, (1 << 64) - 1), st.integers(0, 0xFF_FFFF))
short_titles = st.one_of(st.binary(min_size=8, max_size=8), st.binary(max_size=0x7F))
valid_u32 = st.integers(0, (1 << 32) - 1)


@EXAMPLES
@given(valid_u32, valid_u32, st.one_of(st.none(), valid_u32))
def test_ecs17b_fused_plaintext_is_the_general_one(
    active: int, reactive: int, secondary: int | None
) -> None:
    expected = c.ImportRegisters(active, reactive, secondary)._plaintext_tree()
    assert c.ecs17b_registers_plaintext(active, reactive, secondary) == expected


@EXAMPLES
@given(valid_counters, short_titles, short_titles, st.binary(max_size=300))
def test_ecs17b_fused_response_is_the_general_one(
    counter: int, requester: bytes, device: bytes, encrypted: bytes
) -> None:
    request = c.ReadImportRegisters(counter, requester, device)._encode_tree()
    assert c.ecs17b_request_fields(request) == (counter, requester, device)
    expected = c.ImportRegistersResponse(counter, device, requester, encrypted)._encode_tree()
    assert c.ecs17b_response_content(request, encrypted) == expected


def test_ecs17b_fused_response_refuses_other_content() -> None:
    with pytest.raises(EncodeError, match="ECS17b request"):
        c.ecs17b_response_content(bytes.fromhex(RTDS_COMMANDS[0x0050]), b"\x31")


@pytest.mark.parametrize(
    "name",
    [n for n in CONFORMANCE_MESSAGES if "ECS17b" in n and "SUCCESS_RESPONSE" in n],
)
def test_ecs17b_fused_response_of_the_real_responses(conformance: Path, name: str) -> None:
    """The real ECS17b responses, written again from the request they answer."""
    message = Message.from_bytes(read_message(conformance, name))
    rsp = c.ImportRegistersResponse.decode(message.content)
    request = c.ReadImportRegisters(rsp.counter, rsp.requester, rsp.device).encode()
    assert c.ecs17b_response_content(request, rsp.encrypted) == message.content
