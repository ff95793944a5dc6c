"""GBCS frames to and from a HAN dongle over serial: framing, CRC, acknowledgements.

The framing (documented in ``docs/hil.md``, "The dongle link"):

    wire  = END escaped(body) END              END = 0xC0 (SLIP, RFC 1055)
    body  = header seq payload crc             escaping: C0 -> DB DC, DB -> DB DD
    header: 0x11 DATA, 0x12 ACK                (high nibble: framing version 1)
    seq:    0..255, the DATA frame's number; an ACK repeats the number it acknowledges
    payload (DATA): the device's EUI-64 (8 bytes), then one whole GBCS message
    payload (ACK):  empty
    crc:    CRC-16/IBM-3740 ("CCITT-FALSE": poly 0x1021, init 0xFFFF, not reflected,
            no final XOR; check value 0x29B1) over header, seq and payload, big-endian

Why byte stuffing rather than a length prefix: after line noise or a lost byte, the receiver
is back in step at the next END, whereas a corrupted length makes it wait for bytes that
never come. Why a CRC when GBCS has MACs and signatures: these catch tampering at the far end,
much later; the CRC lets the link drop a damaged frame and retransmit it at once, so the
device never sees line noise as a GBCS message.

Delivery is stop-and-wait: each DATA frame is acknowledged; the sender repeats it after
``ack_timeout`` up to ``retries`` times, then reports :class:`~hil.errors.LinkTimeout`. The
receiver acknowledges every good DATA frame and delivers it once: a repeat (same sequence
number and payload as the last one delivered) is acknowledged again but not delivered twice.

:class:`FrameDecoder` and :func:`encode_frame` are the sans-IO part; :class:`DongleLink` runs
them over a :class:`~hil.link.ByteLink` (a serial port, a pty or ``socket://``);
:class:`DeviceServer` is the device's end (a callable gets each GBCS frame and returns the
answers); :class:`SerialWan` is the gateway's end, one device behind the dongle.
"""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Self

from gbcs.wan import FrameReceiver, HubUnreachableError
from hil.errors import DongleDecodeError, LinkTimeout, PortError
from hil.framelog import FrameLog
from hil.link import ByteLink, Framing

log = logging.getLogger(__name__)

END = 0xC0
ESC = 0xDB
ESC_END = 0xDC
ESC_ESC = 0xDD
VERSION = 1
EUI_LENGTH = 8
MAX_BODY = 65536  # header + seq + EUI + GBCS + CRC; longer frames are rejected
DEFAULT_BAUD = 115200


def crc16(data: bytes) -> int:
    """CRC-16/IBM-3740 (CCITT-FALSE): ``crc16(b"123456789") == 0x29B1``."""
    return binascii.crc_hqx(data, 0xFFFF)


class FrameType(IntEnum):
    DATA = 0x10 | 0x01
    ACK = 0x10 | 0x02


@dataclass(frozen=True, slots=True)
class DongleFrame:
    """One frame of the link: a DATA frame carries a device EUI and a GBCS message."""

    type: FrameType
    seq: int
    eui: bytes = b""
    gbcs: bytes = b""

    def __post_init__(self) -> None:
        if not 0 <= self.seq <= 255:
            raise ValueError(f"sequence number out of range 0..255: {self.seq}")
        if self.type is FrameType.DATA:
            if len(self.eui) != EUI_LENGTH:
                raise ValueError(f"a DATA frame needs an 8-byte EUI, got {self.eui.hex()!r}")
            if not self.gbcs:
                raise ValueError("a DATA frame needs a GBCS message")
        elif self.eui or self.gbcs:
            raise ValueError("an ACK frame carries no payload")

    def body(self) -> bytes:
        unchecked = bytes([self.type, self.seq]) + self.eui + self.gbcs
        return unchecked + crc16(unchecked).to_bytes(2, "big")

    def to_bytes(self) -> bytes:
        body = self.body()
        if len(body) > MAX_BODY:
            raise ValueError(f"frame body of {len(body)} bytes exceeds {MAX_BODY}")
        escaped = body.replace(bytes([ESC]), bytes([ESC, ESC_ESC])).replace(
            bytes([END]), bytes([ESC, ESC_END])
        )
        return bytes([END]) + escaped + bytes([END])

    @classmethod
    def from_body(cls, body: bytes) -> DongleFrame:
        """A frame from its unescaped body; :class:`DongleDecodeError` if it is not one."""
        if len(body) < 4:
            raise DongleDecodeError(f"frame too short ({len(body)} bytes): {body.hex()}")
        received = int.from_bytes(body[-2:], "big")
        computed = crc16(body[:-2])
        if received != computed:
            raise DongleDecodeError(
                f"bad CRC: received 0x{received:04X}, computed 0x{computed:04X}"
            )
        header, seq, payload = body[0], body[1], body[2:-2]
        if header >> 4 != VERSION:
            raise DongleDecodeError(
                f"unknown framing version {header >> 4} (header 0x{header:02X})"
            )
        try:
            kind = FrameType(header)
        except ValueError:
            raise DongleDecodeError(f"unknown frame type 0x{header:02X}") from None
        if kind is FrameType.ACK:
            if payload:
                raise DongleDecodeError(f"ACK frame with a {len(payload)}-byte payload")
            return cls(kind, seq)
        if len(payload) <= EUI_LENGTH:
            raise DongleDecodeError(f"DATA frame without a GBCS message ({len(payload)} bytes)")
        return cls(kind, seq, payload[:EUI_LENGTH], payload[EUI_LENGTH:])


def encode_frame(eui: bytes, gbcs: bytes, seq: int) -> bytes:
    """The wire bytes of a DATA frame."""
    return DongleFrame(FrameType.DATA, seq, eui, gbcs).to_bytes()


@dataclass(frozen=True, slots=True)
class FrameRejected:
    """Bytes between two ENDs that were not a good frame (noise, damage), and why."""

    reason: str
    raw: bytes


@dataclass
class FrameDecoder:
    """Sans-IO: ``feed(bytes)`` returns the frames (and rejects) completed by those bytes."""

    max_body: int = MAX_BODY
    _body: bytearray = field(default_factory=bytearray)
    _escaped: bool = False
    _bad: str = ""
    _overflow: bool = False

    def feed(self, data: bytes) -> list[DongleFrame | FrameRejected]:
        out: list[DongleFrame | FrameRejected] = []
        for byte in data:
            if byte == END:
                if self._body or self._bad or self._overflow:
                    out.append(self._finish())
                continue
            if self._overflow:
                continue
            if self._escaped:
                self._escaped = False
                if byte == ESC_END:
                    byte = END
                elif byte == ESC_ESC:
                    byte = ESC
                elif not self._bad:
                    self._bad = f"bad escape 0xDB 0x{byte:02X}"
            elif byte == ESC:
                self._escaped = True
                continue
            self._body.append(byte)
            if len(self._body) > self.max_body:
                self._overflow = True
        return out

    def _finish(self) -> DongleFrame | FrameRejected:
        body = bytes(self._body)
        bad, overflow = self._bad, self._overflow
        self._body.clear()
        self._escaped = False
        self._bad = ""
        self._overflow = False
        if overflow:
            return FrameRejected(f"frame longer than {self.max_body} bytes", body[:64])
        if bad:
            return FrameRejected(bad, body)
        try:
            return DongleFrame.from_body(body)
        except DongleDecodeError as exc:
            return FrameRejected(str(exc), body)


@dataclass(frozen=True, slots=True)
class LinkTiming:
    """How long to wait for an ACK, and how often to repeat a DATA frame."""

    ack_timeout: float = 0.5
    retries: int = 3

    def __post_init__(self) -> None:
        if self.retries < 1 or self.ack_timeout <= 0:
            raise ValueError(f"bad link timing: {self}")


@dataclass
class LinkStats:
    sent: int = 0
    retransmitted: int = 0
    received: int = 0
    duplicates: int = 0
    rejected: int = 0
    timeouts: int = 0


class DongleLink:
    """Frames over a byte link, acknowledged and deduplicated. Use :meth:`open`, or wrap an
    open :class:`ByteLink` and call :meth:`start`; end with :meth:`close`."""

    def __init__(self, link: ByteLink, *, timing: LinkTiming | None = None) -> None:
        self.link = link
        self.timing = timing if timing is not None else LinkTiming()
        self.stats = LinkStats()
        self._decoder = FrameDecoder()
        self._inbound: asyncio.Queue[tuple[bytes, bytes] | None] = asyncio.Queue()
        self._receiver: FrameReceiver | None = None
        self._next_seq = 0
        self._send_lock = asyncio.Lock()
        self._pending: tuple[int, asyncio.Future[None]] | None = None
        self._last_delivered: tuple[int, bytes, bytes] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._down: BaseException | None = None

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        baudrate: int = DEFAULT_BAUD,
        timing: LinkTiming | None = None,
        frame_log: FrameLog | None = None,
    ) -> DongleLink:
        byte_link = await ByteLink.open(
            url, baudrate=baudrate, framing=Framing.EIGHT_N1, frame_log=frame_log
        )
        link = cls(byte_link, timing=timing)
        link.start()
        return link

    @property
    def frame_log(self) -> FrameLog:
        return self.link.frame_log

    @property
    def is_up(self) -> bool:
        return self._reader is not None and self._down is None and not self.link.is_closed

    def start(self) -> None:
        if self._reader is None:
            self._reader = asyncio.create_task(self._read_loop(), name="dongle-link-reader")

    def set_receiver(self, receiver: Callable[[bytes, bytes], None] | None) -> None:
        """Give each received frame to ``receiver(eui, gbcs)`` instead of the queue."""
        self._receiver = receiver

    async def send_frame(self, eui: bytes, gbcs: bytes) -> None:
        """Send one GBCS message for/from ``eui``; returns once the far end acknowledged it.

        :class:`LinkTimeout` after ``retries`` unacknowledged attempts; :class:`PortError`
        when the port is gone.
        """
        async with self._send_lock:
            self._check_up()
            seq = self._next_seq
            self._next_seq = (seq + 1) % 256
            wire = encode_frame(eui, gbcs, seq)
            loop = asyncio.get_running_loop()
            for attempt in range(1, self.timing.retries + 1):
                acked: asyncio.Future[None] = loop.create_future()
                self._pending = (seq, acked)
                note = f"DATA seq {seq} for {eui.hex()}" + (
                    f", repeat {attempt - 1}" if attempt > 1 else ""
                )
                self.link.write(wire, note=note)
                if attempt == 1:
                    self.stats.sent += 1
                else:
                    self.stats.retransmitted += 1
                try:
                    # asyncio.timeout, not wait_for: on 3.11 wait_for loses a cancellation
                    # that arrives together with the ACK
                    async with asyncio.timeout(self.timing.ack_timeout):
                        await acked
                    return
                except TimeoutError:
                    self._check_up()
                    continue
                finally:
                    self._pending = None
            self.stats.timeouts += 1
            raise LinkTimeout(
                f"no acknowledgement on {self.link.state.url} for the frame to {eui.hex()} "
                f"after {self.timing.retries} attempt(s)"
            )

    async def receive_frame(self) -> tuple[bytes, bytes]:
        """The next (EUI, GBCS message) from the far end; PortError when the link is down."""
        if self._inbound.empty():
            self._check_up()
        item = await self._inbound.get()
        if item is None:
            self._inbound.put_nowait(None)  # for the next caller too
            self._check_up()
            raise PortError(f"link closed: {self.link.state.url}")
        return item

    def _check_up(self) -> None:
        if self.link.went_away:
            raise PortError(f"the port went away: {self.link.state.url}")
        if self.link.is_closed:
            raise PortError(f"link closed: {self.link.state.url}")
        if self._down is not None:
            raise PortError(f"link down on {self.link.state.url}: {self._down}")

    async def _read_loop(self) -> None:
        try:
            while True:
                data = await self.link.read_some(time.monotonic() + 3600.0)
                if data:
                    for item in self._decoder.feed(data):
                        self._on_item(item)
        except PortError as exc:
            self._down = exc
            if self._pending is not None and not self._pending[1].done():
                self._pending[1].set_exception(exc)
            self._inbound.put_nowait(None)

    def _on_item(self, item: DongleFrame | FrameRejected) -> None:
        if isinstance(item, FrameRejected):
            self.stats.rejected += 1
            self.link.log_rx(f"rejected: {item.reason}")
            return
        if item.type is FrameType.ACK:
            self.link.log_rx(f"ACK seq {item.seq}")
            pending = self._pending
            if pending is not None and pending[0] == item.seq and not pending[1].done():
                pending[1].set_result(None)
            return
        ack = DongleFrame(FrameType.ACK, item.seq).to_bytes()
        key = (item.seq, item.eui, item.gbcs)
        if key == self._last_delivered:
            self.stats.duplicates += 1
            self.link.log_rx(f"DATA seq {item.seq} again: acknowledged, not delivered twice")
            self.link.write(ack, note=f"ACK seq {item.seq}")
            return
        self.link.log_rx(f"DATA seq {item.seq} from {item.eui.hex()}")
        self.link.write(ack, note=f"ACK seq {item.seq}")
        self._last_delivered = key
        self.stats.received += 1
        if self._receiver is not None:
            try:
                self._receiver(item.eui, item.gbcs)
            except Exception:  # a failing receiver must not stop the link
                log.exception("the receiver failed on a frame from %s", item.eui.hex())
        else:
            self._inbound.put_nowait((item.eui, item.gbcs))

    async def close(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        await self.link.close()
        self._inbound.put_nowait(None)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


# -- the device's end -----------------------------------------------------------------------

FrameHandler = Callable[[bytes], list[bytes] | Awaitable[list[bytes]]]


class DeviceServer:
    """The device behind the dongle: each GBCS frame for ``eui`` (or an EUI in ``also``) goes
    to ``handler``, whose answers go back from ``eui``. Frames for other EUIs are logged and
    dropped. Run :meth:`serve`."""

    def __init__(
        self,
        link: DongleLink,
        eui: bytes,
        handler: FrameHandler,
        *,
        also: Collection[bytes] = (),
    ) -> None:
        """``also``: other EUIs whose frames are this device's too - the communications hub
        it sits behind, which is what a gateway addresses."""
        for candidate in (eui, *also):
            if len(candidate) != EUI_LENGTH:
                raise ValueError(f"device EUI must be 8 bytes: {candidate.hex()!r}")
        self.link = link
        self.eui = eui
        self.accepts = frozenset({eui, *also})
        self.handler = handler
        self.handled = 0
        self.failures = 0

    async def serve(self) -> None:
        """Until the link goes down (returns) or the task is cancelled."""
        while True:
            try:
                eui, frame = await self.link.receive_frame()
            except PortError:
                return
            if eui not in self.accepts:
                log.warning("frame for %s dropped: this is device %s", eui.hex(), self.eui.hex())
                self.link.frame_log.note(f"frame for {eui.hex()} dropped: not this device")
                continue
            try:
                result = self.handler(frame)
                answers = await result if inspect.isawaitable(result) else result
            except Exception:  # a failing device must not stop the server
                self.failures += 1
                log.exception("device %s failed on a frame", self.eui.hex())
                continue
            self.handled += 1
            for answer in answers:
                await self.send(answer)

    async def send(self, frame: bytes) -> None:
        """Send a frame up unprompted (an alert)."""
        await self.link.send_frame(self.eui, frame)


# -- the gateway's end ----------------------------------------------------------------------


class SerialWan:
    """A WAN to the devices behind one serial dongle (usually one device).

    It is a :class:`gbcs.wan.Wan`, the gateway's WAN interface: ``send`` raises
    :class:`~gbcs.wan.HubUnreachableError` for a device not behind the dongle or a link that
    is down.
    """

    def __init__(self, link: DongleLink, euis: Collection[bytes]) -> None:
        if not euis:
            raise ValueError("a serial WAN needs the EUI of at least one device")
        for eui in euis:
            if len(eui) != EUI_LENGTH:
                raise ValueError(f"device EUI must be 8 bytes: {eui.hex()!r}")
        self.link = link
        self.euis = frozenset(euis)
        self._receiver: FrameReceiver | None = None
        self._reopener: asyncio.Task[None] | None = None
        self.reopened = 0
        link.set_receiver(self._deliver)

    @classmethod
    async def open(
        cls,
        url: str,
        euis: Collection[bytes],
        *,
        baudrate: int = DEFAULT_BAUD,
        timing: LinkTiming | None = None,
        frame_log: FrameLog | None = None,
        reopen_every: float | None = 1.0,
    ) -> SerialWan:
        """Open the dongle on ``url``. With ``reopen_every`` (seconds), a port that goes away
        (a USB dongle unplugged) is tried again at that interval and used again once it is
        back (plugged in again: name it by a stable path such as ``/dev/serial/by-id/...``);
        meanwhile its devices are unreachable."""
        link = await DongleLink.open(url, baudrate=baudrate, timing=timing, frame_log=frame_log)
        wan = cls(link, euis)
        if reopen_every is not None and reopen_every > 0:
            wan._reopener = asyncio.create_task(
                wan._keep_open(url, baudrate, timing, link.frame_log, reopen_every),
                name="serial-wan-reopen",
            )
        return wan

    async def _keep_open(
        self,
        url: str,
        baudrate: int,
        timing: LinkTiming | None,
        frame_log: FrameLog,
        every: float,
    ) -> None:
        while True:
            await asyncio.sleep(every)
            if self.link.is_up:
                continue
            try:
                link = await DongleLink.open(
                    url, baudrate=baudrate, timing=timing, frame_log=frame_log
                )
            except (PortError, OSError):
                continue  # still gone: try again
            old, self.link = self.link, link
            link.set_receiver(self._deliver)
            self.reopened += 1
            frame_log.note(f"port {url} is back: reopened")
            log.warning("the dongle's port %s is back: reopened", url)
            with contextlib.suppress(PortError, OSError):
                await old.close()

    def set_receiver(self, receiver: FrameReceiver) -> None:
        """``receiver(source_eui, frame)`` gets each frame coming up from the dongle."""
        self._receiver = receiver

    def reachable(self, hub: bytes) -> bool:
        return hub in self.euis and self.link.is_up

    async def send(self, hub: bytes, frame: bytes) -> None:
        if hub not in self.euis:
            raise HubUnreachableError(hub, f"not behind the dongle on {self.link.link.state.url}")
        try:
            await self.link.send_frame(hub, frame)
        except (LinkTimeout, PortError) as exc:
            raise HubUnreachableError(hub, str(exc)) from exc

    def _deliver(self, eui: bytes, frame: bytes) -> None:
        if eui not in self.euis:
            log.warning("frame from %s not behind this dongle: dropped", eui.hex())
            self.link.frame_log.note(f"frame from unknown device {eui.hex()} dropped")
            return
        if self._receiver is None:
            log.warning("frame from %s dropped: no receiver set", eui.hex())
            self.link.frame_log.note(f"frame from {eui.hex()} dropped: no receiver")
            return
        self._receiver(eui, frame)

    async def close(self) -> None:
        reopener, self._reopener = self._reopener, None
        if reopener is not None:
            reopener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reopener
        await self.link.close()
