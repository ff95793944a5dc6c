"""Device service requests: a DUIS SR becomes a GBCS command on the WAN, and the device's
answer becomes a report for the user.

:class:`DeviceService` takes a typed request (:class:`DeviceCall`, of
:mod:`gateway.services.device_types`) from the front door and:

1. checks the rules (:mod:`gateway.services.device_rules`, planned by
   :mod:`gateway.services.device_plan`) - the sender is a known user and the RequestID's
   originator, its counter is new, its role may send the SR, it serves the device
   (Responsible Supplier, or network operator of the meter point for reads; the credential
   updates the DCC signs itself have their own rules,
   :mod:`gateway.services.device_credentials`), the device is in the SMI in a status that
   allows the SR, and sits behind a reachable communications hub - raising
   :class:`~gateway.errors.ServiceError` with nothing changed otherwise;
2. builds the GBCS with :mod:`gbcs.content` and :class:`gbcs.builders.Builder`: the GBCS
   originator counter is the RequestID's counter (as in the DCC's reference data), except for
   CCS01/CCS02, which the ACB sends with its own counter and the user's in the
   other-information, and SR6.21 / SR6.23, which the DCC signs as its own party (the ACB, the
   transitional CoS party) with that party's counter;
3. by command variant: CV1 records the request and sends the ACB-MACed command over the
   :class:`~gbcs.wan.Wan` (``I99``); CV2 returns the command for local delivery (``I0``);
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
   sent, becomes a DCC alert report (``CommandFailure``);
6. a future-dated DSP-pattern request is recorded ``held`` and sent by the scheduler
   (:mod:`gateway.schedule`, :mod:`gateway.services.device_schedule`) when the gateway's clock
   passes its time, or cancelled; HAN requests are completed from the SMI and change it
   (:mod:`gateway.services.device_han`); SR8.13 files a local command's answer
   (:mod:`gateway.services.device_local`); firmware answers update the SMI
   (:mod:`gateway.services.device_firmware`), and so does a confirmed change of the
   supplier's credentials - a response, or a meter's 0x00CB alert
   (:mod:`gateway.services.device_credentials`).

Every report is stored (the inbox, :mod:`gateway.services.device_reports`, rendered as signed
DUIS XML first, durable before anyone is told) and handed to the listener given at
construction (:class:`gateway.duis.device_routes.DeviceDuis`), which POSTs it to the user's
response URL. Every write joins the gateway's group commit (:mod:`gateway.group_commit`).

The state - requests awaiting an answer, reports, the ACB's counter - lives in the gateway's
SQLite store (component ``device-services``, :data:`MIGRATIONS`): a restart keeps every
acknowledged request and report; requests still open come back with their deadlines.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Final

from gateway import dcc_schedule, frame_log, schedule
from gateway.anomaly import ANOMALY_ALERT, AnomalyDetector
from gateway.duis.catalogue import ServiceReferenceVariant
from gateway.errors import ServiceError
from gateway.group_commit import GroupCommit, run_on_loop
from gateway.model import RequestId
from gateway.services import device_han
from gateway.services.device_answers import Answers
from gateway.services.device_dcc_schedule import claim_call
from gateway.services.device_local import file_local_response
from gateway.services.device_plan import Planner
from gateway.services.device_reports import MIGRATIONS as REPORT_MIGRATIONS
from gateway.services.device_reports import Inbox, Renderer
from gateway.services.device_rules import (
    LOCAL_VARIANTS,
    STATUSES,
    WIRE_VARIANTS,
    GatewayKeys,
    check_command_variant,
    check_signed,
    future_mode,
)
from gateway.services.device_schedule import cancel_held, release_held
from gateway.services.device_types import (
    COMMAND_FAILURE_ALERT,
    Accepted,
    DeviceCall,
    DeviceReport,
    DeviceRequest,
    Key,
    OpenRequest,
    ReportKind,
    ReportListener,
    RequestState,
    SignedPreCommand,
    counter_blob,
    counter_value,
    rid_text,
)
from gateway.smi import Smi
from gateway.srv.catalogue import CATALOGUE
from gateway.srv.han import LocalCommandResponse
from gateway.storage import Storage, Transaction
from gateway.users import check_counter, check_sender, write_counter
from gbcs.builders import Builder
from gbcs.codes import ACB, TRANSITIONAL_COS
from gbcs.crypto import SharedSecretCache
from gbcs.errors import DecodeError, KeyNotFound
from gbcs.frames import Message
from gbcs.keystore import KeyLookup
from gbcs.verify import Verifier
from gbcs.wan import HubUnreachableError, Wan, WanError

logger = logging.getLogger(__name__)

MIGRATIONS: Final = (
    REPORT_MIGRATIONS + device_han.MIGRATIONS + schedule.MIGRATIONS + dcc_schedule.MIGRATIONS
)

__all__ = [
    "COMMAND_FAILURE_ALERT",
    "MIGRATIONS",
    "STATUSES",
    "Accepted",
    "DeviceCall",
    "DeviceReport",
    "DeviceRequest",
    "DeviceService",
    "GatewayKeys",
    "OpenRequest",
    "ReportKind",
    "RequestState",
    "SignedPreCommand",
    "run_on_loop",
]
# The values, rules and inbox live in device_types, device_rules and device_reports; they are
# re-exported here, where the front door, the sandbox and the tests have always found them.


@dataclass(frozen=True, slots=True)
class _Submitted:
    state: RequestState
    frame: bytes
    hub: bytes | None
    key: Key
    opened: OpenRequest
    alert: DeviceReport | None = None
    """The AD1 report of a request quarantined (gateway.anomaly)."""


class DeviceService(Answers):
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
        render: Renderer | None = None,
        cache: SharedSecretCache | None = None,
        commits: GroupCommit | None = None,
        inbox: Inbox | None = None,
    ) -> None:
        """``keys``: public keys of users and devices, and the ACB's private keys (wrapped in
        :class:`GatewayKeys`, so no other private key is ever used). ``response_timeout``:
        seconds a device has to answer before the request fails. ``render``: the signed DUIS
        XML of a report, stored with it; ``listener``: told of each report once it is
        stored. ``commits``: the group commit its storage work joins (the gateway's; default:
        one of its own, closed with it). ``inbox``: where its reports are filed, when it is
        built first (its reader needs it before the service exists); it has its own
        renderer, so ``render`` is then not given."""
        if inbox is not None and (render is not None or inbox.commits is not commits):
            raise ValueError("an inbox given brings its renderer and group commit: pass neither")
        storage.migrate(MIGRATIONS + frame_log.MIGRATIONS)
        self.storage = storage
        self.smi = smi
        # The DCC's own parties: the ACB, and the transitional CoS party that signs SR6.23.
        self.keys = GatewayKeys(keys, frozenset({acb, TRANSITIONAL_COS}))
        self.wan = wan
        self.clock = clock or (lambda: datetime.now(UTC))
        self.acb = acb
        self.response_timeout = response_timeout
        self.listener = listener
        self._cache = cache if cache is not None else SharedSecretCache()
        self.builder = Builder(self.keys, acb=acb, cache=self._cache)
        self.planner = Planner(storage, smi, self.keys, wan, acb)
        self.verifier = Verifier(self.keys, acb=acb, cache=self._cache)
        self._owns_commits = commits is None
        self.commits = commits if commits is not None else GroupCommit(storage)
        self.inbox = (
            inbox
            if inbox is not None
            else Inbox(storage, self.commits, clock=self.clock, render=render)
        )
        # The inbox's reads and bookkeeping, where the DUIS side and harnesses call them.
        self.reports = self.inbox.reports
        self.fetch_reports = self.inbox.fetch_reports
        self.fetch_state = self.inbox.fetch_state
        self.request_state = self.inbox.request_state
        self.mark_delivered = self.inbox.mark_delivered
        self.mark_attempt = self.inbox.mark_attempt
        self.anomaly = AnomalyDetector(storage)
        self._open: dict[Key, OpenRequest] = {}
        self._deadlines: list[tuple[float, str, Key]] = []
        self._wake = asyncio.Event()
        self._watchdog: asyncio.Task[None] | None = None
        self.stats = {"sent": 0, "answered": 0, "failed": 0, "alerts": 0, "ignored": 0}
        self.scheduler = schedule.Scheduler(self.clock, self._find_due, self._release)
        self.dcc_schedules = schedule.Scheduler(self.clock, self._due_schedules, self._run_schedule)
        wan.set_receiver(self.on_frame)

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Reload the requests still open (after a restart) and start the deadline watchdog."""
        for key, opened in self.inbox.open_requests():
            self.track(key, opened)
        if self._watchdog is None:
            self._watchdog = asyncio.create_task(self._watch(), name="device-sr-deadlines")
        self.scheduler.start()
        self.dcc_schedules.start()

    async def close(self) -> None:
        await self.scheduler.stop()
        await self.dcc_schedules.stop()
        task, self._watchdog = self._watchdog, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._owns_commits:
            await self.commits.close()

    # -- submitting ---------------------------------------------------------------------------

    async def submit(self, call: DeviceCall) -> Accepted:
        """Apply the rules and act on one device SR (see the module docstring); raises
        :class:`ServiceError` with nothing changed when a rule refuses it."""
        cv = call.command_variant
        srv = call.service_reference_variant
        if cv not in WIRE_VARIANTS:
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
            entry = CATALOGUE[ServiceReferenceVariant(srv)]
            if (
                entry.codec is not None
                and future_mode(entry.row, entry.codec, call.execution, now, cv) == "cancel"
            ):
                rids = await self.commits.call(
                    lambda tx: cancel_held(tx, call, now), replayable=True
                )
                return Accepted("I0", cancelled=tuple(rids))
            submitted = await self.commits.call(
                lambda tx: self._accept(tx, call, now), replayable=True
            )
        if submitted.state is RequestState.HELD:
            self.scheduler.wake()
            return Accepted("I99")
        if submitted.state is RequestState.PRECOMMAND:
            return Accepted("I0", precommand=submitted.frame)
        if submitted.state is RequestState.LOCAL:
            return Accepted("I0", local_command=submitted.frame)
        if submitted.alert is not None:  # quarantined: accepted, not sent
            self.tell(submitted.alert)
            return Accepted("I99")
        assert submitted.hub is not None
        await self.dispatch(submitted.key, submitted.opened, submitted.hub, submitted.frame)
        return Accepted("I99")

    async def return_local_response(
        self, sender: bytes, request_id: RequestId, request: LocalCommandResponse
    ) -> Accepted:
        """SR8.13: file the device's response to a locally delivered command as the response
        to that command (:mod:`gateway.services.device_local`); ``I0``."""
        report = await self.commits.call(
            lambda tx: file_local_response(
                tx, self.inbox, self.verifier, self.acb, sender, request_id, request
            ),
            replayable=True,
        )
        self._filed(ReportKind.RESPONSE)(report)
        return Accepted("I0")

    async def dispatch(self, key: Key, opened: OpenRequest, hub: bytes, frame: bytes) -> None:
        """Send a request recorded as ``sent`` (committed): tracked for its answer, then on the
        WAN; its hub unreachable fails it with a DCC alert to its user. Also how a request
        released from the quarantine goes (gateway.anomaly_routes)."""
        self.track(key, opened)
        try:
            await self.wan.send(hub, frame)
        except WanError as exc:
            reason = exc.reason if isinstance(exc, HubUnreachableError) else str(exc)
            self.fail(key, f"communications hub {_eui(hub)} is unreachable: {reason}")
        else:
            self.stats["sent"] += 1

    def _accept(self, tx: Transaction, call: DeviceCall, now: datetime) -> _Submitted:
        """In the storage thread: every rule, the GBCS, the request recorded."""
        cv = call.command_variant
        srv = call.service_reference_variant
        # The RequestID rules, with the user and its counter read at once.
        user, last = check_sender(tx, call.sender, call.request_id.originator)
        # The counter's rules now, its write once every rule passed (a refusal then leaves
        # nothing to undo, see gateway.group_commit).
        check_counter(call.sender, call.request_id.counter, last)
        entry = CATALOGUE[ServiceReferenceVariant(srv)]
        mode = (
            None
            if entry.codec is None
            else future_mode(entry.row, entry.codec, call.execution, now, cv)
        )
        plan = self.planner.plan(tx, call, user.roles, now)
        if call.dsp_schedule_id is not None:  # kept with the request, for its answer
            plan.details["dsp_schedule"] = call.dsp_schedule_id
        uc = plan.use_case
        # A use case GBCS lists as critical that the ACB sends (a non-critical SR8.7.2 join of
        # a PPMID, say) is signed and MACed by the ACB, one the DCC signs itself (6.21, 6.23)
        # is signed by the DCC: the user has nothing to sign.
        dcc_sends = plan.reply_to == self.acb or plan.signer is not None
        check_command_variant(replace(uc, critical=False) if dcc_sends else uc, cv, srv)
        if cv == 4:
            message = self.builder.precommand(
                originator=plan.reply_to,
                target=plan.device.device_id,
                counter=plan.counter,
                message_code=uc.code,
                content=plan.content,
                extensions=plan.extensions,
            )
            state = RequestState.PRECOMMAND
        else:
            try:
                message = self.builder.command(
                    originator=plan.reply_to,
                    target=plan.device.device_id,
                    counter=plan.counter,
                    message_code=uc.code,
                    content=plan.content,
                    critical=plan.signer is not None,
                    extensions=plan.extensions,
                )
            except KeyNotFound as exc:
                if exc.private:
                    # The DCC party that signs 6.21 / 6.23 has no key in this gateway's PKI
                    # (a state folder's PKI saved before it had the transitional CoS party).
                    raise ServiceError(
                        "duis_internal_error", srv=srv, error=f"no signing key: {exc}"
                    ) from None
                # A device in the SMI whose key agreement certificate the DCC does not hold
                # (the sandbox's PPMID and HCALCS): no MAC can be made for it.
                raise ServiceError("device_no_key", device=plan.device.device_id) from None
            state = RequestState.LOCAL if cv in LOCAL_VARIANTS else RequestState.SENT
            if mode == "hold" and not plan.device_pattern:
                state = RequestState.HELD
        frame = message.to_bytes()
        deadline = time.time() + self.response_timeout
        rid = rid_text(call.request_id)
        alert = None
        if state is RequestState.SENT:
            alert = self._screen(
                tx, call.sender, call.request_id, srv, plan.device.device_id, message, now
            )
            state = RequestState.SENT if alert is None else RequestState.QUARANTINED
        write_counter(tx, call.sender, call.request_id.counter)
        created = now.isoformat()
        tx.execute(
            "INSERT INTO device_requests (request_id, sender, device, hub, variant, "
            "command_variant, message_code, reply_to, gbcs_counter, state, command, details, "
            "created_at, deadline, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                rid,
                call.sender,
                plan.device.device_id,
                plan.hub,
                srv,
                cv,
                uc.code,
                plan.reply_to,
                counter_blob(plan.counter),
                state.value,
                frame,
                json.dumps(plan.details) if plan.details else None,
                created,
                deadline,
                # The frame log's down frame (gateway.frame_log); a request held (pre-command,
                # quarantine, future-dated) is stamped when it is sent.
                created if state in (RequestState.SENT, RequestState.LOCAL) else None,
            ),
        )
        if state is RequestState.HELD:
            assert call.execution is not None
            schedule.hold(tx, rid, call.sender, plan.device.device_id, srv, call.execution)
        opened = OpenRequest(call.request_id, rid, call.sender, srv, plan.details or None, deadline)
        return _Submitted(state, frame, plan.hub, plan.key, opened, alert)

    # -- future-dated: held until their time, and cancelled ------------------------------------

    async def _find_due(self, now: datetime) -> list[str]:
        with self.storage.transaction() as tx:
            return schedule.due(tx, now)

    async def _release(self, rid: str) -> None:
        """Send a held request whose time has come (the scheduler's callback)."""
        deadline = time.time() + self.response_timeout
        now = self.clock()
        found = await self.commits.call(
            lambda tx: release_held(tx, rid, deadline, now), replayable=False
        )
        if found is not None:
            await self.dispatch(*found)

    # -- DCC schedules (SR5.1): each run submitted as its owner's request ----------------------

    async def _due_schedules(self, now: datetime) -> list[str]:
        with self.storage.transaction() as tx:
            return [str(i) for i in dcc_schedule.due(tx, now)]

    async def _run_schedule(self, schedule_id: str) -> None:
        """Submit every run of the schedule due now, earliest first (a clock moved three days
        makes three daily runs)."""
        while True:
            now = self.clock()
            call = await self.commits.call(
                partial(claim_call, schedule_id=int(schedule_id), now=now), replayable=False
            )
            if call is None:
                return
            if isinstance(call, ServiceError):
                logger.warning("DSP schedule %s: a run could not be made: %s", schedule_id, call)
                continue
            try:
                await self.submit(call)
            except ServiceError as exc:
                logger.warning("DSP schedule %s: a run was refused: %s", schedule_id, exc)

    # -- critical: CV5 / CV6 ------------------------------------------------------------------

    def _accept_signed(self, tx: Transaction, call: DeviceCall, signed: Message) -> _Submitted:
        """In the storage thread: the signed pre-command checked against the one issued for
        the RequestID, MACed as the ACB, the request recorded as sent (or local)."""
        rid = rid_text(call.request_id)
        check_sender(tx, call.sender, call.request_id.originator)
        row = tx.one(
            "SELECT * FROM device_requests WHERE request_id = ? AND sender = ?",
            (rid, call.sender),
        )
        if row is None or row["state"] != RequestState.PRECOMMAND:
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
        check_signed(self.keys, signed, issued, rid)
        hub = None if row["hub"] is None else bytes(row["hub"])
        if call.command_variant == 5 and hub is not None and not self.wan.reachable(hub):
            raise ServiceError(
                "hub_unreachable",
                hub=hub,
                device=bytes(row["device"]),
                reason="its WAN link is down; the command was not sent",
            )
        frame = self.builder.mac_as_acb(signed).to_bytes()
        state = RequestState.LOCAL if call.command_variant == 6 else RequestState.SENT
        alert = None
        if state is RequestState.SENT:
            device = bytes(row["device"])
            alert = self._screen(
                tx, call.sender, call.request_id, row["variant"], device, signed, self.clock()
            )
            state = RequestState.SENT if alert is None else RequestState.QUARANTINED
        deadline = time.time() + self.response_timeout
        # The frame log's down frame (a quarantined command is logged when it is released).
        sent_at = None if state is RequestState.QUARANTINED else self.clock().isoformat()
        tx.execute(
            "UPDATE device_requests SET state = ?, command = ?, command_variant = ?, "
            "deadline = ?, sent_at = ? WHERE request_id = ?",
            (state, frame, call.command_variant, deadline, sent_at, rid),
        )
        details = json.loads(row["details"]) if row["details"] else None
        key = (bytes(row["device"]), bytes(row["reply_to"]), counter_value(row["gbcs_counter"]))
        opened = OpenRequest(
            call.request_id, rid, call.sender, str(row["variant"]), details, deadline
        )
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
            request_id=rid_text(request_id),
            device=device,
            now=now,
        )
        if breach is None:
            return None
        report = self.inbox.new(
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
        return self.inbox.insert(tx, report)

    # -- failures and deadlines ---------------------------------------------------------------

    def fail(self, key: Key, reason: str) -> None:
        opened = self._open.pop(key, None)
        if opened is None:
            return
        request_id = opened.request_id
        report = self.inbox.new(
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
            return self.inbox.insert(tx, report) if changed else None

        logger.info("request %s failed: %s", opened.rid, reason)
        self.commits.enqueue(job, self._filed(ReportKind.DCC_ALERT), replayable=True)

    def track(self, key: Key, opened: OpenRequest) -> None:
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
                        self.fail(
                            key,
                            f"device {_eui(key[0])} did not answer within "
                            f"{self.response_timeout:g} s",
                        )
                    except Exception:  # keep watching
                        logger.exception("failing request %s", rid)
            wait = self._deadlines[0][0] - now if self._deadlines else 3600.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(wait, 0.001))

    @property
    def open_requests(self) -> int:
        return len(self._open)


# =========================================================================== helpers


def _eui(value: bytes) -> str:
    return value.hex("-").upper()


def _name(call: DeviceCall) -> str:
    return type(call.request).__name__
