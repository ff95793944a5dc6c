"""The sandbox: the gateway and a fleet of emulated devices on one machine, joined by the
in-process WAN.

:class:`Sandbox` composes what the lower layers never import from each other: a
:class:`gateway.server.Gateway` (DUIS over HTTP, the SMI, flags and RDP files), a
:class:`gateway.services.device.DeviceService` with its DUIS front (:class:`DeviceDuis`), an
:class:`gateway.wan.InProcessWan`, and an :class:`emulator.fleet.Fleet` plugged into the WAN's
hub side. Gateway and fleet share one seed: the fleet derives each device's keys from it, the
gateway's test PKI derives the same public keys, so every MAC and signature checks.

On a fresh state folder it mirrors the DCC test environment, so the DUIS conformance templates
work unchanged (with fresh RequestID counters): the users of :mod:`gateway.users` and the
DCC's default home of :mod:`smetsim.home` (the reference test data's CHF, GPF, meters, PPMID,
HCALCS and IHD, the HAN join partners its templates name, pre-notified devices for lifecycle
tests, and ``devices`` more ESMEs for load). The settings are :mod:`smetsim.sandbox_settings`'s.
A state folder used before is reopened as it was: each device's state is saved to
``devices.db`` (:mod:`smetsim.device_store`) before an answer that reports it leaves for the
gateway, and the whole fleet to ``fleet.json`` on close.

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
import logging
import shutil
import socket
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path

from emulator.errors import EmulatorError
from emulator.fleet import Fleet
from gateway.admin_auth import admin_access
from gateway.config import GatewaySettings
from gateway.duis.device_responses import ReportRenderer
from gateway.duis.device_routes import RESPONSES_PATH, DeviceDuis, DeviceRequests
from gateway.duis.envelope import format_request_id
from gateway.events import ObservedWan
from gateway.server import Gateway
from gateway.services.device import MIGRATIONS as DEVICE_MIGRATIONS
from gateway.services.device import DeviceService
from gateway.services.device_reports import Inbox
from gateway.wan import InProcessWan, RoutingWan, WanFaults
from gbcs.codes import NETWORK_OPERATOR, SUPPLIER
from gbcs.eui import eui_duis
from gbcs.keystore import Keystore
from gbcs.wan import Wan
from smetsim.device_store import DeviceStore, open_device_store
from smetsim.firmware_distribution import FleetImageCarrier, register_products
from smetsim.home import (
    CHF,
    ESME,
    GAS_MPRN,
    GPF,
    GSME,
    HCALCS,
    IHD,
    IMPORT_MPAN,
    JOIN_PARTNERS,
    PENDING_ESME,
    PENDING_GSME,
    PENDING_MPAN,
    PENDING_MPRN,
    POLYPHASE_ESME,
    PPMID,
    SECONDARY_MPAN,
    UPRN,
    extra_device,
    extra_supplier,
    gateway_profile,
    home_keys,
    register_suppliers,
    sandbox_fleet,
    sandbox_keystore,
    seed_home,
    supplier_of,
)
from smetsim.sandbox_console import SandboxClock, SandboxConsole, connect_workers
from smetsim.sandbox_settings import (
    DEFAULT_PORT,
    MAX_SUPPLIERS,
    SandboxSettings,
    load_sandbox_config,
)
from smetsim.worker_mesh import PeerWan, WorkerMesh

logger = logging.getLogger(__name__)

# The sandbox itself; the home (smetsim.home) and the settings (smetsim.sandbox_settings)
# re-exported, as the sandbox is where callers look for them.
__all__ = [
    "CHF",
    "DEFAULT_PORT",
    "ESME",
    "GAS_MPRN",
    "GPF",
    "GSME",
    "HCALCS",
    "IHD",
    "IMPORT_MPAN",
    "JOIN_PARTNERS",
    "MAX_SUPPLIERS",
    "PENDING_ESME",
    "PENDING_GSME",
    "PENDING_MPAN",
    "PENDING_MPRN",
    "POLYPHASE_ESME",
    "PPMID",
    "SECONDARY_MPAN",
    "UPRN",
    "Sandbox",
    "SandboxSettings",
    "describe",
    "extra_device",
    "extra_supplier",
    "gateway_profile",
    "load_sandbox_config",
    "prepare_sandbox_state",
    "sandbox_fleet",
    "sandbox_keystore",
    "supplier_of",
]


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
            register_suppliers(gateway, seed, settings.suppliers)
            wan = InProcessWan(faults=WanFaults())
            device_wan: Wan = RoutingWan(wan, routes) if routes else wan
            if mesh is not None and not mesh.hosts_fleet:
                device_wan = PeerWan(mesh)
            fleet = sandbox_fleet(settings, gateway.keystore, seed)
            if mesh is None or mesh.hosts_fleet:
                store = open_device_store(
                    settings.gateway.state, fleet, durability=settings.gateway.durability
                )
            home_keys(gateway.keystore, seed, fleet)
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
            seed_home(gateway, settings.devices, settings.suppliers)
            register_products(gateway)  # the CPL SR 11.1 checks images against
            if sandbox.hosts_fleet:
                gateway.dcc_services.carrier = FleetImageCarrier(sandbox)
            gateway.dcc_services.inbox, gateway.dcc_services.listener = inbox, duis.on_report
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
            await gateway.dcc_services.resume()  # firmware deliveries a restart left pending
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
            self.save_touched()
        except Exception:
            # Never report a change that is not saved: the answers are dropped (the requests
            # fail on their deadline), the state is still in memory and saved next time.
            logger.exception("device state not saved: %d answer(s) held back", len(self._outbox))
            self._outbox.clear()
            return
        outbox, self._outbox = self._outbox, []
        for hub, source, sent, delay in outbox:
            self.wan.hubs.send_up(source, sent, delay, hub=hub)

    def save_touched(self) -> None:
        touched = self.fleet.take_touched()
        if self.store is None or not touched:
            return
        if self.routes:
            # Those devices' state is kept where they really are (an MQTT fleet worker).
            touched = [eui for eui in touched if not self.routed_elsewhere(eui)]
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
            self.save_touched()
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
                    self.save_touched()
                for out in alerts:
                    if self.routes and self.routed_elsewhere(out.eui):
                        continue  # the real one is behind another WAN
                    self.wan.hubs.send_up(out.eui, out.frame, 0.0)
                # firmware images another worker accepted (it has no HAN to hand them to)
                await self.gateway.dcc_services.resume()
            except Exception:
                logger.exception("fleet tick failed (it will run again)")

    def routed_elsewhere(self, eui: bytes) -> bool:
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
                own = [e for e in self.fleet.materialised_euis() if not self.routed_elsewhere(e)]
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
        f"GPF {eui_duis(GPF)}, PPMID {eui_duis(PPMID)}, HCALCS {eui_duis(HCALCS)}, "
        f"polyphase ESME {eui_duis(POLYPHASE_ESME)} (Commissioned); IHD {eui_duis(IHD)}; "
        f"join partners {', '.join(eui_duis(e) for e in JOIN_PARTNERS)}; pre-notified: "
        f"ESME {eui_duis(PENDING_ESME)}, GSME {eui_duis(PENDING_GSME)}"
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
        register_suppliers(gateway, _seed_of(settings.gateway), settings.suppliers)
        gateway.storage.migrate(DEVICE_MIGRATIONS)
        seed_home(gateway, settings.devices, settings.suppliers)
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
