"""The sandbox's devices as the web view sees them (:class:`gateway.web.DeviceConsole`).

The gateway never imports the emulator: the sandbox plugs this console into the gateway's
web view. It reads each emulated device's live state from the fleet, and offers the bench
controls: raise an alert, take a device's hub link down or up, delay every WAN frame (the
in-process WAN's fault injection) and move the devices' clock forward.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from emulator.devices.base import Alert
from emulator.devices.chf import Chf
from emulator.devices.meter import MeterDevice
from gbcs.eui import eui_duis

if TYPE_CHECKING:
    from smetsim.sandbox import Sandbox

__all__ = ["SandboxConsole"]

MAX_CLOCK_STEP = 366 * 24 * 3600
"""The longest single step the clock may be moved forward (seconds)."""


class SandboxConsole:
    """See the module docstring."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.offset = timedelta()
        base = sandbox.clock
        # The fleet's time only: the gateway keeps its own clock, as the DCC would.
        sandbox.clock = lambda: base() + self.offset

    def devices(self) -> list[dict[str, Any]]:
        fleet = self.sandbox.fleet
        return [s for s in (self.state(e) for e in fleet.euis()) if s is not None][:200]

    def state(self, eui: bytes) -> dict[str, Any] | None:
        sandbox = self.sandbox
        fleet = sandbox.fleet
        if eui not in fleet:
            return None
        hub = fleet.hub_of(eui)
        out: dict[str, Any] = {
            "eui": eui_duis(eui),
            "hub": eui_duis(hub),
            "reachable": sandbox.wan.reachable(hub),
            "wanDelay": sandbox.wan.faults.delay,
            "clock": sandbox.clock().isoformat(),
            "clockOffsetSeconds": self.offset.total_seconds(),
        }
        if not fleet.has_state(eui):
            out.update(type=fleet.spec(eui).profile.name, state="never used")
            return out
        device = fleet.device(eui, sandbox.clock())
        out.update(
            type=device.DEVICE_TYPE.value,
            profile=device.profile.name,
            firmware=device.firmware.version,
            commissioned=device.commissioned,
            alertCounter=device.alert_counter,
        )
        if device.firmware.esme_variant:
            out["esmeVariant"] = device.firmware.esme_variant
        if isinstance(device, MeterDevice):
            meter = device.meter
            out.update(
                register=meter.total,
                unit="Wh" if device.DEVICE_TYPE.value == "ESME" else "dm3",
                supply=meter.supply.value,
                mode=meter.mode.value,
                creditPence=meter.credit.balance / 1000,
                halfHoursRecorded=len(meter.half_hours()),
            )
        if isinstance(device, Chf):
            out["deviceLog"] = sorted(eui_duis(e) for e in (device.device_log or {}))
        return out

    async def act(self, eui: bytes, action: str, value: str | None) -> str:
        sandbox = self.sandbox
        fleet = sandbox.fleet
        hub = fleet.hub_of(eui)
        faults = sandbox.wan.faults
        if action == "unreachable":
            faults.link_down(hub)
            return f"the WAN link of hub {eui_duis(hub)} is down"
        if action == "reachable":
            faults.link_up(hub)
            return f"the WAN link of hub {eui_duis(hub)} is up"
        if action == "slow":
            seconds = _number(value, "slow", 0.0, 3600.0)
            faults.delay = seconds
            return f"every WAN frame is delayed by {seconds:g} s"
        if action == "clock":
            seconds = _number(value, "clock", 1.0, MAX_CLOCK_STEP)
            self.offset += timedelta(seconds=seconds)
            for out in fleet.advance(sandbox.clock()):
                sandbox.wan.hubs.send_up(out.eui, out.frame, 0.0)
            moved = sandbox.clock()
            return f"the devices' clock moved forward {seconds:g} s, to {moved:%Y-%m-%d %H:%M:%S}"
        if action == "alert":
            code = _alert_code(value)
            now = int(sandbox.clock().timestamp())
            device = fleet.device(eui, now)
            for message in device.seal([Alert(code)], now, fleet.context(device)):
                sandbox.wan.hubs.send_up(eui, message.to_bytes(), 0.0, hub=hub)
            return f"{eui_duis(eui)} raised alert {code:04X}"
        raise ValueError(f"unknown action {action!r}: alert, unreachable, reachable, slow or clock")


def _number(value: str | None, action: str, low: float, high: float) -> float:
    try:
        number = float(value) if value is not None else float("nan")
    except ValueError:
        number = float("nan")
    if not low <= number <= high:
        raise ValueError(
            f"{action}: give a number of seconds from {low:g} to {high:g}, not {value!r}"
        )
    return number


def _alert_code(value: str | None) -> int:
    text = (value or "").strip().upper().removeprefix("0X")
    try:
        code = int(text, 16)
    except ValueError:
        code = -1
    if not 0 <= code <= 0xFFFF:
        raise ValueError(f"alert: give the alert code in hex (e.g. 8F3E), not {value!r}")
    return code
