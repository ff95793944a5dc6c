"""Device service requests at the DUIS front door, and their answers over HTTP.

:class:`DeviceRequests` registers, on a :class:`gateway.duis.router.FrontDoor`, a handler for
every device SR variant a :class:`gateway.services.device.DeviceService` serves (``I99`` for a
command sent, ``I0`` with the ``PreCommand`` of CV4 or the ``LocalCommand`` of CV2/CV6).

:class:`DeviceDuis` is the DUIS side of the service's inbox
(:class:`gateway.services.device_reports.Inbox`), built before the service so that the
service is handed its listener (:meth:`DeviceDuis.on_report`) at construction:

- each report (response, device alert, DCC alert) is rendered as signed DUIS XML by the inbox
  (:class:`gateway.duis.device_responses.ReportRenderer`) and stored with it; DeviceDuis POSTs
  it to the recipient's registered response URL
  (``Content-Type: application/xml``), retrying with back-off when the listener fails; a
  report is never lost: the inbox keeps it whatever happens to the POST;
- it serves the inbox, for harnesses without a listener:

  - ``GET /api/v1/responses?requestId=<RequestID>``: the final answer to that request as
    signed DUIS XML (``X-DUIS-Response-Code``, ``X-Report-Kind`` headers), or 404 (JSON
    ``{"error", "state"}``) until there is one; ``&wait=<seconds>`` (at most 60) waits for
    it first;
  - ``GET /api/v1/responses?user=<EUI>[&after=<seq>][&limit=<n>][&wait=<seconds>]``: that
    user's reports after sequence number ``after``, as JSON ``[{seq, kind, requestId,
    responseId, code, xml}]``, oldest first (alerts included); with ``wait``, an empty answer
    waits (at most 60 s) for the next report.

Both are answered from memory when they can be: the reports filed since the inbox opened
(the newest :data:`RECENT_REPORTS`) are kept as the service tells of them - each once its
transaction is committed, so a poll never sees a report that is not on disk - and a poll for
anything older, or a RequestID not among them, reads the database as before.

Several processes may serve one inbox (``smetsim sandbox --workers N``, sharing the
database): built with ``shared=True`` it never answers from memory (another process files
reports too) and the processes tell each other of what they file - :attr:`DeviceDuis.announce`
is called with each report this process filed, and :meth:`DeviceDuis.filed_elsewhere` wakes
the polls waiting here for a report another process filed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Final

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from gateway.duis.build import precommand_element
from gateway.duis.catalogue import ServiceReferenceVariant
from gateway.duis.device_requests import DEVICE_VARIANTS, read_device_call
from gateway.duis.device_responses import ReportRenderer, local_command_element
from gateway.duis.envelope import format_request_id, parse_request_id
from gateway.duis.router import FrontDoor, Reply, RequestContext
from gateway.errors import ServiceError
from gateway.events import EventBus
from gateway.services.device import DeviceReport, DeviceService, ReportKind
from gateway.services.device_reports import Inbox, Renderer
from gateway.srv.catalogue import CATALOGUE
from gateway.srv.han import read_local_response
from gateway.users import Users
from gbcs.eui import eui_duis, parse_eui

logger = logging.getLogger(__name__)

__all__ = ["RESPONSES_PATH", "DeviceDuis", "DeviceRequests"]

RESPONSES_PATH: Final = "/api/v1/responses"
MAX_WAIT: Final = 60.0
DELIVERY_WORKERS: Final = 8
URL_CACHE_SECONDS: Final = 1.0
RECENT_REPORTS: Final = 4096
"""How many of the newest reports the inbox answers polls for from memory."""
RETRY_DELAYS: Final = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
"""Seconds before each new attempt to POST a report to a listener that failed; after the last
one the report stays in the inbox (logged)."""


class DeviceRequests:
    """The front door's handler of the device SRs (see the module docstring)."""

    def __init__(self, service: DeviceService) -> None:
        self.service = service

    def install(self, front_door: FrontDoor) -> None:
        """Register the handler for every device SR variant (before the app starts)."""
        for variant in sorted(DEVICE_VARIANTS):
            front_door.router.register(variant, self.handle)
        front_door.router.register(ServiceReferenceVariant.SR_8_13, self.handle_local_response)

    async def handle(self, context: RequestContext) -> Reply:
        variant = context.request.header.service_reference_variant
        row = CATALOGUE[variant].row
        if not row.roles:
            # Said apart from role_not_eligible: no user's roles could be right.
            raise ServiceError(
                "sr_open_to_no_user", sr=variant.value, name=row.name, sender=context.sender
            )
        call = read_device_call(context.request, context.sender)
        accepted = await self.service.submit(call)
        if accepted.precommand is not None:
            return Reply(accepted.code, precommand_element(accepted.precommand))
        if accepted.local_command is not None:
            return Reply(accepted.code, local_command_element(accepted.local_command))
        return Reply(accepted.code)

    async def handle_local_response(self, context: RequestContext) -> Reply:
        """SR8.13 (a non-device SR the device service answers: it holds the request)."""
        request = read_local_response(context.request)
        header = context.request.header
        return Reply(
            (
                await self.service.return_local_response(context.sender, header.request_id, request)
            ).code
        )


class DeviceDuis:
    """See the module docstring."""

    def __init__(
        self,
        inbox: Inbox,
        *,
        users: Users | None = None,
        post_timeout: float = 10.0,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        shared: bool = False,
        resend_undelivered: bool = True,
        events: EventBus | None = None,
    ) -> None:
        """``shared``: other processes file reports into the same database (see the module
        docstring). ``resend_undelivered``: on :meth:`start`, POST again the reports never
        delivered to a listener (one process of several does it). ``events``: told of each
        report filed and each delivered."""
        self.inbox = inbox
        self.events = events
        self.render: Renderer = inbox.render if inbox.render is not None else ReportRenderer(None)
        self.users = users if users is not None else Users(inbox.storage)
        self.post_timeout = post_timeout
        self.retry_delays = retry_delays
        self._waiters: dict[str, list[asyncio.Future[DeviceReport | None]]] = {}
        self._queue: asyncio.Queue[tuple[DeviceReport, int]] = asyncio.Queue()
        self._workers: list[asyncio.Task[None]] = []
        self._retries: dict[int, asyncio.TimerHandle] = {}
        self._session: ClientSession | None = None
        self._urls: dict[bytes, tuple[str | None, float]] = {}
        self._user_waiters: dict[bytes, list[asyncio.Future[None]]] = {}
        self.recent: RecentReports | None = None if shared else RecentReports(inbox.last_seq())
        self.resend_undelivered = resend_undelivered
        self.announce: Callable[[DeviceReport], None] | None = None
        """Told of each report this process filed (committed), for the other processes."""
        self.delivered = 0
        self.delivery_failures = 0

    # -- wiring -------------------------------------------------------------------------------

    def install(self, app: web.Application) -> None:
        """Register the inbox route (before the app starts)."""
        app.router.add_get(RESPONSES_PATH, self.responses)

    async def start(self) -> None:
        """Start the delivery workers; queue the reports that were never delivered to a
        listener (after a restart)."""
        self._session = ClientSession(timeout=ClientTimeout(total=self.post_timeout))
        for n in range(DELIVERY_WORKERS):
            self._workers.append(asyncio.create_task(self._deliver(), name=f"duis-delivery-{n}"))
        for user in self.users.all() if self.resend_undelivered else ():
            if user.response_url:
                for report in self.inbox.reports(recipient=user.eui, undelivered=True):
                    self._queue.put_nowait((report, 0))

    async def close(self) -> None:
        for timer in self._retries.values():
            timer.cancel()
        self._retries.clear()
        for task in self._workers:
            task.cancel()
        for task in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None
        for futures in self._waiters.values():
            for future in futures:
                future.cancel()
        for waiters in self._user_waiters.values():
            for waiter in waiters:
                waiter.cancel()
        self._waiters.clear()
        self._user_waiters.clear()

    # -- reports ------------------------------------------------------------------------------

    def on_report(self, report: DeviceReport) -> None:
        """The service filed ``report`` (its transaction is committed)."""
        if self.recent is not None:
            self.recent.add(report)
        rid = None if report.request_id is None else format_request_id(report.request_id)
        self._wake(report.recipient, rid, report)
        if self.events is not None:
            self.events.publish(report.kind.value, **_report_event(report, rid))
        if self.announce is not None:
            try:
                self.announce(report)
            except Exception:  # the report is filed; the others see it at their next poll
                logger.exception("telling the other processes of report %d failed", report.seq)
        url = self._url(report.recipient)
        if url is not None:
            self._queue.put_nowait((report, 0))

    def filed_elsewhere(self, recipient: bytes, rid: str | None) -> None:
        """Another process filed (committed) a report for ``recipient``, ending request
        ``rid`` if given: wake the polls waiting for it here (they read the database)."""
        self._wake(recipient, rid, None)

    def _wake(self, recipient: bytes, rid: str | None, report: DeviceReport | None) -> None:
        for waiter in self._user_waiters.pop(recipient, ()):
            if not waiter.done():
                waiter.set_result(None)
        if rid is not None:
            for future in self._waiters.pop(rid, ()):
                if not future.done():
                    future.set_result(report)

    def _url(self, recipient: bytes) -> str | None:
        """The recipient's response URL (cached for :data:`URL_CACHE_SECONDS`: a URL changed
        through the admin API applies to the reports filed after that)."""
        now = time.monotonic()
        cached = self._urls.get(recipient)
        if cached is not None and cached[1] > now:
            return cached[0]
        user = self.users.get(recipient)
        url = None if user is None else user.response_url
        self._urls[recipient] = (url, now + URL_CACHE_SECONDS)
        return url

    async def _deliver(self) -> None:
        while True:
            report, attempt = await self._queue.get()
            try:
                await self._post(report, attempt)
            except Exception:  # one bad report must not stop the worker
                logger.exception("delivering report %d", report.seq)

    async def _post(self, report: DeviceReport, attempt: int) -> None:
        url = self._url(report.recipient)
        if url is None or self._session is None:
            return
        body = report.body if report.body is not None else self.render(report)
        error: str | None = None
        try:
            async with self._session.post(
                url, data=body, headers={"Content-Type": "application/xml; charset=utf-8"}
            ) as answer:
                await answer.read()
                if answer.status >= 300:
                    error = f"HTTP {answer.status}"
        except (ClientError, TimeoutError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        if error is None:
            self.delivered += 1
            if self.events is not None:
                self.events.publish(
                    "response-delivered", report=report.seq, kind=report.kind.value, url=url
                )
            recent = self.recent
            self.inbox.mark_delivered(
                report.seq, then=None if recent is None else lambda: recent.delivered(report)
            )
            return
        self.delivery_failures += 1
        self.inbox.mark_attempt(report.seq, error)
        if attempt < len(self.retry_delays):
            delay = self.retry_delays[attempt]
            logger.info(
                "POST of report %d to %s failed (%s): again in %gs", report.seq, url, error, delay
            )
            loop = asyncio.get_running_loop()
            self._retries[report.seq] = loop.call_later(delay, self._requeue, report, attempt + 1)
        else:
            logger.warning(
                "giving up POSTing report %d to %s (%s); it stays in the inbox",
                report.seq,
                url,
                error,
            )

    def _requeue(self, report: DeviceReport, attempt: int) -> None:
        self._retries.pop(report.seq, None)
        self._queue.put_nowait((report, attempt))

    # -- the inbox over HTTP ------------------------------------------------------------------

    async def responses(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        if "requestId" in query:
            return await self._by_request(query["requestId"], query.get("wait"))
        if "user" in query:
            return await self._by_user(
                query["user"], query.get("after", "0"), query.get("limit", "100"), query.get("wait")
            )
        return _error(400, "give requestId=<RequestID> or user=<EUI> (see docs/device-services.md)")

    async def _by_request(self, text: str, wait_text: str | None) -> web.StreamResponse:
        try:
            request_id = parse_request_id(text)
        except ValueError as exc:
            return _error(400, f"requestId: {exc}")
        wait = 0.0
        if wait_text is not None:
            try:
                wait = min(max(float(wait_text), 0.0), MAX_WAIT)
            except ValueError:
                return _error(400, f"wait: {wait_text!r} is not a number of seconds")
        rid = format_request_id(request_id)
        found = await self._final(rid)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while found is None and deadline > loop.time():
            future: asyncio.Future[DeviceReport | None] = loop.create_future()
            self._waiters.setdefault(rid, []).append(future)
            try:
                found = await self._final(rid)  # it may have landed in between
                if found is None:
                    with contextlib.suppress(TimeoutError):
                        found = await asyncio.wait_for(
                            asyncio.shield(future), max(deadline - loop.time(), 0.0)
                        )
                    if found is None and future.done():  # filed by another process
                        found = await self._final(rid)
            finally:
                _forget(self._waiters, rid, future)
        if found is None:
            state = await self.inbox.fetch_state(rid)
            why = (
                "unknown RequestID"
                if state is None
                else f"no response yet (the request is {state})"
            )
            return web.json_response({"error": why, "state": state}, status=404)
        body = found.body if found.body is not None else self.render(found)
        return web.Response(
            body=body,
            content_type="application/xml",
            charset="utf-8",
            headers={"X-DUIS-Response-Code": found.code, "X-Report-Kind": found.kind.value},
        )

    async def _final(self, rid: str) -> DeviceReport | None:
        found = None if self.recent is None else self.recent.final(rid)
        if found is not None:
            return found
        reports = await self.inbox.fetch_reports(request_id=rid)
        return reports[-1] if reports else None

    async def _by_user(
        self, user: str, after: str, limit: str, wait_text: str | None
    ) -> web.Response:
        try:
            eui = parse_eui(user)
        except ValueError as exc:
            return _error(400, f"user: {exc}")
        if not after.isdigit() or not limit.isdigit() or not 1 <= int(limit) <= 1000:
            return _error(400, "after must be a sequence number and limit 1 to 1000")
        try:
            wait = 0.0 if wait_text is None else min(max(float(wait_text), 0.0), MAX_WAIT)
        except ValueError:
            return _error(400, f"wait: {wait_text!r} is not a number of seconds")
        if wait <= 0:
            reports = await self._user_reports(eui, int(after), int(limit))
        else:
            reports = await self._wait_for_reports(eui, int(after), int(limit), wait)
        return web.json_response([_report_json(r, self.render) for r in reports])

    async def _wait_for_reports(
        self, user: bytes, after: int, limit: int, wait: float
    ) -> list[DeviceReport]:
        """``user``'s reports after ``after``; none yet: the next ones filed within ``wait``
        seconds. The waiter is in place before the inbox is read, so a report filed while it
        is read (here or by another process) wakes it. A future and a timer: no task per
        long poll, as ``asyncio.wait_for`` would make."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._user_waiters.setdefault(user, []).append(waiter)
        try:
            reports = await self._user_reports(user, after, limit)
            if reports:
                return reports
            timer = loop.call_later(wait, _expire, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
            return await self._user_reports(user, after, limit)
        finally:
            _forget(self._user_waiters, user, waiter)

    async def _user_reports(self, user: bytes, after: int, limit: int) -> list[DeviceReport]:
        found = None if self.recent is None else self.recent.after(user, after, limit)
        if found is not None:
            return found
        return await self.inbox.fetch_reports(recipient=user, after=after, limit=limit)


class RecentReports:
    """The newest reports filed since the inbox opened, by recipient and by RequestID, in the
    order the service filed them (their sequence numbers' order: one commit queue).

    It answers for recipient ``user`` every report with a sequence number above its floor:
    ``floor`` (the inbox's last report when it opened) at first, raised as the oldest
    reports are dropped to keep at most ``capacity``. Anything below is the database's."""

    def __init__(self, floor: int, capacity: int = RECENT_REPORTS) -> None:
        self.floor = floor
        self.capacity = capacity
        self._floors: dict[bytes, int] = {}
        self._by_user: dict[bytes, deque[DeviceReport]] = {}
        self._by_request: dict[str, DeviceReport] = {}
        self._order: deque[tuple[int, bytes, str | None]] = deque()

    def __len__(self) -> int:
        return len(self._order)

    def add(self, report: DeviceReport) -> None:
        """``report`` was filed (committed); reports come in sequence order."""
        user = report.recipient
        if report.seq <= self._floors.get(user, self.floor):
            return  # filed before the inbox opened: the database answers for it
        reports = self._by_user.get(user)
        if reports is None:
            reports = self._by_user[user] = deque()
        reports.append(report)
        rid = None if report.request_id is None else format_request_id(report.request_id)
        if rid is not None:
            self._by_request[rid] = report
        self._order.append((report.seq, user, rid))
        while len(self._order) > self.capacity:
            self._drop_oldest()

    def _drop_oldest(self) -> None:
        seq, user, rid = self._order.popleft()
        reports = self._by_user[user]
        reports.popleft()
        if not reports:
            del self._by_user[user]
        self._floors[user] = seq
        if rid is not None:
            kept = self._by_request.get(rid)
            if kept is not None and kept.seq == seq:
                del self._by_request[rid]

    def after(self, user: bytes, after: int, limit: int) -> list[DeviceReport] | None:
        """``user``'s reports with a sequence number above ``after`` (the first ``limit``),
        or None when some of them may be older than what is kept."""
        if after < self._floors.get(user, self.floor):
            return None
        reports = self._by_user.get(user)
        if not reports:
            return []
        newer: list[DeviceReport] = []
        for report in reversed(reports):
            if report.seq <= after:
                break
            newer.append(report)
        newer.reverse()
        return newer[:limit]

    def final(self, rid: str) -> DeviceReport | None:
        """The report that ended request ``rid``, if it is kept (None: ask the database)."""
        return self._by_request.get(rid)

    def delivered(self, report: DeviceReport) -> None:
        """``report``'s delivery to its listener is recorded (committed)."""
        reports = self._by_user.get(report.recipient)
        if not reports:
            return
        for index in range(len(reports) - 1, -1, -1):
            kept = reports[index]
            if kept.seq == report.seq:
                marked = dataclasses.replace(kept, delivered=True)
                reports[index] = marked
                if kept.request_id is not None:
                    rid = format_request_id(kept.request_id)
                    if self._by_request.get(rid) is kept:
                        self._by_request[rid] = marked
                return
            if kept.seq < report.seq:
                return


def _forget(
    waiting: dict[Any, list[asyncio.Future[Any]]], key: object, future: asyncio.Future[Any]
) -> None:
    """Take ``future`` off the waiters for ``key`` (and cancel it if nothing ended it)."""
    futures = waiting.get(key)
    if futures is not None and future in futures:
        futures.remove(future)
        if not futures:
            del waiting[key]
    if not future.done():
        future.cancel()


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _report_json(report: DeviceReport, render: Callable[[DeviceReport], bytes]) -> dict[str, Any]:
    body = report.body if report.body is not None else render(report)
    return {
        "seq": report.seq,
        "kind": report.kind.value,
        "requestId": None if report.request_id is None else format_request_id(report.request_id),
        "responseId": None if report.response_id is None else format_request_id(report.response_id),
        "device": eui_duis(report.device),
        "code": report.code,
        "alertCode": None if report.kind is not ReportKind.ALERT else report.code,
        "delivered": report.delivered,
        "xml": body.decode("utf-8"),
    }


def _report_event(report: DeviceReport, rid: str | None) -> dict[str, Any]:
    return {
        "report": report.seq,
        "requestId": rid,
        "srv": report.service_reference_variant,
        "device": eui_duis(report.device),
        "to": eui_duis(report.recipient),
        "code": report.code,
        "reason": report.reason,
    }


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)
