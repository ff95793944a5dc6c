"""The web view's quarantine page (``docs/anomaly-detection.md``): the requests held by threshold
anomaly detection, each with a release and a delete button.

- ``GET /quarantine[?state=held|released|deleted]``: the entries, held ones first;
- ``POST /quarantine/<ref>/release`` and ``.../delete``: what the buttons post (plain HTML forms,
  no script); the answer redirects back to the page (303) saying what was done, or shows the
  page with the error (404 unknown ref, 409 decided already or no device SRs here).

It does what ``POST /admin/quarantine/<ref>/...`` does
(:class:`gateway.anomaly_routes.AnomalyAdmin`), so a release from the page sends the request on
and its response follows as usual. A form post that a browser says comes from another site (its
``Origin`` is not this page's) is refused ``403``: a page elsewhere must not release a request
through the tester's browser.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from aiohttp import web

from gateway.anomaly import QuarantineError, QuarantineState
from gateway.errors import AdminError

if TYPE_CHECKING:
    from gateway.server import Gateway

__all__ = ["QuarantinePage"]

ACTIONS: Final = ("release", "delete")
_DONE: Final = {"release": "released", "delete": "deleted"}
PAGE_ROWS: Final = 1000
"""Entries the page shows at most (``GET /admin/quarantine`` lists them all)."""
OVERTAKEN: Final = (
    "but its device has since accepted a later command of the same sender (a higher GBCS "
    "counter): it will refuse this one as a replay, and the request will end with DCC alert N12"
)


class QuarantinePage:
    """The routes above, for one :class:`gateway.server.Gateway` (its web view's templates)."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def install(self, app: web.Application) -> None:
        app.router.add_get("/quarantine", self._page)
        app.router.add_post("/quarantine/{ref}/{action}", self._decide)

    async def _page(self, request: web.Request) -> web.Response:
        text = request.query.get("state")
        try:
            state = None if not text else QuarantineState(text)
        except ValueError:
            states = ", ".join(s.value for s in QuarantineState)
            return await self._render(400, error=f"state {text!r} is not one of {states}")
        done = None
        for action, past in _DONE.items():
            ref = request.query.get(past, "")
            if ref.isdigit():
                done = f"QuarantineEventRef {ref} {past}" + (
                    ": sent on, its response follows as usual"
                    if action == "release"
                    else ": dropped, its user told (DCC alert N12)"
                )
        if done is not None and request.query.get("overtaken") == "1":
            done = done.replace("its response follows as usual", OVERTAKEN)
        return await self._render(200, state=state, done=done)

    async def _decide(self, request: web.Request) -> web.StreamResponse:
        foreign = _foreign_origin(request)
        if foreign is not None:
            return await self._render(
                403, error=f"refused: the form was posted from another site ({foreign})"
            )
        action = request.match_info["action"]
        ref_text = request.match_info["ref"]
        anomaly = self.gateway.anomaly
        try:
            if action not in ACTIONS:
                raise QuarantineError(f"unknown action {action!r}: release or delete", status=404)
            if not ref_text.isdigit() or len(ref_text) > 20:
                raise AdminError(f"QuarantineEventRef {ref_text!r} is not a whole number")
            ref = int(ref_text)
            overtaken = ""
            if action == "release":
                if (await anomaly.release(ref)).warning is not None:
                    overtaken = "&overtaken=1"
            else:
                await anomaly.delete(ref)
        except QuarantineError as exc:
            return await self._render(exc.status, error=str(exc))
        except AdminError as exc:
            return await self._render(400, error=str(exc))
        raise web.HTTPSeeOther(f"/quarantine?{_DONE[action]}={ref}{overtaken}")

    async def _render(
        self,
        status: int,
        *,
        state: QuarantineState | None = None,
        done: str | None = None,
        error: str | None = None,
    ) -> web.Response:
        detector = self.gateway.anomaly.detector
        # Held first (what needs deciding), each group oldest first; a bounded page.
        found = await self.gateway.commits.run(
            lambda: detector.quarantine(state=state, held_first=True, limit=PAGE_ROWS + 1)
        )
        entries = [q.to_json() for q in found[:PAGE_ROWS]]
        listening = self.gateway.listening
        html = self.gateway.web.templates.get_template("quarantine.html").render(
            bound=listening.url if listening else "",
            console=self.gateway.web.console is not None,
            title="Quarantine",
            entries=entries,
            more=len(found) > PAGE_ROWS,
            rows=PAGE_ROWS,
            states=[s.value for s in QuarantineState],
            shown=None if state is None else state.value,
            done=done,
            error=error,
        )
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def _foreign_origin(request: web.Request) -> str | None:
    """The ``Origin`` of a post from another site, or None (same site, or no Origin: not a
    browser's cross-site form, which always carries one)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return None
    parts = urlsplit(origin)
    if parts.netloc.lower() == request.host.lower():
        return None
    return origin
