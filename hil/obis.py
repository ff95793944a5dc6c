"""OBIS codes (IEC 62056-61) as they appear in IEC 62056-21 readouts.

A readout address can be full (``1-0:1.8.0``, ``1-0:1.8.0*255``) or reduced (``1.8.0``,
``C.1.0``, ``1.8.0*01``). In the reduced form the value groups A and B are absent, and
the letters C, F, L, P stand for the value group C codes 96, 97, 98, 99.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LETTER_TO_C = {"C": 96, "F": 97, "L": 98, "P": 99}
_C_TO_LETTER = {v: k for k, v in _LETTER_TO_C.items()}

_FULL = re.compile(
    r"^(?:(?P<a>\d{1,3})-(?P<b>\d{1,3}):)?"
    r"(?P<c>\d{1,3}|[CFLP])\.(?P<d>\d{1,3})(?:\.(?P<e>\d{1,3}))?"
    r"(?:[*&](?P<f>\d{1,3}))?$"
)


@dataclass(frozen=True, slots=True, order=True)
class ObisCode:
    """An OBIS code; ``a`` and ``b`` are ``None`` when the address used the reduced form."""

    a: int | None
    b: int | None
    c: int
    d: int
    e: int = 0
    f: int = 255

    def __post_init__(self) -> None:
        for name in ("a", "b", "c", "d", "e", "f"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 255:
                raise ValueError(f"OBIS value group {name.upper()} out of range 0..255: {value}")
        if (self.a is None) != (self.b is None):
            raise ValueError("OBIS value groups A and B must be both present or both absent")

    @classmethod
    def parse(cls, text: str) -> ObisCode:
        """Parse ``1-0:1.8.0``, ``1-0:1.8.0*255``, ``1.8.0``, ``C.1.0``, ``1.8.0*01``."""
        match = _FULL.match(text.strip())
        if match is None:
            raise ValueError(f"not an OBIS code: {text!r}")
        c_text = match["c"]
        c = _LETTER_TO_C[c_text] if c_text in _LETTER_TO_C else int(c_text)
        a = int(match["a"]) if match["a"] is not None else None
        b = int(match["b"]) if match["b"] is not None else None
        e = int(match["e"]) if match["e"] is not None else 0
        f = int(match["f"]) if match["f"] is not None else 255
        return cls(a, b, c, int(match["d"]), e, f)

    @classmethod
    def try_parse(cls, text: str) -> ObisCode | None:
        try:
            return cls.parse(text)
        except ValueError:
            return None

    def full(self) -> str:
        """``A-B:C.D.E`` (``*F`` appended when F is not 255); A-B default to ``1-0`` if absent."""
        a = 1 if self.a is None else self.a
        b = 0 if self.b is None else self.b
        text = f"{a}-{b}:{self.c}.{self.d}.{self.e}"
        return text if self.f == 255 else f"{text}*{self.f}"

    def reduced(self) -> str:
        """``C.D.E`` with the letter form of C 96..99 (``C.1.0``), ``*F`` when F is not 255."""
        c = _C_TO_LETTER.get(self.c, str(self.c))
        text = f"{c}.{self.d}.{self.e}"
        return text if self.f == 255 else f"{text}*{self.f:02d}"

    def same_register(self, other: ObisCode) -> bool:
        """True when C, D, E and F agree, and A, B agree wherever both codes carry them."""
        if (self.c, self.d, self.e, self.f) != (other.c, other.d, other.e, other.f):
            return False
        if self.a is None or other.a is None:
            return True
        return (self.a, self.b) == (other.a, other.b)

    def __str__(self) -> str:
        return self.reduced() if self.a is None else self.full()


# The registers an emulated SMETS2 electricity meter shows on its optical port.
SERIAL_NUMBER = ObisCode(0, 0, 96, 1, 0)
FIRMWARE_VERSION = ObisCode(1, 0, 0, 2, 0)
TIME = ObisCode(1, 0, 0, 9, 1)
DATE = ObisCode(1, 0, 0, 9, 2)
IMPORT_TOTAL = ObisCode(1, 0, 1, 8, 0)
EXPORT_TOTAL = ObisCode(1, 0, 2, 8, 0)


def import_tou(rate: int) -> ObisCode:
    """Active energy import in time-of-use rate ``rate`` (1..63): ``1-0:1.8.<rate>``."""
    if not 1 <= rate <= 63:
        raise ValueError(f"time-of-use rate out of range 1..63: {rate}")
    return ObisCode(1, 0, 1, 8, rate)


def export_tou(rate: int) -> ObisCode:
    """Active energy export in time-of-use rate ``rate`` (1..63): ``1-0:2.8.<rate>``."""
    if not 1 <= rate <= 63:
        raise ValueError(f"time-of-use rate out of range 1..63: {rate}")
    return ObisCode(1, 0, 2, 8, rate)
