"""The in-process WAN between the gateway and the communications hubs, with a fault
manipulator; and a WAN routing hubs to several.

The gateway sends each GBCS command to the communications hub (the CHF) the device sits
behind, and receives whatever the hubs send up: responses and alerts, from any device. What
carries the bytes is not the gateway's business: it sees the WAN interface of
:mod:`gbcs.wan` (``Wan``, ``FrameReceiver``, ``HubUnreachableError``), which the WANs here
implement.

:class:`InProcessWan` is the embedded default: no broker, frames travel through the event
loop. Its :attr:`InProcessWan.hubs` side (:class:`HubSide`) is what a fleet of emulated
devices is plugged into - by the application layer, since ``gateway`` never imports
``emulator``. Every frame in either direction goes through a :class:`WanFaults` manipulator
(fault injection): delay and jitter, drop, duplicate, corrupt, and links taken down per hub or
all at once, deterministic from a seed; or a custom manipulator function. The last frames in
each direction are kept in a ring buffer (:attr:`InProcessWan.recent`, habit 12) for dumping
when something fails.

Scheduling uses the event loop's own timers (no task per frame); :meth:`InProcessWan.close`
cancels what is still in flight.

:class:`RoutingWan` joins several WANs into one: some hubs are reached through their own WAN
(a serial HAN dongle, say), every other hub through a default one.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from gbcs.wan import FrameReceiver, HubUnreachableError, Wan, WanError

logger = logging.getLogger(__name__)

__all__ = [
    "Direction",
    "HubSide",
    "InProcessWan",
    "Manipulator",
    "RoutingWan",
    "WanFaults",
    "WanRecord",
    "WanStats",
]


class Direction(StrEnum):
    """Which way a frame travels."""

    DOWN = "down"
    """Gateway to hub (commands)."""
    UP = "up"
    """Hub to gateway (responses and alerts)."""


Manipulator = Callable[[Direction, bytes, bytes], list[tuple[float, bytes]]]
"""``manipulator(direction, eui, frame) -> [(delay_seconds, frame), ...]``: what actually
travels for one frame sent (an empty list drops it; two entries duplicate it)."""


@dataclass
class WanFaults:
    """The fault manipulator of :class:`InProcessWan`; change its fields at any time.

    Rates are probabilities per frame, drawn from a generator seeded by ``seed`` so a run is
    reproducible. ``direction`` restricts drop/duplicate/corrupt to one way (``None``: both).
    A hub in ``down`` (or every hub when ``all_down``) refuses sends and loses frames in
    flight to or from it.
    """

    delay: float = 0.0
    """Seconds added to every frame."""
    jitter: float = 0.0
    """Up to this many seconds more, uniformly drawn."""
    drop_rate: float = 0.0
    duplicate_rate: float = 0.0
    corrupt_rate: float = 0.0
    """A corrupted frame has one bit of its last byte flipped (the MAC or the signature)."""
    direction: Direction | None = None
    down: set[bytes] = field(default_factory=set)
    all_down: bool = False
    seed: int = 0
    manipulator: Manipulator | None = None
    """When set, it decides everything above but the links (which still apply)."""
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("drop_rate", "duplicate_rate", "corrupt_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"WanFaults.{name} must be within 0..1, got {value!r}")
        if self.delay < 0 or self.jitter < 0:
            raise ValueError("WanFaults delay and jitter cannot be negative")
        self._random = random.Random(self.seed)

    def link_down(self, hub: bytes) -> None:
        self.down.add(hub)

    def link_up(self, hub: bytes) -> None:
        self.down.discard(hub)

    def is_down(self, hub: bytes) -> bool:
        return self.all_down or hub in self.down

    @property
    def clean(self) -> bool:
        """True when no fault is configured (the fast path)."""
        return (
            self.manipulator is None
            and not self.delay
            and not self.jitter
            and not self.drop_rate
            and not self.duplicate_rate
            and not self.corrupt_rate
        )

    def apply(self, direction: Direction, eui: bytes, frame: bytes) -> list[tuple[float, bytes]]:
        """What travels for one ``frame`` (see :data:`Manipulator`)."""
        if self.manipulator is not None:
            return self.manipulator(direction, eui, frame)
        rnd = self._random
        applies = self.direction is None or self.direction is direction
        if applies and self.drop_rate and rnd.random() < self.drop_rate:
            return []
        if applies and self.corrupt_rate and frame and rnd.random() < self.corrupt_rate:
            frame = corrupt(frame)
        copies = 2 if applies and self.duplicate_rate and rnd.random() < self.duplicate_rate else 1
        out = []
        for _ in range(copies):
            delay = self.delay + (rnd.random() * self.jitter if self.jitter else 0.0)
            out.append((delay, frame))
        return out


def corrupt(frame: bytes) -> bytes:
    """``frame`` with the low bit of its last byte flipped (its MAC or signature)."""
    return frame[:-1] + bytes([frame[-1] ^ 0x01]) if frame else frame


@dataclass(frozen=True, slots=True)
class WanRecord:
    """One frame seen by the WAN (the ring buffer of :attr:`InProcessWan.recent`)."""

    at: float
    """``time.time()`` when it was sent."""
    direction: Direction
    eui: bytes
    """The hub it was sent to (down) or the device that sent it (up)."""
    frame: bytes
    outcome: str
    """``"sent"``, ``"dropped"``, ``"duplicated"``, ``"corrupted"``, ``"unreachable"``,
    ``"lost"`` (its link went down in flight) or ``"undeliverable"`` (nobody listening)."""

    def __str__(self) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(self.at))
        arrow = "->" if self.direction is Direction.DOWN else "<-"
        return f"{stamp} {arrow} {self.eui.hex()} {self.outcome}: {self.frame.hex()}"


@dataclass
class WanStats:
    """Counts of what the WAN did."""

    sent_down: int = 0
    sent_up: int = 0
    delivered_down: int = 0
    delivered_up: int = 0
    dropped: int = 0
    duplicated: int = 0
    corrupted: int = 0
    unreachable: int = 0
    lost: int = 0


HubHandler = Callable[[bytes, bytes], None]
"""``handler(hub, frame)``: a command arrived at ``hub`` (the hub side's callback)."""

RECENT_FRAMES: Final = 256


class HubSide:
    """The hubs' end of an :class:`InProcessWan`: where commands arrive and answers leave.

    The application plugs a fleet in: ``wan.hubs.set_handler(on_command)``, and from the
    handler (or later, from a timer) ``wan.hubs.send_up(device_eui, frame, delay)``.
    """

    def __init__(self, wan: InProcessWan) -> None:
        self._wan = wan
        self.handler: HubHandler | None = None

    def set_handler(self, handler: HubHandler) -> None:
        """The callback each command is given to, as ``handler(hub, frame)``."""
        self.handler = handler

    def send_up(self, source: bytes, frame: bytes, delay: float = 0.0, *, hub: bytes = b"") -> None:
        """Send a frame from device ``source`` up to the gateway, after ``delay`` seconds
        (the device's latency; the manipulator adds its own). ``hub``: the hub it goes
        through, when its link state matters (default: ``source`` itself)."""
        self._wan._up(source, frame, delay, hub or source)


class InProcessWan:
    """A WAN inside one event loop. Create it inside a running loop (or pass ``loop``)."""

    def __init__(
        self,
        *,
        faults: WanFaults | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        recent: int = RECENT_FRAMES,
    ) -> None:
        self.faults = faults if faults is not None else WanFaults()
        self._loop = loop
        self._receiver: FrameReceiver | None = None
        self._flights: set[_Flight] = set()
        self._closed = False
        self.hubs = HubSide(self)
        self.stats = WanStats()
        self.recent: deque[WanRecord] = deque(maxlen=recent)

    # -- the gateway's side (Wan) ------------------------------------------------------------

    def set_receiver(self, receiver: FrameReceiver) -> None:
        self._receiver = receiver

    def reachable(self, hub: bytes) -> bool:
        return not self._closed and not self.faults.is_down(hub)

    async def send(self, hub: bytes, frame: bytes) -> None:
        self.send_nowait(hub, frame)

    def send_nowait(self, hub: bytes, frame: bytes) -> None:
        """:meth:`send` without awaiting (it never blocks)."""
        if self._closed:
            raise WanError("the WAN is closed")
        if self.faults.is_down(hub):
            self.stats.unreachable += 1
            self._record(Direction.DOWN, hub, frame, "unreachable")
            raise HubUnreachableError(hub)
        self.stats.sent_down += 1
        self._travel(Direction.DOWN, hub, frame, 0.0, hub)

    async def close(self) -> None:
        self._closed = True
        for flight in self._flights:
            if flight.handle is not None:
                flight.handle.cancel()
        self._flights.clear()

    @property
    def in_flight(self) -> int:
        """Frames scheduled and not yet delivered."""
        return len(self._flights)

    def dump(self) -> str:
        """The ring buffer of recent frames, one line each (for a failing test's report)."""
        return "\n".join(str(r) for r in self.recent)

    # -- internals ---------------------------------------------------------------------------

    def _up(self, source: bytes, frame: bytes, delay: float, hub: bytes) -> None:
        if self._closed:
            return
        if self.faults.is_down(hub):
            self.stats.lost += 1
            self._record(Direction.UP, source, frame, "lost")
            return
        self.stats.sent_up += 1
        self._travel(Direction.UP, source, frame, delay, hub)

    def _travel(
        self, direction: Direction, eui: bytes, frame: bytes, delay: float, hub: bytes
    ) -> None:
        faults = self.faults
        if faults.clean:
            copies = [(0.0, frame)]
        else:
            copies = faults.apply(direction, eui, frame)
            if not copies:
                self.stats.dropped += 1
                self._record(direction, eui, frame, "dropped")
                return
            if len(copies) > 1:
                self.stats.duplicated += len(copies) - 1
            if any(f != frame for _, f in copies):
                self.stats.corrupted += 1
        loop = self._loop or asyncio.get_running_loop()
        for extra, sent in copies:
            self._record(direction, eui, sent, "sent" if sent == frame else "corrupted")
            flight = _Flight(direction, eui, sent, hub)
            total = delay + extra
            if total > 0:
                flight.handle = loop.call_later(total, self._arrive, flight)
            else:
                flight.handle = loop.call_soon(self._arrive, flight)
            self._flights.add(flight)

    def _arrive(self, flight: _Flight) -> None:
        self._flights.discard(flight)
        direction, eui, frame = flight.direction, flight.eui, flight.frame
        if self.faults.is_down(flight.hub):
            self.stats.lost += 1
            self._record(direction, eui, frame, "lost")
            return
        if direction is Direction.DOWN:
            handler = self.hubs.handler
            if handler is None:
                self._record(direction, eui, frame, "undeliverable")
                return
            self.stats.delivered_down += 1
            try:
                handler(eui, frame)
            except Exception:  # a failing hub must not break the WAN
                logger.exception("the hub side failed on a frame for %s", eui.hex())
        else:
            receiver = self._receiver
            if receiver is None:
                self._record(direction, eui, frame, "undeliverable")
                return
            self.stats.delivered_up += 1
            try:
                receiver(eui, frame)
            except Exception:  # a failing receiver must not break the WAN
                logger.exception("the gateway failed on a frame from %s", eui.hex())

    def _record(self, direction: Direction, eui: bytes, frame: bytes, outcome: str) -> None:
        self.recent.append(WanRecord(time.time(), direction, eui, frame, outcome))


class _Flight:
    """A frame scheduled for delivery."""

    __slots__ = ("direction", "eui", "frame", "handle", "hub")

    def __init__(self, direction: Direction, eui: bytes, frame: bytes, hub: bytes) -> None:
        self.direction = direction
        self.eui = eui
        self.frame = frame
        self.hub = hub
        self.handle: asyncio.Handle | None = None


class RoutingWan:
    """One :class:`Wan` made of several: the hubs in ``routes`` are reached through their own
    WAN, every other hub through ``default``.

    Frames coming up from any of them go to the one receiver; :meth:`reachable` and
    :meth:`send` ask the hub's WAN; :meth:`close` closes each WAN once (all of them, even when
    one fails; the first failure is raised afterwards). The same WAN may serve several hubs.
    """

    def __init__(self, default: Wan, routes: Mapping[bytes, Wan]) -> None:
        for hub in routes:
            if len(hub) != 8:
                raise ValueError(f"a route needs a hub's 8-byte EUI, got {hub.hex()!r}")
        self.default = default
        self.routes: dict[bytes, Wan] = dict(routes)
        self._wans: list[Wan] = []
        for wan in (default, *self.routes.values()):
            if not any(wan is known for known in self._wans):
                self._wans.append(wan)

    @property
    def wans(self) -> tuple[Wan, ...]:
        """Each distinct WAN, the default first."""
        return tuple(self._wans)

    def route(self, hub: bytes) -> Wan:
        """The WAN that carries ``hub``'s frames."""
        return self.routes.get(hub, self.default)

    def set_receiver(self, receiver: FrameReceiver) -> None:
        for wan in self._wans:
            wan.set_receiver(receiver)

    def reachable(self, hub: bytes) -> bool:
        return self.route(hub).reachable(hub)

    async def send(self, hub: bytes, frame: bytes) -> None:
        await self.route(hub).send(hub, frame)

    async def close(self) -> None:
        failure: BaseException | None = None
        for wan in self._wans:
            try:
                await wan.close()
            except Exception as exc:  # close the others anyway
                logger.exception("closing a routed WAN failed")
                failure = failure or exc
        if failure is not None:
            raise failure
