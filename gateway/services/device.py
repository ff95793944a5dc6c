"""Device service requests: a DUIS SR becomes a GBCS command on the WAN, and the device's
answer becomes a report for the user.

:class:`DeviceService` takes a typed request (one frozen dataclass per DUIS body, below) from
the front door and:

1. checks the rules - the sender is a known user and the RequestID's originator, its counter
   is new, its role may send the SR, it serves the device (Responsible Supplier, or network
   operator of the meter point for reads), the device is in the SMI in a status that allows
   the SR, and sits behind a reachable communications hub - raising
   :class:`~gateway.errors.ServiceError` with nothing changed otherwise;
2. builds the GBCS with :mod:`gbcs.content` and :class:`gbcs.builders.Builder`: the GBCS
   originator counter is the RequestID's counter (as in the DCC's reference data), except for
   CCS01/CCS02, which the ACB sends with its own counter and the user's in the
   other-information;
3. by command variant: CV1 records the request and sends the ACB-MACed command over the
   :class:`~gateway.wan.Wan` (``I99``); CV2 returns the command for local delivery (``I0``);
   CV4 returns the pre-command for the user to sign (``I0``); CV5 checks the user's GBCS
   signature over the signed pre-command against the user's DS certificate and that it is
   the pre-command issued for that RequestID, MACs it as the ACB and sends it (``I99``);
   CV6 does the same for local delivery (``I0``);
4. matches each frame coming up the WAN: a response to its request by (device, business
   target, counter) - once: a duplicate is ignored, so nothing is applied twice - applies
   the SMI lifecycle (8.11 Add succeeded -> Whitelisted; 8.1.1 succeeded -> Commissioned;
   the service flags follow) and files a :class:`DeviceReport`; an alert becomes an alert
   report for its business target;
5. a request with no answer by its deadline, or whose hub went down before it could be
   sent, becomes a DCC alert report (``CommandFailure``).

Every report is stored (the inbox, durable before anyone is told) and handed to the
listener, which (in :mod:`gateway.duis.device_responses`) turns it into signed DUIS XML and
POSTs it to the user's response URL.

The state - requests awaiting an answer, reports, the ACB's counter - lives in the gateway's
SQLite store (component ``device-services``, :data:`MIGRATIONS`): a restart keeps every
acknowledged request and report; requests still open come back with their deadlines.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import heapq
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric import ec

from gateway import frame_log
from gateway.anomaly import ANOMALY_ALERT, AnomalyDetector
from gateway.duis.catalogue import ServiceReferenceVariant
from gateway.errors import ServiceError
from gateway.inventory import Inventory
from gateway.model import DeviceRecord, DeviceStatus, RequestId
from gateway.smi import Smi, responsible_suppliers
from gateway.srv.catalogue import CATALOGUE
from gateway.srv.configuration import CommissionDevice
from gateway.srv.han import UpdateHanDeviceLog
from gateway.srv.spec import Codec, Command
from gateway.storage import Migration, Row, Storage, Transaction
from gateway.users import (
    UserRole,
    check_counter,
    check_sender,
    get_meter_point,
    roles_text,
    write_counter,
)
from gateway.wan import HubUnreachableError, Wan, WanError
from gbcs import content as gc
from gbcs.builders import Builder
from gbcs.codes import ACB, CRA, KeyPurpose
from gbcs.crypto import SharedSecretCache, verify_signature
from gbcs.errors import DecodeError, EncodeError, GbcsError, KeyNotFound
from gbcs.frames import Message
from gbcs.keystore import KeyLookup
from gbcs.usecases import UseCase, by_name
from gbcs.verify import Check, Verifier

logger = logging.getLogger(__name__)

__all__ = [
    "MIGRATIONS",
    "Accepted",
    "DeviceCall",
    "DeviceReport",
    "DeviceRequest",
    "DeviceService",
    "GatewayKeys",
    "ReportKind",
    "SignedPreCommand",
    "run_on_loop",
]


# =========================================================================== the requests


@dataclass(frozen=True, slots=True)
class SignedPreCommand:
    """CV5 / CV6 ``SignedPreCommand``: the pre-command of a critical SR, signed by the user."""

    payload: bytes
    service_reference_variant = ""  # the header's variant applies


DeviceRequest = Any
"""A typed request of the catalogue's family modules (:mod:`gateway.srv`), or
:class:`SignedPreCommand`."""


@dataclass(frozen=True, slots=True)
class DeviceCall:
    """One device SR as the front door hands it over."""

    sender: bytes
    """The DCC User whose XML signature was verified (or the originator, unsigned mode)."""
    request_id: RequestId
    command_variant: int
    service_reference_variant: str
    request: DeviceRequest


@dataclass(frozen=True, slots=True)
class Accepted:
    """The synchronous answer to a device SR."""

    code: str
    """``I99`` (sent; the answer follows) or ``I0`` (pre-command / local command returned)."""
    precommand: bytes | None = None
    local_command: bytes | None = None


# =========================================================================== the reports


class ReportKind(StrEnum):
    RESPONSE = "response"
    """The device's answer to a request (DUIS ``ResponseMessage`` with its GBCS)."""
    ALERT = "alert"
    """An alert from a device (DUIS ``DeviceAlertMessage``)."""
    DCC_ALERT = "dcc-alert"
    """The DCC's own alert about a request: no answer in time, hub unreachable
    (DUIS ``DCCAlertMessage`` / ``CommandFailure``)."""


COMMAND_FAILURE_ALERT: Final = "N12"
"""The DCC alert code this gateway gives a CommandFailure (no answer from the device in time,
or its hub unreachable). The DUIS specification that fixes each N-code's meaning is not
available to this project: N12 is this project's choice among the schema's codes."""


@dataclass(frozen=True, slots=True)
class DeviceReport:
    """One entry of the inbox: what a DCC User is told asynchronously."""

    seq: int
    kind: ReportKind
    recipient: bytes
    device: bytes
    code: str
    """``I0`` for a response; the DCC alert code for a DCC alert; for a device alert, its
    alert code in hex (``8F30``)."""
    created_at: datetime
    request_id: RequestId | None = None
    response_id: RequestId | None = None
    service_reference_variant: str | None = None
    payload: bytes | None = None
    """The GBCS frame as the device sent it."""
    alert_code: int | None = None
    reason: str | None = None
    """Why a DCC alert was raised (for people)."""
    body: bytes | None = None
    """The signed DUIS XML, once built."""
    delivered: bool = False


ReportListener = Callable[[DeviceReport], None]


# =========================================================================== storage

MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(
        "device-services",
        1,
        """
        CREATE TABLE device_requests (
            request_id TEXT PRIMARY KEY,
            sender BLOB NOT NULL,
            device BLOB NOT NULL,
            hub BLOB,
            variant TEXT NOT NULL,
            command_variant INTEGER NOT NULL,
            message_code INTEGER NOT NULL,
            reply_to BLOB NOT NULL,
            gbcs_counter BLOB NOT NULL,
            state TEXT NOT NULL,
            command BLOB NOT NULL,
            details TEXT,
            created_at TEXT NOT NULL,
            deadline REAL,
            finished_at TEXT
        ) WITHOUT ROWID;
        CREATE UNIQUE INDEX device_requests_match
            ON device_requests (device, reply_to, gbcs_counter);
        CREATE INDEX device_requests_open ON device_requests (deadline) WHERE state = 'sent';

        CREATE TABLE device_reports (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            recipient BLOB NOT NULL,
            device BLOB NOT NULL,
            code TEXT NOT NULL,
            request_id TEXT,
            response_id TEXT,
            variant TEXT,
            payload BLOB,
            alert_code INTEGER,
            reason TEXT,
            created_at TEXT NOT NULL,
            body BLOB,
            delivered_at TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        );
        CREATE INDEX device_reports_by_request ON device_reports (request_id)
            WHERE request_id IS NOT NULL;
        CREATE INDEX device_reports_by_recipient ON device_reports (recipient, seq);
        CREATE INDEX device_reports_undelivered ON device_reports (seq)
            WHERE delivered_at IS NULL;
        CREATE UNIQUE INDEX device_reports_alerts ON device_reports (response_id)
            WHERE kind = 'alert';

        CREATE TABLE acb_counters (
            acb BLOB PRIMARY KEY,
            counter BLOB NOT NULL
        ) WITHOUT ROWID;
        """,
    ),
)
"""The tables of the device SRs (component ``device-services``): open requests, the inbox
of reports, the ACB's originator counter."""


_INSERT_REPORT: Final = (
    "INSERT INTO device_reports (kind, recipient, device, code, request_id, response_id, "
    "variant, payload, alert_code, reason, created_at, body) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class _State(StrEnum):
    PRECOMMAND = "precommand"
    SENT = "sent"
    ANSWERED = "answered"
    FAILED = "failed"
    LOCAL = "local"
    QUARANTINED = "quarantined"


# =========================================================================== keys


class GatewayKeys:
    """The keys the DCC holds: private keys of its own identities (the ACB) only, public keys
    of everyone (users' and devices' certificates). Wraps any :class:`KeyLookup` - in the
    sandbox the whole test PKI - so the gateway never uses a user's or a device's private key.
    """

    __slots__ = ("_keys", "_own")

    def __init__(self, keys: KeyLookup, own: frozenset[bytes] = frozenset({ACB})) -> None:
        self._keys = keys
        self._own = own

    @property
    def generation(self) -> object:
        """The wrapped lookup's ``generation`` (None when it has none): what the key agreement
        of the builder and verifier cache their shared secrets by. The keys this wrapper
        hands out change only when the wrapped ones do (its own EUIs are fixed), so without
        it every MAC looked its keys up again - the device's private key first, refused
        here with a KeyNotFound each time."""
        return getattr(self._keys, "generation", None)

    def public_key(self, eui: bytes, purpose: KeyPurpose) -> ec.EllipticCurvePublicKey:
        return self._keys.public_key(eui, purpose)

    def private_key(self, eui: bytes, purpose: KeyPurpose) -> ec.EllipticCurvePrivateKey:
        if eui not in self._own:
            raise KeyNotFound(eui, KeyPurpose(purpose).value, private=True)
        return self._keys.private_key(eui, purpose)


# =========================================================================== rules

_SUPPLIERS: Final = frozenset({UserRole.IS, UserRole.GS})
_READERS: Final = frozenset({UserRole.IS, UserRole.GS, UserRole.ED, UserRole.GT})
_NETWORK: Final = frozenset({UserRole.ED, UserRole.GT})

_IN_SERVICE: Final = frozenset({DeviceStatus.COMMISSIONED, DeviceStatus.INSTALLED_NOT_COMMISSIONED})
STATUSES: Final[Mapping[str, frozenset[DeviceStatus]]] = {
    "8.1.1": frozenset(
        {
            DeviceStatus.WHITELISTED,
            DeviceStatus.INSTALLED_NOT_COMMISSIONED,
            DeviceStatus.COMMISSIONED,
        }
    ),
}
"""The SMI statuses a device must be in to be sent each SR (default: Commissioned or
InstalledNotCommissioned; for 8.11, the status of the CHF)."""

_WIRE_VARIANTS: Final = frozenset({1, 2, 4, 5, 6})
"""Command variants this gateway serves for device SRs (3 and 7 - both WAN and local
delivery - are not)."""

_LOCAL: Final = frozenset({2, 6})


# =========================================================================== the service

Key = tuple[bytes, bytes, int]
"""How an answer finds its request: (device, the GBCS business originator, counter)."""

Runner = Callable[[Callable[[], Any]], Awaitable[Any]]
"""Runs a function in the thread that owns the storage's writes, e.g.
``gateway.server.CommitQueue.run``, or on the event loop itself (:func:`run_on_loop`)."""


async def run_on_loop(function: Callable[[], Any]) -> Any:
    """A :data:`Runner` that runs the storage work on the event loop, for a store whose
    commit does not wait for the disk (durability ``process``: a commit writes to the page
    cache, and is on disk for any process that reads it after): handing each batch to a
    thread and back costs more than the batch there. Group commit and the order of work
    are the same; only the thread differs."""
    return function()


@dataclass(slots=True)
class _Open:
    """A request sent and not yet answered (in memory, mirrored in ``device_requests``)."""

    request_id: RequestId
    rid: str
    sender: bytes
    variant: str
    details: dict[str, Any] | None
    deadline: float
    """``time.time()`` seconds."""


@dataclass(frozen=True, slots=True)
class _Submitted:
    state: _State
    frame: bytes
    hub: bytes | None
    key: Key
    opened: _Open
    alert: DeviceReport | None = None
    """The AD1 report of a request quarantined (gateway.anomaly)."""


class _ReplayError(Exception):
    """A job of an unguarded batch raised after writing: the batch is run again, guarded."""


class _GroupCommit:
    """Storage jobs run in one worker thread (or on the loop, with :func:`run_on_loop`), all
    the jobs waiting at that moment in ONE transaction (a savepoint each, so a job that raises
    undoes only itself): one commit - one fsync - for many requests, and the event loop never
    waits on the disk.

    A batch of *replayable* jobs (each only reads and writes the database, computes, and may
    run again with the same effect) is first run without the savepoints, two statements per
    job saved: a job that raises having written nothing needs no undoing; one that raises
    after writing rolls the whole transaction back and the batch is run again, guarded as
    above. Same outcomes, same database, either way."""

    def __init__(self, storage: Storage, run: Runner | None) -> None:
        self._storage = storage
        self._executor: ThreadPoolExecutor | None = None
        if run is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="device-sr-db")
        self._run = run
        self._pending: list[tuple[Callable[[Transaction], Any], Callable[[Any], None], bool]] = []
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.jobs = 0
        self.replays = 0
        """Unguarded batches run again guarded (a job raised after writing)."""

    def enqueue(
        self,
        job: Callable[[Transaction], Any],
        done: Callable[[Any], None],
        *,
        replayable: bool = False,
    ) -> None:
        """Run ``job(tx)``; ``done(result or exception)`` is called on the loop afterwards.
        ``replayable``: see the class docstring."""
        self._pending.append((job, done, replayable))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._drain(), name="device-sr-commits"
            )

    async def call(self, job: Callable[[Transaction], Any], *, replayable: bool = False) -> Any:
        """Run ``job(tx)`` and return its result once committed (or raise its exception)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def done(outcome: Any) -> None:
            if not future.done():
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

        self.enqueue(job, done, replayable=replayable)
        return await future

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                if self._run is not None:
                    outcomes = await self._run(lambda b=batch: self._apply(b))  # type: ignore[misc]
                else:
                    loop = asyncio.get_running_loop()
                    outcomes = await loop.run_in_executor(self._executor, self._apply, batch)
            except Exception as exc:  # the whole transaction failed: every job with it
                outcomes = [exc] * len(batch)
            self.batches += 1
            self.jobs += len(batch)
            for (_, done, _), outcome in zip(batch, outcomes, strict=True):
                try:
                    done(outcome)
                except Exception:
                    logger.exception("a device SR step failed after its commit")

    def _apply(self, batch: list[tuple[Callable[[Transaction], Any], Any, bool]]) -> list[Any]:
        if all(replayable for _, _, replayable in batch):
            outcomes = self._apply_unguarded(batch)
            if outcomes is not None:
                return outcomes
            self.replays += 1
        outcomes = []
        with self._storage.transaction() as tx:
            for job, _, _ in batch:
                try:
                    with self._storage.transaction():
                        outcomes.append(job(tx))
                except Exception as exc:
                    outcomes.append(exc)
        return outcomes

    def _apply_unguarded(
        self, batch: list[tuple[Callable[[Transaction], Any], Any, bool]]
    ) -> list[Any] | None:
        """The batch without a savepoint per job; None (nothing done) when a job raised after
        writing, or its error ended the transaction."""
        outcomes: list[Any] = []
        replay = False
        try:
            with self._storage.transaction() as tx:
                for job, _, _ in batch:
                    before = tx.total_changes
                    try:
                        outcomes.append(job(tx))
                    except Exception as exc:
                        if tx.total_changes != before or not tx.active:
                            replay = True
                            raise _ReplayError from exc
                        outcomes.append(exc)
        except Exception:
            if replay:  # (the rollback itself fails when SQLite ended the transaction)
                return None
            raise
        return outcomes

    async def close(self) -> None:
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task
        if self._executor is not None:
            self._executor.shutdown(wait=True)


class DeviceService:
    """Device SRs over a :class:`Wan` (see the module docstring)."""

    def __init__(
        self,
        storage: Storage,
        smi: Smi,
        keys: KeyLookup,
        wan: Wan,
        *,
        clock: Callable[[], datetime] | None = None,
        acb: bytes = ACB,
        response_timeout: float = 30.0,
        listener: ReportListener | None = None,
        render: Callable[[DeviceReport], bytes] | None = None,
        cache: SharedSecretCache | None = None,
        run: Runner | None = None,
    ) -> None:
        """``keys``: public keys of users and devices, and the ACB's private keys (wrapped in
        :class:`GatewayKeys`, so no other private key is ever used). ``response_timeout``:
        seconds a device has to answer before the request fails. ``render``: the signed DUIS
        XML of a report, stored with it; ``listener``: told of each report once it is
        stored. ``run``: where storage work runs (default: a thread of the service's own)."""
        storage.migrate(MIGRATIONS + frame_log.MIGRATIONS)
        self.storage = storage
        self.smi = smi
        self.keys = GatewayKeys(keys, frozenset({acb}))
        self.wan = wan
        self.clock = clock or (lambda: datetime.now(UTC))
        self.acb = acb
        self.response_timeout = response_timeout
        self.listener = listener
        self.render = render
        self._cache = cache if cache is not None else SharedSecretCache()
        self.builder = Builder(self.keys, acb=acb, cache=self._cache)
        self.verifier = Verifier(self.keys, acb=acb, cache=self._cache)
        self.commits = _GroupCommit(storage, run)
        self.anomaly = AnomalyDetector(storage)
        self._open: dict[Key, _Open] = {}
        self._deadlines: list[tuple[float, str, Key]] = []
        self._wake = asyncio.Event()
        self._watchdog: asyncio.Task[None] | None = None
        self.stats = {"sent": 0, "answered": 0, "failed": 0, "alerts": 0, "ignored": 0}
        wan.set_receiver(self.on_frame)

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Reload the requests still open (after a restart) and start the deadline watchdog."""
        with self.storage.transaction() as tx:
            rows = tx.all(
                "SELECT request_id, sender, variant, details, device, reply_to, gbcs_counter, "
                "deadline FROM device_requests WHERE state = 'sent'"
            )
        for row in rows:
            key = (bytes(row["device"]), bytes(row["reply_to"]), _counter(row["gbcs_counter"]))
            rid = str(row["request_id"])
            self._track(
                key,
                _Open(
                    _parse_rid(rid),
                    rid,
                    bytes(row["sender"]),
                    str(row["variant"]),
                    json.loads(row["details"]) if row["details"] else None,
                    float(row["deadline"]),
                ),
            )
        if self._watchdog is None:
            self._watchdog = asyncio.create_task(self._watch(), name="device-sr-deadlines")

    async def close(self) -> None:
        task, self._watchdog = self._watchdog, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.commits.close()

    # -- submitting ---------------------------------------------------------------------------

    async def submit(self, call: DeviceCall) -> Accepted:
        """Apply the rules and act on one device SR (see the module docstring); raises
        :class:`ServiceError` with nothing changed when a rule refuses it."""
        cv = call.command_variant
        srv = call.service_reference_variant
        if cv not in _WIRE_VARIANTS:
            raise ServiceError(
                "device_cv_not_supported", cv=cv, srv=srv, supported="1, 2, 4, 5 or 6"
            )
        if isinstance(call.request, SignedPreCommand):
            if cv not in (5, 6):
                raise ServiceError(
                    "duis_body_mismatch",
                    srv=srv,
                    expected="the SR's own body (SignedPreCommand is for CommandVariant 5 or 6)",
                    found="SignedPreCommand",
                )
            try:
                signed = Message.from_bytes(call.request.payload)
            except DecodeError as exc:
                raise ServiceError("precommand_malformed", reason=str(exc)) from None
            submitted: _Submitted = await self.commits.call(
                lambda tx: self._accept_signed(tx, call, signed), replayable=True
            )
        else:
            if cv in (5, 6):
                raise ServiceError(
                    "duis_body_mismatch", srv=srv, expected="SignedPreCommand", found=_name(call)
                )
            now = self.clock()
            submitted = await self.commits.call(
                lambda tx: self._accept(tx, call, now), replayable=True
            )
        if submitted.state is _State.PRECOMMAND:
            return Accepted("I0", precommand=submitted.frame)
        if submitted.state is _State.LOCAL:
            return Accepted("I0", local_command=submitted.frame)
        if submitted.alert is not None:  # quarantined: accepted, not sent
            self._tell(submitted.alert)
            return Accepted("I99")
        assert submitted.hub is not None
        self._track(submitted.key, submitted.opened)
        try:
            await self.wan.send(submitted.hub, submitted.frame)
        except WanError as exc:
            reason = exc.reason if isinstance(exc, HubUnreachableError) else str(exc)
            self._fail(
                submitted.key, f"communications hub {_eui(submitted.hub)} is unreachable: {reason}"
            )
        else:
            self.stats["sent"] += 1
        return Accepted("I99")

    def _accept(self, tx: Transaction, call: DeviceCall, now: datetime) -> _Submitted:
        """In the storage thread: every rule, the GBCS, the request recorded."""
        cv = call.command_variant
        srv = call.service_reference_variant
        # The RequestID rules, with the user and its counter read at once.
        user, last = check_sender(tx, call.sender, call.request_id.originator)
        # The counter's rules now, its write once every rule passed (a refusal then leaves
        # nothing to undo, see _GroupCommit).
        check_counter(call.sender, call.request_id.counter, last)
        plan = self._plan(tx, call, user.roles, now)
        uc = plan.use_case
        if uc.critical and cv in (1, 2):
            raise ServiceError(
                "device_cv_not_supported",
                cv=cv,
                srv=srv,
                supported="4 then 5 (or 6): it is a critical SR, the user signs it",
            )
        if not uc.critical and cv == 4:
            raise ServiceError(
                "device_cv_not_supported",
                cv=cv,
                srv=srv,
                supported="1 or 2: it is not a critical SR, nothing to sign",
            )
        if cv == 4:
            message = self.builder.precommand(
                originator=plan.reply_to,
                target=plan.device.device_id,
                counter=plan.counter,
                message_code=uc.code,
                content=plan.content,
                extensions=plan.extensions,
            )
            state = _State.PRECOMMAND
        else:
            message = self.builder.command(
                originator=plan.reply_to,
                target=plan.device.device_id,
                counter=plan.counter,
                message_code=uc.code,
                content=plan.content,
                critical=False,
                extensions=plan.extensions,
            )
            state = _State.LOCAL if cv in _LOCAL else _State.SENT
        frame = message.to_bytes()
        deadline = time.time() + self.response_timeout
        rid = _rid(call.request_id)
        alert = None
        if state is _State.SENT:
            alert = self._screen(
                tx, call.sender, call.request_id, srv, plan.device.device_id, message, now
            )
            state = _State.SENT if alert is None else _State.QUARANTINED
        write_counter(tx, call.sender, call.request_id.counter)
        tx.execute(
            "INSERT INTO device_requests (request_id, sender, device, hub, variant, "
            "command_variant, message_code, reply_to, gbcs_counter, state, command, details, "
            "created_at, deadline) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                rid,
                call.sender,
                plan.device.device_id,
                plan.hub,
                srv,
                cv,
                uc.code,
                plan.reply_to,
                _blob(plan.counter),
                state.value,
                frame,
                json.dumps(plan.details) if plan.details else None,
                now.isoformat(),
                deadline,
            ),
        )
        if state in (_State.SENT, _State.LOCAL):  # held (pre-command, quarantine): not sent
            frame_log.record(tx, rid, "down", plan.device.device_id, frame, now)
        opened = _Open(call.request_id, rid, call.sender, srv, plan.details or None, deadline)
        return _Submitted(state, frame, plan.hub, plan.key, opened, alert)

    # -- the plan of a command ----------------------------------------------------------------

    def _plan(
        self, tx: Transaction, call: DeviceCall, roles: frozenset[UserRole], now: datetime
    ) -> _Plan:
        request = call.request
        srv = call.service_reference_variant
        sender = call.sender
        spec = CATALOGUE[ServiceReferenceVariant(srv)]
        if spec.codec is None:
            raise ServiceError("duis_sr_not_supported", srv=srv)
        eligible = spec.row.roles
        if not roles & eligible:
            raise ServiceError(
                "role_not_eligible",
                sender=sender,
                roles=roles_text(roles),
                sr=srv,
                eligible=roles_text(eligible),
            )
        inv = Inventory(tx)
        target = call.request_id.target
        record = inv.get(target)
        if record is None:
            raise ServiceError("unknown_device", device=target)
        name = spec.use_case(record.device_type, request, target)
        allowed = STATUSES.get(srv, _IN_SERVICE)
        if record.status not in allowed:
            raise ServiceError(
                "device_status_not_eligible",
                device=target,
                status=record.status,
                srv=srv,
                allowed=", ".join(sorted(s.value for s in allowed)),
            )
        hub = inv.hub_of(record)
        if hub is None:
            raise ServiceError("device_no_hub", device=target)
        served = record
        if isinstance(request, UpdateHanDeviceLog):
            subject = inv.get(request.device_id)
            if subject is None:
                raise ServiceError("whitelist_unknown_device", device=request.device_id)
            served = subject
        self._check_serves(tx, inv, roles, sender, served, spec.row.roles)
        if not self.wan.reachable(hub):
            raise ServiceError(
                "hub_unreachable",
                hub=hub,
                device=target,
                reason="its WAN link is down; the command was not sent",
            )
        uc = by_name(name)
        return self._content(tx, call, spec.codec, record, uc, hub, now)

    def _check_serves(
        self,
        tx: Transaction,
        inv: Inventory,
        roles: frozenset[UserRole],
        sender: bytes,
        record: DeviceRecord,
        eligible: frozenset[UserRole],
    ) -> None:
        # The record was just read in this transaction: the rule on it, not read again.
        if roles & _SUPPLIERS and sender in responsible_suppliers(tx, inv, record):
            return
        if roles & eligible & _NETWORK:
            for mpxn in (record.import_mpxn, record.secondary_import_mpan):
                point = None if mpxn is None else get_meter_point(tx, mpxn)
                if point is not None and point.network_operator == sender:
                    return
        raise ServiceError("not_responsible_supplier", sender=sender, device=record.device_id)

    def _content(
        self,
        tx: Transaction,
        call: DeviceCall,
        codec: Codec,
        record: DeviceRecord,
        uc: UseCase,
        hub: bytes,
        now: datetime,
    ) -> _Plan:
        request = call.request
        device = record.device_id
        counter = call.request_id.counter
        reply_to = call.sender
        extensions = b""
        details: dict[str, Any] = {}
        if isinstance(request, UpdateHanDeviceLog):
            details = self._device_log(request, hub)
        if uc.name in codec.acb_use_cases:
            # The ACB sends it with its own counter; the user and its RequestID counter go in
            # the other-information (the supplementary remote party).
            extensions = reply_to + counter.to_bytes(8, "big")
            counter = self._next_acb_counter(tx, now)
            reply_to = self.acb
        command = Command(request, uc, counter, reply_to, device, now)
        try:
            content = codec.build(command)
        except (EncodeError, ValueError, OverflowError) as exc:
            raise ServiceError(
                "invalid_value", field=uc.name, value=type(request).__name__, reason=str(exc)
            ) from None
        if isinstance(request, CommissionDevice):
            details["commission"] = device.hex()
        return _Plan(
            use_case=uc,
            device=record,
            hub=hub,
            reply_to=reply_to,
            counter=counter,
            content=content,
            extensions=extensions,
            details=details,
        )

    def _device_log(self, request: UpdateHanDeviceLog, chf: bytes) -> dict[str, Any]:
        """What an 8.11 answer will do to the SMI; an Add is tried now (and rolled back), so
        a rule it would break refuses the request before anything is sent."""
        details: dict[str, Any] = {"log_device": request.device_id.hex(), "add": request.add}
        if not request.add:
            return details
        if request.install_code is None or request.join_time_period is None:
            raise ServiceError(
                "duis_invalid_element",
                element="AddDeviceToCHFWhitelist",
                reason="an Add needs JoinTimePeriod and InstallCode",
            )
        links = {
            "import_mpxn": request.import_mpxn,
            "secondary_import_mpan": request.secondary_import_mpan,
            "export_mpan": request.export_mpan,
        }
        details["links"] = {k: v for k, v in links.items() if v is not None}
        try:
            with self.storage.transaction():
                self.smi.on_whitelisted(request.device_id, chf, **details["links"])
                raise _DryRunError
        except _DryRunError:
            pass
        return details

    # -- critical: CV5 / CV6 ------------------------------------------------------------------

    def _accept_signed(self, tx: Transaction, call: DeviceCall, signed: Message) -> _Submitted:
        """In the storage thread: the signed pre-command checked against the one issued for
        the RequestID, MACed as the ACB, the request recorded as sent (or local)."""
        rid = _rid(call.request_id)
        check_sender(tx, call.sender, call.request_id.originator)
        row = tx.one(
            "SELECT * FROM device_requests WHERE request_id = ? AND sender = ?",
            (rid, call.sender),
        )
        if row is None or row["state"] != _State.PRECOMMAND:
            state = None if row is None else row["state"]
            raise ServiceError(
                "precommand_unknown",
                request_id=rid,
                detail="no pre-command was issued for it (send the SR with CommandVariant 4 first)"
                if state is None
                else f"its pre-command was already used (the request is {state})",
            )
        if row["variant"] != call.service_reference_variant:
            raise ServiceError(
                "precommand_mismatch",
                request_id=rid,
                reason=f"it was issued for SR {row['variant']}, "
                f"not {call.service_reference_variant}",
            )
        issued = Message.from_bytes(bytes(row["command"]))
        self._check_signed(signed, issued, rid)
        hub = None if row["hub"] is None else bytes(row["hub"])
        if call.command_variant == 5 and hub is not None and not self.wan.reachable(hub):
            raise ServiceError(
                "hub_unreachable",
                hub=hub,
                device=bytes(row["device"]),
                reason="its WAN link is down; the command was not sent",
            )
        frame = self.builder.mac_as_acb(signed).to_bytes()
        state = _State.LOCAL if call.command_variant == 6 else _State.SENT
        alert = None
        if state is _State.SENT:
            device = bytes(row["device"])
            alert = self._screen(
                tx, call.sender, call.request_id, row["variant"], device, signed, self.clock()
            )
            state = _State.SENT if alert is None else _State.QUARANTINED
        deadline = time.time() + self.response_timeout
        tx.execute(
            "UPDATE device_requests SET state = ?, command = ?, command_variant = ?, "
            "deadline = ? WHERE request_id = ?",
            (state, frame, call.command_variant, deadline, rid),
        )
        if state is not _State.QUARANTINED:  # a held command is logged when it is released
            frame_log.record(tx, rid, "down", bytes(row["device"]), frame, self.clock())
        details = json.loads(row["details"]) if row["details"] else None
        key = (bytes(row["device"]), bytes(row["reply_to"]), _counter(row["gbcs_counter"]))
        opened = _Open(call.request_id, rid, call.sender, str(row["variant"]), details, deadline)
        return _Submitted(state, frame, hub, key, opened, alert)

    def _screen(
        self,
        tx: Transaction,
        sender: bytes,
        request_id: RequestId,
        srv: str,
        device: bytes,
        message: Message,
        now: datetime,
    ) -> DeviceReport | None:
        """Threshold anomaly detection (:mod:`gateway.anomaly`), once every rule passed: a
        breach holds the request in the quarantine and files the user's AD1 alert."""
        breach = self.anomaly.screen(
            tx,
            sender=sender,
            srv=srv,
            message_code=message.message_code,
            content=message.content,
            request_id=_rid(request_id),
            device=device,
            now=now,
        )
        if breach is None:
            return None
        report = self._report(
            kind=ReportKind.DCC_ALERT,
            recipient=sender,
            device=device,
            code=ANOMALY_ALERT,
            request_id=request_id,
            variant=srv,
            payload=breach.kind.value.encode("ascii"),  # the QuarantinedRequest element
            alert_code=breach.ref,  # the QuarantineEventRef
            reason=f"quarantined: {breach.detail}",
        )
        return self._insert_report(tx, report)

    def _check_signed(self, signed: Message, issued: Message, rid: str) -> None:
        if signed.signature is None:
            raise ServiceError(
                "precommand_bad_signature",
                originator=issued.business_originator,
                reason="the GBCSPayload carries no signature",
            )
        try:
            public = self.keys.public_key(signed.business_originator, KeyPurpose.DS)
        except KeyNotFound:
            raise ServiceError(
                "precommand_bad_signature",
                originator=signed.business_originator,
                reason="no GBCS digital-signing certificate is known for it",
            ) from None
        if signed.business_originator != issued.business_originator:
            raise ServiceError(
                "precommand_mismatch",
                request_id=rid,
                reason=f"it is signed as {_eui(signed.business_originator)}",
            )
        if not verify_signature(public, signed.signed_bytes(), signed.signature):
            raise ServiceError(
                "precommand_bad_signature",
                originator=signed.business_originator,
                reason="the signature does not match the signed bytes (changed after signing, "
                "or signed with another key)",
            )
        unsigned = dataclasses.replace(signed, signature=None, signature_omitted=True, mac=None)
        if unsigned != issued:
            raise ServiceError(
                "precommand_mismatch",
                request_id=rid,
                reason="its content, counter, parties or message code differ from the "
                "pre-command issued",
            )

    # -- receiving ----------------------------------------------------------------------------

    def on_frame(self, source: bytes, frame: bytes) -> None:
        """The WAN receiver: a frame came up from device ``source``."""
        try:
            message = Message.from_bytes(frame)
        except DecodeError as exc:
            self.stats["ignored"] += 1
            logger.warning("undecodable frame from %s ignored: %s", _eui(source), exc)
            return
        if message.cra is CRA.RESPONSE:
            self._on_response(message, frame)
        elif message.cra is CRA.ALERT:
            self._on_alert(message, frame)
        else:
            self.stats["ignored"] += 1
            logger.warning("a command came up the WAN from %s: ignored", _eui(source))

    def _on_response(self, message: Message, frame: bytes) -> None:
        device = message.business_originator
        key = (device, message.business_target, message.originator_counter)
        opened = self._open.get(key)
        if opened is None:
            self.stats["ignored"] += 1
            logger.info(
                "response from %s counter %d ignored (no request awaits it: late, duplicate "
                "or unknown)",
                _eui(device),
                message.originator_counter,
            )
            return
        if message.business_target == self.acb and self.verifier.verify_mac(message) not in (
            Check.VALID,
        ):
            self.stats["ignored"] += 1
            logger.warning("response from %s with a bad MAC ignored", _eui(device))
            return
        del self._open[key]
        request_id = opened.request_id
        report = self._report(
            kind=ReportKind.RESPONSE,
            recipient=opened.sender,
            device=request_id.target,
            code="I0",
            request_id=request_id,
            response_id=RequestId(request_id.target, request_id.originator, request_id.counter),
            variant=opened.variant,
            payload=frame,
        )
        succeeded = bool(opened.details) and _succeeded(message)

        def job(tx: Transaction) -> DeviceReport | None:
            changed = tx.execute(
                "UPDATE device_requests SET state = 'answered', finished_at = ? "
                "WHERE request_id = ? AND state = 'sent'",
                (report.created_at.isoformat(), opened.rid),
            )
            if not changed:
                return None
            frame_log.record(tx, opened.rid, "up", device, frame, report.created_at)
            if succeeded and opened.details:
                self._apply_lifecycle(opened.details, device)
            return self._insert_report(tx, report)

        # The SMI transitions of a successful answer go through the non-device service:
        # run once, guarded.
        lifecycle = succeeded and bool(opened.details)
        self.commits.enqueue(job, self._filed(ReportKind.RESPONSE), replayable=not lifecycle)

    def _apply_lifecycle(self, details: Mapping[str, Any], device: bytes) -> None:
        """SMI transitions a successful answer drives; a rule failure is logged (the device
        did act: its answer still goes to the user)."""
        try:
            with self.storage.transaction():  # a savepoint: a refusal undoes only this
                if details.get("add") and "log_device" in details:
                    links = details.get("links", {})
                    self.smi.on_whitelisted(
                        bytes.fromhex(details["log_device"]),
                        device,
                        import_mpxn=links.get("import_mpxn"),
                        secondary_import_mpan=links.get("secondary_import_mpan"),
                        export_mpan=links.get("export_mpan"),
                    )
                if "commission" in details:
                    target = bytes.fromhex(details["commission"])
                    record = self.smi.get_device(target)
                    if record is not None and record.status is not DeviceStatus.COMMISSIONED:
                        self.smi.on_commissioned(target)
        except ServiceError as exc:
            logger.warning("SMI not updated after %s answered: %s", _eui(device), exc)

    def _on_alert(self, message: Message, frame: bytes) -> None:
        device = message.business_originator
        code = _alert_code(message)
        report = self._report(
            kind=ReportKind.ALERT,
            recipient=message.business_target,
            device=device,
            code=f"{code:04X}",
            response_id=RequestId(device, message.business_target, message.originator_counter),
            payload=frame,
            alert_code=code,
        )
        self.commits.enqueue(
            lambda tx: frame_log.alert_filed(tx, self._insert_report(tx, report), frame),
            self._filed(ReportKind.ALERT),
            replayable=True,
        )

    def _filed(self, kind: ReportKind) -> Callable[[Any], None]:
        """What to do once a report's transaction is over: count it and tell the listener."""

        def done(outcome: Any) -> None:
            if isinstance(outcome, BaseException):
                logger.error("a %s could not be filed: %r", kind.value, outcome)
                return
            if outcome is None:
                self.stats["ignored"] += 1
                return
            self.stats[_STAT[kind]] += 1
            self._tell(outcome)

        return done

    # -- failures and deadlines ---------------------------------------------------------------

    def _fail(self, key: Key, reason: str) -> None:
        opened = self._open.pop(key, None)
        if opened is None:
            return
        request_id = opened.request_id
        report = self._report(
            kind=ReportKind.DCC_ALERT,
            recipient=opened.sender,
            device=request_id.target,
            code=COMMAND_FAILURE_ALERT,
            request_id=request_id,
            variant=opened.variant,
            reason=reason,
        )

        def job(tx: Transaction) -> DeviceReport | None:
            changed = tx.execute(
                "UPDATE device_requests SET state = 'failed', finished_at = ? "
                "WHERE request_id = ? AND state = 'sent'",
                (report.created_at.isoformat(), opened.rid),
            )
            return self._insert_report(tx, report) if changed else None

        logger.info("request %s failed: %s", opened.rid, reason)
        self.commits.enqueue(job, self._filed(ReportKind.DCC_ALERT), replayable=True)

    def _track(self, key: Key, opened: _Open) -> None:
        self._open[key] = opened
        heapq.heappush(self._deadlines, (opened.deadline, opened.rid, key))
        if self._deadlines[0][1] == opened.rid:
            self._wake.set()

    async def _watch(self) -> None:
        while True:
            self._wake.clear()
            now = time.time()
            while self._deadlines and self._deadlines[0][0] <= now:
                _, rid, key = heapq.heappop(self._deadlines)
                opened = self._open.get(key)
                if opened is not None and opened.rid == rid:
                    try:
                        self._fail(
                            key,
                            f"device {_eui(key[0])} did not answer within "
                            f"{self.response_timeout:g} s",
                        )
                    except Exception:  # keep watching
                        logger.exception("failing request %s", rid)
            wait = self._deadlines[0][0] - now if self._deadlines else 3600.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(wait, 0.001))

    # -- the inbox ----------------------------------------------------------------------------

    def _report(
        self,
        *,
        kind: ReportKind,
        recipient: bytes,
        device: bytes,
        code: str,
        request_id: RequestId | None = None,
        response_id: RequestId | None = None,
        variant: str | None = None,
        payload: bytes | None = None,
        alert_code: int | None = None,
        reason: str | None = None,
    ) -> DeviceReport:
        """A report, rendered (signed DUIS XML) before it is stored."""
        report = DeviceReport(
            seq=0,
            kind=kind,
            recipient=recipient,
            device=device,
            code=code,
            created_at=self.clock(),
            request_id=request_id,
            response_id=response_id,
            service_reference_variant=variant,
            payload=payload,
            alert_code=alert_code,
            reason=reason,
        )
        if self.render is None:
            return report
        return _refiled(report, report.seq, self.render(report))

    def _insert_report(self, tx: Transaction, report: DeviceReport) -> DeviceReport | None:
        """File ``report``; None when it is an alert filed already (the same alert twice)."""
        values = (
            report.kind.value,
            report.recipient,
            report.device,
            report.code,
            None if report.request_id is None else _rid(report.request_id),
            None if report.response_id is None else _rid(report.response_id),
            report.service_reference_variant,
            report.payload,
            report.alert_code,
            report.reason,
            report.created_at.isoformat(),
            report.body,
        )
        if report.kind is not ReportKind.ALERT:  # only alerts have a uniqueness to keep
            seq = tx.insert(_INSERT_REPORT, values)
        else:
            row = tx.one(f"{_INSERT_REPORT} ON CONFLICT DO NOTHING RETURNING seq", values)
            if row is None:
                return None
            seq = int(row["seq"])
        return _refiled(report, seq, report.body)

    def _tell(self, report: DeviceReport) -> None:
        if self.listener is None:
            return
        try:
            self.listener(report)
        except Exception:  # the report is in the inbox; telling is best effort here
            logger.exception("the report listener failed on report %d", report.seq)

    def reports(
        self,
        *,
        request_id: RequestId | str | None = None,
        recipient: bytes | None = None,
        after: int = 0,
        limit: int = 100,
        undelivered: bool = False,
    ) -> list[DeviceReport]:
        """Inbox entries for one RequestID, or for one recipient after sequence ``after``
        (``undelivered``: only those not yet POSTed to a listener)."""
        sql = "SELECT * FROM device_reports WHERE seq > ?"
        params: list[object] = [after]
        if undelivered:
            sql += " AND delivered_at IS NULL"
        if request_id is not None:
            sql += " AND request_id = ?"
            params.append(request_id if isinstance(request_id, str) else _rid(request_id))
        if recipient is not None:
            sql += " AND recipient = ?"
            params.append(recipient)
        sql += " ORDER BY seq LIMIT ?"
        params.append(limit)
        with self.storage.transaction() as tx:
            rows = tx.all(sql, params)
        return [_report(r) for r in rows]

    async def fetch_reports(
        self,
        *,
        request_id: RequestId | str | None = None,
        recipient: bytes | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> list[DeviceReport]:
        """:meth:`reports` read in the storage thread (the event loop never waits on a
        commit for it)."""
        return list(
            await self.commits.call(
                lambda tx: self.reports(
                    request_id=request_id, recipient=recipient, after=after, limit=limit
                ),
                replayable=True,
            )
        )

    async def fetch_state(self, request_id: RequestId | str) -> str | None:
        """:meth:`request_state` read in the storage thread."""
        state: str | None = await self.commits.call(
            lambda tx: self.request_state(request_id), replayable=True
        )
        return state

    def mark_delivered(self, seq: int, *, then: Callable[[], None] | None = None) -> None:
        """The report was POSTed to its recipient's listener; ``then()`` is called once that
        is committed."""
        stamp = self.clock().isoformat()

        def job(tx: Transaction) -> None:
            tx.execute(
                "UPDATE device_reports SET delivered_at = ?, attempts = attempts + 1 WHERE seq = ?",
                (stamp, seq),
            )

        def done(outcome: Any) -> None:
            _ignore(outcome)
            if then is not None and not isinstance(outcome, BaseException):
                then()

        self.commits.enqueue(job, done, replayable=True)

    def mark_attempt(self, seq: int, error: str) -> None:
        def job(tx: Transaction) -> None:
            tx.execute(
                "UPDATE device_reports SET attempts = attempts + 1, last_error = ? WHERE seq = ?",
                (error, seq),
            )

        self.commits.enqueue(job, _ignore, replayable=True)

    def request_state(self, request_id: RequestId | str) -> str | None:
        """``precommand``, ``sent``, ``answered``, ``failed``, ``local`` or None (unknown)."""
        rid = request_id if isinstance(request_id, str) else _rid(request_id)
        with self.storage.transaction() as tx:
            row = tx.one("SELECT state FROM device_requests WHERE request_id = ?", (rid,))
        return None if row is None else str(row["state"])

    @property
    def open_requests(self) -> int:
        return len(self._open)

    # -- storage helpers ----------------------------------------------------------------------

    def _next_acb_counter(self, tx: Transaction, now: datetime) -> int:
        """The ACB's next originator counter: strictly increasing, at least epoch ms (as DCC
        tools count), persisted with the request that uses it."""
        row = tx.one("SELECT counter FROM acb_counters WHERE acb = ?", (self.acb,))
        last = 0 if row is None else _counter(row["counter"])
        value = max(last + 1, int(now.timestamp() * 1000))
        tx.execute(
            "INSERT INTO acb_counters (acb, counter) VALUES (?, ?) "
            "ON CONFLICT (acb) DO UPDATE SET counter = excluded.counter",
            (self.acb, _blob(value)),
        )
        return value


@dataclass(frozen=True, slots=True)
class _Plan:
    use_case: UseCase
    device: DeviceRecord
    hub: bytes
    reply_to: bytes
    """The GBCS business originator: the user, or the ACB (CCS01/CCS02)."""
    counter: int
    content: bytes
    extensions: bytes
    details: dict[str, Any]

    @property
    def key(self) -> tuple[bytes, bytes, int]:
        return (self.device.device_id, self.reply_to, self.counter)


# =========================================================================== helpers


_STAT: Final = {
    ReportKind.RESPONSE: "answered",
    ReportKind.ALERT: "alerts",
    ReportKind.DCC_ALERT: "failed",
}


def _ignore(outcome: Any) -> None:
    if isinstance(outcome, BaseException):
        logger.warning("inbox bookkeeping failed: %r", outcome)


class _DryRunError(Exception):
    """Rolls back a rule check made by trying the change."""


def _succeeded(message: Message) -> bool:
    """Whether a response says the command succeeded (typed content with ``ok``)."""
    try:
        response = gc.decode_response(message.message_code, message.content)
    except (GbcsError, ValueError):
        return False
    return bool(getattr(response, "ok", False))


def _alert_code(message: Message) -> int:
    try:
        alert = gc.decode_alert(message.message_code, message.content)
    except (GbcsError, ValueError, IndexError):
        return message.message_code
    code = getattr(alert, "code", None)
    if isinstance(code, int):
        return code
    executed = getattr(alert, "executed", None)
    if isinstance(executed, bool):
        return 0x8F66 if executed else 0x8F67
    return message.message_code


def _blob(counter: int) -> bytes:
    return counter.to_bytes(8, "big")


def _counter(value: bytes) -> int:
    return int.from_bytes(value, "big")


def _rid(request_id: RequestId) -> str:
    return (
        f"{request_id.originator.hex('-').upper()}:{request_id.target.hex('-').upper()}"
        f":{request_id.counter}"
    )


def _parse_rid(text: str) -> RequestId:
    originator, target, counter = text.split(":")
    return RequestId(
        bytes.fromhex(originator.replace("-", "")),
        bytes.fromhex(target.replace("-", "")),
        int(counter),
    )


def _eui(value: bytes) -> str:
    return value.hex("-").upper()


def _name(call: DeviceCall) -> str:
    return type(call.request).__name__


def _refiled(report: DeviceReport, seq: int, body: bytes | None) -> DeviceReport:
    """``dataclasses.replace(report, seq=seq, body=body)`` without its field-by-field walk
    (twice per device SR)."""
    return DeviceReport(
        seq,
        report.kind,
        report.recipient,
        report.device,
        report.code,
        report.created_at,
        report.request_id,
        report.response_id,
        report.service_reference_variant,
        report.payload,
        report.alert_code,
        report.reason,
        body,
        report.delivered,
    )


def _report(row: Row) -> DeviceReport:
    return DeviceReport(
        seq=int(row["seq"]),
        kind=ReportKind(row["kind"]),
        recipient=bytes(row["recipient"]),
        device=bytes(row["device"]),
        code=str(row["code"]),
        created_at=datetime.fromisoformat(row["created_at"]),
        request_id=None if row["request_id"] is None else _parse_rid(row["request_id"]),
        response_id=None if row["response_id"] is None else _parse_rid(row["response_id"]),
        service_reference_variant=row["variant"],
        payload=None if row["payload"] is None else bytes(row["payload"]),
        alert_code=row["alert_code"],
        reason=row["reason"],
        body=None if row["body"] is None else bytes(row["body"]),
        delivered=row["delivered_at"] is not None,
    )
