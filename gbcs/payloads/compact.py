"""A-XDR data with DLMS compact arrays (tag 0x13), read-only, as a JSON-able tree.

GBCS profile and log responses (ECS20c, ECS21a/b, ECS22b, ECS66, the ECS68 alert) carry their
decrypted registers as ``compact-array``s, which :func:`gbcs.payloads.dlms.decode_data` does
not read. A compact array is a type description followed by an octet-string of the values
without their tags (DLMS Blue Book, ``compact-array``)::

    13 | type-description | A-XDR length | contents
    type-description: simple tag | 01 count(2) type-description | 02 count(A-XDR) type-description*

The contents repeat the described type until they end.
"""

from __future__ import annotations

from typing import Any

from gbcs.errors import DecodeError
from gbcs.payloads._buf import Reader
from gbcs.payloads.axdr import DataType, Integer, integer_type, read_data

__all__ = ["COMPACT_ARRAY", "decode_tree"]

COMPACT_ARRAY = 0x13
_MAX_DEPTH = 16
_WIDEST = 12  # the widest fixed-size A-XDR value (date-time)
_LENGTH_PREFIXED = (
    DataType.OCTET_STRING,
    DataType.VISIBLE_STRING,
    DataType.UTF8_STRING,
    DataType.BIT_STRING,
)

# A type description: a simple tag, ("array", count, description) or ("structure", descriptions).
_Description = int | tuple[Any, ...]


def _description(r: Reader, depth: int) -> _Description:
    if depth > _MAX_DEPTH:
        raise DecodeError("compact-array type description nested too deeply", r.pos)
    tag = r.u8("type description")
    if tag == DataType.ARRAY:
        count = r.u16("compact-array element count")
        return ("array", count, _description(r, depth + 1))
    if tag == DataType.STRUCTURE:
        n = r.axdr_length("structure description count")
        if n > r.remaining:
            raise DecodeError(f"structure description of {n} types in {r.remaining} bytes", r.pos)
        return ("structure", tuple(_description(r, depth + 1) for _ in range(n)))
    try:
        DataType(tag)
    except ValueError:
        raise DecodeError(f"unknown type 0x{tag:02x} in a compact-array", r.pos - 1) from None
    return tag


def _takes_no_bytes(description: _Description) -> bool:
    """Whether a value of this description can be written in no bytes (null-data,
    dont-care, or arrays and structures of nothing else)."""
    if isinstance(description, tuple):
        if description[0] == "array":
            return bool(description[1] == 0 or _takes_no_bytes(description[2]))
        return all(_takes_no_bytes(d) for d in description[1])
    return description in (DataType.NULL, DataType.DONT_CARE)


def _check_description(description: _Description, at: int) -> None:
    """Refuse an array of values that take no bytes: nothing in the contents bounds how many
    items it makes (an array of 65535 arrays of 65535 nulls is four billion, from no bytes)."""
    if isinstance(description, tuple):
        inner = description[2:] if description[0] == "array" else description[1]
        if description[0] == "array" and description[1] and _takes_no_bytes(description[2]):
            raise DecodeError("a compact-array description has an array of values of no bytes", at)
        for d in inner:
            _check_description(d, at)


def _untagged(r: Reader, description: _Description) -> Any:
    """One value without its tag, as the description says."""
    if isinstance(description, tuple):
        if description[0] == "array":
            _, count, inner = description
            return {"type": "array", "items": [_untagged(r, inner) for _ in range(count)]}
        return {"type": "structure", "items": [_untagged(r, d) for d in description[1]]}
    integer = integer_type(description)
    if integer is not None and r.pos + integer[1] <= r.end:  # most of a profile: in place
        t, width, signed = integer
        raw = r.take(width, "compact-array value")
        return Integer(t, int.from_bytes(raw, "big", signed=signed)).as_tree()
    # A simple type: its bytes are those of the tagged form without the tag byte, so the
    # tagged reader decodes them once the tag is put back.
    if description in _LENGTH_PREFIXED:
        start = r.pos
        n = r.axdr_length("compact-array value length")
        size = (n + 7) // 8 if description == DataType.BIT_STRING else n
        r.take(size, "compact-array value")
        return read_data(Reader(bytes([description]) + r.data[start : r.pos])).as_tree()
    probe = Reader(bytes([description]) + r.data[r.pos : min(r.end, r.pos + _WIDEST)])
    value = read_data(probe)
    r.take(probe.pos - 1, "compact-array value")
    return value.as_tree()


def _tree(r: Reader, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        raise DecodeError("A-XDR data nested too deeply", r.pos)
    tag = r.peek()
    if tag == COMPACT_ARRAY:
        r.u8("data tag")
        described = r.pos
        description = _description(r, depth)
        n = r.axdr_length("compact-array contents length")
        contents = Reader(r.take(n, "compact-array contents"))
        if n:
            if _takes_no_bytes(description):
                # The values would never use the contents up: the loop below would not end.
                raise DecodeError("compact-array values of no bytes in its contents", described)
            _check_description(description, described)
        items = []
        while not contents.at_end():
            items.append(_untagged(contents, description))
        return {"type": "compact-array", "items": items}
    if tag in (DataType.ARRAY, DataType.STRUCTURE):
        start = r.pos
        r.u8("data tag")
        n = r.axdr_length("element count")
        if n > r.remaining:
            raise DecodeError(f"{n} elements in {r.remaining} bytes", start)
        name = "array" if tag == DataType.ARRAY else "structure"
        return {"type": name, "items": [_tree(r, depth + 1) for _ in range(n)]}
    return read_data(r).as_tree()


def decode_tree(data: bytes) -> Any:
    """Exactly one A-XDR value spanning ``data`` (compact arrays included), as a tree;
    :class:`DecodeError` otherwise."""
    r = Reader(data)
    tree = _tree(r, 0)
    r.expect_end("A-XDR data")
    return tree
