"""Alert and event behaviours of the ESME (SR 6.22): ECS25a, ECS25a1, ECS25a2, ECS25a3, ECS25b
and ECS25b3, each one DLMS SET of a class 1 data object's value.

The value is a 512-bit bit-string, two halves of 256 bits read as big-endian numbers: the
first says which alerts the command changes, the second whether each changed alert is
enabled; the bit of an alert code is its low byte (bit ``n`` is ``1 << n`` of the half).
The supplier's objects (``0-30:97.98.x``) hold the 0x81xx alert codes, the network
operator's (``0-33:97.98.x``) the 0x80xx ones. The ESME answers with a plain
:class:`~gbcs.content._common.Outcome`. The reads of the same behaviours (ECS25r1 / ECS25r2,
:mod:`gbcs.content.reads`) get the ``15..18`` objects of the same owners, each a 256-bit
bit-string of the alerts enabled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from types import MappingProxyType
from typing import Final

from gbcs.content._common import (
    Outcome,
    _check_exact,
    _counter_of,
    _request,
    register,
)
from gbcs.errors import DecodeError, EncodeError
from gbcs.payloads import dlms
from gbcs.payloads.dlms import (
    AccessKind,
    AccessRequest,
    AccessResult,
    AccessSpec,
    BitString,
    Data,
)

HALF_BITS: Final = 256
"""Bits in each half of a behaviour bit-string (one per low byte of an alert code)."""


class Behaviour(StrEnum):
    """What a behaviour object decides about an alert."""

    ALERT = "alert"
    """Sent over the WAN to its remote party."""
    HAN = "han"
    """Sent to the HAN devices (the IHD)."""
    ALARM = "alarm"
    """Sounds the meter's audible alarm."""
    LOGGING = "logging"
    """Written to the meter's event log."""


@dataclass(frozen=True, slots=True)
class BehaviourObject:
    """One behaviour object: its owner's alert codes (high byte), what it decides, the OBIS
    of the object a Set writes and of the one the matching read gets."""

    use_case: str
    owner_high_byte: int
    behaviour: Behaviour
    set_obis: str
    read_obis: str


BEHAVIOUR_OBJECTS: Final[Mapping[int, BehaviourObject]] = MappingProxyType(
    {
        0x00AC: BehaviourObject(
            "ECS25a", 0x81, Behaviour.ALERT, "0-30:97.98.11.255", "0-30:97.98.15.255"
        ),
        0x00EA: BehaviourObject(
            "ECS25a1", 0x81, Behaviour.HAN, "0-30:97.98.12.255", "0-30:97.98.16.255"
        ),
        0x00EB: BehaviourObject(
            "ECS25a2", 0x81, Behaviour.ALARM, "0-30:97.98.13.255", "0-30:97.98.17.255"
        ),
        0x00EC: BehaviourObject(
            "ECS25a3", 0x81, Behaviour.LOGGING, "0-30:97.98.14.255", "0-30:97.98.18.255"
        ),
        0x00B0: BehaviourObject(
            "ECS25b", 0x80, Behaviour.ALERT, "0-33:97.98.11.255", "0-33:97.98.15.255"
        ),
        0x00ED: BehaviourObject(
            "ECS25b3", 0x80, Behaviour.LOGGING, "0-33:97.98.14.255", "0-33:97.98.18.255"
        ),
    }
)
"""Message code -> the behaviour object its Set writes. ECS25a1 / ECS25a2 / ECS25b / ECS25b3
as the DCC's reference commands address them; ECS25a (11) and ECS25a3 (14) complete the
supplier's run 11..14, whose reads ECS25r1 gets as 15..18 in the same order."""


def hex_codes(text: str) -> frozenset[int]:
    """The alert codes written in ``text`` as space-separated hex (``"8003 8004"``)."""
    return frozenset(int(code, 16) for code in text.split())


POLYPHASE_ALERTS: Final = hex_codes(
    "81B7 8003 8004 8005 8007 8008 8009 8021 8022 8023 8025 8026 8027 8029 802A 802B 802D "
    "802E 802F 8086 8087 8088 808A 808B 808C 808E 808F 8090 8092 8093 8094 8096 8097 8098 "
    "809A 809B 809C 8011 8016 8013"
)
"""Alerts an ESME raises only on a polyphase supply (per-phase voltage and current, phase
sequencing): DUIS's ``SupplierESMEPolyPhase`` and ``NetworkOperatorESMEPolyPhase`` groups."""

BEHAVIOUR_BY_NAME: Final[Mapping[str, int]] = MappingProxyType(
    {obj.use_case: code for code, obj in BEHAVIOUR_OBJECTS.items()}
)
"""Use case name -> message code."""


def behaviour_bits(codes: frozenset[int] | set[int]) -> int:
    """The 256-bit number with the bit of each alert code set (its low byte)."""
    value = 0
    for code in codes:
        value |= 1 << (code & 0xFF)
    return value


def codes_of(bits: int, high_byte: int) -> frozenset[int]:
    """The alert codes of ``high_byte`` whose bits are set in ``bits``."""
    return frozenset((high_byte << 8) | n for n in range(HALF_BITS) if bits >> n & 1)


def bit_string(bits: int, n_bits: int = HALF_BITS) -> BitString:
    """``bits`` (bit ``n`` = ``1 << n``) as a DLMS bit-string of ``n_bits`` bits."""
    return BitString(n_bits, bits.to_bytes(n_bits // 8, "big"))


@dataclass(frozen=True, slots=True)
class SetAlertBehaviour:
    """ECS25a / a1 / a2 / a3 / b / b3: enable or disable alerts in one behaviour object.
    ``settings`` holds (alert code, enabled) pairs, each code once, in code order."""

    message_code: int
    counter: int
    settings: tuple[tuple[int, bool], ...]

    def __post_init__(self) -> None:
        obj = BEHAVIOUR_OBJECTS.get(self.message_code)
        if obj is None:
            raise EncodeError(f"0x{self.message_code:04X} is not an alert behaviour use case")
        codes = [code for code, _ in self.settings]
        if not codes:
            raise EncodeError(f"{obj.use_case} changes no alert")
        if codes != sorted(set(codes)):
            raise EncodeError(f"{obj.use_case}: each alert once, in code order")
        for code in codes:
            if code >> 8 != obj.owner_high_byte:
                raise EncodeError(
                    f"{obj.use_case} sets 0x{obj.owner_high_byte:02X}xx alerts, not 0x{code:04X}"
                )

    @property
    def target(self) -> BehaviourObject:
        return BEHAVIOUR_OBJECTS[self.message_code]

    def specs(self) -> tuple[AccessSpec, ...]:
        return (dlms.set_(1, self.target.set_obis, 2),)

    def value(self) -> Data:
        changed = behaviour_bits({code for code, _ in self.settings})
        enabled = behaviour_bits({code for code, on in self.settings if on})
        return bit_string((changed << HALF_BITS) | enabled, 2 * HALF_BITS)

    def encode(self) -> bytes:
        return _request(self.counter, self.specs(), [self.value()])

    @classmethod
    def decode_as(cls, code: int, content: bytes) -> SetAlertBehaviour:
        obj = BEHAVIOUR_OBJECTS[code]
        apdu = dlms.decode_dlms(content)
        if not isinstance(apdu, AccessRequest) or apdu.date_time:
            raise DecodeError("expected a DLMS Access-Request without a date-time")
        if apdu.specs != (dlms.set_(1, obj.set_obis, 2),) or len(apdu.data) != 1:
            raise DecodeError(f"{obj.use_case} sets {obj.set_obis} attribute 2 alone")
        value = apdu.data[0]
        if not isinstance(value, BitString) or value.bits != 2 * HALF_BITS:
            raise DecodeError(f"{obj.use_case}: expected a bit-string of {2 * HALF_BITS} bits")
        number = int.from_bytes(value.data, "big")
        changed, enabled = number >> HALF_BITS, number & ((1 << HALF_BITS) - 1)
        if enabled & ~changed:
            raise DecodeError(f"{obj.use_case} enables an alert it does not change")
        settings = tuple(
            (alert, bool(enabled >> (alert & 0xFF) & 1))
            for alert in sorted(codes_of(changed, obj.owner_high_byte))
        )
        try:
            found = cls(code, _counter_of(apdu.invoke_id), settings)
        except EncodeError as exc:
            raise DecodeError(str(exc)) from None
        _check_exact(found, content)
        return found

    def outcome(self, result: int = 0) -> Outcome:
        """The response: ``result`` for the one Set (0 success)."""
        return Outcome(self.counter, (AccessResult(AccessKind.SET, result),))

    def kinds(self) -> tuple[AccessKind, ...]:
        return (AccessKind.SET,)


# =========================================================================== registry

Command = SetAlertBehaviour

for _code in BEHAVIOUR_OBJECTS:
    register(_code, partial(SetAlertBehaviour.decode_as, _code), Outcome.decode)


__all__ = [
    "BEHAVIOUR_BY_NAME",
    "BEHAVIOUR_OBJECTS",
    "HALF_BITS",
    "POLYPHASE_ALERTS",
    "Behaviour",
    "BehaviourObject",
    "SetAlertBehaviour",
    "behaviour_bits",
    "bit_string",
    "codes_of",
    "hex_codes",
]
