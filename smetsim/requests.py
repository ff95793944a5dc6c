"""DUIS 5.4 requests a user can make without the DCC's templates: ``smetsim request``.

:func:`write_request` writes a request for any service reference variant the catalogue
serves, its values defaulting to the sandbox's home (:mod:`smetsim.sandbox`): the supplier
sends it, to the home's ESME (the CHF for 8.11, the DCC for the non-device SRs), with the
lowest command variant the SR takes (8.5's certificates have no default: the user gives
them). ``field=value`` pairs set the body's elements by their DUIS names (``UTRN=...``,
``TolerancePeriod=30``; ``ESMEVariant=`` leaves one out); a field the SR does not have, an
SR that is not served or a command variant it does not take is refused with a sentence
(:class:`RequestError`), and nothing is written.

The bodies follow the schema's element order, so what is written validates against the DUIS
5.4 schema (a test checks every SR against it, and reads each through the gateway's own
readers).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Final
from xml.sax.saxutils import escape

from lxml import etree

from gateway.duis.catalogue import CommandVariant, ServiceReferenceVariant
from gateway.srv.catalogue import CATALOGUE
from gbcs.codes import ACB, SUPPLIER
from gbcs.eui import eui_duis
from smetsim.client import build_request
from smetsim.sandbox import (
    CHF,
    ESME,
    IMPORT_MPAN,
    PENDING_ESME,
    PENDING_MPAN,
    UPRN,
)

__all__ = ["RECIPES", "Recipe", "RequestError", "request_fields", "write_request"]

_PARSER: Final = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)

NEW_ESME: Final = "00-DB-12-34-56-78-90-C0"
"""The device a 12.2 pre-notifies by default: not in the sandbox's home yet."""


class RequestError(Exception):
    """What the user asked for cannot be written (the sentence names the value)."""


Body = Callable[["Values"], str]


@dataclass(frozen=True, slots=True)
class Recipe:
    """How to write the body of one SR: its fields with their defaults, and the body."""

    fields: Mapping[str, str | None]
    """Every field ``field=value`` may set, with its default (``None``: left out unless
    given; ``DEVICE``: the ``--device`` EUI)."""
    body: Body
    target: bytes | None = ESME
    """The RequestID's target by default (``None``: the DCC, for non-device SRs, where
    ``--device`` names the device in the body instead)."""


DEVICE: Final = "<the --device EUI>"
NOW: Final = "<now>"
TOMORROW: Final = "<this time tomorrow>"
REQUIRED: Final = "<required>"


class Values:
    """The values of one request's fields: what was given, else the recipe's defaults."""

    def __init__(self, srv: str, recipe: Recipe, given: Mapping[str, str], device: str) -> None:
        self._given = dict(given)
        self._values: dict[str, str | None] = {}
        moment = datetime.now(UTC)
        for name, default in recipe.fields.items():
            value = given.get(name, default)
            if value == REQUIRED or (value == "" and default == REQUIRED):
                raise RequestError(f"SR {srv} needs {name}=VALUE (it has no default)")
            if value == "":
                value = None  # FIELD= leaves an optional element out
            elif value == DEVICE:
                value = device
            elif value in (NOW, TOMORROW):
                when = moment + timedelta(days=1 if value == TOMORROW else 0)
                value = when.strftime("%Y-%m-%dT%H:%M:%S.00Z")
            self._values[name] = value

    def given(self, name: str) -> bool:
        return name in self._given

    def get(self, name: str) -> str | None:
        return self._values[name]

    def element(self, name: str) -> str:
        """``<sr:name>value</sr:name>``, or nothing when the field has no value."""
        value = self._values[name]
        if value is None:
            return ""
        return f"<sr:{name}>{escape(value)}</sr:{name}>"

    def elements(self, *names: str) -> str:
        return "".join(self.element(n) for n in names)


def _empty(name: str) -> Recipe:
    return Recipe({}, lambda _: f"<sr:{name}/>")


def _clock(name: str) -> Recipe:
    return Recipe(
        {"CurrentDateTime": NOW, "TolerancePeriod": "60"},
        lambda v: f"<sr:{name}>{v.elements('CurrentDateTime', 'TolerancePeriod')}</sr:{name}>",
    )


def _date(year: str, month: str, day: str) -> str:
    return (
        f"<sr:Year>{year}</sr:Year>"
        f"<sr:Month><sr:SpecifiedMonth>{month}</sr:SpecifiedMonth></sr:Month>"
        f"<sr:DayOfMonth><sr:SpecifiedDayOfMonth>{day}</sr:SpecifiedDayOfMonth></sr:DayOfMonth>"
        "<sr:DayOfWeek><sr:NonSpecifiedDayOfWeek/></sr:DayOfWeek>"
    )


def _tariff(v: Values) -> str:
    """A single-rate time-of-use tariff: rate 1 all day, every day, from 1 January."""
    start = "<sr:ProfileSchedule><sr:StartTime>00:00:00.00Z</sr:StartTime>"
    week = "".join(
        f'<sr:ReferencedDayName index="{i}">1</sr:ReferencedDayName>' for i in range(1, 8)
    )
    thresholds = "".join(
        f'<sr:Thresholds index="{i}"><sr:BlockThreshold index="1">4294967295'
        "</sr:BlockThreshold></sr:Thresholds>"
        for i in range(1, 9)
    )
    return (
        "<sr:UpdateImportTariffPrimaryElement><sr:ElecTariffElements>"
        f"{v.element('CurrencyUnits')}<sr:SwitchingTable>"
        f"<sr:DayProfiles><sr:DayProfile><sr:DayName>1</sr:DayName>{start}"
        "<sr:TOUTariffAction>1</sr:TOUTariffAction></sr:ProfileSchedule>"
        "</sr:DayProfile></sr:DayProfiles>"
        f"<sr:WeekProfiles><sr:WeekProfile><sr:WeekName>1</sr:WeekName>{week}"
        "</sr:WeekProfile></sr:WeekProfiles>"
        f"<sr:Seasons><sr:Season>{v.element('SeasonName')}<sr:SeasonStartDate>"
        f"{_date('<sr:NonSpecifiedYear/>', '01', '01')}</sr:SeasonStartDate>"
        "<sr:ReferencedWeekName>1</sr:ReferencedWeekName></sr:Season></sr:Seasons>"
        "</sr:SwitchingTable><sr:SpecialDays/>"
        f"<sr:ThresholdMatrix>{thresholds}</sr:ThresholdMatrix></sr:ElecTariffElements>"
        "<sr:PriceElements><sr:ElectricityPriceElements>"
        f"{v.elements('StandingCharge', 'StandingChargeScale', 'PriceScale')}"
        f'<sr:TOUTariff><sr:TOUPrice index="1">{escape(v.get("TOUPrice") or "")}'
        "</sr:TOUPrice></sr:TOUTariff>"
        "</sr:ElectricityPriceElements></sr:PriceElements>"
        "</sr:UpdateImportTariffPrimaryElement>"
    )


def _han_log(v: Values) -> str:
    kind = v.get("RequestType")
    if kind == "Remove":
        return (
            "<sr:UpdateHANDeviceLog>"
            f"{v.elements('DeviceID', 'RequestType')}</sr:UpdateHANDeviceLog>"
        )
    return (
        f"<sr:UpdateHANDeviceLog>{v.elements('DeviceID', 'RequestType')}"
        "<sr:AddDeviceToCHFWhitelist>"
        f"{v.elements('JoinTimePeriod', 'InstallCode', 'ImportMPxN', 'SecondaryImportMPAN')}"
        f"{v.element('ExportMPAN')}"
        "</sr:AddDeviceToCHFWhitelist></sr:UpdateHANDeviceLog>"
    )


_INVENTORY_KEYS: Final = ("DeviceID", "MPxN", "UPRN", "PostCode")


def _inventory(v: Values) -> str:
    """One key of the schema's choice: the first given (DeviceID by default)."""
    chosen = next((k for k in _INVENTORY_KEYS if v.given(k)), "DeviceID")
    if chosen == "PostCode":
        inner = (
            f"<sr:PropertyFilter>{v.elements('PostCode', 'AddressIdentifier')}</sr:PropertyFilter>"
        )
    else:
        inner = v.element(chosen)
    return f"<sr:ReadInventory>{inner}</sr:ReadInventory>"


_UPDATE_CHOICES: Final = (
    "UpdateDeviceStatusExceptCH",
    "UpdateDeviceStatusCH",
    "DeviceManufacturer",
    "DeviceModel",
    "SMETSCHTSVersion",
    "FirmwareVersion",
    "ESMEVariant",
    "DeleteDevice",
    "ImportMPxN",
    "SecondaryImportMPAN",
    "ExportMPAN",
)
_DETAILS: Final = _UPDATE_CHOICES[2:7]
_MPXNS: Final = _UPDATE_CHOICES[8:]


def _update_inventory(v: Values) -> str:
    given = [k for k in _UPDATE_CHOICES if v.given(k)]
    groups = {
        "status": [k for k in given if k.startswith("UpdateDeviceStatus")],
        "details": [k for k in given if k in _DETAILS],
        "delete": [k for k in given if k == "DeleteDevice"],
        "mpxn": [k for k in given if k in _MPXNS],
    }
    used = [name for name, keys in groups.items() if keys]
    if len(used) != 1 or len(groups["status"]) > 1 or len(groups["mpxn"]) > 1:
        raise RequestError(
            "SR 8.4 changes one thing: give one of UpdateDeviceStatusExceptCH=STATUS, "
            "UpdateDeviceStatusCH=STATUS, DeleteDevice=yes, one of ImportMPxN/"
            "SecondaryImportMPAN/ExportMPAN=VALUE, or device details (DeviceManufacturer, "
            "DeviceModel, SMETSCHTSVersion, FirmwareVersion, ESMEVariant)"
        )
    if used == ["status"] or used == ["mpxn"]:
        key = groups[used[0]][0]
        change = v.element(key)
        if used == ["mpxn"]:
            change = f"<sr:UpdateMPxN>{change}</sr:UpdateMPxN>"
    elif used == ["delete"]:
        change = "<sr:DeleteDevice/>"
    else:
        change = f"<sr:UpdateDeviceDetails>{v.elements(*_DETAILS)}</sr:UpdateDeviceDetails>"
    return f"<sr:UpdateInventory>{v.element('DeviceID')}{change}</sr:UpdateInventory>"


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


def _opt_out(v: Values) -> str:
    """8.5: the ACB's replacement certificates, for a future date (the schema makes it one)."""
    replacement = "".join(
        f"<sr:{name}>{certificate(value)}</sr:{name}>"
        for name in ("DigitalSigningCertificate", "KeyAgreementCertificate")
        if (value := v.get(name)) is not None
    )
    path = certificate(v.get("Certificate") or "")
    return (
        f"<sr:ServiceOptOut>{v.elements('ExecutionDateTime', 'ACBFloorSeqNumber')}"
        f"<sr:ReplacementCertificates>{replacement}</sr:ReplacementCertificates>"
        "<sr:CertificationPathCertificates>"
        f"<sr:Certificate>{path}</sr:Certificate></sr:CertificationPathCertificates>"
        f"{v.element('ApplyTimeBasedCPVChecks')}</sr:ServiceOptOut>"
    )


RECIPES: Final[Mapping[str, Recipe]] = MappingProxyType(
    {
        "1.1.1": Recipe(
            {
                "CurrencyUnits": "GBP",
                "SeasonName": "all year",
                "StandingCharge": "20000",
                "StandingChargeScale": "-5",
                "PriceScale": "-5",
                "TOUPrice": "2500",
            },
            _tariff,
        ),
        "2.2": Recipe(
            {"UTRN": "73946144332040217315"},
            lambda v: f"<sr:TopUpDevice>{v.element('UTRN')}</sr:TopUpDevice>",
        ),
        "4.1.1": _empty("ReadInstantaneousImportRegisters"),
        "6.11": _clock("SynchroniseClock"),
        "7.1": _empty("EnableSupply"),
        "7.2": _empty("DisableSupply"),
        "7.3": _empty("ArmSupply"),
        "8.1.1": _clock("CommissionDeviceSynchroniseClock"),
        "8.2": Recipe(
            {
                "DeviceID": DEVICE,
                "MPxN": IMPORT_MPAN,
                "UPRN": UPRN,
                "PostCode": None,
                "AddressIdentifier": None,
            },
            _inventory,
            target=None,
        ),
        "8.3": Recipe(
            {"DeviceID": DEVICE},
            lambda v: f"<sr:DecommissionDevice>{v.element('DeviceID')}</sr:DecommissionDevice>",
            target=None,
        ),
        "8.4": Recipe(
            {"DeviceID": DEVICE, **dict.fromkeys(_UPDATE_CHOICES)},
            _update_inventory,
            target=None,
        ),
        "8.5": Recipe(
            {
                "ExecutionDateTime": TOMORROW,
                "ACBFloorSeqNumber": "0",
                "DigitalSigningCertificate": None,
                "KeyAgreementCertificate": REQUIRED,
                "Certificate": REQUIRED,
                "ApplyTimeBasedCPVChecks": "true",
            },
            _opt_out,
        ),
        "8.11": Recipe(
            {
                "DeviceID": eui_duis(PENDING_ESME),
                "RequestType": "Add",
                "JoinTimePeriod": "90",
                "InstallCode": "30313233343536373839414243444546",
                "ImportMPxN": PENDING_MPAN,
                "SecondaryImportMPAN": None,
                "ExportMPAN": None,
            },
            _han_log,
            target=CHF,
        ),
        "11.2": _empty("ReadFirmwareVersion"),
        "12.2": Recipe(
            {
                "DeviceID": NEW_ESME,
                "DeviceManufacturer": "AB01",
                "DeviceModel": "010A030B",
                "DeviceType": "ESME",
                "SMETSCHTSVersion": "SMETS V1.58",
                "FirmwareVersion": "0002012F",
                "ESMEVariant": "A",
                "AssociatedGPFDeviceID": None,
            },
            lambda v: (
                "<sr:DevicePrenotification>"
                + v.elements(
                    "DeviceID",
                    "DeviceManufacturer",
                    "DeviceModel",
                    "DeviceType",
                    "SMETSCHTSVersion",
                    "FirmwareVersion",
                    "ESMEVariant",
                    "AssociatedGPFDeviceID",
                )
                + "</sr:DevicePrenotification>"
            ),
            target=None,
        ),
    }
)
"""The body of every served SR this module writes, by SRV."""


def _variant(srv: str) -> ServiceReferenceVariant:
    try:
        return ServiceReferenceVariant(srv)
    except ValueError:
        raise RequestError(
            f"{srv!r} is not a DUIS 5.4 service reference variant ('smetsim catalogue' lists them)"
        ) from None


def request_fields(srv: str) -> Mapping[str, str | None]:
    """The fields of SR ``srv`` with their defaults (:class:`RequestError` when not served)."""
    return _recipe(_variant(srv)).fields


def _recipe(variant: ServiceReferenceVariant) -> Recipe:
    entry = CATALOGUE[variant]
    if not entry.served:
        raise RequestError(
            f"SR {variant.value} ({entry.row.name}) is not served by smetsim: "
            "'smetsim catalogue' lists the served ones"
        )
    recipe = RECIPES.get(variant.value)
    if recipe is None:  # pragma: no cover - a test checks every served SR has a recipe
        raise RequestError(f"smetsim request cannot write SR {variant.value} yet")
    return recipe


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
    user: bytes = SUPPLIER,
    command_variant: int | None = None,
    fields: Mapping[str, str] | None = None,
    counter: int | None = None,
) -> bytes:
    """The DUIS request document of SR ``srv`` (unsigned; see the module docstring)."""
    variant = _variant(srv)
    recipe = _recipe(variant)
    given = dict(fields or {})
    unknown = [name for name in given if name not in recipe.fields]
    if unknown:
        known = ", ".join(recipe.fields) or "none"
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
    if recipe.target is None:
        target = ACB
        shown_device = eui_duis(ESME if device is None else device)
    else:
        target = recipe.target if device is None else device
        shown_device = eui_duis(target)
    body = recipe.body(Values(variant.value, recipe, given, shown_device))
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
