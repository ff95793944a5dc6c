"""The gateway over HTTP (aiohttp): the DUIS endpoints, the admin API and the RDP tasks.

- ``POST /api/v1/serviceD``, ``/serviceS``, ``/serviceT``: DUIS XML in, signed DUIS XML out
  (:class:`gateway.duis.router.FrontDoor`). The sentence of an error response is also in the
  ``X-DUIS-Reason`` header; the code in ``X-DUIS-Response-Code``.
- ``/admin/...``: JSON, for test harnesses (users, meter points, RDP flush and inbox, health:
  :mod:`gateway.admin_api`). Loopback clients only, or others with the admin token; optionally
  on a listener of its own (:mod:`gateway.admin_auth`, the rule for every path but the DUIS
  endpoints).

State lives under the ``--state`` folder: ``gateway.db`` (SQLite, WAL), ``pki/`` (the test PKI
of :func:`gbcs.keystore.generate_test_pki`, kept so that restarts sign with the same keys) and
``seed`` (the PKI's seed).

Non-device requests go through the gateway's group commit (:mod:`gateway.group_commit`), the
queue device SRs share: requests arriving while a commit is on disk wait and are committed
together (each in its own savepoint), so one fsync serves many requests and a response is
only sent once its change is durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from aiohttp import web

from gateway.admin_api import JSON_LIMIT, AdminApi, certificate_pem, check_certificate
from gateway.admin_auth import AdminAccess, admin_port
from gateway.anomaly_routes import AnomalyAdmin
from gateway.config import GatewaySettings, MeterPointConfig, UserConfig
from gateway.duis.catalogue import Endpoint, ServiceReferenceVariant
from gateway.duis.dcc_services import DccServices
from gateway.duis.envelope import format_request_id
from gateway.duis.nondevice import BODY_OF, read_non_device_request, result_content
from gateway.duis.router import FrontDoor, Outcome, Reply, RequestContext
from gateway.duis.schema import DuisSchema
from gateway.duis.signature import (
    CertificateIndex,
    RegisteredCertificate,
    RequestAuthenticator,
    SignatureEngine,
    XmlSigner,
    load_certificate,
)
from gateway.errors import GatewayError, ServiceError
from gateway.events import Event, EventBus, RequestLogger
from gateway.group_commit import GroupCommit
from gateway.inventory import MIGRATIONS
from gateway.model import NonDeviceResult, ServiceOptOut
from gateway.registration import RdpFlows
from gateway.services.nondevice import NonDeviceService
from gateway.srv.catalogue import CATALOGUE
from gateway.storage import Durability, Storage
from gateway.users import (
    MeterPoints,
    User,
    UserRole,
    Users,
    seed_default_identities,
    users_version,
)
from gateway.web import WebView
from gateway.web.quarantine import QuarantinePage
from gbcs.codes import NETWORK_OPERATOR, SUPPLIER, SUPPLIER_2, SUPPLIER_3, KeyPurpose
from gbcs.errors import KeyNotFound
from gbcs.eui import eui_duis
from gbcs.keystore import Keystore, KeystoreError, generate_test_pki

logger = logging.getLogger(__name__)


DEFAULT_IDENTITIES: Final = (SUPPLIER, SUPPLIER_2, SUPPLIER_3, NETWORK_OPERATOR)


class StartupError(GatewayError):
    """The gateway cannot start (bad state folder, PKI, schema...): the message says why."""


# --- the PKI and the state folder -------------------------------------------------------------


def load_or_create_pki(state: Path, seed: bytes | None) -> Keystore:
    """The state's test PKI: loaded from ``state/pki`` or generated from the state's seed
    (``seed``, else ``state/seed``, else a new random one written there) and saved."""
    pki_dir = state / "pki"
    seed_file = state / "seed"
    try:
        state.mkdir(parents=True, exist_ok=True)
        if pki_dir.is_dir() and any(pki_dir.iterdir()):
            return Keystore.load(pki_dir)
        if seed is None:
            if seed_file.is_file():
                seed = bytes.fromhex(seed_file.read_text().strip())
            else:
                seed = secrets.token_bytes(32)
        seed_file.write_text(seed.hex() + "\n")
        keystore = generate_test_pki(seed)
        keystore.save(pki_dir)
        return keystore
    except (OSError, ValueError, KeystoreError) as exc:
        raise StartupError(f"cannot prepare the test PKI under {str(state)!r}: {exc}") from None


def gateway_signer(keystore: Keystore, eui: bytes, engine: SignatureEngine = "fast") -> XmlSigner:
    """The XML signer of the gateway: ``eui``'s DS key (the ACB's by default, as the DCC's
    own signed responses show)."""
    try:
        key = keystore.private_key(eui, KeyPurpose.DS)
        certificate = keystore.certificate(eui, KeyPurpose.DS)
    except KeyNotFound as exc:
        raise StartupError(f"the test PKI has no DS key for {eui_duis(eui)}: {exc}") from None
    if certificate is None:
        raise StartupError(f"the test PKI has no DS certificate for {eui_duis(eui)}")
    return XmlSigner(key, certificate, engine=engine)


# --- the application -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Listening:
    host: str
    port: int
    admin: Listening | None = None
    """The admin paths' own listener, when they have one (``admin_host``)."""

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


class Gateway:
    """The whole gateway: open with :meth:`open`, then ``await start()`` / ``await close()``."""

    def __init__(
        self,
        settings: GatewaySettings,
        *,
        storage: Storage,
        keystore: Keystore,
        schema: DuisSchema | None,
        clock: Callable[[], datetime],
        commits_on_loop: bool = False,
    ) -> None:
        """``commits_on_loop``: the group commit's batches run on the event loop
        (:attr:`gateway.group_commit.GroupCommit.on_loop`)."""
        self.settings = settings
        self.storage = storage
        self.keystore = keystore
        self.schema = schema
        self.clock = clock
        self.users = Users(storage)
        self.meter_points = MeterPoints(storage)
        self.service = NonDeviceService(storage, clock=clock, flag_rules=settings.flag_rules)
        self.commits = GroupCommit(storage, on_loop=commits_on_loop)
        self.events = EventBus(clock=clock)
        self.events.listen(RequestLogger(), types=RequestLogger.TYPES)
        self.events.listen(self._on_event, types=("smi-change", "response"))
        self._last_flag_change = 0
        """The newest flag change announced on the event bus (read at start)."""
        self.certificates = CertificateIndex()
        self.signer = gateway_signer(keystore, settings.signing_eui, settings.signature_engine)
        self.rdp = (
            None
            if settings.rdp_outbox is None
            else RdpFlows(
                storage,
                settings.rdp_outbox,
                clock=clock,
                inbox=settings.inbox,
                n_export=settings.n_export,
                lock_file=settings.state / "rdp.lock",
            )
        )
        self.front_door = FrontDoor(
            authenticator=RequestAuthenticator(
                self.certificates,
                allow_unsigned=settings.allow_unsigned,
                clock=clock,
                engine=settings.signature_engine,
            ),
            signer=self.signer,
            schema=schema,
            clock=clock,
            max_body_bytes=settings.max_body_bytes,
        )
        self.front_door.refresh_certificates = self.refresh_certificates
        self._users_version = -1
        self.web = WebView(self)
        for variant in BODY_OF:
            self.front_door.router.register(variant, self._non_device)
        # 11.1, 11.4, 12.1 and 8.6: answered by the DCC beside the SMI
        self.dcc_services = DccServices(storage, self.commits, clock, self.signer)
        self.dcc_services.install(self.front_door)
        self.access = AdminAccess(settings.admin_token, separate=settings.admin_host is not None)
        self.app = self._make_app()
        self.anomaly = AnomalyAdmin(storage, self.commits.run)  # docs/anomaly-detection.md
        self.anomaly.install(self.app)
        QuarantinePage(self).install(self.app)  # the web view's page of it
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.listening: Listening | None = None
        self.admin_listening: Listening | None = None
        """The admin paths' own listener (``admin_host``), once it listens."""

    # --- opening and closing ------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        settings: GatewaySettings,
        *,
        clock: Callable[[], datetime] | None = None,
        commits_on_loop: bool = False,
    ) -> Gateway:
        """Open the state, the PKI, the schema; register the default and configured users and
        meter points. Raises :class:`StartupError`, :class:`AdminError` or
        :class:`gateway.duis.schema.SchemaLoadError` naming what is wrong."""
        schema = DuisSchema.load(settings.duis_schema) if settings.duis_schema else None
        keystore = load_or_create_pki(settings.state, settings.seed)
        durability: Durability = "process" if settings.durability == "process" else "full"
        storage = Storage.open(
            settings.state / "gateway.db", migrations=MIGRATIONS, durability=durability
        )
        try:
            gateway = cls(
                settings,
                storage=storage,
                keystore=keystore,
                schema=schema,
                clock=clock or (lambda: datetime.now(UTC)),
                commits_on_loop=commits_on_loop,
            )
            gateway._seed(settings.users, settings.meter_points)
            gateway.anomaly.configure(settings.anomaly_thresholds)
        except BaseException:
            storage.close()
            raise
        return gateway

    def _seed(self, users: tuple[UserConfig, ...], points: tuple[MeterPointConfig, ...]) -> None:
        if self.settings.seed_defaults:
            certificates: dict[bytes, str] = {}
            for eui in DEFAULT_IDENTITIES:
                certificate = self.keystore.certificate(eui, KeyPurpose.DS)
                if certificate is not None:
                    certificates[eui] = certificate_pem(certificate)
            seed_default_identities(self.storage, certificates=certificates)
        for entry in users:
            roles = frozenset(UserRole.parse(r) for r in entry.roles)
            if entry.certificate_pem is not None:
                check_certificate(entry.certificate_pem, entry.eui)
            self.users.add_or_update(
                User(entry.eui, roles, entry.certificate_pem, entry.response_url)
            )
        for point in points:
            self.meter_points.register_meter_point(
                point.mpxn,
                point.fuel,
                point.supplier,
                point.network_operator,
                uprn=point.uprn,
                property_filter=point.property_filter,
            )
        self._reindex()

    def _reindex(self, *, force: bool = True) -> bool:
        """Rebuild the certificate index from the registered users (parsing each PEM once),
        read in one transaction with the users' version; unless ``force``, only when that
        version is not the one the index was built from. True if the index was rebuilt.

        Runs in the storage thread (or before serving): the index is swapped in one step, and
        a second caller queued behind the first finds the version current."""
        with self.storage.transaction() as tx:
            version = users_version(tx)
            if version == self._users_version and not force:
                return False
            users = self.users.all()  # joins this transaction: same snapshot as the version
        entries: list[RegisteredCertificate] = []
        for user in users:
            if user.certificate_pem is None:
                continue
            try:
                certificate = load_certificate(user.certificate_pem)
            except ValueError as exc:
                logger.warning("user %s: certificate ignored: %s", eui_duis(user.eui), exc)
                continue
            entries.append(RegisteredCertificate(user.eui, certificate, user.certificate_pem))
        self.certificates.replace(entries)
        self._users_version = version
        return True

    async def refresh_certificates(self) -> bool:
        """Reread the registered certificates if a user changed since the index was built (in
        another worker process, say); True if the index was rebuilt."""
        return await self.commits.run(lambda: self._reindex(force=False))

    async def start(self, sock: socket.socket | None = None) -> Listening:
        """Listen on the configured host and port (0: any free port), or accept on ``sock``
        (a listening socket shared by worker processes), and start the RDP tasks. With
        ``admin_host``, also listen there for the admin paths (with ``SO_REUSEPORT`` when a
        worker process: the supervisor holds that port too)."""
        await self.web.restore()
        self._last_flag_change = await self.commits.run(self._newest_flag_change)
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site: web.BaseSite
        if sock is not None:
            site = web.SockSite(self._runner, sock)
        else:
            site = web.TCPSite(self._runner, self.settings.host, self.settings.port, backlog=1024)
        self.listening = await self._listen(site, self.settings.host, self.settings.port)
        if self.settings.admin_host is not None:
            host, port = self.settings.admin_host, admin_port(self.settings)
            admin = web.TCPSite(self._runner, host, port, reuse_port=sock is not None)
            self.admin_listening = await self._listen(admin, host, port)
            self.access.admin_port = self.admin_listening.port
            self.listening = replace(self.listening, admin=self.admin_listening)
        if self.settings.allow_unsigned:
            logger.warning(
                "unsigned and placeholder-signed requests are accepted as coming from their "
                "RequestID's originator (a sandbox convenience: `smetsim gateway "
                "--allow-unsigned`, or `smetsim sandbox` without --require-signatures)"
            )
        if self.rdp is not None and self.settings.rdp_flush_interval > 0:
            self._tasks.append(
                asyncio.create_task(
                    self._every(self.settings.rdp_flush_interval, self.flush_rdp), name="rdp-flush"
                )
            )
        if self.rdp is not None and self.settings.rdp_inbox_interval > 0:
            self._tasks.append(
                asyncio.create_task(
                    self._every(self.settings.rdp_inbox_interval, self.read_rdp_answers),
                    name="rdp-inbox",
                )
            )
        return self.listening

    async def _listen(self, site: web.BaseSite, host: str, port: int) -> Listening:
        assert self._runner is not None
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        server: Any = site._server  # aiohttp keeps the asyncio server private
        bound = server.sockets[0].getsockname()[1] if server is not None else port
        return Listening(host, int(bound))

    async def close(self) -> None:
        """Stop listening, finish the requests under way, stop the tasks, close the state."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self.events.close()  # open event streams end, so the runner need not wait for them
        await self.dcc_services.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.commits.close()
        self.storage.close()

    async def __aenter__(self) -> Gateway:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _every(self, seconds: float, job: Callable[[], Any]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await job()
            except Exception:
                logger.exception("periodic RDP job failed (it will run again)")

    # --- the non-device handler ---------------------------------------------------------------

    async def _non_device(self, context: RequestContext) -> Reply:
        request = read_non_device_request(context.request)
        if isinstance(request, ServiceOptOut):
            # SR8.5 is sent with CV1 to its device (not the ACB) and no user may send it: it
            # is refused as such here, consuming nothing (the service would first object to
            # the device target).
            raise ServiceError("opt_out_refused")
        certificate = context.certificate
        sender, request_id = context.sender, context.request.header.request_id
        pem = None if certificate is None else certificate.pem
        result: NonDeviceResult = await self.commits.call(
            lambda tx: self.service.handle_in(tx, sender, request_id, request, pem)
        )
        variant: ServiceReferenceVariant = context.request.header.service_reference_variant
        # 8.2 reads the SMI and the DCC schedules (5.x) are not in it: every other changes it.
        if variant.value not in ("8.2", "5.1", "5.2", "5.3"):
            # The device the SR changes (in its body: the RequestID's target is the ACB).
            changed = request.device_id or context.request.header.request_id.target
            self.events.publish(
                "smi-change",
                srv=variant.value,
                requestId=format_request_id(context.request.header.request_id),
                device=eui_duis(changed),
            )
        return Reply(result.response_code, result_content(variant, result))

    # --- events -------------------------------------------------------------------------------

    def _received(self, body: bytes, outcome: Outcome, ms: float) -> None:
        """Publish ``sr-received`` for one DUIS request and its synchronous answer."""
        request = outcome.request
        header = None if request is None else request.header
        event = self.events.publish(
            "sr-received",
            requestId=None if header is None else format_request_id(header.request_id),
            srv=None if header is None else header.service_reference_variant.value,
            name=None if header is None else CATALOGUE[header.service_reference_variant].row.name,
            cv=None if header is None else int(header.command_variant),
            sender=None if outcome.sender is None else eui_duis(outcome.sender),
            device=None if header is None else eui_duis(header.request_id.target),
            code=outcome.code,
            reason=outcome.reason,
            ms=round(ms, 3),
        )
        self.web.flow.exchange(event.seq, body, outcome.body)

    def _on_event(self, event: Event) -> None:
        """SMI and flag changes follow some events: look for new flag changes then."""
        if event.type == "smi-change" or (
            event.type == "response" and event.fields.get("srv") in ("8.1.1", "8.11")
        ):
            if event.type == "response":
                self.events.publish(
                    "smi-change",
                    srv=event.fields.get("srv"),
                    requestId=event.fields.get("requestId"),
                    device=event.fields.get("device"),
                )
                return  # that smi-change looks for the flags
            with contextlib.suppress(RuntimeError):  # no loop: nothing is listening yet
                asyncio.get_running_loop().create_task(self._announce_flags())

    def _newest_flag_change(self) -> int:
        """The id of the newest flag change (0: none): those after it are announced."""
        with self.storage.transaction() as tx:
            row = tx.one("SELECT MAX(id) AS id FROM flag_changes")
        return 0 if row is None or row["id"] is None else int(row["id"])

    async def _announce_flags(self) -> None:
        def read() -> list[Any]:
            with self.storage.transaction() as tx:
                return tx.all(
                    "SELECT id, mpxn, fuel, flag, effective_date FROM flag_changes "
                    "WHERE id > ? ORDER BY id",
                    (self._last_flag_change,),
                )

        try:
            rows = await self.commits.run(read)
        except Exception:  # the flags are in the database whatever happens here
            logger.exception("reading the flag changes for the event stream failed")
            return
        for row in rows:
            self._last_flag_change = max(self._last_flag_change, int(row["id"]))
            self.events.publish(
                "flag-change",
                mpxn=row["mpxn"],
                fuel=row["fuel"],
                flag=row["flag"],
                effectiveDate=row["effective_date"],
            )

    # --- RDP ----------------------------------------------------------------------------------

    async def flush_rdp(self) -> list[Path]:
        """Write the queued service-flag changes to the outbox; the files written."""
        if self.rdp is None:
            return []
        rdp = self.rdp
        files = await self.commits.run(rdp.flush)
        if files:
            logger.info("RDP flush wrote %s", ", ".join(str(f) for f in files))
        for file in files:
            self.events.publish("rdp-file", direction="written", file=str(file))
        return files

    async def read_rdp_answers(self) -> list[dict[str, Any]]:
        """Read the E46 answers in the inbox and record their outcomes."""
        if self.rdp is None:
            return []
        rdp = self.rdp
        reports = await self.commits.run(rdp.read_answers)
        for r in reports:
            self.events.publish(
                "rdp-file",
                direction="read",
                file=str(r.file),
                accepted=r.accepted,
                rejected=r.rejected,
            )
        return [
            {
                "file": str(r.file),
                "accepted": r.accepted,
                "rejected": r.rejected,
                "unmatched": list(r.unmatched),
                "errors": list(r.errors),
            }
            for r in reports
        ]

    # --- HTTP ---------------------------------------------------------------------------------

    def _make_app(self) -> web.Application:
        app = web.Application(client_max_size=JSON_LIMIT, middlewares=[self.access.middleware])
        for endpoint in Endpoint:
            app.router.add_post(endpoint.path, self._duis_route(endpoint))
        AdminApi(self).install(app)
        self.web.install(app)
        return app

    def _duis_route(self, endpoint: Endpoint) -> Callable[[web.Request], Any]:
        async def route(request: web.Request) -> web.StreamResponse:
            limit = self.settings.max_body_bytes
            if request.content_length is not None and request.content_length > limit:
                # Refused on its announced length alone, without reading it.
                error = ServiceError(
                    "duis_body_too_large", size=request.content_length, limit=limit
                )
                outcome = self.front_door.refuse(error)
            else:
                body = await _read_capped(request, limit)
                started = time.perf_counter()
                outcome = await self.front_door.handle(endpoint, body)
                self._received(body, outcome, 1000 * (time.perf_counter() - started))
            headers = {"X-DUIS-Response-Code": outcome.code}
            if outcome.reason:
                headers["X-DUIS-Reason"] = _header_text(outcome.reason)
            return web.Response(
                status=outcome.status,
                body=outcome.body,
                content_type="application/xml",
                charset="utf-8",
                headers=headers,
            )

        return route


# --- helpers ---------------------------------------------------------------------------------


async def _read_capped(request: web.Request, limit: int) -> bytes:
    """The request body, or its first ``limit + 1`` bytes (enough to refuse it as too large)."""
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = await request.content.read(limit + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _header_text(text: str) -> str:
    return "".join(c if 32 <= ord(c) < 127 else "?" for c in text)[:1000]


__all__ = ["Gateway", "Listening", "StartupError", "load_or_create_pki"]
