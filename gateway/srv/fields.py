"""Reading DUIS request bodies: the checks the schema would make, as sentences.

The family modules read their bodies with these, so that a gateway started without the DUIS
schema still refuses a bad value with a sentence naming it (``duis_invalid_element``), and a
body that is not the SR's own is ``duis_body_mismatch``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from datetime import time as time_of_day
from typing import Final

from lxml import etree

from gateway.duis.xml import SR_NS, is_element, local_name
from gateway.errors import ServiceError

DATETIME: Final = re.compile(
    r"(-?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?"
)


def invalid(element: str, reason: str) -> ServiceError:
    return ServiceError("duis_invalid_element", element=element, reason=reason)


class Fields:
    """The children of a body element by local name: each at most once, none unknown; an
    ``ExecutionDateTime`` (future-dated) only where the codec takes one (``dated``)."""

    def __init__(
        self, element: etree._Element, allowed: tuple[str, ...], *, dated: bool = False
    ) -> None:
        self.owner = local_name(element)
        self.elements: dict[str, etree._Element] = {}
        text = (element.text or "").strip()
        if text:
            raise invalid(self.owner, f"it holds text {text[:40]!r}")
        for child in element:
            if not is_element(child):
                continue
            name = local_name(child)
            if etree.QName(child).namespace != SR_NS or name not in allowed:
                expected = ", ".join(allowed) if allowed else "nothing"
                raise invalid(self.owner, f"unexpected element {name} (expected {expected})")
            if name in self.elements:
                raise invalid(name, "it appears twice")
            self.elements[name] = child
        # A codec that carries the execution date-time into the command reads it itself.
        if "ExecutionDateTime" in self.elements and not dated:
            raise ServiceError(
                "duis_sr_not_supported",
                srv="with an ExecutionDateTime (future-dated)",
            )

    def text(self, name: str, *, required: bool = True) -> str | None:
        element = self.elements.get(name)
        if element is None:
            if required:
                raise invalid(self.owner, f"{name} is missing")
            return None
        return (element.text or "").strip()

    def marker(self, name: str) -> bool:
        """An empty marker element (``sr:InputFromControlledLoad``): present or not."""
        element = self.elements.get(name)
        if element is None:
            return False
        empty(element)
        return True


def empty(element: etree._Element) -> None:
    """Refuse a marker element (``sr:Channel3``) that holds anything."""
    if len(element) or (element.text or "").strip():
        raise invalid(local_name(element), "it takes no value")


def read_datetime(name: str, text: str | None) -> datetime:
    value = text or ""
    match = DATETIME.fullmatch(value)
    if match is None:
        raise invalid(name, f"{value!r} is not an xs:dateTime (e.g. 2014-12-31T23:59:10.00Z)")
    iso = value.replace("Z", "+00:00")
    if match.group(7):  # Python wants 0, 3 or 6 fraction digits
        fraction = match.group(7)[1:7].ljust(6, "0")
        iso = iso.replace(match.group(7), "." + fraction, 1)
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError as exc:
        raise invalid(name, f"{value!r}: {exc}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def read_int(name: str, text: str | None, low: int, high: int) -> int:
    value = text or ""
    if not re.fullmatch(r"[+-]?\d+", value) or not low <= int(value) <= high:
        raise invalid(name, f"{value!r} is not an integer from {low} to {high}")
    return int(value)


def children(element: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in element if is_element(c) and local_name(c) == name]


def one(element: etree._Element, name: str) -> etree._Element:
    found = children(element, name)
    if len(found) != 1:
        raise invalid(local_name(element), f"it must hold one {name}, not {len(found)}")
    return found[0]


def number(element: etree._Element, name: str, low: int, high: int) -> int:
    return read_int(name, (one(element, name).text or "").strip(), low, high)


def date_part(date: etree._Element, name: str, specified: str, width: int) -> int:
    """A DUIS Date field as COSEM: the value, 0xFF(FF) not specified, 0xFE / 0xFD for the
    last / second last day of the month."""
    part = one(date, name)
    choices = [c for c in part if is_element(c)]
    if len(choices) != 1:
        raise invalid(name, "it must hold one choice")
    choice = choices[0]
    kind = local_name(choice)
    if kind == specified:
        return read_int(kind, (choice.text or "").strip(), 1, 9999)
    if kind == "LastDayOfMonth":
        return 0xFE
    if kind == "SecondLastDayOfMonth":
        return 0xFD
    return (1 << (8 * width)) - 1


def cosem_date(date: etree._Element, *, with_time: bool) -> bytes:
    year = date_part(date, "Year", "SpecifiedYear", 2)
    month = date_part(date, "Month", "SpecifiedMonth", 1)
    day = date_part(date, "DayOfMonth", "SpecifiedDayOfMonth", 1)
    weekday = date_part(date, "DayOfWeek", "SpecifiedDayOfWeek", 1)
    raw = year.to_bytes(2, "big") + bytes([month, day, weekday])
    if with_time:
        raw += bytes([0, 0, 0, 0]) + b"\x80\x00\xff"
    return raw


def time_of(text: str | None) -> time_of_day:
    value = (text or "").strip()
    match = re.fullmatch(r"(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]00:00)?", value)
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise invalid("StartTime", f"{value!r} is not an xs:time of the day (e.g. 07:30:00)")
    return time_of_day(int(match.group(1)), int(match.group(2)), min(int(match.group(3)), 59))
