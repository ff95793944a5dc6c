"""Typed values of the non-device service requests and the Smart Metering Inventory (SMI).

One frozen dataclass per DUIS body. EUIs are 8 raw bytes (``gbcs.eui``
converts from and to the DUIS text form). Field names follow the DUIS 5.4 schema's elements
in snake case (``DeviceManufacturer`` -> ``manufacturer``, ``SMETSCHTSVersion`` ->
``smets_chts_version``...); enumerations use the schema's literal values.

gateway-duis maps XML onto these types; :class:`gateway.services.NonDeviceService` applies the
rules of ``docs/inventory.md`` to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from enum import StrEnum
from typing import ClassVar

from gbcs.devices import DeviceType


class DeviceStatus(StrEnum):
    """The schema's ``DeviceStatus`` enumeration: the SMI status of a device."""

    PENDING = "Pending"
    WHITELISTED = "Whitelisted"
    INSTALLED_NOT_COMMISSIONED = "InstalledNotCommissioned"
    COMMISSIONED = "Commissioned"
    DECOMMISSIONED = "Decommissioned"
    WITHDRAWN = "Withdrawn"
    SUSPENDED = "Suspended"
    RECOVERY = "Recovery"
    RECOVERED = "Recovered"


UPDATE_STATUS_EXCEPT_CH: frozenset[DeviceStatus] = frozenset(
    {DeviceStatus.PENDING, DeviceStatus.INSTALLED_NOT_COMMISSIONED}
)
"""Values of the schema's ``UpdateDeviceStatusExceptCH``."""

UPDATE_STATUS_CH: frozenset[DeviceStatus] = frozenset(
    {DeviceStatus.COMMISSIONED, DeviceStatus.WITHDRAWN, DeviceStatus.INSTALLED_NOT_COMMISSIONED}
)
"""Values of the schema's ``UpdateDeviceStatusCH`` (communications hubs: CHF and GPF)."""

NON_DEVICE_ACB = bytes.fromhex("90b3d51f30000002")
"""The business target of every non-device (CV8) request: the DCC's ACB."""


@dataclass(frozen=True, slots=True)
class RequestId:
    """``originatorEUI:targetEUI:counter`` of the DUIS header."""

    originator: bytes
    target: bytes
    counter: int


@dataclass(frozen=True, slots=True)
class PropertyFilter:
    """The schema's ``PropertyFilter``: a postcode and an address identifier."""

    postcode: str
    address_identifier: str


# --- the requests -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DevicePrenotification:
    """SR12.2 body ``DevicePrenotification``: adds the device to the SMI as ``Pending``."""

    service_reference_variant: ClassVar[str] = "12.2"
    ELEMENTS: ClassVar[tuple[str, ...]] = (
        "DeviceID",
        "DeviceManufacturer",
        "DeviceModel",
        "DeviceType",
        "SMETSCHTSVersion",
        "FirmwareVersion",
        "ESMEVariant",
        "AssociatedGPFDeviceID",
    )
    """The body's elements in schema order; also the columns of an ASN file (gateway.asn)."""
    device_id: bytes
    manufacturer: str
    model: str
    device_type: DeviceType
    smets_chts_version: str | None = None
    firmware_version: str | None = None
    esme_variant: str | None = None
    associated_gpf_id: bytes | None = None


@dataclass(frozen=True, slots=True)
class UpdateDeviceStatus:
    """SR8.4 ``UpdateDeviceStatusExceptCH`` (``comms_hub=False``) or ``UpdateDeviceStatusCH``."""

    service_reference_variant: ClassVar[str] = "8.4"
    device_id: bytes
    new_status: DeviceStatus
    comms_hub: bool = False


@dataclass(frozen=True, slots=True)
class UpdateDeviceDetails:
    """SR8.4 ``UpdateDeviceDetails``: ``None`` means "not in the request" (left unchanged)."""

    service_reference_variant: ClassVar[str] = "8.4"
    device_id: bytes
    manufacturer: str | None = None
    model: str | None = None
    smets_chts_version: str | None = None
    firmware_version: str | None = None
    esme_variant: str | None = None


@dataclass(frozen=True, slots=True)
class DeleteDevice:
    """SR8.4 ``DeleteDevice``."""

    service_reference_variant: ClassVar[str] = "8.4"
    device_id: bytes


@dataclass(frozen=True, slots=True)
class UpdateMPxN:
    """SR8.4 ``UpdateMPxN``: exactly one of the three (the schema's choice)."""

    service_reference_variant: ClassVar[str] = "8.4"
    device_id: bytes
    import_mpxn: str | None = None
    secondary_import_mpan: str | None = None
    export_mpan: str | None = None


@dataclass(frozen=True, slots=True)
class ReadInventory:
    """SR8.2 ``ReadInventory``: exactly one criterion (the schema's choice)."""

    service_reference_variant: ClassVar[str] = "8.2"
    device_id: bytes | None = None
    mpxn: str | None = None
    uprn: str | None = None
    property_filter: PropertyFilter | None = None


@dataclass(frozen=True, slots=True)
class DecommissionDevice:
    """SR8.3 ``DecommissionDevice``."""

    service_reference_variant: ClassVar[str] = "8.3"
    device_id: bytes


@dataclass(frozen=True, slots=True)
class ServiceOptOut:
    """SR8.5 ``ServiceOptOut``: no user is entitled to it (MP077); always refused."""

    service_reference_variant: ClassVar[str] = "8.5"
    device_id: bytes


@dataclass(frozen=True, slots=True)
class CommsHubStatusUpdate:
    """SR8.14.1-8.14.4 Communications Hub Status Update: the hub (``device_id``, a CHF) was
    installed with or without SM WAN, or is returned faulty or not; ``facts`` are the body's
    other elements (install type, location, fault reason...), kept as text."""

    variant: str
    device_id: bytes
    facts: tuple[tuple[str, str], ...] = ()

    @property
    def service_reference_variant(self) -> str:
        return self.variant


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    """What an SR 5.1 asks for (its ``DSPSchedule``), checked by the reader and the rules."""

    frequency: str
    start_date: date
    end_date: date | None
    start_time: time
    """``ScheduleExecutionStartTime`` (UTC); midnight when the request gives none."""
    variant: str
    """The scheduled SR (``DSPScheduledServiceReferenceVariant``)."""
    device_id: bytes
    details: str
    """The ``DSPSchedule`` element's XML text, as received."""
    scheduled_body: str
    """The scheduled request's element in it (``DSPRetrieveImportDailyReadLog``...)."""


@dataclass(frozen=True, slots=True)
class CreateSchedule:
    """SR5.1 ``CreateSchedule``: a DCC schedule of a DCC-schedulable read."""

    service_reference_variant: ClassVar[str] = "5.1"
    spec: ScheduleSpec

    @property
    def device_id(self) -> bytes:
        return self.spec.device_id


@dataclass(frozen=True, slots=True)
class ReadSchedule:
    """SR5.2 ``ReadSchedule``: one schedule by its DSP schedule id, or a device's schedules
    (the schema's choice: exactly one is set)."""

    service_reference_variant: ClassVar[str] = "5.2"
    schedule_id: int | None = None
    device_id: bytes | None = None


@dataclass(frozen=True, slots=True)
class DeleteSchedule:
    """SR5.3 ``DeleteSchedule``: one schedule by its DSP schedule id, or the user's schedules
    on a device (exactly one is set)."""

    service_reference_variant: ClassVar[str] = "5.3"
    schedule_id: int | None = None
    device_id: bytes | None = None


UpdateInventory = UpdateDeviceStatus | UpdateDeviceDetails | DeleteDevice | UpdateMPxN
"""The four forms of SR8.4 (the schema's ``UpdateInventory`` choice)."""

NonDeviceRequest = (
    DevicePrenotification
    | UpdateDeviceStatus
    | UpdateDeviceDetails
    | DeleteDevice
    | UpdateMPxN
    | ReadInventory
    | DecommissionDevice
    | ServiceOptOut
    | CommsHubStatusUpdate
    | CreateSchedule
    | ReadSchedule
    | DeleteSchedule
)


# --- the records and results -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    """One SMI record, as SR8.2 returns it (the schema's ``Device`` in ``DSPInventory``).

    ``uprn`` and ``property_filter`` come from the meter point of ``import_mpxn`` (registration
    data), not from the device. ``installing_supplier`` and ``chf_id`` are the SMI's own facts
    (not in the DUIS ``Device`` element).
    """

    device_id: bytes
    device_type: DeviceType
    status: DeviceStatus
    manufacturer: str
    model: str
    smets_chts_version: str | None
    firmware_version: str | None
    esme_variant: str | None
    installing_supplier: bytes
    import_mpxn: str | None = None
    secondary_import_mpan: str | None = None
    export_mpan: str | None = None
    chf_id: bytes | None = None
    associated_gpf_id: bytes | None = None
    date_commissioned: date | None = None
    uprn: str | None = None
    property_filter: PropertyFilter | None = None


@dataclass(frozen=True, slots=True)
class NonDeviceResult:
    """The outcome of a successful non-device request: ``I0``; SR8.2 fills ``records``."""

    records: tuple[DeviceRecord, ...] = ()
    response_code: str = "I0"
    schedule_id: int | None = None
    """SR5.1: the DSP schedule id of the schedule created."""
    schedules: tuple[tuple[int, ScheduleSpec], ...] = ()
    """SR5.2: the schedules read, each with its DSP schedule id."""
