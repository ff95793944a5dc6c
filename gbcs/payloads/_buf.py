"""A bounds-checked byte reader shared by the payload codecs (private).

Every read past the end raises :class:`gbcs.errors.DecodeError` with the offset, so a
codec never leaks an ``IndexError`` or ``struct.error`` on truncated input.
"""

from __future__ import annotations

from gbcs.errors import DecodeError, EncodeError


class Reader:
    """Reads ``data`` from ``pos`` forward; ``end`` bounds the readable span."""

    __slots__ = ("data", "end", "minimal", "pos")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end
        self.minimal = True
        """False once :meth:`axdr_length` has read a length in a longer form than needed
        (which an encoder writing the minimal form would not give back)."""

    @property
    def remaining(self) -> int:
        return self.end - self.pos

    def at_end(self) -> bool:
        return self.pos >= self.end

    def take(self, n: int, what: str = "bytes") -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise DecodeError(
                f"truncated: {what} needs {n} byte(s), {self.remaining} left", self.pos
            )
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u8(self, what: str = "byte") -> int:
        # The decoders' most frequent read, inlined rather than through take().
        pos = self.pos
        if pos >= self.end:
            raise DecodeError(f"truncated: {what} needs 1 byte(s), {self.remaining} left", pos)
        self.pos = pos + 1
        return self.data[pos]

    def u16(self, what: str = "16-bit value") -> int:
        return int.from_bytes(self.take(2, what), "big")

    def u32(self, what: str = "32-bit value") -> int:
        return int.from_bytes(self.take(4, what), "big")

    def peek(self) -> int:
        if self.pos >= self.end:
            raise DecodeError("truncated: expected another byte", self.pos)
        return self.data[self.pos]

    def rest(self) -> bytes:
        return self.take(self.remaining)

    def axdr_length(self, what: str = "length") -> int:
        """An A-XDR / BER definite length: one byte below 0x80, else 0x8N and N bytes."""
        first = self.u8(what)
        if first < 0x80:
            return first
        n = first & 0x7F
        if n == 0 or n > 4:
            raise DecodeError(f"unsupported {what} encoding 0x{first:02x}", self.pos - 1)
        value = int.from_bytes(self.take(n, what), "big")
        if value < 0x80 or not value >> (8 * (n - 1)):  # fewer bytes would hold it
            self.minimal = False
        return value

    def expect_end(self, what: str) -> None:
        if self.pos != self.end:
            raise DecodeError(f"{self.remaining} unexpected byte(s) after {what}", self.pos)


def axdr_length(n: int) -> bytes:
    """Minimal A-XDR / BER definite length encoding of ``n``."""
    if n < 0:
        raise EncodeError(f"negative length {n}")
    if n < 0x80:
        return bytes([n])
    size = (n.bit_length() + 7) // 8
    if size > 4:
        raise EncodeError(f"length {n} too large")
    return bytes([0x80 | size]) + n.to_bytes(size, "big")


def hexs(data: bytes) -> str:
    """Lowercase hex, the form used in trees."""
    return data.hex()
