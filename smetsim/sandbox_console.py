"""The sandbox's devices as the web view sees them (:class:`gateway.web.DeviceConsole`).

The gateway never imports the emulator: the sandbox plugs this console into the gateway's
web view. It reads each emulated device's live state from the fleet - its summary, tariff,
credit and debt, clock, logs, the use-case families' state, its whole snapshot - and the
recent alerts the gateway filed from it, and offers the bench controls: raise an alert, take
a device's hub link down or up, delay every WAN frame (the in-process WAN's fault injection)
and move the sandbox's clock forward.

The clock is the sandbox's one :class:`SandboxClock`, shared by the gateway (its timestamps,
its checks of future-dated commands and certificate validity) and the fleet, so moving it
keeps them agreeing, as a real DCC and its meters agree on the time. The gateway's response
timeouts are real time (``time.time``), so moving the clock does not expire them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from emulator.devices.base import Device
from emulator.devices.chf import Chf
from emulator.devices.families import Alert
from emulator.devices.meter import MeterDevice
from gateway.web import ConsoleUnavailableError, DeviceConsole
from gbcs.eui import eui_duis

if TYPE_CHECKING:
    from smetsim.sandbox import Sandbox
    from smetsim.worker_mesh import WorkerMesh

__all__ = [
    "MAX_CLOCK_STEP",
    "RemoteConsole",
    "SandboxClock",
    "SandboxConsole",
    "connect_workers",
    "serve_console",
]

MAX_CLOCK_STEP: Final = 366 * 24 * 3600
"""The longest single step the clock may be moved forward (seconds)."""
RECENT_ALERTS: Final = 10
"""The alerts (and DCC alerts) of a device shown with its state, newest first."""
MAX_DEVICES: Final = 200
"""The devices the devices view lists (a big fleet's first ones: ``GET /admin/devices/<EUI>``
reaches any)."""


class SandboxClock:
    """The sandbox's time: a base clock (the wall clock, or a test's) moved forward by
    :attr:`offset`. One instance is the gateway's and the fleet's clock."""

    def __init__(self, base: Callable[[], datetime] | None = None) -> None:
        self.base = base or (lambda: datetime.now(UTC))
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return self.base() + self.offset

    def forward(self, seconds: float) -> datetime:
        """Move the time forward by ``seconds``; the new time."""
        self.offset += timedelta(seconds=seconds)
        return self()

    def set_offset(self, seconds: float) -> None:
        """Take the offset the fleet's host moved its clock to (another worker's)."""
        self.offset = timedelta(seconds=seconds)


class SandboxConsole:
    """See the module docstring."""

    def __init__(self, sandbox: Sandbox, clock: SandboxClock) -> None:
        self.sandbox = sandbox
        self.clock = clock
        self.on_clock: Callable[[float], None] | None = None
        """Told the clock's new offset (seconds) after each move: the other workers' clocks."""

    async def devices(self) -> list[dict[str, Any]]:
        euis = list(self.sandbox.fleet.euis())[:MAX_DEVICES]
        alerts = await self._recent_alerts(euis)
        return [s for s in (self._state(e, alerts.get(e, [])) for e in euis) if s is not None]

    async def state(self, eui: bytes) -> dict[str, Any] | None:
        if eui not in self.sandbox.fleet:
            return None
        alerts = await self._recent_alerts([eui])
        return self._state(eui, alerts.get(eui, []))

    def _state(self, eui: bytes, alerts: list[dict[str, Any]]) -> dict[str, Any] | None:
        sandbox = self.sandbox
        fleet = sandbox.fleet
        if eui not in fleet:
            return None
        hub = fleet.hub_of(eui)
        now = self.clock()
        out: dict[str, Any] = {
            "eui": eui_duis(eui),
            "hub": eui_duis(hub),
            "reachable": sandbox.wan.reachable(hub),
            "wanDelay": sandbox.wan.faults.delay,
            "clock": now.isoformat(),
            "clockOffsetSeconds": self.clock.offset.total_seconds(),
            "recentAlerts": alerts,
        }
        if not fleet.has_state(eui):
            out.update(type=fleet.spec(eui).profile.name, state="never used")
            return out
        device = fleet.device(eui, now)
        out.update(
            type=device.DEVICE_TYPE.value,
            profile=device.profile.name,
            firmware=device.firmware.version,
            commissioned=device.commissioned,
            alertCounter=device.alert_counter,
            # The device's own clock: the sandbox's, with the drift a command set on it.
            deviceClock=(now + timedelta(seconds=device.clock_offset)).isoformat(),
            log=list(device.log or [])[-20:],
            families=dict(device.extra or {}),
            snapshot=_snapshot(device),
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
                debtPence=meter.credit.debt / 1000,
                emergencyCreditActive=meter.credit.emergency_credit_active,
                tariff={
                    "pricesPencePerKwh": [p / 1000 for p in meter.tariff.prices],
                    "standingChargePencePerDay": meter.tariff.standing_charge / 1000,
                    "registers": list(meter.registers),
                },
                halfHoursRecorded=meter.held,
            )
        if isinstance(device, Chf):
            out["deviceLog"] = sorted(eui_duis(e) for e in (device.device_log or {}))
        return out

    async def _recent_alerts(self, euis: Iterable[bytes]) -> dict[bytes, list[dict[str, Any]]]:
        """The newest alerts and DCC alerts the gateway filed from each of ``euis``."""
        gateway = self.sandbox.gateway
        wanted = list(euis)

        def read() -> dict[bytes, list[dict[str, Any]]]:
            found: dict[bytes, list[dict[str, Any]]] = {}
            with gateway.storage.transaction() as tx:
                for eui in wanted:
                    rows = tx.all(
                        "SELECT kind, code, request_id, reason, created_at FROM device_reports "
                        "WHERE device = ? AND kind IN ('alert', 'dcc-alert') "
                        "ORDER BY seq DESC LIMIT ?",
                        (eui, RECENT_ALERTS),
                    )
                    if rows:
                        found[eui] = [
                            {
                                "kind": r["kind"],
                                "code": r["code"],
                                "requestId": r["request_id"],
                                "reason": r["reason"],
                                "at": r["created_at"],
                            }
                            for r in rows
                        ]
            return found

        return await gateway.commits.run(read)

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
            moved = self.clock.forward(seconds)
            if self.on_clock is not None:
                self.on_clock(self.clock.offset.total_seconds())
            for out in fleet.advance(moved):
                sandbox.wan.hubs.send_up(out.eui, out.frame, 0.0)
            return (
                f"the sandbox's clock (the gateway's and the devices') moved forward "
                f"{seconds:g} s, to {moved:%Y-%m-%d %H:%M:%S}"
            )
        if action == "alert":
            code = _alert_code(value)
            now = int(self.clock().timestamp())
            device = fleet.device(eui, now)
            for message in device.seal([Alert(code)], now, fleet.context(device)):
                sandbox.wan.hubs.send_up(eui, message.to_bytes(), 0.0, hub=hub)
            return f"{eui_duis(eui)} raised alert {code:04X}"
        raise ValueError(f"unknown action {action!r}: alert, unreachable, reachable, slow or clock")


class RemoteConsole:
    """The device console of a worker without the fleet: every call asked of the host's
    :class:`SandboxConsole` over the worker mesh (:meth:`WorkerMesh.console`)."""

    def __init__(self, mesh: WorkerMesh) -> None:
        self.mesh = mesh

    async def devices(self) -> list[dict[str, Any]]:
        devices: list[dict[str, Any]] = (await self._ask({"op": "devices"}))["devices"]
        return devices

    async def state(self, eui: bytes) -> dict[str, Any] | None:
        answer = await self._ask({"op": "state", "eui": eui.hex()})
        state: dict[str, Any] | None = answer["state"]
        return state

    async def act(self, eui: bytes, action: str, value: str | None) -> str:
        answer = await self._ask({"op": "act", "eui": eui.hex(), "action": action, "value": value})
        if "error" in answer:
            raise ValueError(answer["error"])
        return str(answer["done"])

    async def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            answer = await self.mesh.console(request)
        except (OSError, TimeoutError) as exc:
            raise ConsoleUnavailableError(
                "the worker that hosts the devices (worker 0) cannot be reached: "
                f"{exc or 'no answer in time'}"
            ) from None
        if "failed" in answer:
            raise ConsoleUnavailableError(
                f"the worker that hosts the devices (worker 0) failed: {answer['failed']}"
            )
        return answer


async def serve_console(console: DeviceConsole, request: dict[str, Any]) -> dict[str, Any]:
    """The host's answer to a :class:`RemoteConsole`'s request."""
    op = request.get("op")
    if op == "devices":
        return {"devices": await console.devices()}
    eui = bytes.fromhex(str(request.get("eui")))
    if op == "state":
        return {"state": await console.state(eui)}
    if op == "act":
        value = request.get("value")
        try:
            done = await console.act(
                eui, str(request.get("action")), None if value is None else str(value)
            )
        except ValueError as exc:  # the user's mistake: shown to them, nothing done
            return {"error": str(exc)}
        return {"done": done}
    raise ValueError(f"unknown console request {op!r}")


def connect_workers(sandbox: Sandbox, mesh: WorkerMesh, clock: SandboxClock) -> None:
    """Make one worker of several show the whole sandbox: its events relayed to the other
    workers and theirs to it, the devices view asked of the fleet's host, and the host's
    clock moves followed."""
    bus = sandbox.gateway.events
    bus.worker = mesh.index
    bus.listen(lambda event: mesh.relay(event.as_json()))  # this worker's own events only
    mesh.on_event = bus.relay
    mesh.on_clock = clock.set_offset
    console = sandbox.gateway.web.console
    if mesh.hosts_fleet and isinstance(console, SandboxConsole):
        console.on_clock = mesh.tell_clock
        mesh.on_console = lambda request: serve_console(console, request)
    else:
        sandbox.gateway.web.console = RemoteConsole(mesh)


def _snapshot(device: Device) -> dict[str, Any]:
    """The device's whole saved state, without the half-hour profile's thousands of values
    (their count is kept)."""
    data = device.to_json()
    meter = data.get("meter")
    if isinstance(meter, dict) and meter.get("hh") is not None:
        meter = dict(meter)
        meter["hh"] = f"{meter.get('hh_count', 0)} half-hours (not shown)"
        data["meter"] = meter
    return data


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
