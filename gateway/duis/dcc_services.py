"""The non-device SRs the DCC answers beside the SMI: 11.1 Update Firmware, 11.4 Update PPMID
Firmware (:mod:`gateway.firmware`), 12.1 Request WAN Matrix (:mod:`gateway.wan_matrix`) and
8.6 Service Opt In (eligible to no role, so always refused).

:class:`DccServices` reads their bodies, runs the RequestID and role rules of every
non-device SR and the SR's own, in one job of the group commit (a refusal changes nothing, the
counter included), and answers synchronously: 11.1 / 11.4 ``I99`` (the image is distributed
afterwards, and a ``DSPUpdateFirmwareWarning`` lists the devices left out), 12.1 ``I0`` with the
``DSPWANMatrix``. After 11.1 / 11.4 are committed, each device's copy is handed to its hub
through the :class:`gateway.firmware.ImageCarrier` the application gives (the sandbox's fleet);
without one, the deliveries wait (stored) until one is given. What became of each copy is
told to the supplier as a DCC alert (:mod:`gateway.duis.firmware_alerts`) under the 11.1
request's RequestID.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import re
from collections.abc import Callable, Coroutine
from datetime import UTC, date, datetime
from functools import partial
from typing import Any, Final

from lxml import etree

from gateway import firmware
from gateway.duis.catalogue import ServiceReferenceVariant
from gateway.duis.envelope import DuisRequest, format_request_id, parse_eui_text
from gateway.duis.firmware_alerts import delivery_status_report
from gateway.duis.router import FrontDoor, Reply, RequestContext
from gateway.duis.signature import XmlSigner
from gateway.duis.xml import is_element, sr
from gateway.errors import ServiceError
from gateway.group_commit import GroupCommit
from gateway.inventory import Inventory
from gateway.model import NON_DEVICE_ACB
from gateway.services.device_reports import Inbox
from gateway.services.device_types import DeviceReport, ReportListener
from gateway.srv.example import Example, Home, Values
from gateway.srv.fields import Fields, invalid
from gateway.srv.registry import serves_non_device
from gateway.storage import Storage, Transaction
from gateway.users import User, UserRole, accept_counter, check_sender, roles_text
from gateway.wan_matrix import Coverage, RequestWanMatrix, coverage_for, region_of
from gbcs.devices import DeviceType
from gbcs.eui import eui_duis
from gbcs.wan import WanError

__all__ = ["DccServices", "ServiceOptIn", "read_update_firmware", "read_wan_matrix"]

logger = logging.getLogger(__name__)

_EUI_LIST: Final = re.compile(
    r"[0-9A-Fa-f]{2}(-[0-9A-Fa-f]{2}){7}(,[0-9A-Fa-f]{2}(-[0-9A-Fa-f]{2}){7})*"
)
_MAX_IMAGE: Final = 10_240_000
"""The schema's limit on ``FirmwareImage`` (base64 characters)."""

_SUPPLIERS: Final = frozenset({UserRole.IS, UserRole.GS})
ELIGIBLE: Final[dict[str, frozenset[UserRole]]] = {
    "11.1": _SUPPLIERS,
    "11.4": _SUPPLIERS,
    "12.1": frozenset(UserRole),
    "8.6": frozenset(),
}
TITLES: Final = {
    "11.1": "11.1 Update Firmware",
    "11.4": "11.4 Update PPMID Firmware",
    "12.1": "12.1 Request WAN Matrix",
    "8.6": "8.6 Service Opt In",
}


# --- readers -------------------------------------------------------------------------------


def read_update_firmware(request: DuisRequest) -> firmware.UpdateFirmware:
    """SR 11.1 ``UpdateFirmware`` / 11.4 ``UpdatePPMIDFirmware``."""
    f = Fields(request.body, ("FirmwareImage", "FirmwareVersion", "DeviceIDList"))
    text = "".join((f.text("FirmwareImage") or "").split())
    if len(text) > _MAX_IMAGE:
        raise invalid("FirmwareImage", f"{len(text)} characters, more than {_MAX_IMAGE}")
    try:
        image = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise invalid("FirmwareImage", "it is not base64") from None
    if not image:
        raise invalid("FirmwareImage", "it is empty")
    version = f.text("FirmwareVersion") or ""
    if not 1 <= len(version) <= 8:
        raise invalid("FirmwareVersion", f"{version!r} must be 1 to 8 characters")
    listed = f.text("DeviceIDList") or ""
    if _EUI_LIST.fullmatch(listed) is None:
        raise invalid(
            "DeviceIDList", f"{listed[:60]!r} is not a comma-separated list of device EUIs"
        )
    devices = tuple(parse_eui_text(eui, "DeviceIDList") for eui in listed.split(","))
    return firmware.UpdateFirmware(
        request.header.service_reference_variant.value, image, version, devices
    )


def read_wan_matrix(request: DuisRequest) -> RequestWanMatrix:
    f = Fields(request.body, ("UPRN", "PartialAddress"))
    if ("UPRN" in f.elements) == ("PartialAddress" in f.elements):
        raise invalid("RequestWANMatrix", "it must hold exactly one of UPRN and PartialAddress")
    if "UPRN" in f.elements:
        text = f.text("UPRN") or ""
        if not text.isascii() or not text.isdigit() or int(text) == 0 or len(text) > 12:
            raise invalid("UPRN", f"{text!r} is not a positive integer of at most 12 digits")
        return RequestWanMatrix(uprn=str(int(text)))
    p = Fields(f.elements["PartialAddress"], ("PostCode", "AddressIdentifier"))
    postcode = p.text("PostCode") or ""
    if not 6 <= len(postcode) <= 8:
        raise invalid("PostCode", f"{postcode!r} must be 6 to 8 characters")
    address = p.text("AddressIdentifier") or ""
    if not 1 <= len(address) <= 30:
        raise invalid("AddressIdentifier", f"{address!r} must be 1 to 30 characters")
    return RequestWanMatrix(postcode=postcode, address_identifier=address)


class ServiceOptIn:
    """SR 8.6 ``ServiceOptIn``: read for its form only (no role may send it)."""

    def __init__(self, device_id: bytes, device_type: DeviceType, opt_in: date) -> None:
        self.device_id = device_id
        self.device_type = device_type
        self.opt_in = opt_in


def read_service_opt_in(request: DuisRequest) -> ServiceOptIn:
    f = Fields(request.body, ("DeviceID", "DeviceType", "MPxNs", "OptInDate"))
    device = parse_eui_text(f.text("DeviceID"), "DeviceID")
    kind = f.text("DeviceType") or ""
    if kind not in {t.value for t in DeviceType}:
        raise invalid("DeviceType", f"{kind!r} is not one of {', '.join(DeviceType)}")
    Fields(f.elements["MPxNs"], ("ImportMPxN", "SecondaryImportMPAN", "ExportMPAN")).text(
        "ImportMPxN"
    )
    text = f.text("OptInDate") or ""
    try:
        when = date.fromisoformat(text.removesuffix("Z"))
    except ValueError:
        raise invalid("OptInDate", f"{text!r} is not a date (2025-12-31)") from None
    return ServiceOptIn(device, DeviceType(kind), when)


# --- answers -------------------------------------------------------------------------------

_WARNING_ORDER: Final = (
    "InvalidDeviceIDList",
    "NotCommissionedDeviceIDList",
    "NotApplicableFirmwareDeviceIDList",
    "OtherRequestInProgressList",
    "InvalidGBCSVersionList",
)


def warning_element(variant: str, warnings: dict[str, list[bytes]]) -> etree._Element | None:
    """``DSPUpdateFirmwareWarning`` (``DSPUpdatePPMIDFirmwareWarning`` for 11.4): the devices
    left out, by reason; None when none was."""
    if not warnings:
        return None
    name = "DSPUpdatePPMIDFirmwareWarning" if variant == "11.4" else "DSPUpdateFirmwareWarning"
    element = etree.Element(sr(name))
    for kind in _WARNING_ORDER:
        if warnings.get(kind):
            etree.SubElement(element, sr(kind)).text = ",".join(
                d.hex("-").upper() for d in warnings[kind]
            )
    return element


def matrix_element(body: etree._Element, found: list[Coverage]) -> etree._Element:
    """``DSPWANMatrix``: the request as sent, then one response per CSP region."""
    matrix = etree.Element(sr("DSPWANMatrix"))
    echo = etree.SubElement(matrix, sr("Request"))
    for child in body:
        if is_element(child):
            echo.append(_copy(child))
    for coverage in found:
        entry = etree.SubElement(matrix, sr("DSPWANMatrixResponse"))
        etree.SubElement(entry, sr("CSPRegion")).text = coverage.region
        etree.SubElement(entry, sr("CSPRegionResponseCode")).text = coverage.code
        if coverage.technology is None:
            continue
        etree.SubElement(entry, sr("CoverageAvailability")).text = (
            "true" if coverage.available else "false"
        )
        etree.SubElement(entry, sr("WANTechnology")).text = coverage.technology
        etree.SubElement(entry, sr("ConnectivityLikelihood")).text = coverage.likelihood
        if coverage.auxiliary is not None:
            etree.SubElement(entry, sr("AuxiliaryEquipmentRequired")).text = coverage.auxiliary
    return matrix


def _copy(element: etree._Element) -> etree._Element:
    out = etree.Element(element.tag)
    out.text = element.text
    for child in element:
        if is_element(child):
            out.append(_copy(child))
    return out


# --- the handler ---------------------------------------------------------------------------


class DccServices:
    """The handlers of 11.1, 11.4, 12.1 and 8.6 (see the module docstring)."""

    VARIANTS: Final = ("11.1", "11.4", "12.1", "8.6")

    def __init__(
        self,
        storage: Storage,
        commits: GroupCommit,
        clock: Callable[[], datetime],
        signer: XmlSigner | None = None,
    ) -> None:
        storage.migrate(firmware.MIGRATIONS)
        self.storage = storage
        self.commits = commits
        self.clock = clock
        self.signer = signer
        self.carrier: firmware.ImageCarrier | None = None
        """Where images go (set by the application; None: deliveries wait, stored)."""
        self.inbox: Inbox | None = None
        """Where the delivery status alerts are filed (the device services' inbox, set by the
        application with :attr:`listener`; None: none is sent)."""
        self.listener: ReportListener | None = None
        self._tasks: set[asyncio.Task[object]] = set()

    def install(self, front_door: FrontDoor) -> None:
        for variant in self.VARIANTS:
            front_door.router.register(ServiceReferenceVariant(variant), self.handle)

    def _when(self) -> datetime:
        now = self.clock()
        return now if now.tzinfo is not None else now.replace(tzinfo=UTC)

    def _now(self) -> str:
        return self._when().isoformat()

    def _user(self, tx: Transaction, context: RequestContext, variant: str) -> User:
        """The RequestID and role rules every non-device SR shares (the counter accepted)."""
        request_id = context.request.header.request_id
        user, last = check_sender(tx, context.sender, request_id.originator)
        certificate = context.certificate
        if certificate is not None and user.certificate_pem != certificate.pem:
            raise ServiceError("duis_certificate_replaced", sender=context.sender)
        if request_id.target != NON_DEVICE_ACB:
            raise ServiceError("wrong_target", target=request_id.target)
        eligible = ELIGIBLE[variant]
        if not user.roles & eligible:
            raise ServiceError(
                "role_not_eligible",
                sender=context.sender,
                roles=roles_text(user.roles),
                sr=TITLES[variant],
                eligible=roles_text(eligible),
            )
        accept_counter(tx, context.sender, request_id.counter, last)
        return user

    async def handle(self, context: RequestContext) -> Reply:
        variant = context.request.header.service_reference_variant.value
        if variant == "8.6":
            read_service_opt_in(context.request)
            raise ServiceError("opt_in_refused")
        if variant == "12.1":
            wanted = read_wan_matrix(context.request)
            if wanted.postcode is not None:
                region_of(wanted.postcode)  # a bad postcode refused before the counter

            def matrix(tx: Transaction) -> list[Coverage]:
                self._user(tx, context, variant)
                return coverage_for(tx, wanted)

            found = await self.commits.call(matrix)
            return Reply("I0", matrix_element(context.request.body, found))
        update = read_update_firmware(context.request)
        rid = format_request_id(context.request.header.request_id)

        def accept(tx: Transaction) -> firmware.UpdateOutcome:
            user = self._user(tx, context, variant)
            return firmware.accept_update(tx, Inventory(tx), user, rid, update, self._now())

        outcome = await self.commits.call(accept)
        self._spawn(self.deliver(outcome.deliveries))
        return Reply("I99", warning_element(variant, outcome.warnings))

    # --- distribution --------------------------------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, object]) -> None:
        task = asyncio.get_running_loop().create_task(work, name="firmware-distribution")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def deliver(self, deliveries: list[firmware.Delivery]) -> int:
        """Hand each delivery to its hub (left pending without a carrier); how many went."""
        carrier = self.carrier
        if carrier is None:
            return 0
        sent = 0
        for delivery in deliveries:
            state, reason = "sent", None
            try:
                await carrier.send_image(delivery.hub, delivery.device, delivery.image)
            except WanError as exc:
                state, reason = "failed", str(exc)
                logger.warning("firmware for %s not delivered: %s", eui_duis(delivery.device), exc)
            else:
                sent += 1
            when = self._when()
            report = (
                None
                if self.inbox is None
                else delivery_status_report(
                    delivery, when, self.signer, ok=state == "sent", reason=reason
                )
            )
            filed = await self.commits.call(
                partial(self._record, delivery=delivery, state=state, reason=reason, report=report)
            )
            if filed is not None and self.listener is not None:
                self.listener(filed)
        return sent

    def _record(
        self,
        tx: Transaction,
        delivery: firmware.Delivery,
        state: str,
        reason: str | None,
        report: DeviceReport | None,
    ) -> DeviceReport | None:
        """The delivery's outcome and the supplier's alert about it, in one transaction."""
        firmware.mark(tx, delivery, state, self._now(), reason)
        return None if report is None or self.inbox is None else self.inbox.insert(tx, report)

    async def resume(self) -> int:
        """Hand over the deliveries a restart (or a missing carrier) left pending."""
        waiting = await self.commits.call(firmware.pending)
        return await self.deliver(waiting)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


# --- examples ------------------------------------------------------------------------------


def _wan_matrix_example(v: Values) -> str:
    """UPRN=N asks by UPRN; otherwise the PostCode and AddressIdentifier."""
    if v.given("UPRN"):
        return v.element("UPRN")
    return f"<sr:PartialAddress>{v.elements('PostCode', 'AddressIdentifier')}</sr:PartialAddress>"


def _opt_in_example(v: Values) -> str:
    day = (v.get("OptInDate") or "")[:10]
    return (
        f"{v.elements('DeviceID', 'DeviceType')}<sr:MPxNs>"
        f"{v.elements('ImportMPxN', 'SecondaryImportMPAN', 'ExportMPAN')}</sr:MPxNs>"
        f"<sr:OptInDate>{day}</sr:OptInDate>"
    )


_FIRMWARE_FIELDS: Final = {"FirmwareImage": Home.REQUIRED, "FirmwareVersion": Home.REQUIRED}

serves_non_device(
    "11.1",
    read_update_firmware,
    example=Example({**_FIRMWARE_FIELDS, "DeviceIDList": Home.DEVICE}),
)
serves_non_device(
    "11.4",
    read_update_firmware,
    example=Example({**_FIRMWARE_FIELDS, "DeviceIDList": Home.PPMID}),
)
serves_non_device(
    "12.1",
    read_wan_matrix,
    example=Example(
        {"UPRN": None, "PostCode": "M22 0RR", "AddressIdentifier": "1"}, _wan_matrix_example
    ),
)
serves_non_device(
    "8.6",
    read_service_opt_in,
    example=Example(
        {
            "DeviceID": Home.DEVICE,
            "DeviceType": "ESME",
            "ImportMPxN": Home.IMPORT_MPAN,
            "SecondaryImportMPAN": None,
            "ExportMPAN": None,
            "OptInDate": Home.TOMORROW,
        },
        _opt_in_example,
    ),
)
