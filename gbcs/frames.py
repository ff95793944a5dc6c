"""GBCS envelopes: General-Ciphering (MAC'd), bare General-Signing, and GBT blocks.

Callers get frozen dataclasses (:class:`Message`, :class:`GbtBlock`) with symmetric
``from_bytes`` / ``to_bytes``. Decoding is strict so that whatever decodes re-encodes byte for
byte: BER lengths must be minimal, fixed header bytes must have their fixed values, and nothing
may follow the end of a message.

Because the codec sits on the hot path of every device and of the gateway (hundreds of messages
a second on a shared core), :meth:`Message.from_bytes` and :meth:`Message.to_bytes` are written
by hand over ``struct`` and slices; ``tests/gbcs/test_frames.py`` checks them against every
conformance vector (byte-exact round trips) and against byte layouts written out in full.
"""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from gbcs.codes import (
    CRA,
    DATE_TIME_LENGTH,
    MAC_LENGTH,
    SIGNATURE_LENGTH,
    TAG_GENERAL_BLOCK_TRANSFER,
    TAG_GENERAL_CIPHERING,
    TAG_GENERAL_SIGNING,
)
from gbcs.errors import DecodeError, EncodeError

__all__ = [
    "GbtBlock",
    "GbtReassembler",
    "Message",
    "ber_length",
    "decode_ber_length",
    "gbt_blocks",
    "reassemble_gbt",
]

_SECURITY_HEADER = b"\x11\x00\x00\x00\x00"  # security control 11 (authentication only), IC 0
_SECURITY_HEADER_LENGTH = len(_SECURITY_HEADER)
_CIPHERING_PREFIX = b"\xdd\x00\x00\x00\x00\x00\x00"
_MAX_BER_LENGTH = 0xFFFF

# --------------------------------------------------------------------------------------------
# BER definite lengths
# --------------------------------------------------------------------------------------------


def ber_length(n: int) -> bytes:
    """The minimal BER definite length of ``n``: ``< 0x80`` one byte, ``81 xx``, ``82 xx xx``."""
    if n < 0x80:
        if n < 0:
            raise EncodeError(f"a length cannot be negative: {n}")
        return bytes((n,))
    if n <= 0xFF:
        return bytes((0x81, n))
    if n <= _MAX_BER_LENGTH:
        return bytes((0x82, n >> 8, n & 0xFF))
    raise EncodeError(f"length {n} is too long for a GBCS element (at most {_MAX_BER_LENGTH})")


def decode_ber_length(data: bytes, pos: int) -> tuple[int, int]:
    """Read a minimal BER definite length at ``pos``; return ``(length, position after it)``."""
    try:
        first = data[pos]
    except IndexError:
        raise DecodeError(f"truncated: a length was expected at byte {pos}", pos) from None
    if first < 0x80:
        return first, pos + 1
    if first == 0x81:
        if pos + 2 > len(data):
            raise DecodeError(f"truncated length at byte {pos}", pos)
        n = data[pos + 1]
        if n < 0x80:
            raise DecodeError(f"non-minimal length 81 {n:02x} at byte {pos}", pos)
        return n, pos + 2
    if first == 0x82:
        if pos + 3 > len(data):
            raise DecodeError(f"truncated length at byte {pos}", pos)
        n = (data[pos + 1] << 8) | data[pos + 2]
        if n <= 0xFF:
            raise DecodeError(f"non-minimal length 82 {n:04x} at byte {pos}", pos)
        return n, pos + 3
    raise DecodeError(f"unsupported length byte {first:02x} at byte {pos}", pos)


# --------------------------------------------------------------------------------------------
# Message
# --------------------------------------------------------------------------------------------


def _check_eui(name: str, value: bytes) -> None:
    if type(value) is not bytes or len(value) != 8:
        raise EncodeError(f"{name} must be 8 bytes, got {value!r}")


@dataclass(frozen=True, slots=True)
class Message:
    """One GBCS message (command, response or alert), in either shape.

    ``mac`` set means the MAC'd shape (General-Ciphering around General-Signing); ``mac`` None
    means the bare General-Signing shape. ``signature`` is the raw 64-byte r||s or None when the
    signature field is ``00``; ``signature_omitted`` marks a pre-command whose signature byte is
    absent altogether.
    """

    cra: CRA
    originator_counter: int
    business_originator: bytes
    business_target: bytes
    date_time: bytes | None
    message_code: int
    extensions: bytes
    content: bytes
    signature: bytes | None
    signature_omitted: bool = False
    mac: bytes | None = None
    # The encoded General-Signing APDU, cached (set by from_bytes, or on first use).
    _apdu: bytes | None = field(default=None, init=False, repr=False, compare=False)

    MAC_LENGTH: ClassVar[int] = MAC_LENGTH

    def __post_init__(self) -> None:
        if type(self.cra) is not CRA:
            try:
                object.__setattr__(self, "cra", CRA(self.cra))
            except ValueError:
                raise EncodeError(f"CRA flag must be 1, 2 or 3, got {self.cra!r}") from None
        counter = self.originator_counter
        if type(counter) is not int or not 0 <= counter < 1 << 64:
            raise EncodeError(f"originator counter must be an unsigned 64-bit int, got {counter!r}")
        _check_eui("business originator", self.business_originator)
        _check_eui("business target", self.business_target)
        dt = self.date_time
        if dt is not None and (type(dt) is not bytes or len(dt) != DATE_TIME_LENGTH):
            raise EncodeError(f"date-time must be None or 12 bytes, got {dt!r}")
        code = self.message_code
        if type(code) is not int or not 0 <= code <= 0xFFFF:
            raise EncodeError(f"message code must be a 2-byte unsigned int, got {code!r}")
        if type(self.extensions) is not bytes or len(self.extensions) > _MAX_BER_LENGTH - 2:
            raise EncodeError("extensions must be bytes of at most 65533")
        if type(self.content) is not bytes or len(self.content) > _MAX_BER_LENGTH:
            raise EncodeError("content must be bytes of at most 65535")
        sig = self.signature
        if sig is not None:
            if type(sig) is not bytes or len(sig) != SIGNATURE_LENGTH:
                raise EncodeError(f"signature must be None or 64 bytes (r||s), got {sig!r}")
            if self.signature_omitted:
                raise EncodeError("a message cannot both carry a signature and omit its field")
        mac = self.mac
        if mac is not None and (type(mac) is not bytes or len(mac) != MAC_LENGTH):
            raise EncodeError(f"MAC must be None or 12 bytes, got {mac!r}")

    # ---- derived values --------------------------------------------------------------------

    @property
    def transaction_id(self) -> bytes:
        """CRA flag || originator counter (9 bytes)."""
        return bytes((self.cra,)) + self.originator_counter.to_bytes(8, "big")

    @property
    def is_maced(self) -> bool:
        """True for the General-Ciphering (MAC'd) shape."""
        return self.mac is not None

    def general_signing_apdu(self) -> bytes:
        """The General-Signing APDU, ``DF`` to the end of the signature field.

        This is the tail of the MAC's additional authenticated data.
        """
        apdu = self._apdu
        if apdu is None:
            apdu = self._encode_apdu()
            object.__setattr__(self, "_apdu", apdu)
        return apdu

    def signed_bytes(self) -> bytes:
        """The span the ECDSA signature covers: the APDU without ``DF`` and the signature field."""
        apdu = self.general_signing_apdu()
        if self.signature_omitted:
            return apdu[1:]
        if self.signature is None:
            return apdu[1:-1]
        return apdu[1 : -1 - SIGNATURE_LENGTH]

    def _copy(self) -> Message:
        new = object.__new__(Message)
        _set = object.__setattr__
        for name in _MESSAGE_FIELDS:
            _set(new, name, getattr(self, name))
        return new

    def with_mac(self, mac: bytes | None) -> Message:
        """The same message with ``mac`` (None: the bare General-Signing shape).

        Cheaper than ``dataclasses.replace``: the encoded APDU is kept, as it does not change.
        """
        if mac is not None and (type(mac) is not bytes or len(mac) != MAC_LENGTH):
            raise EncodeError(f"MAC must be None or 12 bytes, got {mac!r}")
        new = self._copy()
        object.__setattr__(new, "mac", mac)
        object.__setattr__(new, "_apdu", self._apdu)
        return new

    def without_mac(self) -> Message:
        """The same message in the bare General-Signing shape."""
        return self.with_mac(None)

    def with_signature(self, signature: bytes | None, *, omitted: bool = False) -> Message:
        """The same message with ``signature`` (raw r||s, or None for the ``00`` field; with
        ``omitted`` the field is left out) and no MAC (a MAC would no longer match)."""
        if signature is not None:
            if type(signature) is not bytes or len(signature) != SIGNATURE_LENGTH:
                raise EncodeError(f"signature must be None or 64 bytes (r||s), got {signature!r}")
            if omitted:
                raise EncodeError("a message cannot both carry a signature and omit its field")
        new = self._copy()
        object.__setattr__(new, "signature", signature)
        object.__setattr__(new, "signature_omitted", omitted)
        object.__setattr__(new, "mac", None)
        object.__setattr__(new, "_apdu", None)
        return new

    # ---- encoding --------------------------------------------------------------------------

    def _encode_apdu(self) -> bytes:
        extensions = self.extensions
        content = self.content
        dt = self.date_time
        if self.signature_omitted:
            sig = b""
        elif self.signature is None:
            sig = b"\x00"
        else:
            sig = b"\x40" + self.signature
        n = len(content)
        content_length = _SHORT_LENGTHS[n] if n < 0x80 else ber_length(n)
        if dt is None and len(extensions) < 0x7E:
            # The usual shape: DF 09 CRA counter 08 originator 08 target 00 len code, one pack.
            head = _GS_HEAD_NO_DATE.pack(
                0xDF,
                0x09,
                self.cra,
                self.originator_counter,
                0x08,
                self.business_originator,
                0x08,
                self.business_target,
                0x00,
                2 + len(extensions),
                self.message_code,
            )
            return b"".join((head, extensions, content_length, content, sig))
        other = self.message_code.to_bytes(2, "big") + extensions
        return b"".join(
            (
                _GS_HEADER.pack(
                    0xDF,
                    0x09,
                    self.cra,
                    self.originator_counter,
                    0x08,
                    self.business_originator,
                    0x08,
                    self.business_target,
                ),
                b"\x00" if dt is None else b"\x0c" + dt,
                ber_length(len(other)),
                other,
                content_length,
                content,
                sig,
            )
        )

    def to_bytes(self) -> bytes:
        """The message on the wire."""
        apdu = self._apdu
        if apdu is None:
            apdu = self.general_signing_apdu()
        mac = self.mac
        if mac is None:
            return apdu
        n = _SECURITY_HEADER_LENGTH + len(apdu) + MAC_LENGTH
        if n <= 0xFF:
            return b"".join((_CIPHERING_HEADS[n], apdu, mac))
        return b"".join((_CIPHERING_PREFIX, ber_length(n), _SECURITY_HEADER, apdu, mac))

    # ---- decoding --------------------------------------------------------------------------

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> Message:
        """Decode one message in either shape. Raises :class:`DecodeError` only."""
        if type(data) is not bytes:
            data = bytes(data)
        n = len(data)
        if n == 0:
            raise DecodeError("empty input: a GBCS message starts with DD or DF", 0)
        # The usual General-Ciphering head (DD 00..00, a 1- or 2-byte length that matches the
        # size, the security header, DF): one lookup stands for the checks below.
        fast = _CIPHERING_HEADS_FOUND.get(data[:_CIPHERING_HEAD_KEY])
        if fast is not None and fast[0] == n:
            return _decode_general_signing(cls, data, fast[1], n - MAC_LENGTH, data[-MAC_LENGTH:])
        tag = data[0]
        if tag == TAG_GENERAL_SIGNING:
            return _decode_general_signing(cls, data, 0, n, None)
        if tag != TAG_GENERAL_CIPHERING:
            raise DecodeError(f"not a GBCS message: starts with {tag:02x}, expected DD or DF", 0)
        if n > 1 and data[1] == 0x09:
            raise DecodeError(
                "this is a GBT block, not a whole message: reassemble the blocks first", 0
            )
        if n < 8:
            raise DecodeError(f"truncated: {n} bytes is too short for a GBCS message", n)
        if data[:7] != _CIPHERING_PREFIX:
            raise DecodeError(
                "unsupported General-Ciphering header: expected DD 00 00 00 00 00 00, got "
                + data[:7].hex(" "),
                0,
            )
        length = data[7]
        if length < 0x80:
            pos = 8
        elif length == 0x81 and n > 8 and data[8] >= 0x80:
            length = data[8]
            pos = 9
        else:
            length, pos = decode_ber_length(data, 7)
        if pos + length != n:
            if pos + length > n:
                raise DecodeError(
                    f"truncated: the General-Ciphering length says {length} bytes follow, "
                    f"only {n - pos} do",
                    pos,
                )
            raise DecodeError(f"{n - pos - length} unexpected bytes after the MAC", pos + length)
        if length < _SECURITY_HEADER_LENGTH + MAC_LENGTH + 1:
            raise DecodeError(f"General-Ciphering length {length} is too short", 7)
        if data[pos : pos + _SECURITY_HEADER_LENGTH] != _SECURITY_HEADER:
            raise DecodeError(
                "unsupported security header: expected 11 00000000, got "
                + data[pos : pos + _SECURITY_HEADER_LENGTH].hex(" "),
                pos,
            )
        start = pos + _SECURITY_HEADER_LENGTH
        end = n - MAC_LENGTH
        if data[start] != TAG_GENERAL_SIGNING:
            raise DecodeError(
                f"expected a General-Signing APDU (DF) inside General-Ciphering, got "
                f"{data[start]:02x}",
                start,
            )
        return _decode_general_signing(cls, data, start, end, data[end:])


def _decode_general_signing(
    cls: type[Message], data: bytes, s: int, e: int, mac: bytes | None
) -> Message:
    """Decode the General-Signing APDU in ``data[s:e]``, which it must fill exactly."""
    if s + 30 > e:
        raise DecodeError(f"truncated: a General-Signing APDU is at least 30 bytes, got {e - s}", s)
    if s + 34 <= e:
        # Room for the usual head: no date-time, other-information 02 and the message code.
        (_tag, tid_len, cra, counter, orig_len, originator, target_len, target, dt_len, oi_len,
         message_code, _) = _GS_USUAL_HEAD.unpack_from(data, s)  # fmt: skip
    else:
        _tag, tid_len, cra, counter, orig_len, originator, target_len, target = (
            _GS_HEADER.unpack_from(data, s)
        )
        dt_len = oi_len = -1
    if tid_len != 0x09:
        raise DecodeError(f"transaction-id length must be 09, got {tid_len:02x}", s + 1)
    if not 1 <= cra <= 3:
        raise DecodeError(f"CRA flag must be 1, 2 or 3, got {cra}", s + 2)
    if orig_len != 8 or target_len != 8:
        raise DecodeError("business originator and target must each be 08 + 8 bytes", s + 11)
    if dt_len == 0 and oi_len == 2:
        # = what _date_and_other_information finds for that head (nothing can fail there)
        date_time = None
        extensions = b""
        q = s + 33
    else:
        date_time, message_code, extensions, q = _date_and_other_information(data, s + 29, e)
    c_len = data[q]
    if c_len < 0x80:
        p = q + 1
    elif c_len == 0x81 and q + 1 < e and data[q + 1] >= 0x80:
        c_len = data[q + 1]
        p = q + 2
    else:
        c_len, p = decode_ber_length(data, q)
    q = p + c_len
    if q > e:
        raise DecodeError(
            f"truncated: the content length says {c_len} bytes, only {e - p} remain", p
        )
    content = data[p:q]
    omitted = False
    signature: bytes | None = None
    if q == e:
        omitted = True
    else:
        sig_len = data[q]
        if sig_len == 0:
            q += 1
        elif sig_len == SIGNATURE_LENGTH:
            if q + 1 + SIGNATURE_LENGTH > e:
                raise DecodeError("truncated signature", q)
            signature = data[q + 1 : q + 1 + SIGNATURE_LENGTH]
            q += 1 + SIGNATURE_LENGTH
        else:
            raise DecodeError(f"signature length must be 00 or 40, got {sig_len:02x}", q)
        if q != e:
            raise DecodeError(f"{e - q} unexpected bytes after the signature field", q)
    # Every field was checked above: skip __init__'s validation (this is the hot path), and
    # set the slots through their descriptors (cheaper than object.__setattr__ by name).
    message = object.__new__(cls)
    _set_cra(message, _CRAS[cra])
    _set_counter(message, counter)
    _set_originator(message, originator)
    _set_target(message, target)
    _set_date_time(message, date_time)
    _set_message_code(message, message_code)
    _set_extensions(message, extensions)
    _set_content(message, content)
    _set_signature(message, signature)
    _set_omitted(message, omitted)
    _set_mac(message, mac)
    _set_apdu(message, data[s:e] if (s or e != len(data)) else data)
    return message


def _date_and_other_information(
    data: bytes, p: int, e: int
) -> tuple[bytes | None, int, bytes, int]:
    """From the date-time element at ``p``: (date-time, message code, extensions, where the
    content length starts), for :func:`_decode_general_signing`."""
    dt_len = data[p]
    if dt_len == 0:
        date_time = None
        p += 1
    elif dt_len == DATE_TIME_LENGTH:
        if p + 13 > e:
            raise DecodeError("truncated date-time", p)
        date_time = data[p + 1 : p + 13]
        p += 13
    else:
        raise DecodeError(f"date-time length must be 00 or 0C, got {dt_len:02x}", p)
    oi_len = data[p] if p < e else 0x80  # (past the end: decode_ber_length says why)
    if oi_len < 0x80:
        p += 1
    else:
        oi_len, p = decode_ber_length(data, p)
    if oi_len < 2:
        raise DecodeError(
            f"other-information length {oi_len} is too short for a message code", p - 1
        )
    q = p + oi_len
    if q > e:
        raise DecodeError("truncated other-information", p)
    message_code = (data[p] << 8) | data[p + 1]
    extensions = data[p + 2 : q]
    if q >= e:
        raise DecodeError("truncated: the content length is missing", q)
    return date_time, message_code, extensions, q


_CRAS = {int(c): c for c in CRA}


def _slot_setter(name: str) -> Any:
    """The ``__set__`` of one of Message's slots (frozen: only the codec sets them)."""
    return Message.__dict__[name].__set__


_set_cra = _slot_setter("cra")
_set_counter = _slot_setter("originator_counter")
_set_originator = _slot_setter("business_originator")
_set_target = _slot_setter("business_target")
_set_date_time = _slot_setter("date_time")
_set_message_code = _slot_setter("message_code")
_set_extensions = _slot_setter("extensions")
_set_content = _slot_setter("content")
_set_signature = _slot_setter("signature")
_set_omitted = _slot_setter("signature_omitted")
_set_mac = _slot_setter("mac")
_set_apdu = _slot_setter("_apdu")
_GS_HEADER = struct.Struct(">BBBQB8sB8s")  # DF 09 CRA counter 08 originator 08 target
_GS_USUAL_HEAD = struct.Struct(">BBBQB8sB8sBBHB")  # ... date-time length, OI length, code, 1
_GS_HEAD_NO_DATE = struct.Struct(">BBBQB8sB8sBBH")  # ... target, 00 (no date-time), len, code
_SHORT_LENGTHS = [bytes((n,)) for n in range(0x80)]
_CIPHERING_HEADS = [_CIPHERING_PREFIX + ber_length(n) + _SECURITY_HEADER for n in range(0x100)]
"""DD 00..00, the General-Ciphering length (up to FF), security header: by length."""
_CIPHERING_HEAD_KEY = 15
_CIPHERING_HEADS_FOUND: dict[bytes, tuple[int, int]] = {
    # a one-byte length: the head and DF 09 (at least a security header, DF and a MAC follow)
    **{
        (_CIPHERING_HEADS[n] + b"\xdf\x09"): (8 + n, 13)
        for n in range(_SECURITY_HEADER_LENGTH + MAC_LENGTH + 1, 0x80)
    },
    # 81 xx: the head and DF
    **{(_CIPHERING_HEADS[n] + b"\xdf"): (9 + n, 14) for n in range(0x80, 0x100)},
}
"""The first 15 bytes of a well-formed General-Ciphering message with a length up to FF
-> (the message's size, where its General-Signing APDU starts)."""
_MESSAGE_FIELDS = tuple(f.name for f in dataclasses.fields(Message) if f.init)


# --------------------------------------------------------------------------------------------
# GBT (General Block Transfer)
# --------------------------------------------------------------------------------------------

GBT_LAST_BLOCK = 0x80
GBT_STREAMING = 0x40
GBT_WINDOW_MASK = 0x3F


@dataclass(frozen=True, slots=True)
class GbtBlock:
    """One GBT block: the routing header of its message, then a General-Block-Transfer APDU.

    Block numbers start at 1; the last block has ``0x80`` in its block control.
    """

    cra: CRA
    originator_counter: int
    business_originator: bytes
    business_target: bytes
    message_code: int
    block_number: int
    data: bytes
    block_control: int = 0
    block_number_ack: int = 0
    extensions: bytes = b""
    security_control: int = 0x00
    invocation_counter: bytes = bytes(4)

    @property
    def last(self) -> bool:
        return bool(self.block_control & GBT_LAST_BLOCK)

    @property
    def streaming(self) -> bool:
        return bool(self.block_control & GBT_STREAMING)

    @property
    def window(self) -> int:
        return self.block_control & GBT_WINDOW_MASK

    def __post_init__(self) -> None:
        if type(self.cra) is not CRA:
            try:
                object.__setattr__(self, "cra", CRA(self.cra))
            except ValueError:
                raise EncodeError(f"CRA flag must be 1, 2 or 3, got {self.cra!r}") from None
        if not 0 <= self.originator_counter < 1 << 64:
            raise EncodeError(f"originator counter out of range: {self.originator_counter}")
        _check_eui("business originator", self.business_originator)
        _check_eui("business target", self.business_target)
        for name, value, top in (
            ("message code", self.message_code, 0xFFFF),
            ("block number", self.block_number, 0xFFFF),
            ("block number ack", self.block_number_ack, 0xFFFF),
            ("block control", self.block_control, 0xFF),
            ("security control", self.security_control, 0xFF),
        ):
            if type(value) is not int or not 0 <= value <= top:
                raise EncodeError(f"GBT {name} out of range: {value!r}")
        if len(self.invocation_counter) != 4:
            raise EncodeError("GBT invocation counter must be 4 bytes")
        if len(self.extensions) > _MAX_BER_LENGTH - 2:
            raise EncodeError("GBT other-information extensions too long")
        if len(self.data) > _MAX_BER_LENGTH - 32:
            raise EncodeError(f"GBT block data too long: {len(self.data)} bytes")

    def to_bytes(self) -> bytes:
        other = self.message_code.to_bytes(2, "big") + self.extensions
        gbt = b"".join(
            (
                bytes((self.security_control,)),
                self.invocation_counter,
                bytes((TAG_GENERAL_BLOCK_TRANSFER, self.block_control)),
                self.block_number.to_bytes(2, "big"),
                self.block_number_ack.to_bytes(2, "big"),
                ber_length(len(self.data)),
                self.data,
            )
        )
        return b"".join(
            (
                b"\xdd\x09",
                bytes((self.cra,)),
                self.originator_counter.to_bytes(8, "big"),
                b"\x08",
                self.business_originator,
                b"\x08",
                self.business_target,
                b"\x00",
                ber_length(len(other)),
                other,
                b"\x00",
                ber_length(len(gbt)),
                gbt,
            )
        )

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> GbtBlock:
        """Decode one GBT block. Raises :class:`DecodeError` only."""
        d = bytes(data)
        n = len(d)
        if n < 32 or d[0] != TAG_GENERAL_CIPHERING or d[1] != 0x09:
            raise DecodeError("not a GBT block: expected DD 09 and at least 32 bytes", 0)
        cra = d[2]
        if not 1 <= cra <= 3:
            raise DecodeError(f"CRA flag must be 1, 2 or 3, got {cra}", 2)
        if d[11] != 8 or d[20] != 8 or d[29] != 0:
            raise DecodeError("GBT routing header: bad EUI or date-time element", 11)
        oi_len, p = decode_ber_length(d, 30)
        if oi_len < 2 or p + oi_len + 1 > n:
            raise DecodeError("GBT routing header: bad other-information", 30)
        code = (d[p] << 8) | d[p + 1]
        extensions = d[p + 2 : p + oi_len]
        p += oi_len
        if d[p] != 0:
            raise DecodeError("GBT routing header: key-info must be empty (00)", p)
        length, p = decode_ber_length(d, p + 1)
        if p + length != n:
            raise DecodeError("GBT block length does not match its size", p)
        if length < 12 or d[p + 5] != TAG_GENERAL_BLOCK_TRANSFER:
            raise DecodeError("not a General-Block-Transfer APDU (E0)", p + 5)
        data_len, q = decode_ber_length(d, p + 11)
        if q + data_len != n:
            raise DecodeError("GBT block data length does not match its size", p + 11)
        block = object.__new__(cls)
        _set = object.__setattr__
        _set(block, "cra", _CRAS[cra])
        _set(block, "originator_counter", int.from_bytes(d[3:11], "big"))
        _set(block, "business_originator", d[12:20])
        _set(block, "business_target", d[21:29])
        _set(block, "message_code", code)
        _set(block, "block_number", (d[p + 7] << 8) | d[p + 8])
        _set(block, "data", d[q:])
        _set(block, "block_control", d[p + 6])
        _set(block, "block_number_ack", (d[p + 9] << 8) | d[p + 10])
        _set(block, "extensions", extensions)
        _set(block, "security_control", d[p])
        _set(block, "invocation_counter", d[p + 1 : p + 5])
        return block


def is_gbt_block(data: bytes) -> bool:
    """True when ``data`` starts like a GBT block (``DD 09``) rather than a whole message."""
    return len(data) > 1 and data[0] == TAG_GENERAL_CIPHERING and data[1] == 0x09


def gbt_blocks(message: Message, block_size: int = 512) -> list[bytes]:
    """Split a whole message into GBT blocks of at most ``block_size`` data bytes each."""
    if block_size < 1:
        raise EncodeError(f"GBT block size must be positive, got {block_size}")
    whole = message.to_bytes()
    chunks = [whole[i : i + block_size] for i in range(0, len(whole), block_size)]
    if len(chunks) > 0xFFFF:
        raise EncodeError(f"{len(chunks)} GBT blocks is more than a block number can count")
    out = []
    for number, chunk in enumerate(chunks, start=1):
        out.append(
            GbtBlock(
                cra=message.cra,
                originator_counter=message.originator_counter,
                business_originator=message.business_originator,
                business_target=message.business_target,
                message_code=message.message_code,
                block_number=number,
                block_control=GBT_LAST_BLOCK if number == len(chunks) else 0,
                data=chunk,
            ).to_bytes()
        )
    return out


class GbtReassembler:
    """Collects GBT blocks of any number of messages, in any order, and yields each whole
    message when its last block and every block before it have arrived.

    Sans-IO: ``add(block_bytes)`` returns the reassembled message bytes or None.
    """

    def __init__(self, *, max_blocks: int = 4096, max_bytes: int = 1 << 20) -> None:
        self._max_blocks = max_blocks
        self._max_bytes = max_bytes
        self._pending: dict[tuple[int, int, bytes, bytes], dict[int, bytes]] = {}
        self._last: dict[tuple[int, int, bytes, bytes], int] = {}

    def __len__(self) -> int:
        """How many messages are partly received."""
        return len(self._pending)

    def add(self, block: bytes | GbtBlock) -> bytes | None:
        b = block if isinstance(block, GbtBlock) else GbtBlock.from_bytes(block)
        if b.block_number < 1:
            raise DecodeError("GBT block numbers start at 1")
        key = (int(b.cra), b.originator_counter, b.business_originator, b.business_target)
        blocks = self._pending.setdefault(key, {})
        known = blocks.get(b.block_number)
        if known is not None and known != b.data:
            del self._pending[key]
            self._last.pop(key, None)
            raise DecodeError(f"GBT block {b.block_number} arrived twice with different data")
        blocks[b.block_number] = b.data
        if b.last:
            last = self._last.get(key)
            if last is not None and last != b.block_number:
                del self._pending[key]
                self._last.pop(key, None)
                raise DecodeError("two different GBT blocks claim to be the last")
            self._last[key] = b.block_number
        if len(blocks) > self._max_blocks or sum(map(len, blocks.values())) > self._max_bytes:
            del self._pending[key]
            self._last.pop(key, None)
            raise DecodeError("GBT message too large: dropped")
        last_number = self._last.get(key)
        if last_number is None:
            return None
        if any(n > last_number for n in blocks):
            del self._pending[key]
            del self._last[key]
            raise DecodeError("a GBT block numbered after the last block arrived")
        if len(blocks) < last_number:
            return None
        del self._pending[key]
        del self._last[key]
        return b"".join(blocks[n] for n in range(1, last_number + 1))


def reassemble_gbt(blocks: Iterable[bytes | GbtBlock]) -> bytes:
    """The whole message carried by the GBT blocks of one message (any order)."""
    reassembler = GbtReassembler()
    whole: bytes | None = None
    for block in blocks:
        if whole is not None:
            raise DecodeError("GBT blocks continue after the message was complete")
        whole = reassembler.add(block)
    if whole is None:
        raise DecodeError("incomplete GBT message: the last block or an earlier one is missing")
    if len(reassembler):
        raise DecodeError("GBT blocks of more than one message were given")
    return whole
