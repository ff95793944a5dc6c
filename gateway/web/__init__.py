"""The web view and the admin surface for watching the gateway (``docs/web-view.md``).

On the gateway's own port (or its ``--admin-host`` listener), part of the admin surface that
:mod:`gateway.admin_auth` guards - loopback clients, or others with the admin token (a browser
by the cookie ``/?token=`` sets) - and the pages say so:

- ``/``: the message flow, live (Server-Sent Events), with filters;
- ``/requests/<RequestID>``: one request - its DUIS request and response XML, its final
  report, and each GBCS frame decoded as ``smetsim decode`` explains it (:mod:`gbcs.explain`);
- ``/inventory``: the SMI's devices, the meter points with their service flags, RDP files;
- ``/devices`` (and ``/devices/<EUI>``, one): each emulated device's live state and bench
  controls (when a :class:`DeviceConsole` is plugged in: the sandbox does; ``gateway`` never
  imports the emulator);
- ``GET /admin/events``: the event stream (:mod:`gateway.events`);
- ``GET /admin/frames?requestId=...``: the frame log (:mod:`gateway.frame_log`);
- ``GET /admin/devices/<EUI>``: a device's live state as JSON; ``POST`` the same path with
  ``{"action": ...}`` acts on it.

Templates and the one script are package data (Jinja2 with autoescape: whatever text a
request carries is shown, never rendered as HTML).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any, Final, Protocol
from urllib.parse import quote

import jinja2
from aiohttp import web
from lxml import etree

from gateway import frame_log
from gateway.duis.catalogue import ServiceReferenceVariant
from gateway.duis.envelope import format_request_id, parse_request_id
from gateway.srv.catalogue import CATALOGUE
from gateway.web.flow import Flow, Restored
from gbcs.eui import eui_duis, parse_eui
from gbcs.explain import explain

if TYPE_CHECKING:
    from gateway.server import Gateway

logger = logging.getLogger(__name__)

__all__ = ["ACTIONS", "ConsoleUnavailableError", "DeviceConsole", "ReportSource", "WebView"]

ACTIONS: Final = ("alert", "unreachable", "reachable", "slow", "clock")
"""What ``POST /admin/devices/<EUI>`` can do (``value`` in brackets): raise an alert (its
code in hex, e.g. ``8F3E``), take the device's hub link down or up, delay every WAN frame
(seconds; 0 ends it), move the sandbox's clock - the gateway's and the devices' - forward
(seconds)."""

Handler = Callable[[web.Request], Awaitable[web.Response]]

KEEPALIVE: Final = 15.0
"""Seconds between comment lines on an idle event stream (proxies close silent streams)."""
GONE_CHECK: Final = 1.0
"""Seconds between checks that an idle event stream's client is still there."""


class ConsoleUnavailableError(Exception):
    """The devices cannot be asked now (in a sandbox worker: the fleet's host is not there);
    the message says why, for people."""


class DeviceConsole(Protocol):
    """The emulated devices, as the web view sees them (supplied by the sandbox)."""

    async def devices(self) -> list[dict[str, Any]]:
        """Every device's live state (as :meth:`state`), in a stable order."""
        ...

    async def state(self, eui: bytes) -> dict[str, Any] | None:
        """A device's live state (None: no such device)."""
        ...

    async def act(self, eui: bytes, action: str, value: str | None) -> str:
        """Do ``action`` (one of :data:`ACTIONS`) on ``eui``; what was done, for people.
        Raises :class:`ValueError` naming a bad action or value (nothing done then)."""
        ...


class ReportSource(Protocol):
    """The device SRs' inbox (:class:`gateway.services.device.DeviceService`)."""

    async def fetch_reports(self, *, request_id: str | None = None) -> Sequence[Any]: ...


class WebView:
    """The routes above, for one :class:`gateway.server.Gateway`."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.flow = Flow()
        gateway.events.listen(self.flow.on_event, relayed=True, types=Flow.TYPES)
        self.console: DeviceConsole | None = None
        self.reports: ReportSource | None = None
        self.templates = jinja2.Environment(
            loader=jinja2.PackageLoader("gateway.web", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self.templates.filters["rid_url"] = lambda rid: quote(str(rid), safe="")

    def install(self, app: web.Application) -> None:
        app.router.add_get("/", self._flow_page)
        app.router.add_get("/requests/{rid}", self._request_page)
        app.router.add_get("/inventory", self._inventory_page)
        app.router.add_get("/devices", self._guarded(self._devices_page, page=True))
        app.router.add_get("/devices/{eui}", self._guarded(self._device_page, page=True))
        app.router.add_get("/static/app.js", self._script)
        app.router.add_get("/admin/events", self._events)
        app.router.add_get("/admin/frames", self._frames)
        app.router.add_get("/admin/devices", self._guarded(self._devices_json))
        app.router.add_get("/admin/devices/{eui}", self._guarded(self._device_json))
        app.router.add_post("/admin/devices/{eui}", self._guarded(self._device_action))

    def _guarded(self, handler: Handler, *, page: bool = False) -> Handler:
        """``handler``, answering ``503`` (a page or JSON) when the devices cannot be asked."""

        async def guarded(request: web.Request) -> web.Response:
            try:
                return await handler(request)
            except ConsoleUnavailableError as exc:
                return self._error_page(503, str(exc)) if page else _json_error(503, str(exc))

        return guarded

    # -- pages --------------------------------------------------------------------------------

    def _page(self, name: str, status: int = 200, **context: Any) -> web.Response:
        listening = self.gateway.listening
        html = self.templates.get_template(name).render(
            bound=listening.url if listening else "", console=self.console is not None, **context
        )
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")

    def _error_page(self, status: int, message: str) -> web.Response:
        title = {404: "Not found", 503: "Unavailable"}.get(status, "Bad request")
        return self._page("error.html", status=status, title=title, message=message)

    async def _flow_page(self, request: web.Request) -> web.Response:
        entries = [e.as_json() for e in self.flow.entries()]
        return self._page("flow.html", title="Message flow", entries=entries)

    async def _request_page(self, request: web.Request) -> web.Response:
        text = request.match_info["rid"]
        try:
            rid = format_request_id(parse_request_id(text))
        except ValueError as exc:
            return self._error_page(400, f"{text!r} is not a RequestID: {exc}")
        entry = self.flow.get(rid)
        frames = await self.gateway.commits.run(lambda: self._read_frames(rid))
        reports = (
            [] if self.reports is None else list(await self.reports.fetch_reports(request_id=rid))
        )
        if entry is None and frames is None and not reports:
            return self._error_page(
                404, f"unknown RequestID {rid}: the gateway has no record of it"
            )
        keys = self.gateway.keystore
        decoded = [
            {
                **f.as_json(),
                "explained": explain(f.frame, keys).render(f"{f.direction} {eui_duis(f.device)}"),
            }
            for f in frames or []
        ]
        finals = [
            {
                "kind": r.kind.value,
                "code": r.code,
                "at": r.created_at.isoformat(),
                "xml": _pretty(r.body) if r.body is not None else "",
            }
            for r in reports
        ]
        return self._page(
            "request.html",
            title=f"Request {rid}",
            rid=rid,
            entry=None if entry is None else entry.as_json(),
            request_xml=_pretty(entry.request_xml) if entry and entry.request_xml else None,
            response_xml=_pretty(entry.response_xml) if entry and entry.response_xml else None,
            frames=decoded,
            finals=finals,
        )

    async def _inventory_page(self, request: web.Request) -> web.Response:
        devices, points, files = await self.gateway.commits.run(self._read_inventory)
        return self._page(
            "inventory.html", title="Inventory", devices=devices, points=points, files=files
        )

    async def _devices_page(self, request: web.Request) -> web.Response:
        devices = [] if self.console is None else await self.console.devices()
        return self._page("devices.html", title="Devices", devices=devices, actions=ACTIONS)

    async def _device_page(self, request: web.Request) -> web.Response:
        text = request.match_info["eui"]
        try:
            eui = parse_eui(text)
        except ValueError as exc:
            return self._error_page(400, f"{text!r} is not an EUI-64: {exc}")
        state = None if self.console is None else await self.console.state(eui)
        if state is None:
            return self._error_page(
                404, f"unknown device {eui_duis(eui)}: no emulated device has it"
            )
        return self._page(
            "devices.html", title=f"Device {eui_duis(eui)}", devices=[state], actions=ACTIONS
        )

    async def _script(self, request: web.Request) -> web.Response:
        script = resources.files("gateway.web").joinpath("static/app.js").read_text("utf-8")
        return web.Response(text=script, content_type="text/javascript", charset="utf-8")

    # -- JSON ---------------------------------------------------------------------------------

    async def _frames(self, request: web.Request) -> web.Response:
        text = request.query.get("requestId")
        if text is None:
            return _json_error(400, "give requestId=<RequestID>")
        try:
            rid = format_request_id(parse_request_id(text))
        except ValueError as exc:
            return _json_error(400, f"requestId: {exc}")
        frames = await self.gateway.commits.run(lambda: self._read_frames(rid))
        if frames is None:
            return _json_error(404, f"unknown RequestID {rid}: no device request has it")
        return web.json_response({"frames": [f.as_json() for f in frames]})

    async def _devices_json(self, request: web.Request) -> web.Response:
        if self.console is None:
            return _json_error(404, _NO_CONSOLE)
        return web.json_response({"devices": await self.console.devices()})

    async def _device_json(self, request: web.Request) -> web.Response:
        eui = _eui(request.match_info["eui"])
        if isinstance(eui, web.Response):
            return eui
        if self.console is None:
            return _json_error(404, _NO_CONSOLE)
        state = await self.console.state(eui)
        if state is None:
            return _json_error(404, f"unknown device {eui_duis(eui)}: no emulated device has it")
        return web.json_response(state)

    async def _device_action(self, request: web.Request) -> web.Response:
        eui = _eui(request.match_info["eui"])
        if isinstance(eui, web.Response):
            return eui
        if self.console is None:
            return _json_error(404, _NO_CONSOLE)
        try:
            data = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError) as exc:
            return _json_error(400, f"the body is not JSON: {exc}")
        if not isinstance(data, dict) or not isinstance(data.get("action"), str):
            return _json_error(
                400, f'give {{"action": ..., "value": ...}}, action one of {", ".join(ACTIONS)}'
            )
        value = data.get("value")
        if value is not None and not isinstance(value, str | int | float):
            return _json_error(400, f"value must be a string or a number, not {value!r}")
        if await self.console.state(eui) is None:
            return _json_error(404, f"unknown device {eui_duis(eui)}: no emulated device has it")
        try:
            done = await self.console.act(
                eui, data["action"], None if value is None else str(value)
            )
        except ValueError as exc:
            return _json_error(400, str(exc))
        return web.json_response({"done": done})

    # -- the event stream ---------------------------------------------------------------------

    async def _events(self, request: web.Request) -> web.StreamResponse:
        bus = self.gateway.events
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        subscription = bus.subscribe()
        try:
            await response.write(b": smetsim gateway events\n\n")
            idle = 0.0
            while True:
                # aiohttp does not cancel a handler whose client left: look every second.
                try:
                    event = await asyncio.wait_for(subscription.next(), GONE_CHECK)
                except TimeoutError:
                    transport = request.transport
                    if transport is None or transport.is_closing():
                        break
                    idle += GONE_CHECK
                    if idle >= KEEPALIVE:
                        idle = 0.0
                        await response.write(b": keep-alive\n\n")
                    continue
                idle = 0.0
                if event is None:  # dropped: too slow
                    break
                data = json.dumps(event.as_json(), separators=(",", ":"))
                await response.write(
                    f"id: {event.seq}\nevent: {event.type}\ndata: {data}\n\n".encode()
                )
        except (ConnectionResetError, asyncio.CancelledError):
            logger.debug("an event stream client went away")
        finally:
            bus.unsubscribe(subscription)
        with contextlib.suppress(ConnectionResetError, RuntimeError):
            await response.write_eof()
        return response

    async def restore(self) -> None:
        """Fill the flow with the device SRs the database recorded (called at start)."""
        added = self.flow.restore(await self.gateway.commits.run(self._read_history))
        if added:
            logger.info("message flow: %d device SRs restored from the database", added)

    # -- storage reads (in the storage thread) ------------------------------------------------

    def _read_history(self) -> list[Restored]:
        with self.gateway.storage.transaction() as tx:
            if not tx.one(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'device_requests'"
            ):
                return []  # no device service here
            rows = tx.all(
                "SELECT q.request_id, q.sender, q.device, q.variant, q.command_variant, q.state, "
                "q.created_at, p.kind AS final_kind, p.code AS final_code, "
                "p.created_at AS final_at "
                "FROM (SELECT * FROM device_requests ORDER BY created_at DESC LIMIT ?) AS q "
                "LEFT JOIN device_reports AS p ON p.seq = (SELECT MAX(seq) FROM device_reports "
                "WHERE request_id = q.request_id AND kind IN ('response', 'dcc-alert')) "
                "ORDER BY q.created_at",
                (self.flow.keep,),
            )
        return [
            Restored(
                request_id=str(r["request_id"]),
                at=str(r["created_at"]),
                srv=str(r["variant"]),
                name=_srv_name(str(r["variant"])),
                cv=int(r["command_variant"]),
                sender=eui_duis(bytes(r["sender"])),
                device=eui_duis(bytes(r["device"])),
                # What the SR was answered at once: a pre-command or a command for local
                # delivery is handed back (I0), any other is sent to the device (I99).
                code="I0" if r["state"] in ("precommand", "local") else "I99",
                final_kind=r["final_kind"],
                final_code=r["final_code"],
                final_at=r["final_at"],
            )
            for r in rows
        ]

    def _read_frames(self, rid: str) -> list[frame_log.Frame] | None:
        with self.gateway.storage.transaction() as tx:
            if not tx.one(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'device_frames'"
            ):
                return None  # no device service here
            return frame_log.frames_of(tx, rid)

    def _read_inventory(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[Any]]:
        with self.gateway.storage.transaction() as tx:
            devices = [
                {
                    "eui": eui_duis(bytes(r["device_id"])),
                    "type": r["device_type"],
                    "status": r["status"],
                    "hub": None if r["chf_id"] is None else eui_duis(bytes(r["chf_id"])),
                    "mpxn": r["import_mpxn"] or "",
                    "supplier": eui_duis(bytes(r["installing_supplier"])),
                    "firmware": r["firmware_version"] or "",
                    "variant": r["esme_variant"] or "",
                }
                for r in tx.all("SELECT * FROM devices ORDER BY device_id")
            ]
            files = [
                {"file": r["file_name"], "kind": r["kind"], "state": r["state"], "at": r["sent_at"]}
                for r in tx.all("SELECT * FROM rdp_batches ORDER BY id DESC LIMIT 200")
            ] + [
                {
                    "file": r["file_name"],
                    "kind": "answer read",
                    "state": f"{r['accepted']} accepted, {r['rejected']} rejected",
                    "at": r["processed_at"],
                }
                for r in tx.all(
                    "SELECT * FROM rdp_inbox_files ORDER BY processed_at DESC LIMIT 200"
                )
            ]
        points = [
            {
                "mpxn": p.mpxn,
                "fuel": p.fuel.value,
                "supplier": eui_duis(p.supplier),
                "network_operator": ""
                if p.network_operator is None
                else eui_duis(p.network_operator),
                "flag": p.service_flag or "",
            }
            for p in self.gateway.meter_points.list_meter_points()
        ]
        return devices, points, files


_NO_CONSOLE: Final = (
    "no emulated devices here: device state comes from a sandbox (smetsim sandbox), "
    "not a bare gateway"
)


def _srv_name(srv: str) -> str | None:
    try:
        return CATALOGUE[ServiceReferenceVariant(srv)].row.name
    except (ValueError, KeyError):
        return None


def _json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _eui(text: str) -> bytes | web.Response:
    try:
        return parse_eui(text)
    except ValueError as exc:
        return _json_error(400, f"{text!r} is not an EUI-64: {exc}")


def _pretty(xml: bytes) -> str:
    """``xml`` indented for reading (parsed with entities, DTDs and the network off); as it
    came when it does not parse."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=True
    )
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError:
        return xml.decode("utf-8", "replace")
    text: str = etree.tostring(root, pretty_print=True, encoding="unicode")
    return text
