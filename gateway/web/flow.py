"""The message flow the web view shows: the newest SRs with their outcome, kept in memory.

Fed by the event bus (``sr-received``, then the report that ends the request), bounded to the
newest :data:`KEEP` requests; each keeps its DUIS request and synchronous response (each cut
at :data:`MAX_XML` bytes) for the request's page. At start it is filled from the database
(:meth:`Flow.restore`): the device SRs the gateway recorded and the reports that ended them,
so a restarted sandbox shows what happened before - without their DUIS XML, which is not
stored, and without the non-device and refused SRs, which leave no request row.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from gateway.events import Event

__all__ = ["KEEP", "MAX_XML", "Flow", "FlowEntry", "Restored"]

KEEP: Final = 1000
MAX_XML: Final = 256 * 1024


@dataclass(slots=True)
class FlowEntry:
    """One SR as the flow shows it."""

    key: str
    """The RequestID, or ``#<seq>`` for a request too broken to have one."""
    at: str
    request_id: str | None
    srv: str | None
    name: str | None
    cv: int | None
    sender: str | None
    device: str | None
    code: str
    reason: str | None
    ms: float | None
    """Time to the synchronous answer (None: restored from the database, not measured)."""
    request_xml: bytes = b""
    response_xml: bytes = b""
    final_kind: str | None = None
    final_code: str | None = None
    final_at: str | None = None
    alerts: list[str] = field(default_factory=list)
    restored: bool = False
    """Read from the database at start, not seen as it happened."""

    @property
    def outcome(self) -> str:
        """``refused`` (an E-code), ``pending`` (awaiting the device), ``done`` (answered at
        once), or the kind of the report that ended it (``response``, ``dcc-alert``)."""
        if self.final_kind is not None:
            return self.final_kind
        if self.code.startswith("E"):
            return "refused"
        return "pending" if self.code == "I99" else "done"

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "at": self.at,
            "requestId": self.request_id,
            "srv": self.srv,
            "name": self.name,
            "cv": self.cv,
            "sender": self.sender,
            "device": self.device,
            "code": self.code,
            "reason": self.reason,
            "ms": self.ms,
            "outcome": self.outcome,
            "finalCode": self.final_code,
            "finalAt": self.final_at,
            "restored": self.restored,
        }


@dataclass(frozen=True, slots=True)
class Restored:
    """A device SR as the database keeps it (see :meth:`Flow.restore`)."""

    request_id: str
    at: str
    srv: str
    name: str | None
    cv: int
    sender: str
    device: str
    code: str
    """The synchronous answer it had: ``I0`` (a pre-command, a command for local delivery)
    or ``I99`` (sent to the device)."""
    final_kind: str | None
    final_code: str | None
    final_at: str | None


class Flow:
    """The newest SRs, by RequestID (see the module docstring)."""

    TYPES: Final = frozenset({"sr-received", "response", "dcc-alert"})
    """The events it follows."""

    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self._entries: OrderedDict[str, FlowEntry] = OrderedDict()
        self._latest: tuple[int, str] | None = None

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self) -> list[FlowEntry]:
        """Newest first."""
        return list(reversed(self._entries.values()))

    def get(self, key: str) -> FlowEntry | None:
        return self._entries.get(key)

    def restore(self, rows: Iterable[Restored]) -> int:
        """Put the requests of ``rows`` (oldest first) in the flow, behind anything already
        there; how many were added (the newest :attr:`keep`, at most)."""
        fresh = OrderedDict(self._entries)
        self._entries.clear()
        added = 0
        for row in list(rows)[-self.keep :]:
            if row.request_id in fresh:
                continue
            self._entries[row.request_id] = FlowEntry(
                key=row.request_id,
                at=row.at,
                request_id=row.request_id,
                srv=row.srv,
                name=row.name,
                cv=row.cv,
                sender=row.sender,
                device=row.device,
                code=row.code,
                reason=None,
                ms=None,
                final_kind=row.final_kind,
                final_code=row.final_code,
                final_at=row.final_at,
                restored=True,
            )
            added += 1
        self._entries.update(fresh)
        while len(self._entries) > self.keep:
            self._entries.popitem(last=False)
        return added

    def exchange(self, seq: int, request: bytes, response: bytes) -> None:
        """Keep the DUIS request and synchronous response of the ``sr-received`` event
        ``seq`` (called right after it is published)."""
        if self._latest is None or self._latest[0] != seq:
            return
        entry = self._entries.get(self._latest[1])
        if entry is not None:
            entry.request_xml = request[:MAX_XML]
            entry.response_xml = response[:MAX_XML]

    def on_event(self, event: Event) -> None:
        fields = event.fields
        if event.type == "sr-received":
            rid = fields.get("requestId")
            key = rid if isinstance(rid, str) else f"#{event.seq}"
            if key in self._entries:
                # A RequestID sent again (refused as a replay): its own row.
                key = f"{key}#{event.seq}"
            self._entries[key] = FlowEntry(
                key=key,
                at=event.at,
                request_id=rid,
                srv=fields.get("srv"),
                name=fields.get("name"),
                cv=fields.get("cv"),
                sender=fields.get("sender"),
                device=fields.get("device"),
                code=str(fields.get("code")),
                reason=fields.get("reason"),
                ms=float(fields.get("ms") or 0.0),
            )
            self._latest = (event.seq, key)
            while len(self._entries) > self.keep:
                self._entries.popitem(last=False)
        elif event.type in ("response", "dcc-alert"):
            entry = self._entries.get(str(fields.get("requestId")))
            if entry is not None:
                entry.final_kind = event.type
                entry.final_code = fields.get("code")
                entry.final_at = event.at
