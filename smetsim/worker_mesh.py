"""The links between the worker processes of one sandbox (``smetsim sandbox --workers N``).

Every worker is a whole gateway accepting on the shared port, but the fleet of emulated
devices lives in one of them, worker 0 (the *host*): a fleet's devices are not independent
(the comms hub's device log decides which meters it delivers to, a gas meter answers
through the GPF), so they cannot be spread over processes without changing what they do.
The other workers reach the devices through the host, and every worker tells the others of
the reports it files so their inbox long polls wake up.

Each worker listens on a Unix socket in Linux's abstract namespace (no file to clean up),
named after the supervisor's random token and the worker's index, and opens a link to a
peer the first time it needs one (again after the peer was restarted). A message is a
4-byte big-endian length, a kind byte, then:

- ``COMMAND`` (worker -> host): the hub's EUI (8 bytes), the GBCS frame;
- ``ANSWER`` (host -> the worker that sent the command, on the same link): the sending
  device's EUI (8 bytes), its latency (float64 seconds), the frame;
- ``FILED`` (any -> any): the recipient's EUI (8 bytes), the RequestID of the request the
  report ends (UTF-8, empty for an alert);
- ``EVENT`` (any -> any): one event of the sender's event bus, as JSON (the web view's flow
  and event stream are whole in every worker). Best effort: an event for a worker whose link
  has :data:`EVENT_BACKLOG` bytes unsent is dropped, with a logged line, never buffered
  without bound;
- ``CONSOLE`` (worker -> host): a call number (4 bytes), then a JSON request for the host's
  device console (the web view's devices view, in a worker without the fleet);
  ``CONSOLE_ANSWER`` (host -> that worker, on the same link): the call number, the JSON
  answer;
- ``CLOCK`` (host -> any): how far the sandbox's clock was moved forward (float64 seconds),
  sent at every move and to each worker that links to the host, so every worker's gateway
  keeps the fleet's time.

:class:`PeerWan` is the device service's :class:`gbcs.wan.Wan` in a worker that is not
the host: a command it cannot hand to the host fails at once as an unreachable hub
(:class:`gbcs.wan.HubUnreachableError`, a DCC alert to the user), and a host that dies
with commands under way leaves them to the response timeout, as a silent device would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import struct
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Final

from gbcs.wan import FrameReceiver, HubUnreachableError, WanError

logger = logging.getLogger(__name__)

__all__ = ["HOST", "PeerWan", "WorkerMesh", "mesh_address"]

HOST: Final = 0
"""The index of the worker that hosts the fleet."""
COMMAND: Final = 1
ANSWER: Final = 2
FILED: Final = 3
EVENT: Final = 4
CONSOLE: Final = 5
CONSOLE_ANSWER: Final = 6
CLOCK: Final = 7
_CALL: Final = struct.Struct("!I")
EVENT_BACKLOG: Final = 1024 * 1024
"""Bytes a link may have unsent before events for it are dropped."""
CONSOLE_TIMEOUT: Final = 10.0
"""Seconds a worker waits for the host's console to answer."""
_HEAD: Final = struct.Struct("!IB")
_DELAY: Final = struct.Struct("!d")
MAX_MESSAGE: Final = 16 * 1024 * 1024
"""The largest message a link accepts (a GBCS frame is at most a few kB)."""

Answer = tuple[bytes, bytes, float]
"""A frame coming back from the fleet: (sending device, frame, latency in seconds)."""
CommandHandler = Callable[[bytes, bytes], list[Answer]]
AnswerHandler = Callable[[bytes, bytes, float], None]
FiledHandler = Callable[[bytes, str | None], None]
ConsoleHandler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def mesh_address(token: str, index: int) -> str:
    """Worker ``index``'s socket address (abstract namespace) for supervisor ``token``."""
    return f"\0smetsim-sandbox-{token}-{index}"


def _message(kind: int, *parts: bytes) -> bytes:
    body = b"".join(parts)
    return _HEAD.pack(len(body), kind) + body


async def _read(reader: asyncio.StreamReader) -> tuple[int, bytes] | None:
    """The next message, or None at the end of the link."""
    try:
        head = await reader.readexactly(_HEAD.size)
        length, kind = _HEAD.unpack(head)
        if length > MAX_MESSAGE:
            raise ValueError(f"a message of {length} bytes")
        return kind, await reader.readexactly(length)
    except asyncio.IncompleteReadError:
        return None


class WorkerMesh:
    """This worker's end of the links (see the module docstring). Set the handlers, then
    :meth:`start`; :meth:`close` when done."""

    def __init__(self, token: str, index: int, count: int) -> None:
        if not 0 <= index < count:
            raise ValueError(f"worker {index} of {count}")
        self.token = token
        self.index = index
        self.count = count
        self.on_command: CommandHandler | None = None
        """The host's fleet: a command for a hub, what the devices answer."""
        self.before_answer: Callable[[], Awaitable[None]] | None = None
        """Awaited before the answers of a command go back (the fleet's host saves the state
        they report); raising drops them."""
        self.on_answer: AnswerHandler | None = None
        """A frame the fleet sent back for one of this worker's commands."""
        self.on_filed: FiledHandler | None = None
        """Another worker filed a report (recipient, RequestID or None)."""
        self.on_event: Callable[[dict[str, Any]], object] | None = None
        """Another worker published an event (its JSON)."""
        self.on_console: ConsoleHandler | None = None
        """The host's device console: a request, its answer."""
        self.on_clock: Callable[[float], None] | None = None
        """The host moved the sandbox's clock: the offset, in seconds."""
        self.clock_offset: float = 0.0
        """What the host tells a worker that links to it (set by the host's console)."""
        self.events_dropped = 0
        self._calls: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._next_call = 0
        self._server: asyncio.Server | None = None
        self._links: dict[int, asyncio.StreamWriter] = {}
        self._connecting: dict[int, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._handlers: set[asyncio.Task[Any]] = set()
        """The server's tasks, one per link from another worker (they end when it closes:
        never cancelled, as asyncio logs an error for a cancelled connection handler)."""
        self._served: set[asyncio.StreamWriter] = set()
        self._closed = False

    @property
    def hosts_fleet(self) -> bool:
        return self.index == HOST

    async def start(self) -> None:
        """Listen for the other workers (:class:`OSError` when the address is taken)."""
        self._server = await asyncio.start_unix_server(
            self._serve, path=mesh_address(self.token, self.index)
        )

    async def close(self) -> None:
        self._closed = True
        if self._server is not None:
            self._server.close()
        for writer in (*self._links.values(), *self._served):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._handlers:
            await asyncio.wait(list(self._handlers), timeout=5.0)
        for writer in (*self._links.values(), *self._served):
            with contextlib.suppress(OSError, ConnectionError):
                await writer.wait_closed()
        self._links.clear()
        self._served.clear()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    # -- sending ------------------------------------------------------------------------------

    async def command(self, hub: bytes, frame: bytes) -> None:
        """Hand a command for ``hub`` to the host (:class:`OSError` when it cannot be
        reached); its answers come to :attr:`on_answer`."""
        writer = await self._link(HOST)
        writer.write(_message(COMMAND, hub, frame))
        await writer.drain()

    def announce(self, recipient: bytes, rid: str | None) -> None:
        """Tell every other worker that a report for ``recipient`` was filed (best effort: a
        worker not reached sees it at its next poll of the database)."""
        self._broadcast(_message(FILED, recipient, (rid or "").encode()))

    def relay(self, event: dict[str, Any]) -> None:
        """Send one event of this worker's bus to every other worker (best effort)."""
        data = json.dumps(event, separators=(",", ":")).encode()
        self._broadcast(_message(EVENT, data), backlog=EVENT_BACKLOG, quiet=True)

    def tell_clock(self, offset: float) -> None:
        """Tell every other worker the sandbox clock's offset (the host, after a move)."""
        self.clock_offset = offset
        self._broadcast(_message(CLOCK, _DELAY.pack(offset)))

    async def console(self, request: dict[str, Any]) -> dict[str, Any]:
        """Ask the host's device console; its answer. Raises :class:`OSError` when the host
        cannot be reached, :class:`TimeoutError` when it does not answer in time."""
        self._next_call = (self._next_call + 1) % 2**32
        call = self._next_call
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._calls[call] = future
        try:
            writer = await self._link(HOST)
            writer.write(_message(CONSOLE, _CALL.pack(call), json.dumps(request).encode()))
            await writer.drain()
            return await asyncio.wait_for(future, CONSOLE_TIMEOUT)
        finally:
            self._calls.pop(call, None)

    def _broadcast(
        self, message: bytes, *, backlog: int | None = None, quiet: bool = False
    ) -> None:
        for peer in range(self.count):
            if peer == self.index:
                continue
            writer = self._links.get(peer)
            if writer is not None and not writer.is_closing():
                if backlog is not None and writer.transport.get_write_buffer_size() > backlog:
                    self.events_dropped += 1
                    logger.warning("an event for worker %d dropped: its link is backed up", peer)
                    continue
                writer.write(message)
            elif not self._closed:
                self._spawn(self._announce_later(peer, message, quiet))

    async def _announce_later(self, peer: int, message: bytes, quiet: bool = False) -> None:
        try:
            writer = await self._link(peer)
        except OSError as exc:
            # An event for a worker that is down is not worth a line each (it is restarted).
            (logger.debug if quiet else logger.info)("worker %d not told: %s", peer, exc)
            return
        writer.write(message)

    async def _link(self, peer: int) -> asyncio.StreamWriter:
        writer = self._links.get(peer)
        if writer is not None and not writer.is_closing():
            return writer
        lock = self._connecting.setdefault(peer, asyncio.Lock())
        async with lock:
            writer = self._links.get(peer)
            if writer is not None and not writer.is_closing():
                return writer
            if self._closed:
                raise OSError("the worker is stopping")
            reader, writer = await asyncio.open_unix_connection(path=mesh_address(self.token, peer))
            self._links[peer] = writer
            self._spawn(self._read_answers(peer, reader, writer))
            return writer

    async def _read_answers(
        self, peer: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            while (message := await _read(reader)) is not None:
                kind, body = message
                if kind == ANSWER and len(body) >= 16 and self.on_answer is not None:
                    (delay,) = _DELAY.unpack_from(body, 8)
                    self.on_answer(body[:8], body[16:], delay)
                elif kind == CONSOLE_ANSWER and len(body) >= _CALL.size:
                    (call,) = _CALL.unpack_from(body)
                    future = self._calls.get(call)
                    if future is not None and not future.done():
                        future.set_result(json.loads(body[_CALL.size :]))
                elif kind == CLOCK and len(body) == _DELAY.size:
                    self._clock(body)
                else:
                    logger.warning("worker %d sent an unexpected message (kind %d)", peer, kind)
        except (OSError, ValueError) as exc:
            logger.warning("the link to worker %d broke: %s", peer, exc)
        finally:
            if self._links.get(peer) is writer:
                del self._links[peer]
            writer.close()
            if peer == HOST:
                for future in self._calls.values():
                    if not future.done():
                        future.set_exception(OSError("the link to the host broke"))

    # -- receiving ----------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._served.add(writer)
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        if self.hosts_fleet and self.clock_offset:
            writer.write(_message(CLOCK, _DELAY.pack(self.clock_offset)))
        try:
            while (message := await _read(reader)) is not None:
                kind, body = message
                if kind == COMMAND and len(body) > 8:
                    self._command(body[:8], body[8:], writer)
                    await writer.drain()
                elif kind == FILED and len(body) >= 8:
                    if self.on_filed is not None:
                        self.on_filed(body[:8], body[8:].decode() or None)
                elif kind == EVENT:
                    if self.on_event is not None:
                        self._event(body)
                elif kind == CONSOLE and len(body) >= _CALL.size:
                    self._spawn(self._console(body, writer))
                elif kind == CLOCK and len(body) == _DELAY.size:
                    self._clock(body)
                else:
                    logger.warning("a worker sent an unexpected message (kind %d)", kind)
        except (OSError, ValueError) as exc:
            logger.warning("a link from another worker broke: %s", exc)
        finally:
            self._served.discard(writer)
            if task is not None:
                self._handlers.discard(task)
            writer.close()

    def _event(self, body: bytes) -> None:
        assert self.on_event is not None
        try:
            event = json.loads(body)
            if not isinstance(event, dict):
                raise ValueError("not a JSON object")
            self.on_event(event)
        except Exception:  # one bad event must not break the link
            logger.exception("an event from another worker was not taken")

    def _clock(self, body: bytes) -> None:
        (offset,) = _DELAY.unpack(body)
        self.clock_offset = offset
        if self.on_clock is not None:
            self.on_clock(offset)

    async def _console(self, body: bytes, writer: asyncio.StreamWriter) -> None:
        (call,) = _CALL.unpack_from(body)
        try:
            if self.on_console is None:
                raise ValueError(f"worker {self.index} has no device console")
            request = json.loads(body[_CALL.size :])
            answer = await self.on_console(request)
        except Exception as exc:  # the asking worker shows the reason; the link lives on
            logger.exception("the device console failed on a request from another worker")
            answer = {"failed": str(exc)}
        if not writer.is_closing():
            writer.write(_message(CONSOLE_ANSWER, _CALL.pack(call), json.dumps(answer).encode()))

    def _command(self, hub: bytes, frame: bytes, writer: asyncio.StreamWriter) -> None:
        if self.on_command is None:
            logger.warning(
                "a command for hub %s reached worker %d, which has no fleet", hub.hex(), self.index
            )
            return
        try:
            answers = self.on_command(hub, frame)
        except Exception:  # one bad command must not break the link
            logger.exception("the fleet failed on a command for hub %s", hub.hex())
            return
        if not answers:
            return
        if self.before_answer is None:
            self._write_answers(answers, writer)
        else:
            # Commands that arrive in one turn of the loop share one wait; the tasks resume
            # in the order they were made, so answers keep their order on each link.
            self._spawn(self._answer_when_ready(self.before_answer, answers, writer))

    async def _answer_when_ready(
        self,
        ready: Callable[[], Awaitable[None]],
        answers: list[Answer],
        writer: asyncio.StreamWriter,
    ) -> None:
        try:
            await ready()
        except Exception:
            logger.exception("answers to a command dropped: their state was not saved")
            return
        if not writer.is_closing():
            self._write_answers(answers, writer)

    @staticmethod
    def _write_answers(answers: list[Answer], writer: asyncio.StreamWriter) -> None:
        for source, sent, delay in answers:
            writer.write(_message(ANSWER, source, _DELAY.pack(delay), sent))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class PeerWan:
    """The device service's WAN in a worker that does not host the fleet (module docstring)."""

    def __init__(self, mesh: WorkerMesh) -> None:
        self.mesh = mesh
        self._receiver: FrameReceiver | None = None
        self._timers: set[asyncio.TimerHandle] = set()
        self._closed = False
        mesh.on_answer = self.answer

    def set_receiver(self, receiver: FrameReceiver) -> None:
        self._receiver = receiver

    def reachable(self, hub: bytes) -> bool:
        return not self._closed

    async def send(self, hub: bytes, frame: bytes) -> None:
        if self._closed:
            raise WanError("the WAN is closed")
        try:
            await self.mesh.command(hub, frame)
        except OSError as exc:
            raise HubUnreachableError(
                hub, f"the sandbox worker hosting the devices cannot be reached ({exc})"
            ) from None

    def answer(self, source: bytes, frame: bytes, delay: float) -> None:
        """A frame from device ``source``, due after ``delay`` seconds."""
        if self._closed:
            return
        if delay <= 0:
            self._deliver(source, frame)
            return
        loop = asyncio.get_running_loop()
        timer: asyncio.TimerHandle | None = None

        def due() -> None:
            if timer is not None:
                self._timers.discard(timer)
            self._deliver(source, frame)

        timer = loop.call_later(delay, due)
        self._timers.add(timer)

    def _deliver(self, source: bytes, frame: bytes) -> None:
        receiver = self._receiver
        if receiver is None:
            return
        try:
            receiver(source, frame)
        except Exception:  # a failing receiver must not break the link
            logger.exception("the gateway failed on a frame from %s", source.hex())

    async def close(self) -> None:
        self._closed = True
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
