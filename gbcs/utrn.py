"""UTRNs: the 20-digit prepayment top-up codes of GBCS section 14.

A UTRN carries a Prepayment Top-Up Token (PTUT): a 64-bit value whose high 32 bits hold a
10-bit slice of the UTRN counter (bits 32..41: UTRN counters keep their low 32 bits zero),
a 2-bit value class (pennies or pounds) and a 13-bit value; its low 32 bits are the last
four bytes of a 16-byte GMAC. The GMAC key comes from the supplier's prepayment KA key and
the device's KA key (ECDH, then the GBCS KDF with X = 01, the supplier as originator, the
full counter and the device as target); the IV is the supplier's EUI then four zero
bytes; the AAD is ``11 00 00 00 00 00 ‖ supplier ‖ device ‖ 01 ‖ counter ‖ PTUT high``.
The decimal PTTD is ``7394156990786306048 + PTUT`` (19 digits), and the UTRN appends a
Verhoeff check digit computed with GBCS's tables 14.8a-c.

The supplier (or the DCC for it) makes UTRNs with :func:`make_utrn`; the meter checks them
with :func:`verify_utrn`, rebuilding the full counter from its 10 transmitted bits.
No I/O. (Added by the emulator helper: the devices need it and gbcs had no UTRN code.)
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from enum import IntEnum

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gbcs.codes import KeyPurpose
from gbcs.crypto import SharedSecretCache, derive_key, other_info
from gbcs.errors import DecodeError, EncodeError
from gbcs.keystore import KeyLookup

__all__ = [
    "PPTD_BASE",
    "Ptut",
    "ValueClass",
    "make_utrn",
    "parse_utrn",
    "verhoeff_digit",
    "verify_utrn",
]

PPTD_BASE = 7394156990786306048
"""Added to the PTUT to make the 19-digit PPTD."""
MAX_VALUE = 0x1FFF
_COUNTER_SLICE = 0x3FF << 32
_COMMAND_X = 0x01
_ECDH = ec.ECDH()

# GBCS tables 14.8a (permutation), 14.8b (multiplication) and 14.8c (inverse).
_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_INV = (1, 2, 6, 7, 5, 8, 3, 0, 9, 4)


class ValueClass(IntEnum):
    """How a UTRN's 13-bit value is counted."""

    PENNIES = 0
    POUNDS = 1


@dataclass(frozen=True, slots=True)
class Ptut:
    """What a verified UTRN says."""

    counter: int
    """The full UTRN counter (low 32 bits zero)."""
    value: int
    value_class: ValueClass

    @property
    def pence(self) -> int:
        """The credit in pence."""
        return self.value * (100 if self.value_class is ValueClass.POUNDS else 1)


def verhoeff_digit(digits: str) -> str:
    """The check digit GBCS appends to a PPTD (section 14.8)."""
    if not digits.isdigit() or not digits.isascii():
        raise EncodeError(f"a Verhoeff check needs decimal digits, got {digits!r}")
    check, k = 0, 4
    for ch in digits:
        check = _D[check][_P[k][int(ch)]]
        k = (k + 1) % 8
    return str(_INV[check])


def _high(counter: int, value: int, value_class: ValueClass) -> int:
    return (((counter >> 32) & 0x3FF) << 15) | (int(value_class) << 13) | value


def _tag_tail(key: bytes, supplier: bytes, device: bytes, counter: int, high: int) -> bytes:
    aad = (
        b"\x11\x00\x00\x00\x00\x00"
        + supplier
        + device
        + b"\x01"
        + counter.to_bytes(8, "big")
        + high.to_bytes(4, "big")
    )
    tag = AESGCM(key).encrypt(supplier + b"\x00\x00\x00\x00", b"", aad)
    return tag[-4:]


def _key(
    keys: KeyLookup,
    supplier: bytes,
    device: bytes,
    counter: int,
    *,
    device_side: bool,
    cache: SharedSecretCache | None,
) -> bytes:
    if device_side:
        local = keys.private_key(device, KeyPurpose.KA)
        remote = keys.public_key(supplier, KeyPurpose.PP_KA)
    else:
        local = keys.private_key(supplier, KeyPurpose.PP_KA)
        remote = keys.public_key(device, KeyPurpose.KA)
    z = cache.z(local, remote) if cache is not None else local.exchange(_ECDH, remote)
    return derive_key(z, other_info(supplier, _COMMAND_X, counter, device))


def make_utrn(
    keys: KeyLookup,
    *,
    supplier: bytes,
    device: bytes,
    counter: int,
    value: int,
    value_class: ValueClass = ValueClass.PENNIES,
    cache: SharedSecretCache | None = None,
) -> str:
    """The 20-digit UTRN crediting ``value`` to ``device``, made with the supplier's
    prepayment KA private key. :class:`KeyNotFound` when it is not held."""
    if not 0 <= value <= MAX_VALUE:
        raise EncodeError(f"a UTRN value is 0..{MAX_VALUE}, got {value}")
    if counter & 0xFFFF_FFFF or not 0 < counter < 1 << 64:
        raise EncodeError(f"a UTRN counter keeps its low 32 bits zero, got {counter:#x}")
    high = _high(counter, value, value_class)
    key = _key(keys, supplier, device, counter, device_side=False, cache=cache)
    ptut = (high << 32) | int.from_bytes(_tag_tail(key, supplier, device, counter, high), "big")
    pptd = str(PPTD_BASE + ptut)
    return pptd + verhoeff_digit(pptd)


def parse_utrn(utrn: str) -> tuple[int, int, ValueClass, int]:
    """(counter bits 32..41, value, value class, MAC tail) of a UTRN, after its format and
    check digit; :class:`DecodeError` with a sentence when it is not a UTRN."""
    if len(utrn) != 20 or not utrn.isdigit() or not utrn.isascii():
        raise DecodeError(f"a UTRN is 20 decimal digits, got {utrn!r}")
    if verhoeff_digit(utrn[:19]) != utrn[19]:
        raise DecodeError(f"UTRN {utrn}: wrong check digit")
    ptut = int(utrn[:19]) - PPTD_BASE
    if not 0 <= ptut < 1 << 64 or ptut >> 57:
        raise DecodeError(f"UTRN {utrn}: not a prepayment top-up token")
    high = ptut >> 32
    try:
        value_class = ValueClass((high >> 13) & 0x3)
    except ValueError:
        raise DecodeError(f"UTRN {utrn}: unknown value class {(high >> 13) & 0x3}") from None
    return (high >> 15) & 0x3FF, high & MAX_VALUE, value_class, ptut & 0xFFFF_FFFF


def verify_utrn(
    keys: KeyLookup,
    utrn: str,
    *,
    supplier: bytes,
    device: bytes,
    reference: int = 0,
    cache: SharedSecretCache | None = None,
) -> Ptut | None:
    """The token in ``utrn`` if its MAC verifies for ``device`` from ``supplier``, else None.

    The full counter is rebuilt from its 10 transmitted bits as the smallest UTRN counter at
    or above ``reference`` (the lowest counter the meter still remembers) with those bits.
    :class:`DecodeError` when the digits are not a UTRN at all.
    """
    slice_, value, value_class, tail = parse_utrn(utrn)
    base = reference & ~((1 << 42) - 1)
    counter = base | (slice_ << 32)
    if counter < reference:
        counter += 1 << 42
    if counter == 0 or counter >= 1 << 64:
        return None
    high = _high(counter, value, value_class)
    key = _key(keys, supplier, device, counter, device_side=True, cache=cache)
    expected = _tag_tail(key, supplier, device, counter, high)
    if not hmac.compare_digest(expected, tail.to_bytes(4, "big")):
        return None
    return Ptut(counter, value, value_class)
