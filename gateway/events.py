"""The gateway's event bus: what happens, as it happens, for the web view and for harnesses.

The places that already know publish one :class:`Event` each - the HTTP front (an SR
received and its synchronous answer; the non-device SRs' SMI and flag changes; RDP files),
the device SR front and delivery (a report filed, a report POSTed), the WAN
(:class:`ObservedWan`: a command sent, a frame received). ``GET /admin/events`` streams them
as Server-Sent Events (``docs/web-view.md`` has the schema).

With several worker processes (``smetsim sandbox --workers N``), each worker's bus is told
the other workers' events too (:meth:`EventBus.relay`, over the sandbox's worker mesh), so
every worker's stream is complete; such an event carries ``worker``, the index of the worker
it happened in, and only the listeners that ask for them get them (the traffic log and the
gateway's own reactions stay with the worker that saw the event).

Nothing here may slow the gateway down or grow without bound: :meth:`EventBus.publish` never
waits; each stream subscriber has a bounded queue, and a subscriber whose queue is full (a
client that reads too slowly) is dropped with a logged line, its stream ended. Synchronous
listeners (:meth:`EventBus.listen`) are called in place and must be quick.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from gbcs.wan import FrameReceiver, Wan

logger = logging.getLogger(__name__)

__all__ = [
    "EVENT_TYPES",
    "QUEUE_SIZE",
    "Event",
    "EventBus",
    "ObservedWan",
    "RequestLogger",
    "Subscription",
]

QUEUE_SIZE: Final = 1024
"""Events a stream subscriber may have waiting; one more and it is dropped."""

EVENT_TYPES: Final = frozenset(
    {
        "sr-received",
        "command-sent",
        "frame-received",
        "response",
        "alert",
        "dcc-alert",
        "response-delivered",
        "smi-change",
        "flag-change",
        "rdp-file",
    }
)
"""Every ``type`` an event may have (documented in ``docs/web-view.md``)."""


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened: ``type`` (one of :data:`EVENT_TYPES`), a sequence number
    (per gateway process, from 1), when, and the fields of its type."""

    seq: int
    type: str
    at: str
    fields: dict[str, Any]
    worker: int | None = None
    """The worker process it happened in (None: a gateway of one process)."""
    relayed: bool = False
    """It happened in another worker, and was relayed to this one."""

    def as_json(self) -> dict[str, Any]:
        out = {"seq": self.seq, "type": self.type, "at": self.at, **self.fields}
        if self.worker is not None:
            out["worker"] = self.worker
        return out


class Subscription:
    """One stream's queue. ``closed`` once dropped (too slow) or :meth:`EventBus.unsubscribe`'d."""

    def __init__(self, size: int) -> None:
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(size + 1)
        self.size = size
        self.closed = False
        self.dropped = False

    async def next(self) -> Event | None:
        """The next event; None once the subscription ended."""
        if self.closed and self.queue.empty():
            return None
        return await self.queue.get()


class EventBus:
    """Publish events to listeners and stream subscribers (see the module docstring)."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] | None = None,
        queue_size: int = QUEUE_SIZE,
    ) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))
        self.queue_size = queue_size
        self._seq = itertools.count(1)
        self._subscribers: list[Subscription] = []
        self._listeners: list[tuple[Callable[[Event], None], bool, frozenset[str] | None]] = []
        self._heard: frozenset[str] | None = frozenset()
        """The types some listener takes (None: a listener takes every type)."""
        self.dropped = 0
        self.worker: int | None = None
        """This process's worker index, when it is one of several."""

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def listen(
        self,
        listener: Callable[[Event], None],
        *,
        relayed: bool = False,
        types: Iterable[str] | None = None,
    ) -> None:
        """Call ``listener`` with every event of this process, in place (it must not block);
        with ``relayed``, with the other workers' events too; with ``types``, with the events
        of those types only (the others may then go unmade: :meth:`wants`)."""
        kinds = None if types is None else frozenset(types)
        if kinds is not None and not kinds <= EVENT_TYPES:
            raise ValueError(f"unknown event types {sorted(kinds - EVENT_TYPES)!r}")
        self._listeners.append((listener, relayed, kinds))
        self._heard = None if kinds is None or self._heard is None else self._heard | kinds

    def wants(self, event_type: str) -> bool:
        """Whether an event of ``event_type`` published now would reach anyone (a stream
        subscriber, or a listener taking that type): a hot path may skip making one that
        would not."""
        heard = self._heard
        return heard is None or event_type in heard or bool(self._subscribers)

    def subscribe(self) -> Subscription:
        subscription = Subscription(self.queue_size)
        self._subscribers.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscription.closed = True
        if subscription in self._subscribers:
            self._subscribers.remove(subscription)

    def close(self) -> None:
        """End every stream (the gateway is stopping: no client may hold its stop up)."""
        for subscription in tuple(self._subscribers):
            self.unsubscribe(subscription)
            with contextlib.suppress(asyncio.QueueFull):  # full: it already ends
                subscription.queue.put_nowait(None)

    def publish(self, event_type: str, /, **fields: Any) -> Event:
        """Tell everyone of one event; never waits, never raises for a listener's fault."""
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {event_type!r}")
        event = Event(
            next(self._seq), event_type, self.clock().isoformat(), fields, worker=self.worker
        )
        self._tell(event)
        return event

    def relay(self, data: dict[str, Any]) -> Event | None:
        """Tell this process's listeners that asked for them and its subscribers of an event
        another worker published (``data``: its :meth:`Event.as_json`), numbered in this
        process's sequence; None (nothing told) for data that is not an event."""
        fields = dict(data)
        event_type = fields.pop("type", None)
        at = fields.pop("at", None)
        worker = fields.pop("worker", None)
        fields.pop("seq", None)
        if event_type not in EVENT_TYPES or not isinstance(at, str) or not isinstance(worker, int):
            logger.warning("a relayed event that is not one was dropped: %r", data)
            return None
        event = Event(next(self._seq), event_type, at, fields, worker=worker, relayed=True)
        self._tell(event)
        return event

    def _tell(self, event: Event) -> None:
        for listener, relayed, kinds in self._listeners:
            if (event.relayed and not relayed) or (kinds is not None and event.type not in kinds):
                continue
            try:
                listener(event)
            except Exception:  # an observer must not break what it observes
                logger.exception("an event listener failed on %s", event.type)
        for subscription in tuple(self._subscribers):
            if subscription.queue.qsize() >= subscription.size:
                self._drop(subscription)
                continue
            subscription.queue.put_nowait(event)

    def _drop(self, subscription: Subscription) -> None:
        self.unsubscribe(subscription)
        subscription.dropped = True
        self.dropped += 1
        # The spare slot: the stream ends once it has read what it had.
        subscription.queue.put_nowait(None)
        logger.warning(
            "event stream client dropped: %d events unread (it reads too slowly)",
            subscription.size,
        )


class ObservedWan:
    """A :class:`Wan` that publishes ``command-sent`` and ``frame-received`` events for the
    frames it carries; everything else is the wrapped WAN's."""

    def __init__(self, wan: Wan, bus: EventBus) -> None:
        self.wan = wan
        self.bus = bus

    def set_receiver(self, receiver: FrameReceiver) -> None:
        def observed(source: bytes, frame: bytes) -> None:
            # Two events per SR that, with no stream open, no listener takes.
            if self.bus.wants("frame-received"):
                self.bus.publish("frame-received", device=_eui(source), bytes=len(frame))
            receiver(source, frame)

        self.wan.set_receiver(observed)

    def reachable(self, hub: bytes) -> bool:
        return self.wan.reachable(hub)

    async def send(self, hub: bytes, frame: bytes) -> None:
        await self.wan.send(hub, frame)
        if self.bus.wants("command-sent"):
            self.bus.publish("command-sent", hub=_eui(hub), bytes=len(frame))

    async def close(self) -> None:
        await self.wan.close()


class RequestLogger:
    """The ``info`` log of the traffic: one line per SR received and one per final answer
    (response, alert or DCC alert) with the time since its SR arrived."""

    TYPES: Final = frozenset({"sr-received", "response", "dcc-alert", "alert"})
    """The events it logs."""

    def __init__(self, log: logging.Logger | None = None, *, remember: int = 10_000) -> None:
        self.log = log or logging.getLogger("gateway.traffic")
        self.remember = remember
        self._started: OrderedDict[str, float] = OrderedDict()

    def __call__(self, event: Event) -> None:
        fields = event.fields
        rid = fields.get("requestId")
        if event.type == "sr-received":
            self.log.info(
                "SR %s %s from %s to %s: %s in %.1f ms",
                rid,
                fields.get("srv"),
                fields.get("sender"),
                fields.get("device"),
                fields.get("code"),
                fields.get("ms", 0.0),
            )
            if rid is not None and fields.get("code") == "I99":
                self._started[rid] = time.monotonic()
                while len(self._started) > self.remember:
                    self._started.popitem(last=False)
        elif event.type in ("response", "dcc-alert") and rid is not None:
            started = self._started.pop(rid, None)
            took = "" if started is None else f" {1000 * (time.monotonic() - started):.1f} ms"
            self.log.info(
                "final %s %s %s from %s: %s,%s after the SR",
                event.type,
                rid,
                fields.get("srv"),
                fields.get("device"),
                fields.get("code"),
                took or " (its SR was not seen by this process)",
            )
        elif event.type == "alert":
            self.log.info(
                "alert %s from %s to %s", fields.get("code"), fields.get("device"), fields.get("to")
            )


def _eui(value: bytes) -> str:
    return value.hex("-").upper()
