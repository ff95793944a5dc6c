"""The emulated CHF (Communications Hub Function): WAN modem, HAN coordinator, and the
device log - the whitelist of HAN devices allowed to join.

CCS01 adds a device to the log (whitelisting it; a device the fleet hosts then joins at
once), CCS02 removes it (unjoining it: the hub no longer delivers to it). Each change
raises alert 0x8F12 (CHF device log changed) as CS14 (message code 0x0018, MAC'd): the log
as it is after the change. ECS52 reads the hub's firmware version.

GBCS addresses the CS14 alert to the DCC's access control broker (MAC'd for it), which
forwards it to the users responsible for the devices on the hub (the gateway's rule,
:mod:`gateway.services.device_answers`) - the target, content and security shape are the DCC's
reference alert's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar

from emulator.clock import from_seconds
from emulator.devices.base import Device
from emulator.devices.esme import RESULT_OTHER_REASON, dlms_error
from emulator.devices.families import Alert, Reply
from emulator.devices.trust import DeviceContext
from gbcs import content as c
from gbcs.alerts import AlertCode
from gbcs.devices import DeviceType
from gbcs.frames import Message
from gbcs.payloads import dlms
from gbcs.usecases import UseCase

DEVICE_LOG_CAPACITY = 16
"""Entries a CHF device log holds (GBCS sizes it for the devices of one home)."""
INSTALL_CODE = 16
"""Bytes of the install code a CS14 alert carries per device."""


def log_changed(device: Device, now: int) -> Alert:
    """CS14: the CHF's device log changed (at the device's time now); the content, written
    when the alert leaves, is the log then. It goes to the ACB, which forwards it."""
    at = device.device_time(now)
    return Alert(
        AlertCode.CHF_DEVICE_LOG_CHANGED,
        message_code=c.DeviceLogAlert.message_code,
        critical=False,
        detail=at.to_bytes(8, "big"),
        target=device.trust.acb,
    )


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One device in the CHF device log."""

    install_code: bytes
    device_type: int
    join_timeout: int
    """Minutes the device may take to join."""
    added: int
    """Unix seconds."""
    joined: bool = False


@dataclass(slots=True, eq=False, kw_only=True)
class Chf(Device):
    """A Communications Hub Function."""

    device_log: dict[bytes, LogEntry] | None = None
    removed: set[bytes] | None = None
    """Devices taken out of the log (the hub will not deliver to them)."""

    DEVICE_TYPE: ClassVar[DeviceType] = DeviceType.CHF

    def delivers_to(self, eui: bytes) -> bool:
        """Whether the hub still delivers to ``eui`` (not removed from its device log)."""
        return (
            self.removed is None
            or eui not in self.removed
            or (self.device_log is not None and eui in self.device_log)
        )

    def undeliverable(self, target: bytes, now: int, ctx: DeviceContext) -> list[bytes]:
        """A command came for a device taken out of the log: the hub tells the supplier
        (alert 0x8F84, failure to deliver a remote party message)."""
        self._log(f"cannot deliver to {target.hex()}: not in the device log")
        alert = Alert(AlertCode.FAILURE_TO_DELIVER_REMOTE_PARTY_MESSAGE, detail=target)
        return [m.to_bytes() for m in self.seal([*self.due_alerts(now), alert], now, ctx)]

    # -- use cases -------------------------------------------------------------------------

    def add_device(self, command: Message, now: int, ctx: DeviceContext) -> Reply:
        """CCS01: whitelist a device; if it is on this HAN already, it joins."""
        cmd = c.AddDeviceLogEntry.decode(command.content)
        log = self.device_log if self.device_log is not None else {}
        if cmd.device not in log and len(log) >= DEVICE_LOG_CAPACITY:
            self._log(f"CCS01 {cmd.device.hex()}: device log full")
            return Reply(c.Outcome.for_command(cmd, RESULT_OTHER_REASON).encode())
        joined = ctx.hosted(cmd.device)
        log[cmd.device] = LogEntry(
            cmd.install_code, cmd.device_type, cmd.join_timeout, now, joined=joined
        )
        self.device_log = log
        if self.removed is not None:
            self.removed.discard(cmd.device)
        self._log(f"CCS01 {cmd.device.hex()} whitelisted{', joined' if joined else ''}")
        return Reply(c.Outcome.for_command(cmd).encode(), alerts=[log_changed(self, now)])

    def remove_device(self, command: Message, now: int, ctx: DeviceContext) -> Reply:
        """CCS02: take a device out of the log (it is unjoined)."""
        cmd = c.RemoveDeviceLogEntry.decode(command.content)
        if self.device_log is not None:
            self.device_log.pop(cmd.device, None)
        if self.removed is None:
            self.removed = set()
        self.removed.add(cmd.device)
        self._log(f"CCS02 {cmd.device.hex()} removed and unjoined")
        return Reply(c.Outcome.for_command(cmd).encode(), alerts=[log_changed(self, now)])

    def read_firmware_version(self, command: Message, now: int, ctx: DeviceContext) -> Reply:
        """ECS52 sent to the hub: the CHF firmware version."""
        cmd = c.ReadFirmwareVersion.decode(command.content)
        return Reply(c.FirmwareVersion.for_command(cmd, self.firmware.version_bytes).encode())

    # -- content ---------------------------------------------------------------------------

    def alert_content(self, alert: Alert, counter: int, now: int) -> bytes:
        when = from_seconds(self.device_time(now))
        if alert.message_code == c.DeviceLogAlert.message_code:
            return c.DeviceLogAlert(
                counter,
                when,
                from_seconds(int.from_bytes(alert.detail, "big")),
                self.extended_pan_id(),
                self.log_entries(),
            ).encode()
        details = dlms.octet_string(alert.detail) if alert.detail else None
        return c.DlmsAlert(
            counter, alert.code, from_seconds(self.device_time(now)), details
        ).encode()

    def extended_pan_id(self) -> bytes:
        """The HAN's extended PAN ID: the one CCS03 restored (the old hub's), else the hub's
        own EUI-64 (a ZigBee coordinator's usual choice)."""
        restored = self.extra.get("han", {}).get("extended_pan_id") if self.extra else None
        return self.eui if restored is None else bytes.fromhex(restored)

    def log_entries(self) -> tuple[tuple[bytes, bytes], ...]:
        """(EUI, install code) of each device in the log, in EUI order; an entry restored by
        CCS03 (the DCC holds no install codes) carries zeros."""
        log = self.device_log or {}
        return tuple(
            (eui, log[eui].install_code[:INSTALL_CODE].ljust(INSTALL_CODE, b"\0"))
            for eui in sorted(log)
        )

    def firmware_receipt(self, ok: bool, digest: bytes, now: int) -> Alert:
        code = (
            AlertCode.FIRMWARE_VERIFICATION_SUCCESSFUL
            if ok
            else AlertCode.FIRMWARE_VERIFICATION_FAILED
        )
        return Alert(code, detail=digest)

    def error_content(self, command: Message, uc: UseCase, error: Exception) -> bytes:
        return dlms_error(command, uc, error, self.firmware.version_bytes)

    # -- snapshot --------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        data = Device.to_json(self)
        data["device_log"] = (
            None
            if self.device_log is None
            else {
                eui.hex(): {
                    "install_code": e.install_code.hex(),
                    "device_type": e.device_type,
                    "join_timeout": e.join_timeout,
                    "added": e.added,
                    "joined": e.joined,
                }
                for eui, e in self.device_log.items()
            }
        )
        data["removed"] = None if self.removed is None else sorted(e.hex() for e in self.removed)
        return data

    def restore_json(self, data: Mapping[str, Any]) -> None:
        Device.restore_json(self, data)
        log = data["device_log"]
        self.device_log = (
            None
            if log is None
            else {
                bytes.fromhex(k): LogEntry(
                    bytes.fromhex(v["install_code"]),
                    int(v["device_type"]),
                    int(v["join_timeout"]),
                    int(v["added"]),
                    bool(v["joined"]),
                )
                for k, v in log.items()
            }
        )
        removed = data["removed"]
        self.removed = None if removed is None else {bytes.fromhex(e) for e in removed}


Chf.HANDLERS = MappingProxyType(
    {
        0x0001: Chf.add_device,
        0x0002: Chf.remove_device,
        0x0059: Chf.read_firmware_version,
        0x0012: Chf.activate_firmware,
    }
)
