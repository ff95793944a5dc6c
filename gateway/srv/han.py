"""HAN and hub SRs (service references 8.7 to 8.14, 12.1): device logs, joins and the
communications hub."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from gateway.duis.envelope import parse_eui_text
from gateway.srv.example import Example, Home, Values
from gateway.srv.fields import Fields, invalid, read_int
from gateway.srv.registry import serves
from gateway.srv.spec import Codec, Command
from gbcs import content as gc

__all__ = ["UpdateHanDeviceLog"]


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
