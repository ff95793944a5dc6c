"""HAN and hub SRs (service references 8.7 to 8.13, 14.1): device logs, joins, the
communications hub, local command responses and the GSME's network data log."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from lxml import etree

from gateway.duis.envelope import DuisRequest, parse_eui_text, parse_request_id
from gateway.errors import ServiceError
from gateway.model import RequestId
from gateway.srv.example import EMPTY, Example, Home, Values
from gateway.srv.fields import Fields, invalid, read_int
from gateway.srv.registry import serves, serves_non_device
from gateway.srv.spec import Codec, Command
from gbcs import content as gc
from gbcs.devices import DeviceType
from gbcs.payloads.gbz import zigbee_time

__all__ = [
    "JoinService",
    "LocalCommandResponse",
    "RecordNetworkDataGas",
    "RestoreGpfDeviceLog",
    "RestoreHanDeviceLog",
    "UnjoinService",
    "UpdateHanDeviceLog",
    "join_use_case",
]


@dataclass(frozen=True, slots=True)
class UpdateHanDeviceLog:
    """SR8.11 ``UpdateHANDeviceLog``, sent to the CHF (the RequestID's target): CCS01 Add /
    CCS02 Remove ``device_id`` in its device log. An Add carries the MPxNs the device serves."""

    device_id: bytes
    add: bool
    join_time_period: int | None = None
    """Minutes (1..3600)."""
    install_code: bytes | None = None
    import_mpxn: str | None = None
    secondary_import_mpan: str | None = None
    export_mpan: str | None = None


def _read_han_log(body: etree._Element) -> UpdateHanDeviceLog:
    f = Fields(body, ("ExecutionDateTime", "DeviceID", "RequestType", "AddDeviceToCHFWhitelist"))
    device = parse_eui_text(f.text("DeviceID"), "DeviceID")
    kind = f.text("RequestType")
    if kind not in ("Add", "Remove"):
        raise invalid("RequestType", f"{kind!r} is not Add or Remove")
    whitelist = f.elements.get("AddDeviceToCHFWhitelist")
    if kind == "Remove":
        if whitelist is not None:
            raise invalid("AddDeviceToCHFWhitelist", "a Remove carries none")
        return UpdateHanDeviceLog(device, add=False)
    if whitelist is None:
        raise invalid("UpdateHANDeviceLog", "an Add needs AddDeviceToCHFWhitelist")
    w = Fields(
        whitelist,
        ("JoinTimePeriod", "InstallCode", "ImportMPxN", "SecondaryImportMPAN", "ExportMPAN"),
    )
    join = read_int("JoinTimePeriod", w.text("JoinTimePeriod"), 1, 3600)
    code_text = w.text("InstallCode") or ""
    try:
        install_code = bytes.fromhex(code_text)
    except ValueError:
        install_code = b""
    if not 6 <= len(install_code) <= 16 or len(code_text) != 2 * len(install_code):
        raise invalid("InstallCode", f"{code_text!r} is not 6 to 16 bytes of hex")
    mpxns: dict[str, str | None] = {}
    for name, low, high in (
        ("ImportMPxN", 1, 13),
        ("SecondaryImportMPAN", 13, 13),
        ("ExportMPAN", 13, 13),
    ):
        value = w.text(name, required=False)
        if value is not None and not low <= len(value) <= high:
            raise invalid(name, f"{value!r} must be {low} to {high} characters long")
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


def _build_han_log(cmd: Command) -> bytes:
    request: UpdateHanDeviceLog = cmd.request
    if not request.add:
        return gc.RemoveDeviceLogEntry(cmd.counter, request.device_id).encode()
    assert request.install_code is not None
    assert request.join_time_period is not None
    return gc.AddDeviceLogEntry(
        cmd.counter,
        request.device_id,
        request.install_code,
        join_timeout=request.join_time_period,
    ).encode()


def _choose_han_log(request: UpdateHanDeviceLog, names: tuple[str, ...]) -> str:
    return "CCS01" if request.add else "CCS02"


def _han_log_example(v: Values) -> str:
    """Add (the whitelist entry's fields) or Remove (the device alone)."""
    if v.get("RequestType") == "Remove":
        return v.elements("DeviceID", "RequestType")
    return (
        f"{v.elements('DeviceID', 'RequestType')}<sr:AddDeviceToCHFWhitelist>"
        f"{v.elements('JoinTimePeriod', 'InstallCode', 'ImportMPxN', 'SecondaryImportMPAN')}"
        f"{v.element('ExportMPAN')}</sr:AddDeviceToCHFWhitelist>"
    )


_HAN_LOG_EXAMPLE = Example(
    {
        "DeviceID": Home.PENDING_ESME,
        "RequestType": "Add",
        "JoinTimePeriod": "90",
        "InstallCode": "30313233343536373839414243444546",
        "ImportMPxN": Home.PENDING_MPAN,
        "SecondaryImportMPAN": None,
        "ExportMPAN": None,
    },
    _han_log_example,
)

serves(
    "8.11",
    Codec(
        read=_read_han_log,
        build=_build_han_log,
        builds=frozenset({"CCS01", "CCS02"}),
        choose=_choose_han_log,
        acb_use_cases=frozenset({"CCS01", "CCS02"}),
        example=_HAN_LOG_EXAMPLE,
    ),
)


# --------------------------------------------------------------------------- 8.7 joins


@dataclass(frozen=True, slots=True)
class JoinService:
    """SR8.7.1 ``JoinServiceCritical`` / SR8.7.2 ``JoinServiceNonCritical``: join the target
    (the RequestID's device) with ``other``. The body names the other device only; its type
    (and, for a method C join, its key agreement certificate) are the SMI's and the DCC's,
    filled in by the device service before the use case is chosen."""

    other: bytes
    critical: bool
    target_type: DeviceType | None = None
    other_type: DeviceType | None = None
    certificate: bytes | None = None


_METERS = frozenset({DeviceType.ESME, DeviceType.GSME})


def join_use_case(target: DeviceType, other: DeviceType) -> str | None:
    """The GBCS join of ``target`` with ``other``: method B for a GSME with its GPF, method C
    for a GSME with a PPMID (either way round), method A for an ESME with an HCALCS or PPMID
    (A1 when the meter initiates, A2 when the non-meter responds); None when GBCS has no join
    between the two types."""
    pair = {target, other}
    if target is DeviceType.GSME and other is DeviceType.GPF:
        return "CS03b"
    if pair == {DeviceType.GSME, DeviceType.PPMID}:
        return "CS03c"
    if target is DeviceType.ESME and other in (DeviceType.HCALCS, DeviceType.PPMID):
        return "CS03a1"
    if target in (DeviceType.HCALCS, DeviceType.PPMID) and other is DeviceType.ESME:
        return "CS03a2"
    return None


def _read_join(body: etree._Element) -> JoinService:
    f = Fields(body, ("OtherDeviceID",))
    other = parse_eui_text(f.text("OtherDeviceID"), "OtherDeviceID")
    return JoinService(other, critical=f.owner == "JoinServiceCritical")


def _choose_join(request: JoinService, names: tuple[str, ...]) -> str:
    if request.target_type is None or request.other_type is None:  # pragma: no cover
        raise ValueError("the device service resolves a join's device types first")
    name = join_use_case(request.target_type, request.other_type)
    if name is None:
        raise ServiceError(
            "join_incompatible",
            device=request.target_type,
            other=request.other_type,
            reason="GBCS has no join between these device types",
        )
    if name not in names:
        sr = "SR8.7.2 (non-critical)" if request.critical else "SR8.7.1 (critical)"
        raise ServiceError(
            "join_incompatible",
            device=request.target_type,
            other=request.other_type,
            reason=f"their join is {name}, which is sent as {sr}",
        )
    return name


def _build_join(cmd: Command) -> bytes:
    request: JoinService = cmd.request
    assert request.other_type is not None
    name = cmd.use_case.name
    certificate = request.certificate if name == "CS03c" else None
    if name == "CS03c" and certificate is None:
        raise ValueError("a method C join carries the other device's certificate")
    return gc.JoinDevice(
        gc.JOIN_METHODS[name.upper()],
        request.other,
        gc.OTHER_DEVICE_TYPES[request.other_type.value],
        certificate,
    ).encode()


_OTHER_DEVICE = Example({"OtherDeviceID": Home.PPMID})
"""A join or unjoin of the home's PPMID (sent to its meter)."""

serves(
    "8.7.1",
    Codec(
        read=_read_join,
        build=_build_join,
        builds=frozenset({"CS03a1", "CS03a2", "CS03c"}),
        choose=_choose_join,
        example=_OTHER_DEVICE,
    ),
)
# Non-critical joins of a PPMID or HCALCS are the ACB's (the supplier and its counter in the
# other-information), as in the DCC's reference data; a GSME's method B join is the user's.
serves(
    "8.7.2",
    Codec(
        read=_read_join,
        build=_build_join,
        builds=frozenset({"CS03b", "CS03a2", "CS03c"}),
        choose=_choose_join,
        acb_use_cases=frozenset({"CS03a2", "CS03c"}),
        example=_OTHER_DEVICE,
    ),
)


# --------------------------------------------------------------------------- 8.8 unjoins


@dataclass(frozen=True, slots=True)
class UnjoinService:
    """SR8.8.1 / SR8.8.2: remove ``other`` from the target's device log: CS04ac, or CS04b
    for a pair GBCS joins by method B. The body names the other device only; the two
    devices' types are the SMI's (``target_type``, ``other_type``), filled in by the device
    service before the use case is chosen; not known, the unjoin is CS04ac."""

    other: bytes
    target_type: DeviceType | None = None
    other_type: DeviceType | None = None


_TYPE_2 = frozenset({DeviceType.IHD, DeviceType.CAD})


def unjoin_use_case(target: DeviceType | None, other: DeviceType | None) -> str:
    """The GBCS unjoin of ``other`` from ``target``'s log: CS04b undoes a method B join (a
    GSME with its GPF; a meter with a Type 2 device, which joins without key agreement),
    CS04ac a method A or C one (and any pair whose types are not known)."""
    if target is None or other is None:
        return "CS04ac"
    if join_use_case(target, other) == "CS03b":
        return "CS04b"
    if target in _METERS and other in _TYPE_2:
        return "CS04b"
    return "CS04ac"


def _read_unjoin(body: etree._Element) -> UnjoinService:
    f = Fields(body, ("OtherDeviceID",))
    return UnjoinService(parse_eui_text(f.text("OtherDeviceID"), "OtherDeviceID"))


def _choose_unjoin(request: UnjoinService, names: tuple[str, ...]) -> str:
    name = unjoin_use_case(request.target_type, request.other_type)
    if name not in names:
        # SR8.8.1 (critical) has no method B unjoin: CS04b is non-critical, SR8.8.2's.
        raise invalid(
            "UnjoinServiceCritical",
            f"{request.other.hex('-').upper()} was joined by method B: unjoin it with "
            "SR8.8.2 (CS04b)",
        )
    return name


def _build_unjoin(cmd: Command) -> bytes:
    request: UnjoinService = cmd.request
    if cmd.use_case.name == "CS04b":
        return gc.UnjoinMethodB(request.other).encode()
    return gc.UnjoinDevice(request.other).encode()


serves(
    "8.8.1",
    Codec(
        read=_read_unjoin,
        build=_build_unjoin,
        builds=frozenset({"CS04ac"}),
        choose=_choose_unjoin,
        example=_OTHER_DEVICE,
    ),
)
# CS04b is the user's (its own counter), as the GSME's method B join CS03b is.
serves(
    "8.8.2",
    Codec(
        read=_read_unjoin,
        build=_build_unjoin,
        builds=frozenset({"CS04ac", "CS04b"}),
        choose=_choose_unjoin,
        acb_use_cases=frozenset({"CS04ac"}),
        example=_OTHER_DEVICE,
    ),
)


# --------------------------------------------------------------------------- 8.12.1


def _log(entries: tuple[tuple[bytes, DeviceType], ...]) -> tuple[tuple[bytes, int], ...]:
    """A device log as the SMI holds it (EUI, device type), as CCS03 and GCS59 restore it."""
    return tuple((eui, gc.OTHER_DEVICE_TYPES[kind.value]) for eui, kind in entries)


@dataclass(frozen=True, slots=True)
class RestoreHanDeviceLog:
    """SR8.12.1 ``RestoreHANDeviceLog``: the old CHF's device log, as the SMI holds it (the
    devices whose CHF it is), into the target CHF's (CCS03, sent by the ACB). ``entries``
    (EUI, device type) are filled in by the device service; the new hub forms its network
    with the old hub's extended PAN ID, which is the old CHF's EUI (a ZigBee coordinator's
    default), so the restored devices find it."""

    old_chf: bytes
    entries: tuple[tuple[bytes, DeviceType], ...] = ()


def _read_restore_han(body: etree._Element) -> RestoreHanDeviceLog:
    f = Fields(body, ("OldCHFID",))
    return RestoreHanDeviceLog(parse_eui_text(f.text("OldCHFID"), "OldCHFID"))


def _build_restore_han(cmd: Command) -> bytes:
    request: RestoreHanDeviceLog = cmd.request
    return gc.RestoreChfDeviceLog(cmd.counter, request.old_chf, _log(request.entries)).encode()


serves(
    "8.12.1",
    Codec(
        read=_read_restore_han,
        build=_build_restore_han,
        builds=frozenset({"CCS03"}),
        acb_use_cases=frozenset({"CCS03"}),
        example=Example({"OldCHFID": Home.HUB}),
    ),
)


# --------------------------------------------------------------------------- 8.12.2


@dataclass(frozen=True, slots=True)
class RestoreGpfDeviceLog:
    """SR8.12.2 ``RestoreGPFDeviceLog``: the old GPF's device log, as the SMI holds it, into
    the target GPF's. ``entries`` (EUI, device type) are filled in by the device service."""

    old_gpf: bytes
    entries: tuple[tuple[bytes, DeviceType], ...] = ()


def _read_restore_gpf(body: etree._Element) -> RestoreGpfDeviceLog:
    f = Fields(body, ("OldGPFID",))
    return RestoreGpfDeviceLog(parse_eui_text(f.text("OldGPFID"), "OldGPFID"))


def _build_restore_gpf(cmd: Command) -> bytes:
    request: RestoreGpfDeviceLog = cmd.request
    return gc.RestoreGpfDeviceLog(_log(request.entries)).encode()


serves(
    "8.12.2",
    Codec(
        read=_read_restore_gpf,
        build=_build_restore_gpf,
        builds=frozenset({"GCS59"}),
        acb_use_cases=frozenset({"GCS59"}),
        example=Example({"OldGPFID": Home.GPF}),
    ),
)


# --------------------------------------------------------------------------- 8.13


@dataclass(frozen=True, slots=True)
class LocalCommandResponse:
    """SR8.13 ``ReturnLocalCommandResponse`` (non-device, to the ACB): the RequestID of a
    command the user delivered locally (CV2 / CV6) and the device's GBCS response to it, filed
    by the device service (:mod:`gateway.services.device_local`)."""

    original: RequestId
    payload: bytes


def read_local_response(request: DuisRequest) -> LocalCommandResponse:
    f = Fields(request.body, ("OriginalRequestID", "DeviceGBCSResponse"))
    original = parse_request_id(f.text("OriginalRequestID") or "")
    text = "".join((f.text("DeviceGBCSResponse") or "").split())
    try:
        payload = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise invalid("DeviceGBCSResponse", "it is not base64") from None
    if not payload:
        raise invalid("DeviceGBCSResponse", "it is empty")
    return LocalCommandResponse(original, payload)


serves_non_device(
    "8.13",
    read_local_response,
    example=Example({"OriginalRequestID": Home.REQUIRED, "DeviceGBCSResponse": Home.REQUIRED}),
)


# --------------------------------------------------------------------------- 14.1


@dataclass(frozen=True, slots=True)
class RecordNetworkDataGas:
    """SR14.1 ``RecordNetworkDataGAS`` (no body fields): the gas transporter starts the GSME's
    network data log (GCS31, sent by the ACB)."""


def _read_network_data(body: etree._Element) -> RecordNetworkDataGas:
    Fields(body, ())
    return RecordNetworkDataGas()


def _build_network_data(cmd: Command) -> bytes:
    # The IssuerEventID identifies the sampling: the ZigBee UTC time of the command.
    return gc.StartNetworkDataLog(zigbee_time(cmd.now)).encode()


serves(
    "14.1",
    Codec(
        read=_read_network_data,
        build=_build_network_data,
        builds=frozenset({"GCS31"}),
        acb_use_cases=frozenset({"GCS31"}),
        example=EMPTY,
    ),
)
