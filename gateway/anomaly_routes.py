"""The admin API of threshold anomaly detection (:mod:`gateway.anomaly`), and the release or
deletion of a quarantined request through the device service.

- ``GET /admin/anomaly-thresholds``: the thresholds;
- ``POST /admin/anomaly-thresholds``: add (or replace) one -
  ``{"user": "<EUI>" | null, "srv": "7.2", "limit": 50, "period_s": 3600}`` (a count; ``user``
  null: DCC-wide) or ``{"user": ..., "srv": "2.2", "attribute": "UTRN value", "limit": 5000}``
  (an attribute limit);
- ``DELETE /admin/anomaly-thresholds/<id>``;
- ``GET /admin/quarantine[?state=held|released|deleted]``: the quarantined requests;
- ``POST /admin/quarantine/<ref>/release``: the request is sent on (its response follows as
  for any request); ``POST /admin/quarantine/<ref>/delete``: it is dropped and its user told.

Like the rest of the admin API it has no authentication: for test harnesses only. A bad body
answers 400 ``{"error": ...}`` and changes nothing.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from aiohttp import web

from gateway.anomaly import (
    AnomalyDetector,
    Quarantined,
    QuarantineError,
    QuarantineState,
    Threshold,
    threshold_from_json,
)
from gateway.errors import AdminError
from gateway.services.device import DeviceService, OpenRequest
from gateway.services.device_types import (
    COMMAND_FAILURE_ALERT,
    DeviceReport,
    ReportKind,
    RequestState,
    counter_value,
    parse_rid,
)
from gateway.storage import Storage, Transaction
from gbcs.eui import eui_duis

logger = logging.getLogger(__name__)

__all__ = ["AnomalyAdmin", "Released"]

T = TypeVar("T")
Runner = Callable[[Callable[[], T]], Awaitable[T]]

_JSON_LIMIT: Final = 64 * 1024


@dataclass(frozen=True, slots=True)
class Released:
    """A released request, and why its device will refuse it when one can tell (else None)."""

    entry: Quarantined
    warning: str | None


class AnomalyAdmin:
    """The routes above. ``run`` runs storage work off the event loop (the gateway's commit
    thread); :attr:`devices`, set by whoever serves device SRs, releases and deletes."""

    def __init__(self, storage: Storage, run: Runner[Any]) -> None:
        self.detector = AnomalyDetector(storage)
        self.run = run
        self.devices: DeviceService | None = None

    def install(self, app: web.Application) -> None:
        app.router.add_get("/admin/anomaly-thresholds", self._get_thresholds)
        app.router.add_post("/admin/anomaly-thresholds", self._post_threshold)
        app.router.add_delete("/admin/anomaly-thresholds/{id}", self._delete_threshold)
        app.router.add_get("/admin/quarantine", self._get_quarantine)
        app.router.add_post("/admin/quarantine/{ref}/{action}", self._post_decision)

    def configure(self, thresholds: Iterable[Threshold]) -> None:
        """Set the thresholds of the config file (at every start); :class:`AdminError` when
        one names an unregistered user."""
        for threshold in thresholds:
            self.detector.set(threshold)

    # -- thresholds ---------------------------------------------------------------------------

    async def _get_thresholds(self, _: web.Request) -> web.Response:
        found = await self.run(self.detector.thresholds)
        return web.json_response([t.to_json() for t in found])

    async def _post_threshold(self, request: web.Request) -> web.Response:
        try:
            data = await _json_object(request)
            threshold = threshold_from_json(data)
            stored: Threshold = await self.run(lambda: self.detector.set(threshold))
        except AdminError as exc:
            return _error(str(exc))
        logger.info("anomaly threshold set: %s", stored.describe())
        return web.json_response(stored.to_json())

    async def _delete_threshold(self, request: web.Request) -> web.Response:
        try:
            threshold_id = _number(request.match_info["id"], "threshold id")
            removed: Threshold = await self.run(lambda: self.detector.remove(threshold_id))
        except QuarantineError as exc:
            return _error(str(exc), status=exc.status)
        except AdminError as exc:
            return _error(str(exc))
        return web.json_response(removed.to_json())

    # -- the quarantine -----------------------------------------------------------------------

    async def _get_quarantine(self, request: web.Request) -> web.Response:
        text = request.query.get("state")
        try:
            state = None if text is None else QuarantineState(text)
        except ValueError:
            states = ", ".join(s.value for s in QuarantineState)
            return _error(f"state {text!r} is not one of {states}")
        found = await self.run(lambda: self.detector.quarantine(state=state))
        return web.json_response([q.to_json() for q in found])

    async def _post_decision(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        try:
            ref = _number(request.match_info["ref"], "QuarantineEventRef")
            if action == "release":
                released = await self.release(ref)
                answer = {**released.entry.to_json(), "warning": released.warning}
            elif action == "delete":
                answer = (await self.delete(ref)).to_json()
            else:
                raise QuarantineError(
                    f"unknown action {action!r}: POST .../release or .../delete", status=404
                )
        except QuarantineError as exc:
            return _error(str(exc), status=exc.status)
        except AdminError as exc:
            return _error(str(exc))
        return web.json_response(answer)

    def _service(self) -> DeviceService:
        if self.devices is None:
            raise QuarantineError(
                "this gateway serves no device SRs (run smetsim sandbox): nothing to release",
                status=409,
            )
        return self.devices

    async def release(self, ref: int) -> Released:
        """Send a held request on, as it would have been sent: tracked for its answer with a
        new deadline, counted now; its hub unreachable ends it with the usual DCC alert.
        Sent even when the device will refuse it as a replay (see :func:`_overtaken`): the
        answer's ``warning`` says so."""
        service = self._service()
        now = service.clock()

        def job(tx: Transaction) -> tuple[Quarantined, Any, float, str | None]:
            entry = self.detector.decide(tx, ref, QuarantineState.RELEASED, now)
            row = _held_request(tx, entry)
            warning = _overtaken(tx, row)
            deadline = time.time() + service.response_timeout
            tx.execute(  # sent_at: its frame logged (gateway.frame_log)
                "UPDATE device_requests SET state = ?, deadline = ?, sent_at = ? "
                "WHERE request_id = ?",
                (RequestState.SENT.value, deadline, now.isoformat(), entry.request_id),
            )
            self.detector.count(tx, entry.sender, entry.srv, now)
            return entry, row, deadline, warning

        outcome: tuple[Quarantined, Any, float, str | None] = await service.commits.call(job)
        entry, row, deadline, warning = outcome
        details = json.loads(row["details"]) if row["details"] else None
        key = (bytes(row["device"]), bytes(row["reply_to"]), counter_value(row["gbcs_counter"]))
        request_id = parse_rid(entry.request_id)
        opened = OpenRequest(
            request_id, entry.request_id, entry.sender, entry.srv, details, deadline
        )
        # The same steps as DeviceService.submit after it accepted a request.
        await service.dispatch(key, opened, bytes(row["hub"]), bytes(row["command"]))
        logger.info("quarantined request %s (ref %d) released", entry.request_id, ref)
        if warning is not None:
            logger.warning("released request %s: %s", entry.request_id, warning)
        return Released(entry, warning)

    async def delete(self, ref: int) -> Quarantined:
        """Drop a held request: it ends failed, and its user gets a DCC alert saying so."""
        service = self._service()
        now = service.clock()

        def job(tx: Transaction) -> tuple[Quarantined, DeviceReport | None]:
            entry = self.detector.decide(tx, ref, QuarantineState.DELETED, now)
            _held_request(tx, entry)
            tx.execute(
                "UPDATE device_requests SET state = ?, finished_at = ? WHERE request_id = ?",
                (RequestState.FAILED.value, now.isoformat(), entry.request_id),
            )
            report = service.inbox.new(
                kind=ReportKind.DCC_ALERT,
                recipient=entry.sender,
                device=entry.device,
                code=COMMAND_FAILURE_ALERT,
                request_id=parse_rid(entry.request_id),
                variant=entry.srv,
                reason=f"deleted from the quarantine (QuarantineEventRef {ref}): "
                "the DCC will not send it",
            )
            return entry, service.inbox.insert(tx, report)

        outcome: tuple[Quarantined, DeviceReport | None] = await service.commits.call(job)
        entry, report = outcome
        if report is not None:
            service.stats["failed"] += 1
            service.tell(report)
        logger.info("quarantined request %s (ref %d) deleted", entry.request_id, ref)
        return entry


def _overtaken(tx: Transaction, held: Any) -> str | None:
    """Why the device will refuse the held command, if a later one overtook it: a device
    accepts a sender's commands only with increasing originator counters (GBCS replay
    protection), and the held command keeps the counter it was given when it was accepted
    (for a critical SR the user signed it). None when no later command of the same originator
    went to the device."""
    later = tx.one(
        "SELECT request_id FROM device_requests WHERE device = ? AND reply_to = ? "
        "AND gbcs_counter > ? AND state IN (?, ?) ORDER BY gbcs_counter DESC LIMIT 1",
        (
            held["device"],
            held["reply_to"],
            held["gbcs_counter"],
            RequestState.SENT.value,
            RequestState.ANSWERED.value,
        ),
    )
    if later is None:
        return None
    return (
        f"sent, but request {later['request_id']} went to device "
        f"{eui_duis(bytes(held['device']))} after this one was held: its GBCS counter is "
        "higher, so the device will refuse this one as a replay and it will end with DCC "
        "alert N12 when its response time is up"
    )


def _held_request(tx: Transaction, entry: Quarantined) -> Any:
    row = tx.one(
        "SELECT * FROM device_requests WHERE request_id = ? AND state = ?",
        (entry.request_id, RequestState.QUARANTINED.value),
    )
    if row is None:  # the two tables change together: only a hand-edited database gets here
        raise QuarantineError(
            f"request {entry.request_id} is not held by the device service", status=409
        )
    return row


def _number(text: str, what: str) -> int:
    if not text.isdigit() or len(text) > 20:
        raise AdminError(f"{what} {text!r} is not a whole number")
    return int(text)


async def _json_object(request: web.Request) -> dict[str, Any]:
    raw = await request.content.read(_JSON_LIMIT + 1)
    if len(raw) > _JSON_LIMIT:
        raise AdminError(f"the JSON body is larger than {_JSON_LIMIT} bytes")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise AdminError(f"the body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise AdminError("the body must be a JSON object")
    return data


def _error(message: str, *, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status)
