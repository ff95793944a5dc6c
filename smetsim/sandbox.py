"""The sandbox: the gateway and a fleet of emulated devices on one machine, joined by the
in-process WAN.

:class:`Sandbox` composes what the lower layers never import from each other: a
:class:`gateway.server.Gateway` (DUIS over HTTP, the SMI, flags and RDP files), a
:class:`gateway.services.device.DeviceService` with its DUIS front (:class:`DeviceDuis`), an
:class:`gateway.wan.InProcessWan`, and an :class:`emulator.fleet.Fleet` plugged into the WAN's
hub side. Gateway and fleet share one seed: the fleet derives each device's keys from it, the
gateway's test PKI derives the same public keys, so every MAC and signature checks.

On a fresh state folder it mirrors the DCC test environment, so the DUIS conformance templates
work unchanged (with fresh RequestID counters): the users of :mod:`gateway.users`, and the
home of the reference test data - ESME ``00-DB-12-34-56-78-90-A0``, GSME ``...-A1``, CHF
``...-A2``, GPF ``...-A3`` - pre-notified, in the CHF's device log, linked to their meter
points and Commissioned; plus devices only pre-notified (ESME ``...-B0``, GSME ``...-B1``)
for lifecycle tests, with meter points of their own, and ``devices`` more ESMEs
(``00-DB-00-00-xx-xx-xx-xx``) for load. A state folder used before is reopened as it was:
each device's state is saved to ``devices.db`` (:mod:`smetsim.device_store`) before an answer
that reports it leaves for the gateway, and the whole fleet to ``fleet.json`` on close.

``Sandbox.start(..., wan_routes={hub: wan})`` reaches some hubs through a WAN of their own
instead of the fleet - a serial HAN dongle (``smetsim hil bridge``): the gateway's device
service then sees a :class:`gateway.wan.RoutingWan` (:attr:`Sandbox.device_wan`).

``Sandbox.start(..., sock=..., mesh=...)`` makes it one worker process of several on one
port (:mod:`smetsim.sandbox_workers`): worker 0 hosts the fleet, the others reach it through
the :class:`smetsim.worker_mesh.WorkerMesh`, and the inbox is shared.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import shutil
import socket
import sqlite3
import tempfile
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives.serialization import Encoding

from emulator.devices.base import DEFAULT_TRUST, Trust
from emulator.errors import EmulatorError
from emulator.fleet import Fleet
from gateway.admin_auth import admin_access
from gateway.config import ConfigError, GatewaySettings, settings_from_mapping
from gateway.duis.device_responses import ReportRenderer
from gateway.duis.device_routes import RESPONSES_PATH, DeviceDuis, DeviceRequests
from gateway.duis.envelope import format_request_id
from gateway.duis.signature import load_certificate
from gateway.events import ObservedWan
from gateway.model import DevicePrenotification, DeviceStatus
from gateway.server import Gateway
from gateway.services.device import MIGRATIONS as DEVICE_MIGRATIONS
from gateway.services.device import DeviceService
from gateway.services.device_reports import Inbox
from gateway.users import MeterPoints, User, UserRole
from gateway.wan import InProcessWan, RoutingWan, WanFaults
from gbcs.codes import NETWORK_OPERATOR, SUPPLIER, KeyPurpose
from gbcs.devices import DeviceType, Fuel
from gbcs.eui import eui_duis, parse_eui
from gbcs.keystore import Keystore, KeystoreError
from gbcs.wan import Wan
from smetsim.device_store import DeviceStore, open_device_store
from smetsim.firmware_distribution import FleetImageCarrier, register_products
from smetsim.sandbox_console import SandboxClock, SandboxConsole, connect_workers
from smetsim.worker_mesh import PeerWan, WorkerMesh

logger = logging.getLogger(__name__)

__all__ = [
    "CHF",
    "DEFAULT_PORT",
    "ESME",
    "GAS_MPRN",
    "GPF",
    "GSME",
    "IMPORT_MPAN",
    "PENDING_ESME",
    "PENDING_GSME",
    "SECONDARY_MPAN",
    "Sandbox",
    "SandboxSettings",
    "describe",
    "load_sandbox_config",
    "prepare_sandbox_state",
    "sandbox_fleet",
    "sandbox_keystore",
]

DEFAULT_PORT: Final = 8079

ESME: Final = parse_eui("00-DB-12-34-56-78-90-A0")
GSME: Final = parse_eui("00-DB-12-34-56-78-90-A1")
CHF: Final = parse_eui("00-DB-12-34-56-78-90-A2")
GPF: Final = parse_eui("00-DB-12-34-56-78-90-A3")
PPMID: Final = parse_eui("00-DB-12-34-56-78-90-A4")
HCALCS: Final = parse_eui("00-DB-12-34-56-78-90-A5")
IHD: Final = parse_eui("00-DB-12-34-56-78-90-A6")
PENDING_ESME: Final = parse_eui("00-DB-12-34-56-78-90-B0")
PENDING_GSME: Final = parse_eui("00-DB-12-34-56-78-90-B1")

IMPORT_MPAN: Final = "1312345678111"
"""The ESME's import MPAN (the one the 8.11 template carries)."""
SECONDARY_MPAN: Final = "1312345678222"
GAS_MPRN: Final = "1234567890"
PENDING_MPAN: Final = "1312345678333"
"""Registered for the pre-notified ESME, not yet linked."""
PENDING_MPRN: Final = "1234567891"
EXTRA_PREFIX: Final = bytes.fromhex("00db0000")
SUPPLIER_PREFIX: Final = bytes.fromhex("90b3d51f3e")
MAX_SUPPLIERS: Final = 4096
UPRN: Final = "100023336956"

_PROFILES: Final = {
    DeviceType.ESME: "northbrook-nb100",
    DeviceType.GSME: "northbrook-ng20",
    DeviceType.CHF: "tellurian-ch2-chf",
    DeviceType.GPF: "tellurian-ch2-gpf",
    DeviceType.IHD: "lumen-ihd3",
}
_SMI_ONLY: Final[Mapping[DeviceType, tuple[str, str, str, str, str | None]]] = {
    # (manufacturer id, model id, SMETS/CHTS version, firmware, ESME variant): the HAN
    # devices the DCC's templates name that the emulator has no model of yet - in the SMI
    # (so their SRs meet the gateway's rules, not an unknown device), not on the HAN.
    DeviceType.PPMID: ("1D03", "00000004", "SMETS2 V4.2", "00000100", None),
    DeviceType.HCALCS: ("1D03", "00000005", "SMETS2 V4.2", "00000100", None),
}
_SANDBOX_KEYS: Final = frozenset(
    {"devices", "suppliers", "latency", "faults", "response_timeout", "tick_interval"}
)


@dataclass(frozen=True, slots=True)
class SandboxSettings:
    """What :meth:`Sandbox.start` needs (``smetsim sandbox`` options, ``[sandbox]`` table)."""

    gateway: GatewaySettings
    devices: int = 0
    """ESMEs hosted and commissioned on top of the default home (for load)."""
    suppliers: int = 0
    """More supplier users (``90-B3-D5-1F-3E-00-00-01``...) with keys derived from the seed;
    the extra ESMEs are shared round-robin between them and the default supplier (so
    concurrent clients each have their own RequestID counter)."""
    latency: bool = True
    """Answers arrive after the response latency the device's firmware profile gives."""
    faults: bool = False
    """Apply the profiles' drop and corrupt-MAC quirks."""
    response_timeout: float = 30.0
    """Seconds a device has to answer before its request fails (DCC alert)."""
    tick_interval: float = 60.0
    """Seconds between lets-time-pass ticks of the fleet (time-driven alerts); 0: never."""
    temporary: bool = False
    """The state folder is a temporary one, deleted on close."""

    @classmethod
    def create(
        cls,
        *,
        state: Path | None = None,
        host: str | None = None,
        port: int | None = None,
        config: Path | None = None,
        devices: int | None = None,
        suppliers: int | None = None,
        require_signatures: bool = False,
        latency: bool | None = None,
        response_timeout: float | None = None,
        durability: str | None = None,
        workers: int | None = None,
        admin_token: str | None = None,
        admin_host: str | None = None,
        admin_port: int | None = None,
    ) -> SandboxSettings:
        """Settings from an optional config file overlaid by options (``None``: not given).

        Raises :class:`gateway.config.ConfigError` naming a bad file, key or value."""
        if devices is not None and devices < 0:
            raise ConfigError(f"--devices must be 0 or more, not {devices}")
        if suppliers is not None and not 0 <= suppliers <= MAX_SUPPLIERS:
            raise ConfigError(f"--suppliers must be 0 to {MAX_SUPPLIERS}, not {suppliers}")
        base = load_sandbox_config(config) if config is not None else cls(GatewaySettings())
        temporary = False
        if state is None and (config is None or base.gateway.state == GatewaySettings().state):
            state = Path(tempfile.mkdtemp(prefix="smetsim-sandbox-"))
            temporary = True
            if durability is None and config is None:
                # The folder is deleted on stop: an fsync per commit would protect nothing
                # a power cut would not take anyway. A killed process still loses nothing.
                durability = "process"
        gw = base.gateway.with_overrides(
            state=state,
            host=host,
            port=DEFAULT_PORT if port is None and config is None else port,
            allow_unsigned=not require_signatures,
            durability=durability,
            workers=workers,
            admin_token=admin_token,
            admin_host=admin_host,
            admin_port=admin_port,
        )
        if gw.rdp_outbox is None:
            gw = replace(gw, rdp_outbox=gw.state / "rdp-outbox")
        return replace(
            base,
            gateway=gw,
            devices=base.devices if devices is None else devices,
            suppliers=base.suppliers if suppliers is None else suppliers,
            latency=base.latency if latency is None else latency,
            response_timeout=base.response_timeout
            if response_timeout is None
            else response_timeout,
            temporary=temporary,
        )


def load_sandbox_config(path: Path) -> SandboxSettings:
    """A sandbox config file: the gateway's TOML (``[gateway]``, ``[[users]]``,
    ``[[meter_points]]``, see ``docs/gateway.md``) plus an optional ``[sandbox]`` table
    (``devices``, ``suppliers``, ``latency``, ``faults``, ``response_timeout``,
    ``tick_interval``)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {str(path)!r}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {str(path)!r} is not valid TOML: {exc}") from None
    section = data.pop("sandbox", {})
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [sandbox] must be a table")
    bad = set(section) - _SANDBOX_KEYS
    if bad:
        raise ConfigError(
            f"{path}: unknown key(s) in [sandbox]: {', '.join(sorted(bad))} "
            f"(known: {', '.join(sorted(_SANDBOX_KEYS))})"
        )
    gateway = settings_from_mapping(data, base=path.parent, source=str(path))

    def value(key: str, kind: type, default: Any) -> Any:
        found = section.get(key, default)
        if kind is float and isinstance(found, int) and not isinstance(found, bool):
            found = float(found)
        if not isinstance(found, kind) or (kind is int and isinstance(found, bool)):
            raise ConfigError(f"{path}: [sandbox] {key} must be a {kind.__name__}, not {found!r}")
        return found

    devices = value("devices", int, 0)
    if devices < 0:
        raise ConfigError(f"{path}: [sandbox] devices must be 0 or more, not {devices}")
    suppliers = value("suppliers", int, 0)
    if not 0 <= suppliers <= MAX_SUPPLIERS:
        raise ConfigError(
            f"{path}: [sandbox] suppliers must be 0 to {MAX_SUPPLIERS}, not {suppliers}"
        )
    return SandboxSettings(
        gateway=gateway,
        devices=devices,
        suppliers=suppliers,
        latency=value("latency", bool, True),
        faults=value("faults", bool, False),
        response_timeout=value("response_timeout", float, 30.0),
        tick_interval=value("tick_interval", float, 60.0),
    )


@dataclass(frozen=True, slots=True)
class _Home:
    """A device of the default home: how to pre-notify, link and host it."""

    eui: bytes
    kind: DeviceType
    commissioned: bool
    import_mpxn: str | None = None
    secondary_mpan: str | None = None
    whitelisted: bool = False
    """In the CHF's device log without being commissioned (a type 2 device)."""

    @property
    def emulated(self) -> bool:
        return self.kind in _PROFILES


HOME: Final[tuple[_Home, ...]] = (
    _Home(CHF, DeviceType.CHF, True),
    _Home(GPF, DeviceType.GPF, True),
    _Home(ESME, DeviceType.ESME, True, IMPORT_MPAN, SECONDARY_MPAN),
    _Home(GSME, DeviceType.GSME, True, GAS_MPRN),
    _Home(PPMID, DeviceType.PPMID, True),
    _Home(HCALCS, DeviceType.HCALCS, True),
    _Home(IHD, DeviceType.IHD, False, whitelisted=True),
    _Home(PENDING_ESME, DeviceType.ESME, False),
    _Home(PENDING_GSME, DeviceType.GSME, False),
)


def extra_device(index: int) -> bytes:
    """The EUI of the ``index``-th extra ESME (``00-DB-00-00-00-00-00-01`` for 1)."""
    return EXTRA_PREFIX + index.to_bytes(4, "big")


def extra_mpan(index: int) -> str:
    return f"19{index:011d}"


def extra_supplier(index: int) -> bytes:
    """The EUI of the ``index``-th extra supplier (``90-B3-D5-1F-3E-00-00-01`` for 1)."""
    return SUPPLIER_PREFIX + index.to_bytes(3, "big")


def supplier_of(device_index: int, suppliers: int) -> bytes:
    """Who supplies the ``device_index``-th extra ESME when there are ``suppliers`` more."""
    k = device_index % (suppliers + 1)
    return SUPPLIER if k == 0 else extra_supplier(k)


class Sandbox:
    """A running sandbox: ``async with await Sandbox.start(settings) as sandbox: ...``."""

    def __init__(
        self,
        settings: SandboxSettings,
        gateway: Gateway,
        fleet: Fleet,
        wan: InProcessWan,
        devices: DeviceService,
        duis: DeviceDuis,
        seed: bytes,
        clock: Callable[[], datetime],
        device_wan: Wan | None = None,
        mesh: WorkerMesh | None = None,
        store: DeviceStore | None = None,
    ) -> None:
        self.settings = settings
        self.gateway = gateway
        self.fleet = fleet
        self.wan = wan
        """The in-process WAN the fleet is plugged into."""
        self.device_wan: Wan = device_wan if device_wan is not None else wan
        """The WAN the device service sends through: :attr:`wan`, or a
        :class:`gateway.wan.RoutingWan` over it and the ``wan_routes`` of :meth:`start`."""
        self.routes: dict[bytes, Wan] = (
            dict(device_wan.routes) if isinstance(device_wan, RoutingWan) else {}
        )
        self.devices = devices
        self.duis = duis
        self.seed = seed
        self.clock = clock
        self.mesh = mesh
        """The links to the other worker processes (None: the only process)."""
        self.store = store
        """Where the fleet's device state is saved as it changes (None: this process does not
        host the fleet)."""
        self.url = ""
        self.admin_url = ""
        """Where the admin paths are served: :attr:`url`, or the admin listener's."""
        self._outbox: list[tuple[bytes, bytes, bytes, float]] = []
        """Answers (hub, source, frame, delay) waiting for their devices' state to be saved."""
        self._flushing: asyncio.Handle | None = None
        self._saving: asyncio.Future[None] | None = None
        """Resolved once the devices touched in this turn of the loop are saved."""
        self._tick: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def state(self) -> Path:
        return self.settings.gateway.state

    @property
    def keystore(self) -> Keystore:
        return self.gateway.keystore

    @property
    def hosts_fleet(self) -> bool:
        """Whether the fleet's devices live in this process (not in worker 0 of several)."""
        return self.mesh is None or self.mesh.hosts_fleet

    @classmethod
    async def start(
        cls,
        settings: SandboxSettings,
        *,
        clock: Callable[[], datetime] | None = None,
        wan_routes: Mapping[bytes, Wan] | None = None,
        sock: socket.socket | None = None,
        mesh: WorkerMesh | None = None,
    ) -> Sandbox:
        """Open the state, seed the default home on a fresh one, start listening (on
        ``sock`` when given: a socket shared by worker processes).

        ``wan_routes``: hubs (EUI -> WAN) the gateway reaches through their own WAN rather
        than the in-process fleet (the fleet's devices behind them stay silent). The sandbox
        owns them from this call on: it closes them on close, or when starting fails.

        ``mesh``: this process is one worker of several (:mod:`smetsim.sandbox_workers`);
        the mesh is the sandbox's from this call on, started and closed with it.

        Raises :class:`gateway.errors.GatewayError` subclasses (StartupError, AdminError,
        ConfigError...) or :class:`emulator.errors.EmulatorError` naming what is wrong."""
        now = SandboxClock(clock)  # the gateway's and the fleet's: the console moves it
        routes = dict(wan_routes or {})
        if routes and mesh is not None:
            raise ValueError("WAN routes and worker processes do not go together")
        try:
            # Without fsync (durability "process") a batch is cheaper run on the loop than
            # handed to the storage thread and back; with fsync the loop never waits on it,
            # nor with other worker processes (it may wait for their write lock).
            on_loop = settings.gateway.durability == "process" and mesh is None
            gateway = Gateway.open(settings.gateway, clock=now, commits_on_loop=on_loop)
        except BaseException:
            await _close_all(routes.values())
            raise
        store: DeviceStore | None = None
        try:
            if mesh is not None:
                gateway.storage.share_writes(settings.gateway.state / "gateway.db.lock")
            seed = _seed_of(settings.gateway)
            _register_suppliers(gateway, seed, settings.suppliers)
            wan = InProcessWan(faults=WanFaults())
            device_wan: Wan = RoutingWan(wan, routes) if routes else wan
            if mesh is not None and not mesh.hosts_fleet:
                device_wan = PeerWan(mesh)
            fleet = sandbox_fleet(settings, gateway.keystore, seed)
            if mesh is None or mesh.hosts_fleet:
                store = open_device_store(
                    settings.gateway.state, fleet, durability=settings.gateway.durability
                )
            euis = list(fleet.euis())
            gateway.keystore.add_derived_devices(seed, euis)
            # The inbox and its DUIS side first: the service is handed its listener.
            inbox = Inbox(
                gateway.storage,
                gateway.commits,
                clock=now,
                render=ReportRenderer(gateway.signer),
            )
            duis = DeviceDuis(
                inbox,
                users=gateway.users,
                shared=mesh is not None,
                resend_undelivered=mesh is None or mesh.hosts_fleet,
                events=gateway.events,
            )
            devices = DeviceService(
                gateway.storage,
                gateway.service,
                gateway.keystore,
                ObservedWan(device_wan, gateway.events),
                clock=now,
                response_timeout=settings.response_timeout,
                commits=gateway.commits,
                inbox=inbox,
                listener=duis.on_report,
            )
            gateway.anomaly.devices = devices  # releases and deletes quarantined requests
            DeviceRequests(devices).install(gateway.front_door)
            duis.install(gateway.app)
            sandbox = cls(
                settings, gateway, fleet, wan, devices, duis, seed, now, device_wan, mesh, store
            )
            wan.hubs.set_handler(sandbox._on_command)
            gateway.web.reports = devices
            if sandbox.hosts_fleet:
                gateway.web.console = SandboxConsole(sandbox, now)
            if mesh is not None:
                connect_workers(sandbox, mesh, now)
                mesh.on_filed = duis.filed_elsewhere
                duis.announce = lambda report: mesh.announce(
                    report.recipient,
                    None if report.request_id is None else format_request_id(report.request_id),
                )
                if mesh.hosts_fleet:
                    mesh.on_command = sandbox._on_remote_command
                    mesh.before_answer = sandbox._touched_saved
            _seed_home(gateway, settings.devices, settings.suppliers)
            register_products(gateway)  # the CPL SR 11.1 checks images against
            if sandbox.hosts_fleet:
                gateway.more.carrier = FleetImageCarrier(sandbox)
            gateway.more.inbox, gateway.more.listener = inbox, duis.on_report
        except BaseException:
            await _close_all(routes.values())
            if store is not None:
                store.close()
            await gateway.close()
            raise
        try:
            if mesh is not None:
                await mesh.start()
            listening = await gateway.start(sock=sock)
            await devices.start()
            await gateway.more.resume()  # firmware deliveries a restart left pending
            await duis.start()
        except BaseException:
            await sandbox._shutdown()
            raise
        sandbox.url = listening.url
        sandbox.admin_url = listening.url if listening.admin is None else listening.admin.url
        if settings.tick_interval > 0 and sandbox.hosts_fleet:
            sandbox._tick = asyncio.create_task(sandbox._ticks(), name="sandbox-fleet-tick")
        return sandbox

    # -- the hubs' side of the WAN ------------------------------------------------------------

    def _on_command(self, hub: bytes, frame: bytes) -> None:
        """A command arrived at ``hub``: the fleet's devices act and answer up the WAN, once
        their state is saved. The answers wait for the end of this turn of the event loop, so
        the commands that arrive in one turn cost one transaction."""
        answers = self._deliver(hub, frame)
        if not answers:
            return
        self._outbox.extend((hub, source, sent, delay) for source, sent, delay in answers)
        if self._flushing is None:
            self._flushing = asyncio.get_running_loop().call_soon(self._flush_outbox)

    def _flush_outbox(self) -> None:
        self._flushing = None
        try:
            self._save_touched()
        except Exception:
            # Never report a change that is not saved: the answers are dropped (the requests
            # fail on their deadline), the state is still in memory and saved next time.
            logger.exception("device state not saved: %d answer(s) held back", len(self._outbox))
            self._outbox.clear()
            return
        outbox, self._outbox = self._outbox, []
        for hub, source, sent, delay in outbox:
            self.wan.hubs.send_up(source, sent, delay, hub=hub)

    def _save_touched(self) -> None:
        touched = self.fleet.take_touched()
        if self.store is None or not touched:
            return
        if self.routes:
            # Those devices' state is kept where they really are (an MQTT fleet worker).
            touched = [eui for eui in touched if not self._routed_elsewhere(eui)]
        self.store.save_fleet(self.fleet, touched)

    def _on_remote_command(self, hub: bytes, frame: bytes) -> list[tuple[bytes, bytes, float]]:
        """A command another worker sent to ``hub``: what the fleet's devices answer (the
        mesh sends them once :meth:`_touched_saved`)."""
        return self._deliver(hub, frame)

    def _touched_saved(self) -> asyncio.Future[None]:
        """Done when the devices touched so far are saved: one transaction for all the
        commands of one turn of the loop."""
        if self._saving is None:
            loop = asyncio.get_running_loop()
            self._saving = loop.create_future()
            loop.call_soon(self._save_batch)
        return self._saving

    def _save_batch(self) -> None:
        future, self._saving = self._saving, None
        assert future is not None
        try:
            self._save_touched()
        except Exception as exc:
            future.set_exception(exc)
        else:
            future.set_result(None)

    def _deliver(self, hub: bytes, frame: bytes) -> list[tuple[bytes, bytes, float]]:
        try:
            answers = self.fleet.deliver(hub, frame, self.clock())
        except EmulatorError as exc:
            logger.warning("hub %s could not deliver a command: %s", eui_duis(hub), exc)
            return []
        latency = self.settings.latency
        return [(out.eui, out.frame, out.delay if latency else 0.0) for out in answers]

    async def _ticks(self) -> None:
        while True:
            await asyncio.sleep(self.settings.tick_interval)
            try:
                alerts = self.fleet.advance(self.clock())
                if alerts:
                    self._save_touched()
                for out in alerts:
                    if self.routes and self._routed_elsewhere(out.eui):
                        continue  # the real one is behind another WAN
                    self.wan.hubs.send_up(out.eui, out.frame, 0.0)
                # firmware images another worker accepted (it has no HAN to hand them to)
                await self.gateway.more.resume()
            except Exception:
                logger.exception("fleet tick failed (it will run again)")

    def _routed_elsewhere(self, eui: bytes) -> bool:
        """Whether ``eui`` (a fleet device) is reached through one of the ``wan_routes``."""
        return eui in self.routes or self.fleet.spec(eui).hub in self.routes

    # -- closing ------------------------------------------------------------------------------

    async def close(self) -> None:
        """Stop listening, snapshot the fleet, close everything (and delete a temporary state)."""
        if self._closed:
            return
        self._closed = True
        await self._shutdown()

    async def _shutdown(self) -> None:
        if self._tick is not None:
            self._tick.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tick
            self._tick = None
        await self.duis.close()
        await self.devices.close()
        if self.device_wan is not self.wan:
            try:
                await self.device_wan.close()
            except Exception:
                logger.exception("closing the routed WANs failed")
        await self.wan.close()
        if self.mesh is not None:
            await self.mesh.close()
        if self._flushing is not None:
            self._flushing.cancel()
            self._flushing = None
        self._outbox.clear()
        if self.store is not None:
            try:
                # Everything this process runs, so ticks that changed a meter without an
                # alert are not undone by an older row laid over fleet.json next time.
                own = [e for e in self.fleet.materialised_euis() if not self._routed_elsewhere(e)]
                self.store.save_fleet(self.fleet, own)
            except (OSError, sqlite3.Error) as exc:
                logger.warning("device state not saved: %s", exc)
            self.store.close()
        if self.hosts_fleet:
            try:
                self.fleet.snapshot(self.state / "fleet.json")
            except OSError as exc:
                logger.warning("fleet snapshot not written: %s", exc)
        await self.gateway.close()
        if self.settings.temporary:
            shutil.rmtree(self.state, ignore_errors=True)

    async def __aenter__(self) -> Sandbox:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- for people ---------------------------------------------------------------------------

    def describe(self) -> list[str]:
        """Where everything is, one line each (``smetsim sandbox`` prints them)."""
        return describe(self.settings, self.url, self.admin_url)


def describe(settings: SandboxSettings, url: str, admin_url: str | None = None) -> list[str]:
    """Where everything of a sandbox listening at ``url`` (the admin paths at ``admin_url``,
    default ``url``) is, one line each."""
    signed = (
        "requests must be signed"
        if not settings.gateway.allow_unsigned
        else "unsigned requests accepted"
    )
    state = settings.gateway.state
    admin = admin_url or url
    return [
        f"DUIS:      POST {url}/api/v1/serviceS | serviceD | serviceT  ({signed})",
        f"responses: GET  {url}{RESPONSES_PATH}?requestId=<RequestID>",
        f"admin:     {admin}/admin/users, {admin}/admin/meter-points, {admin}/admin/health",
        f"           {admin_access(settings.gateway, url)}",
        f"state:     {state}{' (temporary)' if settings.temporary else ''}",
        f"RDP files: {settings.gateway.rdp_outbox}",
        f"devices:   ESME {eui_duis(ESME)}, GSME {eui_duis(GSME)}, CHF {eui_duis(CHF)}, "
        f"GPF {eui_duis(GPF)} (Commissioned); pre-notified: ESME {eui_duis(PENDING_ESME)}, "
        f"GSME {eui_duis(PENDING_GSME)}"
        + (f"; {settings.devices} more ESMEs" if settings.devices else ""),
        f"users:     supplier {eui_duis(SUPPLIER)} (IS, GS), network operator "
        f"{eui_duis(NETWORK_OPERATOR)} (ED, GT)",
        f"keys:      smetsim pki export --state {state} OUT",
    ]


async def prepare_sandbox_state(settings: SandboxSettings) -> None:
    """Open the state once, as :meth:`Sandbox.start` would (migrations, test PKI, users, the
    default home and extra devices), and close it: what a supervisor does before starting
    worker processes on it, so they find it ready rather than seed it at the same time."""
    gateway = Gateway.open(settings.gateway)
    try:
        _register_suppliers(gateway, _seed_of(settings.gateway), settings.suppliers)
        gateway.storage.migrate(DEVICE_MIGRATIONS)
        _seed_home(gateway, settings.devices, settings.suppliers)
    finally:
        await gateway.close()


# =========================================================================== helpers


async def _close_all(wans: Iterable[Wan]) -> None:
    for wan in wans:
        try:
            await wan.close()
        except Exception:
            logger.exception("closing a routed WAN failed")


def _seed_of(settings: GatewaySettings) -> bytes:
    if settings.seed is not None:
        return settings.seed
    return bytes.fromhex((settings.state / "seed").read_text().strip())


def sandbox_fleet(settings: SandboxSettings, keystore: Keystore, seed: bytes) -> Fleet:
    """The devices a sandbox with ``settings`` hosts (restored from ``STATE/fleet.json`` when
    there is one): the home, then the extra ESMEs. A fleet worker of ``smetsim fleet serve``
    builds the same one from the same state folder."""
    snapshot = settings.gateway.state / "fleet.json"
    if snapshot.is_file():
        fleet = Fleet.restore(snapshot, keystore, faults=settings.faults)
    else:
        fleet = Fleet(seed, keystore, faults=settings.faults)
        fleet.add_sandbox_devices()
    for home in HOME:
        if home.emulated and home.eui not in fleet:
            fleet.add(home.eui, _PROFILES[home.kind], hub=CHF)
    for index in range(1, settings.devices + 1):
        eui = extra_device(index)
        if eui not in fleet:
            supplier = supplier_of(index, settings.suppliers)
            trust = DEFAULT_TRUST if supplier == SUPPLIER else Trust(supplier=supplier)
            fleet.add(eui, _PROFILES[DeviceType.ESME], hub=CHF, trust=trust)
    return fleet


def _prenotification(eui: bytes, kind: DeviceType, gateway: Gateway) -> DevicePrenotification:
    profile = gateway_profile(kind)
    return DevicePrenotification(
        device_id=eui,
        manufacturer=profile[0],
        model=profile[1],
        device_type=kind,
        smets_chts_version=profile[2],
        firmware_version=profile[3],
        esme_variant=profile[4],
        associated_gpf_id=GPF if eui == CHF else None,
    )


@functools.cache
def gateway_profile(kind: DeviceType) -> tuple[str, str, str, str, str | None]:
    """(manufacturer id, model id, SMETS/CHTS version, firmware, ESME variant) of the profile
    the sandbox hosts devices of ``kind`` with. Cached: reading the profiles' TOML for each of
    5,000 extra devices took most of a sandbox's start."""
    if kind in _SMI_ONLY:
        return _SMI_ONLY[kind]
    from emulator.firmware import load_profiles

    profile = load_profiles()[_PROFILES[kind]]
    first = profile.version(profile.initial_firmware)
    variant = first.esme_variant if kind is DeviceType.ESME else None
    return (
        profile.manufacturer_id,
        profile.model_id,
        profile.smets_version,
        profile.initial_firmware,
        variant,
    )


def _register_suppliers(gateway: Gateway, seed: bytes, count: int) -> None:
    """The extra supplier users: keys derived from the seed, certificates from the test root,
    registered as Import and Gas Supplier (kept as they are when already registered)."""
    euis = [extra_supplier(k) for k in range(1, count + 1)]
    gateway.keystore.add_derived_devices(seed, euis)
    for eui in euis:
        user = gateway.users.get(eui)
        if user is None:
            certificate = gateway.keystore.certificate(eui, KeyPurpose.DS)
            assert certificate is not None
            pem = certificate.public_bytes(Encoding.PEM).decode("ascii")
            user = gateway.users.add_or_update(
                User(eui, frozenset({UserRole.IS, UserRole.GS}), pem)
            )
        if user.certificate_pem is not None:
            gateway.certificates.add(eui, load_certificate(user.certificate_pem))


def _seed_home(gateway: Gateway, extra: int, suppliers: int = 0) -> None:
    """Pre-notify, link and commission the default home (what is not in the SMI yet)."""
    service = gateway.service
    points = MeterPoints(gateway.storage)
    for mpxn, fuel in (
        (IMPORT_MPAN, Fuel.ELECTRICITY),
        (SECONDARY_MPAN, Fuel.ELECTRICITY),
        (GAS_MPRN, Fuel.GAS),
        (PENDING_MPAN, Fuel.ELECTRICITY),
        (PENDING_MPRN, Fuel.GAS),
    ):
        if points.get(mpxn) is None:
            points.register_meter_point(mpxn, fuel, SUPPLIER, NETWORK_OPERATOR, uprn=UPRN)
    missing = [
        h for h in HOME if h.kind is not DeviceType.GPF and service.get_device(h.eui) is None
    ]
    if missing:
        service.prenotify_shipment(
            SUPPLIER, [_prenotification(h.eui, h.kind, gateway) for h in missing]
        )
        for home in missing:
            _install(
                gateway,
                home.eui,
                home.kind,
                home.commissioned,
                home.import_mpxn,
                home.secondary_mpan,
                whitelisted=home.whitelisted,
            )
            if home.eui == CHF:
                _install(gateway, GPF, DeviceType.GPF, True, None, None)
    _seed_extra(gateway, extra, suppliers)


def _install(
    gateway: Gateway,
    eui: bytes,
    kind: DeviceType,
    commissioned: bool,
    import_mpxn: str | None,
    secondary: str | None,
    *,
    whitelisted: bool = False,
) -> None:
    service = gateway.service
    if whitelisted:
        service.on_whitelisted(eui, CHF)
    if not commissioned:
        return
    if kind in (DeviceType.CHF, DeviceType.GPF):
        service.on_installed_not_commissioned(eui)
    else:
        service.on_whitelisted(eui, CHF, import_mpxn=import_mpxn, secondary_import_mpan=secondary)
    record = service.on_commissioned(eui)
    assert record.status is DeviceStatus.COMMISSIONED


def _seed_extra(gateway: Gateway, extra: int, suppliers: int) -> None:
    service = gateway.service
    todo = [i for i in range(1, extra + 1) if service.get_device(extra_device(i)) is None]
    if not todo:
        return
    # Imported here: rich is loaded only when there are devices to seed.
    from smetsim.progress import progress

    points = MeterPoints(gateway.storage)
    with (
        gateway.storage.transaction(),
        progress(f"seeding {len(todo)} devices", 3 * len(todo)) as advance,
    ):
        for i in todo:
            points.register_meter_point(
                extra_mpan(i), Fuel.ELECTRICITY, supplier_of(i, suppliers), NETWORK_OPERATOR
            )
            advance(1)
        service.prenotify_shipment(
            SUPPLIER, [_prenotification(extra_device(i), DeviceType.ESME, gateway) for i in todo]
        )
        advance(len(todo))
        for i in todo:
            _install(gateway, extra_device(i), DeviceType.ESME, True, extra_mpan(i), None)
            advance(1)


def home_devices() -> Iterable[bytes]:
    """Every EUI of the default home."""
    return (h.eui for h in HOME)


def sandbox_keystore(state: Path) -> Keystore:
    """The keys of a sandbox's state folder: its test PKI (``pki/``) and the keys of every
    device in its SMI, derived from its seed - what ``smetsim pki export`` writes and
    ``smetsim send --state`` signs and checks with. :class:`ConfigError` names what is
    missing."""
    pki = state / "pki"
    seed_file = state / "seed"
    if not pki.is_dir() or not seed_file.is_file():
        raise ConfigError(
            f"{str(state)!r} is not a sandbox state folder (no pki/ or seed): start "
            "'smetsim sandbox --state DIR' once first"
        )
    try:
        keystore = Keystore.load(pki)
        seed = bytes.fromhex(seed_file.read_text().strip())
    except (OSError, ValueError, KeystoreError) as exc:
        raise ConfigError(f"cannot read the sandbox keys in {str(state)!r}: {exc}") from None
    keystore.add_derived_devices(seed, _smi_devices(state / "gateway.db"))
    keystore.add_derived_devices(
        seed, [u for u in _users(state / "gateway.db") if u.startswith(SUPPLIER_PREFIX)]
    )
    return keystore


def _smi_devices(database: Path) -> list[bytes]:
    return _column(database, "SELECT device_id FROM devices") or list(home_devices())


def _users(database: Path) -> list[bytes]:
    return _column(database, "SELECT eui FROM users")


def _column(database: Path, sql: str) -> list[bytes]:
    if not database.is_file():
        return []
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        rows = connection.execute(sql).fetchall()
    except sqlite3.Error:
        return []
    finally:
        connection.close()
    return [bytes(row[0]) for row in rows]
