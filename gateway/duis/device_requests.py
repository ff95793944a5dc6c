"""The device service requests' DUIS bodies to the typed requests of
:mod:`gateway.services.device`.

Like :mod:`gateway.duis.nondevice`, the readers check what the schema would (so that a gateway
started without ``--duis-schema`` still refuses a bad value with a sentence naming it,
``duis_invalid_element``), and a body that is not the SR's own is ``duis_body_mismatch``.
Future-dated requests (``ExecutionDateTime``) are refused: this gateway sends every command
at once.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

from lxml import etree

from gateway.duis.catalogue import CommandVariant, ServiceReferenceVariant
from gateway.duis.envelope import DuisRequest, parse_eui_text
from gateway.duis.xml import SR_NS, is_element, local_name
from gateway.errors import ServiceError
from gateway.services.device import (
    ArmSupply,
    CommissionDevice,
    DeviceCall,
    DeviceRequest,
    DisableSupply,
    EnableSupply,
    ReadFirmwareVersion,
    ReadImportRegisters,
    SignedPreCommand,
    SynchroniseClock,
    TopUpDevice,
    UpdateHanDeviceLog,
)

__all__ = ["BODY_OF", "DEVICE_VARIANTS", "read_device_call", "read_device_request"]

V = ServiceReferenceVariant

BODY_OF: Final[dict[ServiceReferenceVariant, str]] = {
    V.SR_4_1_1: "ReadInstantaneousImportRegisters",
    V.SR_7_1: "EnableSupply",
    V.SR_7_2: "DisableSupply",
    V.SR_7_3: "ArmSupply",
    V.SR_6_11: "SynchroniseClock",
    V.SR_8_1_1: "CommissionDeviceSynchroniseClock",
    V.SR_8_11: "UpdateHANDeviceLog",
    V.SR_11_2: "ReadFirmwareVersion",
    V.SR_2_2: "TopUpDevice",
    V.SR_1_1_1: "UpdateImportTariffPrimaryElement",
}
"""The body element of each device SR this gateway serves (CV5/CV6: ``SignedPreCommand``)."""

DEVICE_VARIANTS: Final = frozenset(BODY_OF)

_SIGNED: Final = frozenset(
    {CommandVariant.SIGNED_PRECOMMAND, CommandVariant.SIGNED_PRECOMMAND_LOCAL}
)
_DATETIME: Final = re.compile(
    r"(-?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?"
)


def _invalid(element: str, reason: str) -> ServiceError:
    return ServiceError("duis_invalid_element", element=element, reason=reason)


class _Fields:
    """The children of a body element by local name: each at most once, none unknown."""

    def __init__(self, element: etree._Element, allowed: tuple[str, ...]) -> None:
        self.owner = local_name(element)
        self.elements: dict[str, etree._Element] = {}
        text = (element.text or "").strip()
        if text:
            raise _invalid(self.owner, f"it holds text {text[:40]!r}")
        for child in element:
            if not is_element(child):
                continue
            name = local_name(child)
            if etree.QName(child).namespace != SR_NS or name not in allowed:
                expected = ", ".join(allowed) if allowed else "nothing"
                raise _invalid(self.owner, f"unexpected element {name} (expected {expected})")
            if name in self.elements:
                raise _invalid(name, "it appears twice")
            self.elements[name] = child
        if "ExecutionDateTime" in self.elements:
            raise ServiceError(
                "duis_sr_not_supported",
                srv="with an ExecutionDateTime (future-dated)",
            )

    def text(self, name: str, *, required: bool = True) -> str | None:
        element = self.elements.get(name)
        if element is None:
            if required:
                raise _invalid(self.owner, f"{name} is missing")
            return None
        return (element.text or "").strip()


def _datetime(name: str, text: str | None) -> datetime:
    value = text or ""
    match = _DATETIME.fullmatch(value)
    if match is None:
        raise _invalid(name, f"{value!r} is not an xs:dateTime (e.g. 2014-12-31T23:59:10.00Z)")
    iso = value.replace("Z", "+00:00")
    if match.group(7):  # Python wants 0, 3 or 6 fraction digits
        fraction = match.group(7)[1:7].ljust(6, "0")
        iso = iso.replace(match.group(7), "." + fraction, 1)
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError as exc:
        raise _invalid(name, f"{value!r}: {exc}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _int(name: str, text: str | None, low: int, high: int) -> int:
    value = text or ""
    if not re.fullmatch(r"[+-]?\d+", value) or not low <= int(value) <= high:
        raise _invalid(name, f"{value!r} is not an integer from {low} to {high}")
    return int(value)


def _read_registers(body: etree._Element) -> DeviceRequest:
    _Fields(body, ("ExecutionDateTime",))
    return ReadImportRegisters()


def _read_firmware(body: etree._Element) -> DeviceRequest:
    _Fields(body, ("ExecutionDateTime",))
    return ReadFirmwareVersion()


def _supply(
    kind: type[EnableSupply | DisableSupply | ArmSupply],
) -> Callable[[etree._Element], DeviceRequest]:
    def read(body: etree._Element) -> DeviceRequest:
        _Fields(body, ())
        return kind()

    return read


def _read_clock(body: etree._Element) -> tuple[datetime, int]:
    f = _Fields(body, ("CurrentDateTime", "TolerancePeriod"))
    current = _datetime("CurrentDateTime", f.text("CurrentDateTime"))
    tolerance = _int("TolerancePeriod", f.text("TolerancePeriod"), 0, 86400)
    return current, tolerance


def _read_han_log(body: etree._Element) -> UpdateHanDeviceLog:
    f = _Fields(body, ("ExecutionDateTime", "DeviceID", "RequestType", "AddDeviceToCHFWhitelist"))
    device = parse_eui_text(f.text("DeviceID"), "DeviceID")
    kind = f.text("RequestType")
    if kind not in ("Add", "Remove"):
        raise _invalid("RequestType", f"{kind!r} is not Add or Remove")
    whitelist = f.elements.get("AddDeviceToCHFWhitelist")
    if kind == "Remove":
        if whitelist is not None:
            raise _invalid("AddDeviceToCHFWhitelist", "a Remove carries none")
        return UpdateHanDeviceLog(device, add=False)
    if whitelist is None:
        raise _invalid("UpdateHANDeviceLog", "an Add needs AddDeviceToCHFWhitelist")
    w = _Fields(
        whitelist,
        ("JoinTimePeriod", "InstallCode", "ImportMPxN", "SecondaryImportMPAN", "ExportMPAN"),
    )
    join = _int("JoinTimePeriod", w.text("JoinTimePeriod"), 1, 3600)
    code_text = w.text("InstallCode") or ""
    try:
        install_code = bytes.fromhex(code_text)
    except ValueError:
        install_code = b""
    if not 6 <= len(install_code) <= 16 or len(code_text) != 2 * len(install_code):
        raise _invalid("InstallCode", f"{code_text!r} is not 6 to 16 bytes of hex")
    mpxns: dict[str, str | None] = {}
    for name, low, high in (
        ("ImportMPxN", 1, 13),
        ("SecondaryImportMPAN", 13, 13),
        ("ExportMPAN", 13, 13),
    ):
        value = w.text(name, required=False)
        if value is not None and not low <= len(value) <= high:
            raise _invalid(name, f"{value!r} must be {low} to {high} characters long")
        mpxns[name] = value
    return UpdateHanDeviceLog(
        device,
        add=True,
        join_time_period=join,
        install_code=install_code,
        import_mpxn=mpxns["ImportMPxN"],
        secondary_import_mpan=mpxns["SecondaryImportMPAN"],
        export_mpan=mpxns["ExportMPAN"],
    )


def _read_top_up(body: etree._Element) -> TopUpDevice:
    f = _Fields(body, ("UTRN",))
    utrn = f.text("UTRN") or ""
    if not re.fullmatch(r"[0-9]{20}", utrn):
        raise _invalid("UTRN", f"{utrn!r} is not 20 decimal digits")
    return TopUpDevice(utrn)


def _read_signed(body: etree._Element) -> SignedPreCommand:
    f = _Fields(body, ("ExecutionDateTime", "GBCSPayload"))
    text = re.sub(r"\s+", "", f.text("GBCSPayload") or "")
    try:
        payload = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _invalid("GBCSPayload", "it is not base64") from None
    if not payload:
        raise _invalid("GBCSPayload", "it is empty")
    return SignedPreCommand(payload)


def _read_tariff(body: etree._Element) -> DeviceRequest:
    raise ServiceError("use_case_unavailable", srv="1.1.1", use_case="ECS01a (from DUIS XML)")


_READERS: Final[dict[str, Callable[[etree._Element], DeviceRequest]]] = {
    "ReadInstantaneousImportRegisters": _read_registers,
    "EnableSupply": _supply(EnableSupply),
    "DisableSupply": _supply(DisableSupply),
    "ArmSupply": _supply(ArmSupply),
    "SynchroniseClock": lambda b: SynchroniseClock(*_read_clock(b)),
    "CommissionDeviceSynchroniseClock": lambda b: CommissionDevice(*_read_clock(b)),
    "UpdateHANDeviceLog": _read_han_log,
    "ReadFirmwareVersion": _read_firmware,
    "TopUpDevice": _read_top_up,
    "UpdateImportTariffPrimaryElement": _read_tariff,
    "SignedPreCommand": _read_signed,
}


def read_device_request(request: DuisRequest) -> DeviceRequest:
    """The typed request of a device SR's body (``SignedPreCommand`` for CV5/CV6)."""
    header = request.header
    variant = header.service_reference_variant
    expected = BODY_OF.get(variant)
    if expected is None:
        raise ServiceError("duis_sr_not_supported", srv=variant.value)
    if header.command_variant in _SIGNED:
        expected = "SignedPreCommand"
    if request.body_name != expected:
        raise ServiceError(
            "duis_body_mismatch", srv=variant.value, expected=expected, found=request.body_name
        )
    return _READERS[expected](request.body)


def read_device_call(request: DuisRequest, sender: bytes) -> DeviceCall:
    """The :class:`DeviceCall` the device service takes for a parsed request."""
    header = request.header
    return DeviceCall(
        sender=sender,
        request_id=header.request_id,
        command_variant=int(header.command_variant),
        service_reference_variant=header.service_reference_variant.value,
        request=read_device_request(request),
    )
