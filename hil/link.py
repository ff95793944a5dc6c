"""A byte link over a serial port (pyserial-asyncio-fast) or TCP, for the optical and dongle code.

What it adds to a transport:

- ``open()`` turns a missing port, a permission problem or a refused connection into
  :class:`~hil.errors.PortError` with a sentence naming the port;
- software 7E1: even parity computed into bit 7 on send and masked off on receive, for
  pseudo-terminals (which silently ignore a request for 7 data bits and even parity) and for
  anyone who wants the parity in software. ``Parity.AUTO`` asks the port for hardware 7E1 and
  falls back to software when the port does not keep the setting;
- baud switching, and ``drain_wire()`` which waits until written bytes have left a real UART
  (at 300 baud six characters take 200 ms) before the caller switches speed;
- reads with timeouts, and a frame log of what went each way.

URLs: a device path (``/dev/ttyUSB0``, ``/dev/pts/3``) or ``socket://HOST:PORT`` (a TCP serial
bridge such as ser2net, or ``smetsim hil serve --tcp``). On TCP there is no line speed: a baud
switch is only recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import termios
import time
import tty
import urllib.parse
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import serial
from serial_asyncio_fast import SerialTransport

from hil.errors import PortError
from hil.framelog import Direction, FrameLog

# Even parity in bit 7 of a 7-bit character; masking clears it again.
_EVEN_PARITY = bytes((b & 0x7F) | (0x80 if bin(b & 0x7F).count("1") % 2 else 0) for b in range(256))
_MASK_7BIT = bytes(b & 0x7F for b in range(256))

PTY_MAJORS = range(136, 144)  # Linux Unix98 pty slaves
DRAIN_LIMIT = 10.0  # seconds: the most a write may take to leave the port
BITS_PER_CHAR = 10  # 7E1: start, 7 data, parity, stop; 8N1: start, 8 data, stop


def add_even_parity(data: bytes) -> bytes:
    """7-bit characters with their even parity bit in bit 7 (what a 7E1 UART sends)."""
    return data.translate(_EVEN_PARITY)


def strip_parity(data: bytes) -> tuple[bytes, int]:
    """Mask bit 7 off; also count the characters whose parity was wrong."""
    expected = data.translate(_EVEN_PARITY)
    errors = sum(1 for got, want in zip(data, expected, strict=True) if got != want)
    return data.translate(_MASK_7BIT), errors


class Parity(StrEnum):
    """How 7E1 (7 data bits, even parity, 1 stop bit) is made on a port."""

    AUTO = "auto"  # hardware 7E1, software when the port refuses it (ptys)
    HARDWARE = "hardware"  # the UART makes and checks the parity
    SOFTWARE = "software"  # 8N1 on the port, parity computed in bit 7 and masked on receive
    NONE = "none"  # 8N1, bytes as they are (TCP serial bridges that strip parity)


class Framing(StrEnum):
    SEVEN_E1 = "7E1"
    EIGHT_N1 = "8N1"


@dataclass(frozen=True, slots=True)
class LineState:
    """What the link runs on after opening (reported by the CLI, asserted by tests)."""

    url: str
    is_socket: bool
    is_pty: bool
    software_parity: bool
    hardware_parity: bool


def is_pty_path(path: str) -> bool:
    """True for a pseudo-terminal slave device (Linux major 136-143, or a /dev/pts path)."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return path.startswith("/dev/pts/") or os.major(st.st_rdev) in PTY_MAJORS


def hardware_7e1_kept(fd: int) -> bool:
    """Whether the terminal behind ``fd`` kept 7 data bits and even parity after a request."""
    attrs = termios.tcgetattr(fd)
    cflag = attrs[2]
    return (cflag & termios.CSIZE) == termios.CS7 and bool(cflag & termios.PARENB)


class _SerialTransport(SerialTransport):
    """pyserial-asyncio-fast's transport, closing the port synchronously.

    The stock transport flushes and closes the port in the loop's default executor, which
    leaves worker threads behind each session; our callers drain before closing, so a direct
    close is quick and leaves nothing running.
    """

    async def _call_connection_lost(self, exc: Exception | None, *, flush: bool) -> None:
        self._write_buffer.clear()
        port = self._serial
        if port is not None:
            with contextlib.suppress(OSError, serial.SerialException):
                port.close()
        self._protocol.connection_lost(exc)


class _PtyMasterTransport(asyncio.Transport):
    """The master end of a fresh pseudo-terminal, as a transport; it holds the slave open
    (raw mode) so that clients may come and go, and closes both ends when closed."""

    def __init__(self, protocol: asyncio.Protocol, master: int, slave: int) -> None:
        super().__init__()
        self._loop = asyncio.get_running_loop()
        self._protocol = protocol
        self._master = master
        self._slave = slave
        self._buffer = bytearray()
        self._closing = False
        self._loop.add_reader(master, self._read_ready)
        self._loop.call_soon(protocol.connection_made, self)

    def _read_ready(self) -> None:
        try:
            data = os.read(self._master, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return  # EIO while no client has the slave open: nothing to read
        if data:
            self._protocol.data_received(data)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing:
            return
        if not self._buffer:
            try:
                written = os.write(self._master, data)
            except BlockingIOError:
                written = 0
            data = bytes(data)[written:]
            if not data:
                return
            self._loop.add_writer(self._master, self._write_ready)
        self._buffer += data

    def _write_ready(self) -> None:
        try:
            written = os.write(self._master, self._buffer)
        except BlockingIOError:
            return
        del self._buffer[:written]
        if not self._buffer:
            self._loop.remove_writer(self._master)

    def get_write_buffer_size(self) -> int:
        return len(self._buffer)

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._loop.remove_reader(self._master)
        self._loop.remove_writer(self._master)
        os.close(self._master)
        os.close(self._slave)
        self._loop.call_soon(self._protocol.connection_lost, None)

    def abort(self) -> None:
        self.close()


def open_raw_pty(baudrate: int) -> tuple[int, int, str]:
    """A new pseudo-terminal in raw mode at ``baudrate``: (master, slave, slave path)."""
    master, slave = os.openpty()
    try:
        tty.setraw(slave)
        attrs = termios.tcgetattr(slave)
        speed = getattr(termios, f"B{baudrate}", termios.B9600)
        attrs[4] = attrs[5] = speed
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        os.set_blocking(master, False)
        path = os.ttyname(slave)
    except OSError:
        os.close(master)
        os.close(slave)
        raise
    return master, slave, path


class _Receiver(asyncio.Protocol):
    def __init__(self) -> None:
        loop = asyncio.get_running_loop()
        self.buffer = bytearray()
        self.arrived = asyncio.Event()
        self.lost: asyncio.Future[None] = loop.create_future()
        self.error: BaseException | None = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self.arrived.set()

    def connection_lost(self, exc: BaseException | None) -> None:
        self.error = exc
        if not self.lost.done():
            self.lost.set_result(None)
        self.arrived.set()


def _loop_time(monotonic: float) -> float:
    """A ``time.monotonic()`` instant on the running loop's clock."""
    return asyncio.get_running_loop().time() + (monotonic - time.monotonic())


def _port_error(url: str, exc: BaseException) -> PortError:
    code = getattr(exc, "errno", None)
    if code == errno.ENOENT:
        return PortError(f"no such port: {url}")
    if code in (errno.EACCES, errno.EPERM):
        return PortError(
            f"permission denied opening {url} (is your user in the port's group, e.g. dialout?)"
        )
    if code == errno.EBUSY:
        return PortError(f"port busy: {url} (another program has it open)")
    if isinstance(exc, ConnectionRefusedError):
        return PortError(f"connection refused: {url} (nothing listens there)")
    detail = str(exc).strip() or type(exc).__name__
    return PortError(f"cannot open {url}: {detail}")


def _open_port(
    url: str, baudrate: int, framing: Framing, parity: Parity
) -> tuple[serial.Serial, LineState]:
    """Open a serial port (a blocking call, but a quick one) and settle how 7E1 is made.

    A pty cannot do 7E1: Linux rejects CS7 and PARENB on it (EINVAL when nothing else
    changes, silently ignored otherwise), so ``AUTO`` goes straight to software parity there,
    and to software too when a port turns the 7E1 request down or does not keep it.
    """
    if not os.path.exists(url):
        raise PortError(f"no such port: {url}")
    pty = is_pty_path(url)
    seven_e1 = framing is Framing.SEVEN_E1
    if seven_e1 and pty and parity is Parity.HARDWARE:
        raise PortError(f"{url} is a pseudo-terminal, which does not keep 7E1: use software parity")
    want_hw = seven_e1 and (parity is Parity.HARDWARE or (parity is Parity.AUTO and not pty))
    port = serial.Serial()
    port.port = url
    port.baudrate = baudrate
    port.stopbits = serial.STOPBITS_ONE
    port.timeout = 0
    port.write_timeout = 0

    def open_as(hardware_7e1: bool) -> None:
        port.bytesize = serial.SEVENBITS if hardware_7e1 else serial.EIGHTBITS
        port.parity = serial.PARITY_EVEN if hardware_7e1 else serial.PARITY_NONE
        port.open()

    try:
        try:
            open_as(want_hw)
        except termios.error:
            if not (want_hw and parity is Parity.AUTO):
                raise
            # the port turned 7E1 down (tcsetattr EINVAL): software parity on 8N1
            open_as(False)
            want_hw = False
        hardware = want_hw and hardware_7e1_kept(port.fileno())
        if want_hw and not hardware:
            if parity is Parity.HARDWARE:
                port.close()
                raise PortError(f"{url} does not keep 7E1: use software parity")
            port.close()
            open_as(False)  # one change at a time would be refused: reopen 8N1
    except PortError:
        raise
    except (OSError, serial.SerialException, termios.error, ValueError) as exc:
        if port.is_open:
            port.close()
        raise _port_error(url, exc) from None
    software = seven_e1 and not hardware and parity is not Parity.NONE
    return port, LineState(url, False, pty, software, hardware)


class ByteLink:
    """A byte stream to a device; create with :meth:`open`, end with :meth:`close`."""

    def __init__(
        self,
        *,
        state: LineState,
        transport: asyncio.Transport,
        receiver: _Receiver,
        port: serial.Serial | None,
        baudrate: int,
        framing: Framing,
        frame_log: FrameLog,
    ) -> None:
        self.state = state
        self._transport = transport
        self._receiver = receiver
        self._port = port
        self._baudrate = baudrate
        self._framing = framing
        self.frame_log = frame_log
        self._wire_busy_until = 0.0
        self._rx_unlogged = bytearray()
        self._rx_parity_errors = 0
        self._closed = False

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        baudrate: int,
        framing: Framing = Framing.EIGHT_N1,
        parity: Parity = Parity.AUTO,
        frame_log: FrameLog | None = None,
    ) -> ByteLink:
        """Open ``url``; raises :class:`PortError` with a one-line reason."""
        log = frame_log if frame_log is not None else FrameLog()
        loop = asyncio.get_running_loop()
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme == "socket":
            if not parsed.hostname or parsed.port is None:
                raise PortError(f"bad socket URL (want socket://HOST:PORT): {url}")
            software = framing is Framing.SEVEN_E1 and parity is Parity.SOFTWARE
            try:
                transport, receiver = await loop.create_connection(
                    _Receiver, parsed.hostname, parsed.port
                )
            except OSError as exc:
                raise _port_error(url, exc) from None
            state = LineState(url, True, False, software, False)
            log.note(f"opened {url} ({'software 7E1' if software else 'bytes as they are'})")
            return cls(
                state=state,
                transport=transport,
                receiver=receiver,
                port=None,
                baudrate=baudrate,
                framing=framing,
                frame_log=log,
            )
        if parsed.scheme and parsed.scheme != "file" and "://" in url:
            raise PortError(f"unsupported port URL scheme {parsed.scheme!r} in {url}")
        return await cls._open_serial(url, baudrate, framing, parity, log)

    @classmethod
    async def open_pty(
        cls,
        *,
        baudrate: int,
        framing: Framing = Framing.EIGHT_N1,
        software_parity: bool = False,
        frame_log: FrameLog | None = None,
    ) -> ByteLink:
        """Serve on a new pseudo-terminal: the link is its master end, and
        ``state.url`` the device path a client opens (the far end of the pair)."""
        log = frame_log if frame_log is not None else FrameLog()
        master, slave, path = open_raw_pty(baudrate)
        receiver = _Receiver()
        transport = _PtyMasterTransport(receiver, master, slave)
        software = framing is Framing.SEVEN_E1 and software_parity
        state = LineState(path, False, True, software, False)
        log.note(f"serving on pty {path}", baud=baudrate)
        return cls(
            state=state,
            transport=transport,
            receiver=receiver,
            port=None,
            baudrate=baudrate,
            framing=framing,
            frame_log=log,
        )

    @classmethod
    async def _open_serial(
        cls, url: str, baudrate: int, framing: Framing, parity: Parity, log: FrameLog
    ) -> ByteLink:
        port, state = _open_port(url, baudrate, framing, parity)
        loop = asyncio.get_running_loop()
        receiver = _Receiver()
        transport = _SerialTransport(loop, receiver, port)
        how = (
            "hardware 7E1"
            if state.hardware_parity
            else "software 7E1"
            if state.software_parity
            else "8N1"
        )
        log.note(f"opened {url} at {baudrate} baud, {how}", baud=baudrate)
        return cls(
            state=state,
            transport=transport,
            receiver=receiver,
            port=port,
            baudrate=baudrate,
            framing=framing,
            frame_log=log,
        )

    # -- properties -------------------------------------------------------------------------

    @property
    def baudrate(self) -> int:
        return self._baudrate

    @property
    def is_closed(self) -> bool:
        return self._closed or self._receiver.lost.done()

    @property
    def went_away(self) -> bool:
        """The port closed under us (the far end of a pty, a TCP peer, a USB adapter)."""
        return self._receiver.lost.done() and not self._closed

    # -- writing ----------------------------------------------------------------------------

    def write(self, data: bytes, *, note: str = "") -> None:
        """Send ``data`` (7-bit characters when the link is 7E1)."""
        if self.is_closed:
            raise PortError(f"port closed: {self.state.url}")
        self.frame_log.record(Direction.TX, data, baud=self._baudrate, note=note)
        wire = add_even_parity(data) if self.state.software_parity else data
        self._transport.write(wire)
        now = time.monotonic()
        start = max(now, self._wire_busy_until)
        self._wire_busy_until = start + len(wire) * BITS_PER_CHAR / self._baudrate

    async def drain_wire(self) -> None:
        """Wait until what was written has left the port (the UART, for a real serial port)."""
        deadline = time.monotonic() + DRAIN_LIMIT
        # the transport has no "buffer empty" event below its high-water mark: poll it
        while self._transport.get_write_buffer_size() and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.001)
        if self._port is None or self.state.is_pty:
            return  # no UART: nothing more to wait for
        remaining = min(self._wire_busy_until - time.monotonic(), deadline - time.monotonic())
        if remaining > 0:
            await asyncio.sleep(remaining)
        if self._port.is_open:
            self._port.flush()  # tcdrain: at most a character time now

    async def write_and_drain(self, data: bytes, *, note: str = "") -> None:
        self.write(data, note=note)
        await self.drain_wire()

    def set_baudrate(self, baudrate: int) -> None:
        """Switch the line speed (recorded only, on TCP)."""
        if baudrate == self._baudrate:
            return
        self.log_rx()
        self.frame_log.note(f"baud {self._baudrate} -> {baudrate}", baud=baudrate)
        self._baudrate = baudrate
        if self._port is not None and self._port.is_open:
            try:
                self._port.baudrate = baudrate
            except (OSError, serial.SerialException, ValueError) as exc:
                raise PortError(f"cannot set {baudrate} baud on {self.state.url}: {exc}") from None

    # -- reading ----------------------------------------------------------------------------

    async def read_some(self, until: float) -> bytes:
        """What arrived, waiting until the monotonic time ``until``; ``b""`` if nothing came.

        Raises :class:`PortError` when the port went away.
        """
        receiver = self._receiver
        if not receiver.buffer:
            if receiver.lost.done():
                raise PortError(f"port closed: {self.state.url}")
            receiver.arrived.clear()
            try:
                # asyncio.timeout_at, not wait_for: on 3.11 wait_for loses a cancellation
                # that arrives together with the data
                async with asyncio.timeout_at(_loop_time(until)):
                    await receiver.arrived.wait()
            except TimeoutError:
                return b""
            if not receiver.buffer:
                raise PortError(f"port closed: {self.state.url}")
        data = bytes(receiver.buffer)
        receiver.buffer.clear()
        if self.state.software_parity:
            data, errors = strip_parity(data)
            self._rx_parity_errors += errors
        self._rx_unlogged += data
        return data

    def discard_input(self) -> None:
        """Drop what arrived and was not read (before a new sign-on)."""
        self._receiver.buffer.clear()

    def log_rx(self, note: str = "") -> None:
        """Move the bytes read since the last call into the frame log as one record."""
        if not self._rx_unlogged:
            if note:
                self.frame_log.note(note, baud=self._baudrate)
            return
        if self._rx_parity_errors:
            extra = f"{self._rx_parity_errors} parity error(s)"
            note = f"{note}; {extra}" if note else extra
        data = bytes(self._rx_unlogged)
        self.frame_log.record(Direction.RX, data, baud=self._baudrate, note=note)
        self._rx_unlogged.clear()
        self._rx_parity_errors = 0

    # -- closing ----------------------------------------------------------------------------

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.log_rx()
        transport = self._transport
        if not transport.is_closing():
            transport.close()
        try:
            async with asyncio.timeout(2.0):
                await asyncio.shield(self._receiver.lost)
        except TimeoutError:
            transport.abort()
            async with asyncio.timeout(2.0):
                await asyncio.shield(self._receiver.lost)

    async def __aenter__(self) -> ByteLink:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()
