"""The non-device service requests (CV8): DUIS XML bodies to the typed requests of
:mod:`gateway.model`, and the results back to DUIS content.

The readers check what the schema would (element order aside), so that a gateway started
without ``--duis-schema`` still refuses a bad value with a sentence naming it
(``duis_invalid_element``) instead of passing it to the rules.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time
from typing import Final

from lxml import etree

from gateway.dcc_schedule import FREQUENCIES, MAX_SCHEDULE_ID
from gateway.duis.build import inventory_element
from gateway.duis.catalogue import ServiceReferenceVariant
from gateway.duis.envelope import DuisRequest, parse_eui_text
from gateway.duis.xml import SR_NS, is_element, local_name, parse_document, sr
from gateway.errors import ServiceError
from gateway.model import (
    UPDATE_STATUS_CH,
    UPDATE_STATUS_EXCEPT_CH,
    CommsHubStatusUpdate,
    CreateSchedule,
    DecommissionDevice,
    DeleteDevice,
    DeleteSchedule,
    DevicePrenotification,
    DeviceStatus,
    NonDeviceRequest,
    NonDeviceResult,
    PropertyFilter,
    ReadInventory,
    ReadSchedule,
    ScheduleSpec,
    ServiceOptOut,
    UpdateDeviceDetails,
    UpdateDeviceStatus,
    UpdateMPxN,
)
from gateway.srv.example import Example, ExampleError, Home, Values
from gateway.srv.registry import serves_non_device
from gbcs.devices import ESME_VARIANTS, DeviceType

_SR_PREFIX: Final = f"{{{SR_NS}}}"

BODY_OF: Final[dict[ServiceReferenceVariant, str]] = {
    ServiceReferenceVariant.SR_12_2: "DevicePrenotification",
    ServiceReferenceVariant.SR_8_2: "ReadInventory",
    ServiceReferenceVariant.SR_8_3: "DecommissionDevice",
    ServiceReferenceVariant.SR_8_4: "UpdateInventory",
    ServiceReferenceVariant.SR_8_5: "ServiceOptOut",
    ServiceReferenceVariant.SR_8_14_1: "CHFInstallSuccessSMWAN",
    ServiceReferenceVariant.SR_8_14_2: "CHFInstallSuccessNoSMWAN",
    ServiceReferenceVariant.SR_8_14_3: "CHFFaultReturn",
    ServiceReferenceVariant.SR_8_14_4: "CHFNoFaultReturn",
    ServiceReferenceVariant.SR_5_1: "CreateSchedule",
    ServiceReferenceVariant.SR_5_2: "ReadSchedule",
    ServiceReferenceVariant.SR_5_3: "DeleteSchedule",
}
"""The body element of each non-device SR this gateway serves."""


def _children(element: etree._Element) -> list[etree._Element]:
    children: list[etree._Element] = []
    for child in element:
        if not is_element(child):
            continue
        if not str(child.tag).startswith(_SR_PREFIX):
            raise ServiceError(
                "duis_invalid_element",
                element=local_name(element),
                reason=f"element {child.tag} is not in the DUIS namespace",
            )
        children.append(child)
    return children


class _Fields:
    """The child elements of a body element by local name, each at most once, none unknown."""

    def __init__(self, element: etree._Element, allowed: tuple[str, ...]) -> None:
        self.owner = local_name(element)
        self.elements: dict[str, etree._Element] = {}
        for child in _children(element):
            name = local_name(child)
            if name not in allowed:
                raise ServiceError(
                    "duis_invalid_element",
                    element=self.owner,
                    reason=f"unexpected element {name} (expected {', '.join(allowed)})",
                )
            if name in self.elements:
                raise ServiceError("duis_invalid_element", element=name, reason="it appears twice")
            self.elements[name] = child

    def text(
        self, name: str, *, required: bool = False, min_len: int = 0, max_len: int | None = None
    ) -> str | None:
        element = self.elements.get(name)
        if element is None:
            if required:
                raise ServiceError(
                    "duis_invalid_element", element=self.owner, reason=f"{name} is missing"
                )
            return None
        value = (element.text or "").strip()
        if len(value) < min_len or (max_len is not None and len(value) > max_len):
            span = f"{min_len} to {max_len}" if max_len is not None else f"at least {min_len}"
            raise ServiceError(
                "duis_invalid_element",
                element=name,
                reason=f"{value!r} must be {span} characters long",
            )
        return value

    def eui(self, name: str, *, required: bool = False) -> bytes | None:
        element = self.elements.get(name)
        if element is None:
            if required:
                raise ServiceError(
                    "duis_invalid_element", element=self.owner, reason=f"{name} is missing"
                )
            return None
        return parse_eui_text(element.text, name)

    def only_one(self, names: tuple[str, ...]) -> str:
        present = [n for n in names if n in self.elements]
        if len(present) != 1:
            raise ServiceError(
                "duis_invalid_element",
                element=self.owner,
                reason=f"it must hold exactly one of {', '.join(names)}",
            )
        return present[0]


def _enum_value(name: str, value: str | None, allowed: frozenset[str] | set[str]) -> str:
    if value is None or value not in allowed:
        raise ServiceError(
            "duis_invalid_element",
            element=name,
            reason=f"{value!r} is not one of {', '.join(sorted(allowed))}",
        )
    return value


def _mpan(name: str, value: str | None) -> str:
    if value is None or len(value) != 13:
        raise ServiceError(
            "duis_invalid_element",
            element=name,
            reason=f"{value!r} is not an MPAN of 13 characters",
        )
    return value


def _uprn(value: str | None) -> str:
    text = value or ""
    if not text.isascii() or not text.isdigit() or int(text) == 0 or len(str(int(text))) > 12:
        raise ServiceError(
            "duis_invalid_element",
            element="UPRN",
            reason=f"{text!r} is not a positive integer of at most 12 digits",
        )
    return str(int(text))


def read_device_prenotification(body: etree._Element) -> DevicePrenotification:
    f = _Fields(body, DevicePrenotification.ELEMENTS)
    device_id = f.eui("DeviceID", required=True)
    assert device_id is not None
    device_type = _enum_value(
        "DeviceType", f.text("DeviceType", required=True), {t.value for t in DeviceType}
    )
    variant = f.text("ESMEVariant")
    return DevicePrenotification(
        device_id=device_id,
        manufacturer=f.text("DeviceManufacturer", required=True, max_len=30) or "",
        model=f.text("DeviceModel", required=True, max_len=30) or "",
        device_type=DeviceType(device_type),
        smets_chts_version=f.text("SMETSCHTSVersion", min_len=1, max_len=20),
        firmware_version=f.text("FirmwareVersion", min_len=1, max_len=8),
        esme_variant=None
        if variant is None
        else _enum_value("ESMEVariant", variant, ESME_VARIANTS),
        associated_gpf_id=f.eui("AssociatedGPFDeviceID"),
    )


def read_read_inventory(body: etree._Element) -> ReadInventory:
    f = _Fields(body, ("UPRN", "DeviceID", "MPxN", "PropertyFilter"))
    which = f.only_one(("UPRN", "DeviceID", "MPxN", "PropertyFilter"))
    if which == "DeviceID":
        return ReadInventory(device_id=f.eui("DeviceID"))
    if which == "MPxN":
        return ReadInventory(mpxn=f.text("MPxN", min_len=1, max_len=13))
    if which == "UPRN":
        return ReadInventory(uprn=_uprn(f.text("UPRN")))
    pf = _Fields(f.elements["PropertyFilter"], ("PostCode", "AddressIdentifier"))
    return ReadInventory(
        property_filter=PropertyFilter(
            postcode=pf.text("PostCode", required=True, min_len=6, max_len=8) or "",
            address_identifier=pf.text("AddressIdentifier", required=True, max_len=30) or "",
        )
    )


def read_decommission_device(body: etree._Element) -> DecommissionDevice:
    f = _Fields(body, ("DeviceID",))
    device_id = f.eui("DeviceID", required=True)
    assert device_id is not None
    return DecommissionDevice(device_id=device_id)


_UPDATE_CHOICES: Final = (
    "UpdateDeviceStatusExceptCH",
    "UpdateDeviceStatusCH",
    "UpdateDeviceDetails",
    "DeleteDevice",
    "UpdateMPxN",
)


def read_update_inventory(
    body: etree._Element,
) -> UpdateDeviceStatus | UpdateDeviceDetails | DeleteDevice | UpdateMPxN:
    f = _Fields(body, ("DeviceID", *_UPDATE_CHOICES))
    device_id = f.eui("DeviceID", required=True)
    assert device_id is not None
    which = f.only_one(_UPDATE_CHOICES)
    if which == "UpdateDeviceStatusExceptCH":
        allowed = {s.value for s in UPDATE_STATUS_EXCEPT_CH}
        status = _enum_value(which, f.text(which), allowed)
        return UpdateDeviceStatus(device_id, DeviceStatus(status), comms_hub=False)
    if which == "UpdateDeviceStatusCH":
        allowed = {s.value for s in UPDATE_STATUS_CH}
        status = _enum_value(which, f.text(which), allowed)
        return UpdateDeviceStatus(device_id, DeviceStatus(status), comms_hub=True)
    if which == "DeleteDevice":
        if _children(f.elements[which]) or (f.elements[which].text or "").strip():
            raise ServiceError(
                "duis_invalid_element", element="DeleteDevice", reason="it must be empty"
            )
        return DeleteDevice(device_id)
    if which == "UpdateDeviceDetails":
        d = _Fields(
            f.elements[which],
            (
                "DeviceManufacturer",
                "DeviceModel",
                "SMETSCHTSVersion",
                "FirmwareVersion",
                "ESMEVariant",
            ),
        )
        variant = d.text("ESMEVariant")
        return UpdateDeviceDetails(
            device_id,
            manufacturer=d.text("DeviceManufacturer", max_len=30),
            model=d.text("DeviceModel", max_len=30),
            smets_chts_version=d.text("SMETSCHTSVersion", min_len=1, max_len=20),
            firmware_version=d.text("FirmwareVersion", min_len=1, max_len=8),
            esme_variant=None
            if variant is None
            else _enum_value("ESMEVariant", variant, ESME_VARIANTS),
        )
    m = _Fields(f.elements[which], ("ImportMPxN", "SecondaryImportMPAN", "ExportMPAN"))
    link = m.only_one(("ImportMPxN", "SecondaryImportMPAN", "ExportMPAN"))
    if link == "ImportMPxN":
        return UpdateMPxN(device_id, import_mpxn=m.text(link, min_len=1, max_len=13))
    if link == "SecondaryImportMPAN":
        return UpdateMPxN(device_id, secondary_import_mpan=_mpan(link, m.text(link)))
    return UpdateMPxN(device_id, export_mpan=_mpan(link, m.text(link)))


_HUB_FACTS: Final[dict[str, tuple[str, ...]]] = {
    "CHFInstallSuccessSMWAN": (
        "CHFInstallType", "InstallDateTime", "UserRefID", "MPxN", "GISData", "AerialInstall",
        "CHFLocation", "AdditionalInformation",
    ),
    "CHFInstallSuccessNoSMWAN": (
        "CHFInstallType", "InstallDateTime", "UserRefID", "MPxN", "GISData", "AerialInstall",
        "CHFLocation", "PremiseType", "MetalObstructionCheck", "ConnectivityObstructionCheck",
        "SharedObstructionCheck", "AdditionalInformation",
    ),
    "CHFFaultReturn": (
        "CHFFaultReturnType", "UserRefDateTime", "UserRefID", "OtherDeviceID",
        "IncidentReference", "CHFConnectionMethod", "CHFFaultReason", "AdditionalInformation",
    ),
    "CHFNoFaultReturn": (
        "CHFNoFaultReturnType", "UserRefDateTime", "UserRefID", "IncidentReference",
        "AdditionalInformation",
    ),
}  # fmt: skip
"""The elements of each SR8.14 body besides DeviceID (DUIS 5.4), in schema order."""


def read_hub_status_update(request: DuisRequest) -> CommsHubStatusUpdate:
    """SR8.14.x: the CHF's DeviceID; the other elements kept as text (the schema, when the
    gateway has it, has checked their values)."""
    body = request.body
    allowed = _HUB_FACTS[local_name(body)]
    f = _Fields(body, ("DeviceID", *allowed))
    device = f.eui("DeviceID", required=True)
    assert device is not None
    facts = tuple(
        (name, " ".join("".join(str(t) for t in f.elements[name].itertext()).split()))
        for name in allowed
        if name in f.elements
    )
    variant = request.header.service_reference_variant.value
    return CommsHubStatusUpdate(variant, device, facts)


def read_service_opt_out(request: DuisRequest) -> ServiceOptOut:
    """SR8.5 names its device in the RequestID's target (the body holds certificates only)."""
    return ServiceOptOut(device_id=request.header.request_id.target)


# ---------------------------------------------------------------------------- 5.1-5.3

SCHEDULED_BODIES: Final = (
    "DSPRetrieveImportDailyReadLog",
    "DSPRetrieveExportDailyReadLog",
    "DSPReadActiveImportProfileData",
    "DSPReadReactiveImportProfileData",
    "DSPReadExportProfileData",
    "DSPReadNetworkData",
    "DSPReadMaximumDemandImportRegisters",
    "DSPReadMaximumDemandExportRegisters",
    "DSPReadPrepaymentDailyReadLog",
    "DSPReadLoadLimitData",
    "DSPReadActivePowerImport",
    "DSPRetrieveDailyConsumptionLog",
    "DSPRecordNetworkDataGAS",
    "DSPReadInstantaneousExportRegisters",
)
"""The schema's choice of scheduled request bodies in a ``DSPSchedule``."""

_SCHEDULE_FIELDS: Final = (
    "ScheduleFrequency",
    "ScheduleStartDate",
    "ScheduleEndDate",
    "ScheduleExecutionStartTime",
    "KAPublicSecurityCredential",
    "DSPScheduledServiceReference",
    "DSPScheduledServiceReferenceVariant",
    "DeviceID",
)


def _xs_date(name: str, value: str | None) -> date:
    text = (value or "").removesuffix("Z")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ServiceError(
            "duis_invalid_element", element=name, reason=f"{value!r} is not a date (2025-12-31)"
        ) from None


def _xs_time(name: str, value: str) -> time:
    try:
        when = time.fromisoformat(value.removesuffix("Z"))
    except ValueError:
        raise ServiceError(
            "duis_invalid_element", element=name, reason=f"{value!r} is not a time (01:30:00)"
        ) from None
    if when.tzinfo is not None and when.utcoffset():
        raise ServiceError("duis_invalid_element", element=name, reason=f"{value!r} must be in UTC")
    return when.replace(tzinfo=None)


def read_create_schedule(body: etree._Element) -> CreateSchedule:
    """SR5.1: the ``DSPSchedule``; whether the scheduled SR may be scheduled, to that device,
    by that user, is the service's rule (:mod:`gateway.services.nondevice`)."""
    f = _Fields(body, (*_SCHEDULE_FIELDS, *SCHEDULED_BODIES))
    frequency = _enum_value(
        "ScheduleFrequency", f.text("ScheduleFrequency", required=True), set(FREQUENCIES)
    )
    end = f.text("ScheduleEndDate")
    start_time = f.text("ScheduleExecutionStartTime")
    device = f.eui("DeviceID", required=True)
    assert device is not None
    reference = f.text("DSPScheduledServiceReference", required=True) or ""
    variant = f.text("DSPScheduledServiceReferenceVariant", required=True) or ""
    if variant != reference and not variant.startswith(f"{reference}."):
        raise ServiceError(
            "duis_invalid_element",
            element="DSPScheduledServiceReference",
            reason=f"{reference!r} is not the service reference of variant {variant!r}",
        )
    scheduled = f.only_one(SCHEDULED_BODIES)
    if "KAPublicSecurityCredential" in f.elements:
        # Answers re-encrypted for a key the schedule carries: not served (as for the reads).
        raise ServiceError("duis_sr_not_supported", srv="5.1 with KAPublicSecurityCredential")
    return CreateSchedule(
        ScheduleSpec(
            frequency=frequency,
            start_date=_xs_date("ScheduleStartDate", f.text("ScheduleStartDate", required=True)),
            end_date=None if end is None else _xs_date("ScheduleEndDate", end),
            start_time=time()
            if start_time is None
            else _xs_time("ScheduleExecutionStartTime", start_time),
            variant=variant,
            device_id=device,
            details=etree.tostring(body, encoding="unicode"),
            scheduled_body=scheduled,
        )
    )


def _schedule_key(body: etree._Element) -> tuple[int | None, bytes | None]:
    f = _Fields(body, ("DSPScheduleID", "DeviceID"))
    if f.only_one(("DSPScheduleID", "DeviceID")) == "DeviceID":
        return None, f.eui("DeviceID")
    text = f.text("DSPScheduleID") or ""
    if not text.isascii() or not text.isdigit() or int(text) > MAX_SCHEDULE_ID:
        raise ServiceError(
            "duis_invalid_element",
            element="DSPScheduleID",
            reason=f"{text!r} is not a schedule id (0 to {MAX_SCHEDULE_ID})",
        )
    return int(text), None


def read_read_schedule(body: etree._Element) -> ReadSchedule:
    return ReadSchedule(*_schedule_key(body))


def read_delete_schedule(body: etree._Element) -> DeleteSchedule:
    return DeleteSchedule(*_schedule_key(body))


def schedules_read_element(schedules: tuple[tuple[int, ScheduleSpec], ...]) -> etree._Element:
    """``sr:DSPSchedulesRead``: each schedule's id and the ``DSPSchedule`` it was created with."""
    read = etree.Element(sr("DSPSchedulesRead"))
    for schedule_id, spec in schedules:
        entry = etree.SubElement(read, sr("DSPSchedules"))
        etree.SubElement(entry, sr("DSPScheduleID")).text = str(schedule_id)
        details = etree.SubElement(entry, sr("DSPScheduleDetails"))
        details.extend(c for c in parse_document(spec.details.encode()) if is_element(c))
    return read


def read_non_device_request(request: DuisRequest) -> NonDeviceRequest:
    """The typed request of a non-device SR; ``duis_body_mismatch`` when the body is not the
    SR's, ``duis_invalid_element`` for a bad value."""
    variant = request.header.service_reference_variant
    expected = BODY_OF.get(variant)
    if expected is None:
        raise ServiceError("duis_sr_not_supported", srv=variant.value)
    if request.body_name != expected:
        raise ServiceError(
            "duis_body_mismatch", srv=variant.value, expected=expected, found=request.body_name
        )
    readers: dict[str, Callable[[etree._Element], NonDeviceRequest]] = {
        "DevicePrenotification": read_device_prenotification,
        "ReadInventory": read_read_inventory,
        "DecommissionDevice": read_decommission_device,
        "UpdateInventory": read_update_inventory,
        "CreateSchedule": read_create_schedule,
        "ReadSchedule": read_read_schedule,
        "DeleteSchedule": read_delete_schedule,
    }
    if expected == "ServiceOptOut":
        return read_service_opt_out(request)
    if expected in _HUB_FACTS:
        return read_hub_status_update(request)
    return readers[expected](request.body)


# ---------------------------------------------------------------------------- examples

_INVENTORY_KEYS: Final = ("DeviceID", "MPxN", "UPRN", "PostCode")


def _inventory_example(v: Values) -> str:
    """One key of the schema's choice: the first given (DeviceID by default)."""
    chosen = next((k for k in _INVENTORY_KEYS if v.given(k)), "DeviceID")
    if chosen == "PostCode":
        return (
            f"<sr:PropertyFilter>{v.elements('PostCode', 'AddressIdentifier')}</sr:PropertyFilter>"
        )
    return v.element(chosen)


_EXAMPLE_CHANGES: Final = (
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
_DETAILS: Final = _EXAMPLE_CHANGES[2:7]
_MPXNS: Final = _EXAMPLE_CHANGES[8:]


def _update_inventory_example(v: Values) -> str:
    given = [k for k in _EXAMPLE_CHANGES if v.given(k)]
    groups = {
        "status": [k for k in given if k.startswith("UpdateDeviceStatus")],
        "details": [k for k in given if k in _DETAILS],
        "delete": [k for k in given if k == "DeleteDevice"],
        "mpxn": [k for k in given if k in _MPXNS],
    }
    used = [name for name, keys in groups.items() if keys]
    if len(used) != 1 or len(groups["status"]) > 1 or len(groups["mpxn"]) > 1:
        raise ExampleError(
            "SR 8.4 changes one thing: give one of UpdateDeviceStatusExceptCH=STATUS, "
            "UpdateDeviceStatusCH=STATUS, DeleteDevice=yes, one of ImportMPxN/"
            "SecondaryImportMPAN/ExportMPAN=VALUE, or device details (DeviceManufacturer, "
            "DeviceModel, SMETSCHTSVersion, FirmwareVersion, ESMEVariant)"
        )
    if used == ["status"] or used == ["mpxn"]:
        change = v.element(groups[used[0]][0])
        if used == ["mpxn"]:
            change = f"<sr:UpdateMPxN>{change}</sr:UpdateMPxN>"
    elif used == ["delete"]:
        change = "<sr:DeleteDevice/>"
    else:
        change = f"<sr:UpdateDeviceDetails>{v.elements(*_DETAILS)}</sr:UpdateDeviceDetails>"
    return v.element("DeviceID") + change


def _opt_out_example(v: Values) -> str:
    """8.5: the ACB's replacement certificates, for a future date (the schema makes it one)."""
    return (
        f"{v.elements('ExecutionDateTime', 'ACBFloorSeqNumber')}<sr:ReplacementCertificates>"
        f"{v.elements('DigitalSigningCertificate', 'KeyAgreementCertificate')}"
        "</sr:ReplacementCertificates><sr:CertificationPathCertificates>"
        f"{v.element('Certificate')}</sr:CertificationPathCertificates>"
        f"{v.element('ApplyTimeBasedCPVChecks')}"
    )


_OFFSET_BODIES: Final = frozenset(
    {
        "DSPRetrieveImportDailyReadLog",
        "DSPRetrieveExportDailyReadLog",
        "DSPReadActiveImportProfileData",
        "DSPReadReactiveImportProfileData",
        "DSPReadExportProfileData",
        "DSPReadNetworkData",
        "DSPReadPrepaymentDailyReadLog",
        "DSPRetrieveDailyConsumptionLog",
    }
)
"""The scheduled bodies of type ``ReadLogPeriodOffset`` (the others are empty)."""

SCHEDULED_BODY_OF: Final[dict[str, str]] = {
    "4.2": "DSPReadInstantaneousExportRegisters",
    "4.6.1": "DSPRetrieveImportDailyReadLog",
    "4.6.2": "DSPRetrieveExportDailyReadLog",
    "4.8.1": "DSPReadActiveImportProfileData",
    "4.8.2": "DSPReadReactiveImportProfileData",
    "4.8.3": "DSPReadExportProfileData",
    "4.10": "DSPReadNetworkData",
    "4.12.1": "DSPReadMaximumDemandImportRegisters",
    "4.12.2": "DSPReadMaximumDemandExportRegisters",
    "4.14": "DSPReadPrepaymentDailyReadLog",
    "4.15": "DSPReadLoadLimitData",
    "4.16": "DSPReadActivePowerImport",
    "4.17": "DSPRetrieveDailyConsumptionLog",
    "14.1": "DSPRecordNetworkDataGAS",
}
"""The scheduled body each DSPScheduledServiceReferenceVariant carries."""


def _create_schedule_example(v: Values) -> str:
    variant = v.get("DSPScheduledServiceReferenceVariant") or ""
    body = SCHEDULED_BODY_OF.get(variant)
    if body is None:
        raise ExampleError(
            f"DSPScheduledServiceReferenceVariant={variant!r}: give one of "
            f"{', '.join(SCHEDULED_BODY_OF)}"
        )
    reference = ".".join(variant.split(".")[:2])
    dates = "".join(
        f"<sr:{name}>{(v.get(name) or '')[:10]}</sr:{name}>"
        for name in ("ScheduleStartDate", "ScheduleEndDate")
        if v.get(name) is not None
    )
    offsets = v.elements("StartDateOffset", "StartTime", "EndDateOffset", "EndTime")
    return (
        f"{v.element('ScheduleFrequency')}{dates}{v.element('ScheduleExecutionStartTime')}"
        f"<sr:DSPScheduledServiceReference>{reference}</sr:DSPScheduledServiceReference>"
        f"{v.element('DSPScheduledServiceReferenceVariant')}{v.element('DeviceID')}"
        + (f"<sr:{body}>{offsets}</sr:{body}>" if body in _OFFSET_BODIES else f"<sr:{body}/>")
    )


def _schedule_key_example(v: Values) -> str:
    """DSPScheduleID=N names one schedule; without it, the device's schedules."""
    default = "DeviceID" if v.get("DSPScheduleID") is None else "DSPScheduleID"
    return v.element(v.first_given(("DSPScheduleID", "DeviceID"), default))


_EXAMPLES: Final[dict[ServiceReferenceVariant, Example]] = {
    ServiceReferenceVariant.SR_12_2: Example(
        {
            "DeviceID": Home.NEW_DEVICE,
            "DeviceManufacturer": "AB01",
            "DeviceModel": "010A030B",
            "DeviceType": "ESME",
            "SMETSCHTSVersion": "SMETS V1.58",
            "FirmwareVersion": "0002012F",
            "ESMEVariant": "A",
            "AssociatedGPFDeviceID": None,
        }
    ),
    ServiceReferenceVariant.SR_8_2: Example(
        {
            "DeviceID": Home.DEVICE,
            "MPxN": Home.IMPORT_MPAN,
            "UPRN": Home.UPRN,
            "PostCode": None,
            "AddressIdentifier": None,
        },
        _inventory_example,
    ),
    ServiceReferenceVariant.SR_8_3: Example({"DeviceID": Home.DEVICE}),
    ServiceReferenceVariant.SR_8_4: Example(
        {"DeviceID": Home.DEVICE, **dict.fromkeys(_EXAMPLE_CHANGES)}, _update_inventory_example
    ),
    ServiceReferenceVariant.SR_8_5: Example(
        {
            "ExecutionDateTime": Home.TOMORROW,
            "ACBFloorSeqNumber": "0",
            "DigitalSigningCertificate": None,
            "KeyAgreementCertificate": Home.REQUIRED,
            "Certificate": Home.REQUIRED,
            "ApplyTimeBasedCPVChecks": "true",
        },
        _opt_out_example,
        certificates=frozenset(
            {"DigitalSigningCertificate", "KeyAgreementCertificate", "Certificate"}
        ),
    ),
    ServiceReferenceVariant.SR_8_14_1: Example(
        {
            "DeviceID": Home.HUB,
            "CHFInstallType": "New CHF Install",
            "InstallDateTime": Home.NOW,
            "MPxN": Home.IMPORT_MPAN,
            "AerialInstall": "false",
            "CHFLocation": "Indoors on external wall",
        }
    ),
    ServiceReferenceVariant.SR_8_14_2: Example(
        {
            "DeviceID": Home.HUB,
            "CHFInstallType": "CHF Install - no SM WAN",
            "InstallDateTime": Home.NOW,
            "MPxN": Home.IMPORT_MPAN,
            "AerialInstall": "false",
            "CHFLocation": "Indoors on external wall",
            "PremiseType": "Terraced",
            "MetalObstructionCheck": "false",
            "ConnectivityObstructionCheck": "false",
            "SharedObstructionCheck": "false",
        }
    ),
    ServiceReferenceVariant.SR_8_14_3: Example(
        {
            "DeviceID": Home.HUB,
            "CHFFaultReturnType": "Fault identified post installation",
            "UserRefDateTime": Home.NOW,
            "OtherDeviceID": Home.DEVICE,
            "CHFConnectionMethod": "Cradle",
            "CHFFaultReason": "SM WAN Fault",
        }
    ),
    ServiceReferenceVariant.SR_8_14_4: Example(
        {
            "DeviceID": Home.HUB,
            "CHFNoFaultReturnType": "No Fault Return (general)",
            "UserRefDateTime": Home.NOW,
        }
    ),
    ServiceReferenceVariant.SR_5_1: Example(
        {
            "ScheduleFrequency": "Daily",
            "ScheduleStartDate": Home.TOMORROW,
            "ScheduleEndDate": None,
            "ScheduleExecutionStartTime": "01:00:00",
            "DSPScheduledServiceReferenceVariant": "4.6.1",
            "DeviceID": Home.DEVICE,
            "StartDateOffset": "-1",
            "StartTime": "00:00:00",
            "EndDateOffset": "0",
            "EndTime": "00:00:00",
        },
        _create_schedule_example,
    ),
    ServiceReferenceVariant.SR_5_2: Example(
        {"DSPScheduleID": None, "DeviceID": Home.DEVICE}, _schedule_key_example
    ),
    ServiceReferenceVariant.SR_5_3: Example(
        {"DSPScheduleID": None, "DeviceID": Home.DEVICE}, _schedule_key_example
    ),
}
"""The bodies ``smetsim request`` writes for the non-device SRs (see
:mod:`gateway.srv.example`)."""


for _variant in BODY_OF:
    serves_non_device(_variant.value, read_non_device_request, example=_EXAMPLES[_variant])


def result_content(
    variant: ServiceReferenceVariant, result: NonDeviceResult
) -> etree._Element | None:
    """The ResponseMessage content of a successful non-device SR: a ``DSPInventory`` for 8.2."""
    if variant is ServiceReferenceVariant.SR_8_2 and result.records:
        return inventory_element(result.records)
    if variant is ServiceReferenceVariant.SR_5_1 and result.schedule_id is not None:
        element = etree.Element(sr("DSPScheduleID"))
        element.text = str(result.schedule_id)
        return element
    if variant is ServiceReferenceVariant.SR_5_2 and result.schedules:
        return schedules_read_element(result.schedules)
    return None


__all__ = [
    "BODY_OF",
    "SCHEDULED_BODY_OF",
    "read_device_prenotification",
    "read_non_device_request",
    "read_read_inventory",
    "read_update_inventory",
    "result_content",
]
