"""HAN joins on the meters, the PPMID and the HCALCS, the CHF device log restore (CCS03) and
backup (CCS07) - and the GSME's network data log (GCS31).

CS03 (methods A, B and C) enter the other device in the meter's
device log - and in the other device's, when this fleet hosts it (a GSME's GPF) - and CS04ac
takes it out. The log is the family state ``han`` (``joined``: EUI -> device type, method and
when), saved with the device.

GCS59 replaces a GPF's log of joins by the one the DCC restores (the old GPF's), entering the
GPF in the log of each device this fleet hosts. CCS03 replaces a CHF's device log by the one
the DCC restores (the old hub's, as the SMI held it) and the hub takes the old hub's extended
PAN ID (family state ``han``: ``extended_pan_id``), so the restored devices find their
network again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from emulator.devices.base import Device
from emulator.devices.chf import DEVICE_LOG_CAPACITY, Chf, LogEntry, log_changed
from emulator.devices.esme import RESULT_OTHER_REASON
from emulator.devices.families import Reply, handles
from emulator.devices.trust import DeviceContext
from emulator.errors import CommandError
from gbcs import content as gc
from gbcs.devices import DeviceType
from gbcs.frames import Message

__all__ = ["joined"]

_GBCS_TYPE = {
    kind: gc.OTHER_DEVICE_TYPES[kind.value]
    for kind in (
        DeviceType.GSME,
        DeviceType.ESME,
        DeviceType.GPF,
        DeviceType.HCALCS,
        DeviceType.PPMID,
    )
}
"""The GBCS device type a device enters itself as in the other device's log."""

_METHOD_OF_CODE = {code: gc.JOIN_METHODS[name] for name, code in gc.JOIN_CODES.items()}


def joined(device: Device) -> dict[str, Any]:
    """The device's log of joins: EUI (hex) -> ``{"type", "method", "at"}``."""
    log: dict[str, Any] = device.family_state("han").setdefault("joined", {})
    return log


def _join(device: Device, command: Message, now: int, ctx: DeviceContext) -> Reply:
    cmd = gc.JoinDevice.decode(command.content)
    if cmd.method != _METHOD_OF_CODE[command.message_code]:
        raise CommandError(
            f"join method {cmd.method} is not that of message code 0x{command.message_code:04X}"
        )
    joined(device)[cmd.other.hex()] = {"type": cmd.other_type, "method": cmd.method, "at": now}
    peer = ctx.peer(cmd.other)
    if peer is not None and device.DEVICE_TYPE in _GBCS_TYPE:
        joined(peer)[device.eui.hex()] = {
            "type": _GBCS_TYPE[device.DEVICE_TYPE],
            "method": cmd.method,
            "at": now,
        }
    device._log(f"CS03 joined {cmd.other.hex()} (method {cmd.method})")
    return Reply(gc.JoinOutcome(0).encode())


def _unjoin(device: Device, command: Message, now: int, ctx: DeviceContext) -> Reply:
    cmd = gc.UnjoinDevice.decode(command.content)
    if joined(device).pop(cmd.other.hex(), None) is None:
        return Reply(gc.JoinOutcome(1).encode())  # not in the log: the reference's failure
    peer = ctx.peer(cmd.other)
    if peer is not None:
        joined(peer).pop(device.eui.hex(), None)
    device._log(f"CS04ac unjoined {cmd.other.hex()}")
    return Reply(gc.JoinOutcome(0).encode())


def _start_network_data(device: Device, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """GCS31: the GSME starts a network data log; its SampleID numbers the logs it started."""
    cmd = gc.StartNetworkDataLog.decode(command.content)
    state = device.family_state("han")
    sample_id = int(state.get("samples_started", 0)) + 1
    state["samples_started"] = sample_id
    state["network_data"] = {
        "sample_id": sample_id,
        "issuer_event_id": cmd.issuer_event_id,
        "interval": cmd.interval,
        "samples": cmd.samples,
        "at": now,
    }
    device._log(f"GCS31 network data log {sample_id} started")
    return Reply(gc.NetworkDataLogStarted(sample_id).encode())


handles(DeviceType.GSME, 0x0080)(_start_network_data)


@handles(DeviceType.GPF, 0x008C)
def _restore_gpf_log(device: Device, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """GCS59: the GPF's log of joins becomes the old GPF's, each entry's outcome 0 (restored)."""
    cmd = gc.RestoreGpfDeviceLog.decode(command.content)
    # A GPF's joins are method B ones (with its GSME, or a PPMID's with the GSME through it).
    method = gc.JOIN_METHODS["CS03B"]
    log: dict[str, Any] = {}
    for eui, kind in cmd.entries:
        log[eui.hex()] = {"type": kind, "method": method, "at": now}
        peer = ctx.peer(eui)
        if peer is not None:
            joined(peer)[device.eui.hex()] = {
                "type": _GBCS_TYPE[DeviceType.GPF],
                "method": method,
                "at": now,
            }
    device.family_state("han")["joined"] = log
    device._log(f"GCS59 device log restored: {len(cmd.entries)} devices")
    restored = tuple((eui, kind, 0) for eui, kind in cmd.entries)
    return Reply(gc.GpfDeviceLogRestored(restored).encode())


@handles(DeviceType.CHF, 0x0003)
def _restore_device_log(device: Device, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """CCS03: the CHF's device log becomes the one given (a device this fleet hosts is joined
    at once, as after CCS01), and the hub's network takes the extended PAN ID given."""
    if not isinstance(device, Chf):  # pragma: no cover - registered for the CHF only
        raise CommandError("only a CHF holds a CHF device log")
    cmd = gc.RestoreChfDeviceLog.decode(command.content)
    if len(cmd.entries) > DEVICE_LOG_CAPACITY:
        device._log(f"CCS03: {len(cmd.entries)} entries, more than the log holds")
        return Reply(gc.Outcome.for_command(cmd, RESULT_OTHER_REASON).encode())
    # The DCC holds no install codes: a restored entry is one the old hub had already joined.
    device.device_log = {
        eui: LogEntry(b"", kind, 0, now, joined=ctx.hosted(eui)) for eui, kind in cmd.entries
    }
    if device.removed is not None:
        device.removed.difference_update(eui for eui, _ in cmd.entries)
    device.family_state("han")["extended_pan_id"] = cmd.extended_pan_id.hex()
    device._log(f"CCS03 device log restored: {len(cmd.entries)} devices")
    return Reply(gc.Outcome.for_command(cmd).encode(), alerts=[log_changed(device, now)])


@handles(DeviceType.CHF, 0x00FE)
def _backup_device_log(device: Device, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """CCS07: the hub's device log with each device's link key (what CCS01 gave it, or a CCS03
    restore), under the network's extended PAN ID (the one a restore gave, else the hub's
    own EUI, a ZigBee coordinator's default). The emulated hub runs one network: the second
    network control object's log is empty. An entry with no 16-byte key (restored from an
    old snapshot) has nothing to back up and is left out."""
    if not isinstance(device, Chf):  # pragma: no cover - registered for the CHF only
        raise CommandError("only a CHF holds a CHF device log")
    cmd = gc.ReadChfSecurityLog.decode(command.content)
    pan = device.family_state("han").get("extended_pan_id")
    extended_pan_id = bytes.fromhex(pan) if isinstance(pan, str) else device.eui
    taken = datetime.fromtimestamp(device.device_time(now), UTC)
    log = device.device_log or {}
    entries = tuple(
        (eui, entry.install_code)
        for eui, entry in sorted(log.items())
        if len(entry.install_code) == gc.LINK_KEY_BYTES
    )
    logs = (
        gc.SecurityLog(taken, extended_pan_id, entries),
        gc.SecurityLog(taken, extended_pan_id, ()),
    )
    return Reply(gc.ChfSecurityLogs(cmd.counter, logs).encode())


for _type, _codes in (
    (DeviceType.ESME, (0x000D,)),
    (DeviceType.GSME, (0x000D, 0x000E, 0x00AF)),
    # The non-meters respond to a meter's method A join; the PPMID joins the GSME by method C.
    (DeviceType.PPMID, (0x00AB, 0x00AF)),
    (DeviceType.HCALCS, (0x00AB,)),
):
    for _code in _codes:
        handles(_type, _code)(_join)
    handles(_type, 0x000F)(_unjoin)
