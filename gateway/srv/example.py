"""An example request body for a served SR, beside its codec: what ``smetsim request`` writes.

An :class:`Example` lists the body's fields (by their DUIS element names) with defaults and
writes the *content* of the body element from their values (the row names the element). A
default that depends on where the request is sent - the sandbox's device EUIs, its MPxNs, the
clock - is a :class:`Home` symbol, filled in by the layer that knows the home
(:mod:`smetsim.requests`); this layer imports none of it.

Adding an SR is its row, its codec and its example; the written body must validate against
the DUIS schema and be read back by the codec's ``read`` (a test checks both for every SR).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final
from xml.sax.saxutils import escape, quoteattr

__all__ = ["EMPTY", "Example", "ExampleError", "Home", "Values", "date"]


class Home(StrEnum):
    """A default filled in from the home the request is written for (or from the clock)."""

    DEVICE = "<the --device EUI>"
    """The device the request is about (a non-device SR names it in its body)."""
    NOW = "<now>"
    TOMORROW = "<this time tomorrow>"
    YESTERDAY = "<this time yesterday>"
    REQUIRED = "<required>"
    """No default: the user must give the value."""
    IMPORT_MPAN = "<the home's import MPAN>"
    SECONDARY_MPAN = "<the home's secondary import MPAN>"
    GAS_MPRN = "<the home's MPRN>"
    UPRN = "<the home's UPRN>"
    PENDING_ESME = "<the home's pre-notified ESME>"
    PENDING_MPAN = "<the pre-notified ESME's MPAN>"
    NEW_DEVICE = "<a device not in the home yet>"
    HUB = "<the home's communications hub>"
    GPF = "<the home's gas proxy function>"
    PPMID = "<the home's prepayment meter interface device>"


class ExampleError(ValueError):
    """The values given cannot make a body (the sentence says which to give)."""


class Values:
    """The values of one request's fields, symbols filled; ``given`` names what the user set
    (for bodies whose schema holds a choice: the first given decides)."""

    def __init__(self, values: Mapping[str, str | None], given: Set[str] = frozenset()) -> None:
        self._values = dict(values)
        self._given = frozenset(given)

    def given(self, name: str) -> bool:
        return name in self._given

    def get(self, name: str) -> str | None:
        return self._values[name]

    def text(self, name: str) -> str:
        """The value escaped for XML text ('' when it has none)."""
        return escape(self._values[name] or "")

    def element(self, name: str) -> str:
        """``<sr:name>value</sr:name>``, or nothing when the field has no value."""
        value = self._values[name]
        if value is None:
            return ""
        return f"<sr:{name}>{escape(value)}</sr:{name}>"

    def elements(self, *names: str) -> str:
        return "".join(self.element(n) for n in names)

    def marker(self, name: str) -> str:
        """``<sr:name/>`` (an empty marker element) when the field has any value."""
        return "" if self._values[name] is None else f"<sr:{name}/>"

    def first_given(self, names: tuple[str, ...], default: str) -> str:
        """The one of ``names`` the user gave (``default`` when none); two are refused."""
        chosen = [n for n in names if n in self._given]
        if len(chosen) > 1:
            raise ExampleError(f"give one of {', '.join(names)}, not {' and '.join(chosen)}")
        return chosen[0] if chosen else default


Write = Callable[[Values], str]


@dataclass(frozen=True, slots=True)
class Example:
    """The fields of an SR's body with their defaults, and how to write the body's content."""

    fields: Mapping[str, str | None] = field(default_factory=dict)
    """Every field ``field=value`` may set, in the schema's order, with its default
    (``None``: left out unless given; a :class:`Home`: filled from the home)."""
    write: Write | None = None
    """The body element's content; ``None``: each field's element in order (a flat body)."""
    certificates: frozenset[str] = frozenset()
    """Fields holding a certificate (base64 DER), which a user may give as a PEM or DER file."""
    attributes: tuple[str, ...] = ()
    """Fields written as attributes of the body element (``LimitAPCLevel``'s
    ``auxiliaryControllerN``), not as its content."""

    def content(self, values: Values) -> str:
        if self.write is None:
            return values.elements(*(n for n in self.fields if n not in self.attributes))
        return self.write(values)

    def body(self, element: str, values: Values) -> str:
        """The whole body element ``sr:element``."""
        attributes = "".join(
            f" {name}={quoteattr(value)}"
            for name in self.attributes
            if (value := values.get(name)) is not None
        )
        content = self.content(values)
        if not content:
            return f"<sr:{element}{attributes}/>"
        return f"<sr:{element}{attributes}>{content}</sr:{element}>"


_DATE_PARTS: Final = (
    ("Year", "SpecifiedYear", "NonSpecifiedYear"),
    ("Month", "SpecifiedMonth", "NonSpecifiedMonth"),
    ("DayOfMonth", "SpecifiedDayOfMonth", "NonSpecifiedDayOfMonth"),
)


def date(name: str, value: str | None) -> str:
    """The content of a DUIS ``Date`` from ``2025-12-31`` (``*`` for any year, month or day;
    ``any``: every part unspecified); the day of the week is left unspecified."""
    parts = ["*", "*", "*"] if value in (None, "any") else (value or "").split("-")
    if len(parts) != 3 or not all(p == "*" or p.isdigit() for p in parts):
        raise ExampleError(f"{name}={value!r}: give a date as 2025-12-31 (* for any part) or any")
    out = "".join(
        f"<sr:{part}><sr:{unspecified}/></sr:{part}>"
        if text == "*"
        else f"<sr:{part}><sr:{specified}>{int(text)}</sr:{specified}></sr:{part}>"
        for (part, specified, unspecified), text in zip(_DATE_PARTS, parts, strict=True)
    )
    return out + "<sr:DayOfWeek><sr:NonSpecifiedDayOfWeek/></sr:DayOfWeek>"


EMPTY: Final = Example()
"""An empty body (the SR's element alone)."""
