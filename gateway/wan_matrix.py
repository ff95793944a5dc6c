"""SR 12.1 Request WAN Matrix: the SM WAN coverage the DCC gives for a property, by UPRN or by
postcode and address.

The DCC answers from its communications service providers' coverage databases, one
``DSPWANMatrixResponse`` per CSP region the address falls in. The emulated DCC has no such
database: it places a postcode in a CSP region by its postcode area (North: Scotland and the
North of England; Central: the Midlands, East Anglia and Wales; South: the rest), as the DCC's
regions are drawn, and gives every address coverage now, by the region's technology, with
a lower likelihood (and an aerial) in the far islands. A UPRN is looked up in the
registration data (the meter points' address); one whose meter points hold no postcode is
answered with the region ``Unknown``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from gateway.errors import ServiceError
from gateway.storage import Transaction

__all__ = ["Coverage", "RequestWanMatrix", "coverage_for", "region_of"]

_POSTCODE: Final = re.compile(r"([A-Z]{1,2})([0-9][A-Z0-9]?) ?([0-9][A-Z]{2})")

_SCOTLAND: Final = "AB DD DG EH FK G HS IV KA KW KY ML PA PH TD ZE"
_NORTH_OF_ENGLAND: Final = (
    "BB BD BL CA CH CW DH DL DN FY HD HG HU HX L LA LS M NE OL PR S SK SR TS WA WF WN YO"
)
_NORTH: Final = frozenset(f"{_SCOTLAND} {_NORTH_OF_ENGLAND}".split(" "))
_MIDLANDS_EAST_AND_WALES: Final = (
    "B CB CF CO CV DE DY HR IP LD LE LL LN MK NG NN NP NR PE SA ST SY TF WR WS WV"
)
_CENTRAL: Final = frozenset(_MIDLANDS_EAST_AND_WALES.split(" "))
_ISLANDS: Final = frozenset({"HS", "KW", "ZE"})
_TECHNOLOGY: Final = {
    "North": "Long Range Radio",
    "Central": "Cellular and Mesh",
    "South": "Cellular and Mesh",
}


@dataclass(frozen=True, slots=True)
class RequestWanMatrix:
    """SR 12.1 ``RequestWANMatrix``: a UPRN, or a postcode and address identifier."""

    uprn: str | None = None
    postcode: str | None = None
    address_identifier: str | None = None


@dataclass(frozen=True, slots=True)
class Coverage:
    """One ``DSPWANMatrixResponse``: the region and, when known, what coverage it has."""

    region: str
    code: str = "I0"
    available: bool = True
    technology: str | None = None
    likelihood: str = "High"
    auxiliary: str | None = None


def region_of(postcode: str) -> tuple[str, str]:
    """(CSP region, postcode area) of a UK postcode; ServiceError when it is not one."""
    text = " ".join(postcode.upper().split())
    match = _POSTCODE.fullmatch(text)
    if match is None:
        raise ServiceError(
            "wan_matrix_bad_postcode",
            postcode=postcode,
            reason="expected an outward code, a space and an inward code, e.g. M22 0RR",
        )
    area = match.group(1)
    if area in _NORTH:
        return "North", area
    if area in _CENTRAL:
        return "Central", area
    return "South", area


def _coverage(postcode: str) -> Coverage:
    region, area = region_of(postcode)
    if area in _ISLANDS:
        return Coverage(region, technology=_TECHNOLOGY[region], likelihood="Medium",
                        auxiliary="External aerial")  # fmt: skip
    return Coverage(region, technology=_TECHNOLOGY[region])


def coverage_for(tx: Transaction, req: RequestWanMatrix) -> list[Coverage]:
    """The coverage of the property ``req`` names, one entry per CSP region it is in."""
    if req.postcode is not None:
        return [_coverage(req.postcode)]
    rows = tx.all(
        "SELECT DISTINCT postcode FROM meter_points WHERE uprn = ? ORDER BY postcode",
        (req.uprn,),
    )
    if not rows:
        raise ServiceError("wan_matrix_unknown_uprn", uprn=req.uprn)
    postcodes = [str(r["postcode"]) for r in rows if r["postcode"] is not None]
    if not postcodes:
        return [Coverage("Unknown", code="I0", available=False)]
    found: dict[str, Coverage] = {}
    for postcode in postcodes:
        coverage = _coverage(postcode)
        found.setdefault(coverage.region, coverage)
    return list(found.values())
