"""DUIS 5.4 requests a user can make without the DCC's templates: ``smetsim request``.

:func:`write_request` writes a request for any service reference variant the catalogue
serves, its values defaulting to the sandbox's home (:mod:`smetsim.sandbox`): the supplier
sends it (the network operator an SR only distributors and transporters may send), to the
home's device of the first type the SR's row names (the ESME mostly, the CHF for 8.11; the
DCC for the non-device SRs), with the lowest command variant the SR takes (certificates have
no default: the user gives them). ``field=value`` pairs set the body's elements by their DUIS
names (``UTRN=...``, ``TolerancePeriod=30``; ``ESMEVariant=`` leaves one out); a field the
SR does not have, an SR that is not served or a command variant it does not take is refused
with a sentence (:class:`RequestError`), and nothing is written.

The bodies are the examples each SR's family module gives beside its codec
(:mod:`gateway.srv.example`); this module fills in their home-dependent defaults and writes the
envelope. They follow the schema's element order, so what is written validates against the
DUIS 5.4 schema (a test checks every SR against it, and reads each through the gateway's own
readers).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Final

from lxml import etree

from gateway.duis.catalogue import CommandVariant, ServiceReferenceVariant
from gateway.srv.catalogue import CATALOGUE
from gateway.srv.example import Example, ExampleError, Home, Values
from gateway.users import UserRole
from gbcs.codes import ACB, NETWORK_OPERATOR, SUPPLIER
from gbcs.devices import DeviceType
from gbcs.eui import eui_duis
from smetsim.client import build_request
from smetsim.home import OTHER_USER
from smetsim.sandbox import (
    CHF,
    ESME,
    GAS_MPRN,
    GPF,
    GSME,
    HCALCS,
    IMPORT_MPAN,
    PENDING_ESME,
    PENDING_MPAN,
    PPMID,
    SECONDARY_MPAN,
    UPRN,
)

__all__ = ["RequestError", "request_fields", "write_request"]

_PARSER: Final = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)

NEW_ESME: Final = "00-DB-12-34-56-78-90-C0"
"""The device a 12.2 pre-notifies by default: not in the sandbox's home yet."""

_HOME: Final[Mapping[Home, str]] = MappingProxyType(
    {
        Home.IMPORT_MPAN: IMPORT_MPAN,
        Home.SECONDARY_MPAN: SECONDARY_MPAN,
        Home.GAS_MPRN: GAS_MPRN,
        Home.UPRN: UPRN,
        Home.PENDING_ESME: eui_duis(PENDING_ESME),
        Home.PENDING_MPAN: PENDING_MPAN,
        Home.NEW_DEVICE: NEW_ESME,
        Home.HUB: eui_duis(CHF),
        Home.GPF: eui_duis(GPF),
        Home.PPMID: eui_duis(PPMID),
    }
)
"""The sandbox's values of the examples' symbols (the clock's and the device's are filled
per request)."""

_DEVICES: Final[Mapping[DeviceType, bytes]] = MappingProxyType(
    {
        DeviceType.ESME: ESME,
        DeviceType.GSME: GSME,
        DeviceType.CHF: CHF,
        DeviceType.GPF: GPF,
        DeviceType.PPMID: PPMID,
        DeviceType.HCALCS: HCALCS,
    }
)
"""The home's device of each type: a device SR goes to the first type its row names."""


class RequestError(Exception):
    """What the user asked for cannot be written (the sentence names the value)."""


def _default(value: str | None) -> str | None:
    """A field's default as ``--fields`` shows it: the home's values filled in."""
    if value is None:
        return None
    try:
        return _HOME.get(Home(value), value)
    except ValueError:
        return value


def _values(srv: str, example: Example, given: Mapping[str, str], device: str) -> Values:
    """The example's fields: what was given, else the defaults, the symbols filled in."""
    values: dict[str, str | None] = {}
    moment = datetime.now(UTC)
    for name, default in example.fields.items():
        value = given.get(name, default)
        if value == Home.REQUIRED or (value == "" and default == Home.REQUIRED):
            raise RequestError(f"SR {srv} needs {name}=VALUE (it has no default)")
        if value == "":
            value = None  # FIELD= leaves an optional element out
        elif value == Home.DEVICE:
            value = device
        elif value in (Home.NOW, Home.TOMORROW, Home.YESTERDAY):
            days = {Home.NOW: 0, Home.TOMORROW: 1, Home.YESTERDAY: -1}[Home(value)]
            when = moment + timedelta(days=days)
            value = when.strftime("%Y-%m-%dT%H:%M:%S.00Z")
        else:
            value = _default(value)
        if value is not None and name in example.certificates:
            value = certificate(value)
        values[name] = value
    return Values(values, frozenset(given))


def certificate(value: str) -> str:
    """A certificate for the body: base64 DER as given, or read from a PEM or DER file."""
    path = Path(value)
    try:
        is_file = path.is_file()
    except OSError:  # a long base64 string is no name the OS takes
        is_file = False
    if not is_file:
        try:
            base64.b64decode(value, validate=True)
        except ValueError:
            raise RequestError(
                f"{value[:40]!r} is neither base64 nor a certificate file (PEM or DER)"
            ) from None
        return value
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RequestError(f"cannot read {value!r}: {exc.strerror or exc}") from None
    if b"-----BEGIN" in data:
        lines = data.decode("ascii", "replace").splitlines()
        return "".join(line.strip() for line in lines if line and not line.startswith("-----"))
    return base64.b64encode(data).decode("ascii")


def _variant(srv: str) -> ServiceReferenceVariant:
    try:
        return ServiceReferenceVariant(srv)
    except ValueError:
        raise RequestError(
            f"{srv!r} is not a DUIS 5.4 service reference variant ('smetsim catalogue' lists them)"
        ) from None


def request_fields(srv: str) -> Mapping[str, str | None]:
    """The fields of SR ``srv`` with their defaults (:class:`RequestError` when not served)."""
    example = _example(_variant(srv))
    return {name: _default(value) for name, value in example.fields.items()}


def _example(variant: ServiceReferenceVariant) -> Example:
    entry = CATALOGUE[variant]
    if not entry.served:
        raise RequestError(
            f"SR {variant.value} ({entry.row.name}) is not served by smetsim: "
            "'smetsim catalogue' lists the served ones"
        )
    example = entry.example
    if example is None:  # pragma: no cover - a test checks every served SR has an example
        raise RequestError(f"smetsim request cannot write SR {variant.value} yet")
    return example


def _default_user(roles: frozenset[UserRole]) -> bytes:
    """The home's user who may send an SR of these roles: the supplier (import and gas),
    else the network operator (electricity distributor and gas transporter), else the Other
    User (an SR only an OU may send: 9.1)."""
    if roles == {UserRole.OU}:
        return OTHER_USER
    if roles & {UserRole.IS, UserRole.GS} or not roles & {UserRole.ED, UserRole.GT}:
        return SUPPLIER
    return NETWORK_OPERATOR


def parse_assignments(pairs: Sequence[str]) -> dict[str, str]:
    """``field=value`` pairs (a field at most once)."""
    given: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise RequestError(f"{pair!r} is not field=value (e.g. TolerancePeriod=30)")
        if name in given:
            raise RequestError(f"field {name} is given twice")
        given[name] = value
    return given


def write_request(
    srv: str,
    *,
    device: bytes | None = None,
    user: bytes | None = None,
    command_variant: int | None = None,
    fields: Mapping[str, str] | None = None,
    counter: int | None = None,
) -> bytes:
    """The DUIS request document of SR ``srv`` (unsigned; see the module docstring)."""
    variant = _variant(srv)
    example = _example(variant)
    row = CATALOGUE[variant].row
    given = dict(fields or {})
    unknown = [name for name in given if name not in example.fields]
    if unknown:
        known = ", ".join(example.fields) or "none"
        raise RequestError(f"SR {variant.value} has no field {unknown[0]} (its fields: {known})")
    allowed = sorted(int(cv) for cv in variant.command_variants)
    cv = allowed[0] if command_variant is None else command_variant
    if cv not in allowed:
        listed = ", ".join(str(c) for c in allowed)
        raise RequestError(f"SR {variant.value} takes CommandVariant {listed}, not {cv}")
    if cv in (CommandVariant.SR_TO_PRECOMMAND + 1, CommandVariant.SR_TO_PRECOMMAND + 2):
        raise RequestError(
            f"CommandVariant {cv} carries the signed pre-command of a CV4 request: write the "
            "CV4 request; 'smetsim send' signs its pre-command and sends the CV5 itself"
        )
    if CommandVariant.NON_DEVICE in variant.command_variants:
        target = ACB  # the DCC answers; the body names the device
        shown_device = eui_duis(ESME if device is None else device)
    else:
        target = _DEVICES[row.device_types[0]] if device is None else device
        shown_device = eui_duis(target)
    if user is None:
        user = _default_user(row.roles)
    values = _values(variant.value, example, given, shown_device)
    try:
        body = example.body(row.body, values)
    except ExampleError as exc:
        raise RequestError(str(exc)) from None
    document = build_request(
        service_reference_variant=variant.value,
        command_variant=cv,
        originator=user,
        target=target,
        counter=int(time.time() * 1000) if counter is None else counter,
        body=body,
    )
    # Indented for the person who reads or edits it; the gateway ignores the whitespace.
    root = etree.fromstring(document, _PARSER)
    etree.indent(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
