"""A virtual optical port: an emulated meter's IEC 62056-21 side, on a pty or a TCP socket.

:class:`OpticalMeter` is the meter's side of the protocol, sans-IO: bytes in, a list of
:class:`Transmit` (send these bytes after this reaction time, at this baud) and
:class:`SwitchBaud` out. Its states and transitions are a table (``TRANSITIONS``).

What it reads out comes from a :class:`ReadoutSource` - the identity of the meter and a list of
(OBIS, value, unit) readings, asked afresh for every readout so that the clock ticks and the
registers grow. The hil package knows nothing of the emulator: the smetsim layer adapts an
emulated ESME to this protocol (``smetsim.hil_adapters``).

:class:`PtyOpticalPort` serves one meter on a pseudo-terminal. It holds the slave end open (so
the port survives clients coming and going) and speaks software 7E1 by default, since a pty
cannot do 7E1. Because the line settings of a pty are shared by both ends, it can see the
client's baud rate: bytes the meter sends while the client's line is at another speed arrive
as garbage, as they would on a real line - so a client that forgets the baud switch fails.

:class:`TcpOpticalPort` serves the meter to any number of TCP clients (``socket://HOST:PORT``),
one session each, bytes as they are (8N1) by default.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import termios
import tty
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol, Self

from hil.errors import Iec62056DecodeError
from hil.framelog import Direction, FrameLog
from hil.iec62056_21 import (
    INITIAL_BAUD,
    MODE_C_BAUD,
    Acknowledge,
    AckOptionSelect,
    CommandId,
    CommandMessage,
    DataMessage,
    DataReadout,
    DataSet,
    Decoder,
    Identification,
    Message,
    MessageType,
    ModeControl,
    NegativeAcknowledge,
    ProtocolControl,
    SignOnRequest,
    mode_c_baud_char,
)
from hil.link import add_even_parity
from hil.obis import ObisCode

log = logging.getLogger(__name__)

ReadingValue = str | int | Decimal | dt.date | dt.time


@dataclass(frozen=True, slots=True)
class MeterIdentity:
    """Who the meter says it is: manufacturer (FLAG id), identification, top baud, variants."""

    manufacturer: str
    ident: str
    max_baud: int = 9600
    fast_reaction: bool = False  # lowercase third letter: 20 ms reaction time
    mode_e: bool = False  # the \\2 marker: HDLC capable
    device_address: str = ""  # answers "/?<address>!" as well as "/?!"

    def __post_init__(self) -> None:
        if self.max_baud not in MODE_C_BAUD.values():
            raise ValueError(f"not a protocol mode C baud rate: {self.max_baud}")
        self.identification()  # validates manufacturer and ident

    def identification(self) -> Identification:
        manufacturer = self.manufacturer.upper()
        if self.fast_reaction:
            manufacturer = manufacturer[:2] + manufacturer[2:].lower()
        enhanced = ("2",) if self.mode_e else ()
        return Identification(manufacturer, mode_c_baud_char(self.max_baud), self.ident, enhanced)


@dataclass(frozen=True, slots=True)
class Reading:
    """One register on the optical port."""

    obis: ObisCode
    value: ReadingValue
    unit: str | None = None


class ReadoutSource(Protocol):
    """What a virtual optical port shows; asked afresh at every sign-on and readout."""

    def identity(self) -> MeterIdentity: ...

    def readings(self) -> Sequence[Reading]: ...


@dataclass(frozen=True, slots=True)
class StaticReadout:
    """A fixed :class:`ReadoutSource` (tests, demos)."""

    meter: MeterIdentity
    values: tuple[Reading, ...]

    def identity(self) -> MeterIdentity:
        return self.meter

    def readings(self) -> Sequence[Reading]:
        return self.values


@dataclass(frozen=True, slots=True)
class OpticalQuirks:
    """How a particular meter deviates; chosen by its firmware profile (or for a fault test)."""

    reduced_obis: bool = False  # addresses "1.8.0", "C.1.0" instead of "1-0:1.8.0"
    wake_up_required: bool = False  # battery meter: deaf until woken by NUL characters
    wrong_bcc: bool = False  # fault: the BCC of every block is wrong
    mute: bool = False  # fault: never answers

    @classmethod
    def from_names(cls, names: Sequence[str]) -> OpticalQuirks:
        """From quirk names such as ``["reduced_obis", "wake_up_required"]``."""
        known = {name for name in cls.__dataclass_fields__}
        unknown = [name for name in names if name not in known]
        if unknown:
            raise ValueError(
                f"unknown optical quirk(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        return cls(**{name: True for name in names})


@dataclass(frozen=True, slots=True)
class MeterTiming:
    """The meter's times, in seconds (defaults: the standard's)."""

    reaction: float = 0.2  # before answering (tr)
    fast_reaction: float = 0.02  # when the identification announces 20 ms
    inactivity: float = 1.5  # silence that returns a half-done sign-on to idle (ta)
    programming_inactivity: float = 120.0  # silence that ends programming mode

    def scaled(self, factor: float) -> MeterTiming:
        return MeterTiming(
            self.reaction * factor,
            self.fast_reaction * factor,
            self.inactivity * factor,
            self.programming_inactivity * factor,
        )


@dataclass(frozen=True, slots=True)
class Transmit:
    """Send ``data`` after ``delay`` seconds, at ``baud``."""

    data: bytes
    delay: float
    baud: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class SwitchBaud:
    baud: int


Output = Transmit | SwitchBaud


class MeterState(StrEnum):
    ASLEEP = "asleep"
    IDLE = "idle"
    IDENTIFIED = "identified"
    AWAIT_PASSWORD = "await-password"
    PROGRAMMING = "programming"


# Error codes of the virtual meter in programming mode (the standard leaves them to the maker).
ERROR_UNKNOWN_REGISTER = "ER01"
ERROR_NOT_SUPPORTED = "ER02"


def format_value(value: ReadingValue) -> str:
    """A reading as the optical port writes it: dates YYMMDD, times hhmmss, decimals as is."""
    if isinstance(value, dt.datetime):
        raise TypeError("give the date (0.9.2) and the time (0.9.1) as separate readings")
    if isinstance(value, dt.date):
        return value.strftime("%y%m%d")
    if isinstance(value, dt.time):
        return value.strftime("%H%M%S")
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


Handler = Callable[["OpticalMeter", Message], list[Output]]


class OpticalMeter:
    """The meter's side of IEC 62056-21 mode C, sans-IO."""

    def __init__(
        self,
        source: ReadoutSource,
        *,
        quirks: OpticalQuirks | None = None,
        timing: MeterTiming | None = None,
        password: str | None = "00000000",
        operand: str = "",
    ) -> None:
        self.source = source
        self.quirks = quirks if quirks is not None else OpticalQuirks()
        self.timing = timing if timing is not None else MeterTiming()
        self.password = password
        self.operand = operand
        self.state = MeterState.ASLEEP if self.quirks.wake_up_required else MeterState.IDLE
        self.baud = INITIAL_BAUD
        self.readouts = 0  # completed readouts, for tests and the serve command
        self._identification: Identification | None = None
        self._decoder = Decoder()
        self._last: Transmit | None = None

    # -- inputs ---------------------------------------------------------------------------

    def receive(self, data: bytes) -> list[Output]:
        """Bytes from the HHU (7-bit); what to send back."""
        if self.quirks.mute:
            return []
        outputs: list[Output] = []
        if self.state is MeterState.ASLEEP:
            nul = data.find(b"\x00")
            if nul < 0:
                return []
            self.state = MeterState.IDLE
            data = data[nul:]
        self._decoder.feed(data.replace(b"\x00", b""))
        while True:
            expected = EXPECTED[self.state]
            try:
                message = self._decoder.next_message(expected)
            except Iec62056DecodeError as exc:
                log.debug("virtual meter ignores a malformed message: %s", exc)
                if self.state in (MeterState.AWAIT_PASSWORD, MeterState.PROGRAMMING):
                    outputs.append(self._transmit(NegativeAcknowledge().to_bytes(), "NAK"))
                continue
            if message is None:
                return outputs
            handler = TRANSITIONS.get((self.state, type(message)))
            if handler is not None:
                outputs += handler(self, message)

    def silence_limit(self) -> float | None:
        """How long the HHU may stay silent in this state before :meth:`timeout`."""
        if self.state is MeterState.IDENTIFIED:
            return self.timing.inactivity + self._reaction()
        if self.state in (MeterState.AWAIT_PASSWORD, MeterState.PROGRAMMING):
            return self.timing.programming_inactivity
        return None

    def timeout(self) -> list[Output]:
        """The HHU stayed silent too long: back to the initial state at 300 baud."""
        self._decoder = Decoder()
        return self._back_to_start()

    # -- helpers --------------------------------------------------------------------------

    def _reaction(self) -> float:
        fast = self.source.identity().fast_reaction
        return self.timing.fast_reaction if fast else self.timing.reaction

    def _transmit(self, data: bytes, note: str) -> Transmit:
        out = Transmit(data, self._reaction(), self.baud, note)
        self._last = out
        return out

    def _bcc_fault(self, wire: bytes) -> bytes:
        return wire[:-1] + bytes([wire[-1] ^ 0x01]) if self.quirks.wrong_bcc else wire

    def _address(self, obis: ObisCode) -> str:
        return obis.reduced() if self.quirks.reduced_obis else obis.full()

    def datasets(self) -> tuple[DataSet, ...]:
        return tuple(
            DataSet(self._address(reading.obis), format_value(reading.value), reading.unit)
            for reading in self.source.readings()
        )

    def _back_to_start(self) -> list[Output]:
        self.state = MeterState.ASLEEP if self.quirks.wake_up_required else MeterState.IDLE
        if self.baud != INITIAL_BAUD:
            self.baud = INITIAL_BAUD
            return [SwitchBaud(INITIAL_BAUD)]
        return []

    # -- transitions ----------------------------------------------------------------------

    def _on_sign_on(self, message: Message) -> list[Output]:
        assert isinstance(message, SignOnRequest)
        identity = self.source.identity()
        wanted = message.address.lstrip("0")
        if wanted and wanted != identity.device_address.lstrip("0"):
            return []  # another meter on the bus is meant
        outputs = self._back_to_start()
        self.state = MeterState.IDENTIFIED
        self._identification = identity.identification()
        return [*outputs, self._transmit(self._identification.to_bytes(), "identification")]

    def _on_option_select(self, message: Message) -> list[Output]:
        assert isinstance(message, AckOptionSelect)
        identity = self.source.identity()
        baud = MODE_C_BAUD.get(message.baud_char)
        acceptable = (
            message.protocol is ProtocolControl.NORMAL
            and baud is not None
            and baud <= identity.max_baud
            and message.mode in (ModeControl.READOUT, ModeControl.PROGRAMMING)
        )
        if not acceptable or baud is None:
            return self._back_to_start()  # a meter ignores what it cannot do
        self.baud = baud
        outputs: list[Output] = [SwitchBaud(baud)]
        if message.mode is ModeControl.READOUT:
            wire = self._bcc_fault(DataReadout(self.datasets()).to_bytes())
            outputs.append(self._transmit(wire, "data readout"))
            self.readouts += 1
            self.baud = INITIAL_BAUD
            self.state = MeterState.ASLEEP if self.quirks.wake_up_required else MeterState.IDLE
            outputs.append(SwitchBaud(INITIAL_BAUD))
            return outputs
        if self.password is None:
            return self._back_to_start()
        self.state = MeterState.AWAIT_PASSWORD
        operand = self._bcc_fault(CommandMessage.operand(self.operand).to_bytes())
        outputs.append(self._transmit(operand, "P0 password request"))
        return outputs

    def _on_password(self, message: Message) -> list[Output]:
        assert isinstance(message, CommandMessage)
        if message.command is CommandId.BREAK:
            return self._back_to_start()
        if message.command is not CommandId.PASSWORD or message.command_type != "1":
            return [self._transmit(NegativeAcknowledge().to_bytes(), "NAK: password expected")]
        if message.parenthesised != self.password:
            return [self._transmit(NegativeAcknowledge().to_bytes(), "NAK: wrong password")]
        self.state = MeterState.PROGRAMMING
        return [self._transmit(Acknowledge().to_bytes(), "ACK: password accepted")]

    def _on_command(self, message: Message) -> list[Output]:
        assert isinstance(message, CommandMessage)
        if message.command is CommandId.BREAK:
            return self._back_to_start()
        if message.command is CommandId.READ:
            address = message.address or ""
            wanted = ObisCode.try_parse(address)
            for dataset, reading in zip(self.datasets(), self.source.readings(), strict=True):
                if dataset.address == address or (
                    wanted is not None and reading.obis.same_register(wanted)
                ):
                    wire = self._bcc_fault(DataMessage((dataset,)).to_bytes())
                    return [self._transmit(wire, f"R1 {address}")]
            error = DataMessage((DataSet("", ERROR_UNKNOWN_REGISTER),)).to_bytes()
            return [self._transmit(self._bcc_fault(error), f"R1 {address}: unknown")]
        error = DataMessage((DataSet("", ERROR_NOT_SUPPORTED),)).to_bytes()
        return [self._transmit(self._bcc_fault(error), f"{message.command.value}: not supported")]

    def _on_nak(self, message: Message) -> list[Output]:
        if self._last is None:
            return []
        return [Transmit(self._last.data, self._reaction(), self.baud, "repeat after NAK")]


EXPECTED: dict[MeterState, frozenset[MessageType]] = {
    MeterState.ASLEEP: frozenset(),
    MeterState.IDLE: frozenset({SignOnRequest}),
    MeterState.IDENTIFIED: frozenset({SignOnRequest, AckOptionSelect}),
    MeterState.AWAIT_PASSWORD: frozenset({CommandMessage, NegativeAcknowledge}),
    MeterState.PROGRAMMING: frozenset({CommandMessage, NegativeAcknowledge}),
}

TRANSITIONS: dict[tuple[MeterState, MessageType], Handler] = {
    (MeterState.IDLE, SignOnRequest): OpticalMeter._on_sign_on,
    (MeterState.IDENTIFIED, SignOnRequest): OpticalMeter._on_sign_on,
    (MeterState.IDENTIFIED, AckOptionSelect): OpticalMeter._on_option_select,
    (MeterState.AWAIT_PASSWORD, CommandMessage): OpticalMeter._on_password,
    (MeterState.AWAIT_PASSWORD, NegativeAcknowledge): OpticalMeter._on_nak,
    (MeterState.PROGRAMMING, CommandMessage): OpticalMeter._on_command,
    (MeterState.PROGRAMMING, NegativeAcknowledge): OpticalMeter._on_nak,
}


# -- adapters -------------------------------------------------------------------------------

_SPEEDS: dict[int, int] = {
    getattr(termios, f"B{rate}"): rate
    for rate in (50, 75, 110, 300, 600, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
    if hasattr(termios, f"B{rate}")
}


def _valid_parity(byte: int) -> bool:
    return bin(byte).count("1") % 2 == 0


class _MeterSession:
    """Runs one :class:`OpticalMeter` over an async byte writer; owns one sender task."""

    def __init__(
        self,
        meter: OpticalMeter,
        write: Callable[[bytes], Awaitable[None]],
        *,
        software_7e1: bool,
        frame_log: FrameLog,
        line_speed: Callable[[], int | None] | None = None,
    ) -> None:
        self.meter = meter
        self._write = write
        self._software_7e1 = software_7e1
        self._line_speed = line_speed
        self.frame_log = frame_log
        self.garbled = 0  # transmissions sent while the client's line was at another speed
        self.parity_errors = 0
        self._outputs: asyncio.Queue[Output] = asyncio.Queue()
        self._silence: asyncio.TimerHandle | None = None
        self._task = asyncio.create_task(self._send_loop(), name="virtual-optical-meter")

    def data_received(self, data: bytes) -> None:
        if self._software_7e1:
            good = bytes(b & 0x7F for b in data if _valid_parity(b))
            errors = len(data) - len(good)
            self.parity_errors += errors
            note = f"{errors} parity error(s): dropped" if errors else ""
            self.frame_log.record(Direction.RX, data, baud=self.meter.baud, note=note)
            data = good
        else:
            self.frame_log.record(Direction.RX, data, baud=self.meter.baud)
        self._queue(self.meter.receive(data))
        self._arm_silence_timer()

    def _queue(self, outputs: list[Output]) -> None:
        for output in outputs:
            self._outputs.put_nowait(output)

    def _arm_silence_timer(self) -> None:
        if self._silence is not None:
            self._silence.cancel()
            self._silence = None
        limit = self.meter.silence_limit()
        if limit is not None:
            self._silence = asyncio.get_running_loop().call_later(limit, self._on_silence)

    def _on_silence(self) -> None:
        self._silence = None
        self.frame_log.note(f"silence in state {self.meter.state.value}: back to idle")
        self._queue(self.meter.timeout())

    async def _send_loop(self) -> None:
        while True:
            output = await self._outputs.get()
            if isinstance(output, SwitchBaud):
                self.frame_log.note(f"meter at {output.baud} baud", baud=output.baud)
                continue
            if output.delay > 0:
                await asyncio.sleep(output.delay)
            wire = add_even_parity(output.data) if self._software_7e1 else output.data
            note = output.note
            client_speed = self._line_speed() if self._line_speed is not None else None
            if client_speed is not None and client_speed != output.baud:
                self.garbled += 1
                wire = b"\xff" * len(wire)
                note += f" (client line at {client_speed} baud: arrives garbled)"
            self.frame_log.record(Direction.TX, output.data, baud=output.baud, note=note)
            try:
                await self._write(wire)
            except OSError as exc:
                self.frame_log.note(f"write failed: {exc}")

    async def close(self) -> None:
        if self._silence is not None:
            self._silence.cancel()
            self._silence = None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class PtyOpticalPort:
    """One meter on a pseudo-terminal; :meth:`open` returns the device path for clients."""

    def __init__(
        self,
        meter: OpticalMeter,
        *,
        software_7e1: bool = True,
        frame_log: FrameLog | None = None,
    ) -> None:
        self.meter = meter
        self.software_7e1 = software_7e1
        self.frame_log = frame_log if frame_log is not None else FrameLog()
        self.path: str | None = None
        self._master = -1
        self._slave = -1
        self._session: _MeterSession | None = None
        self._writable: asyncio.Event | None = None

    @property
    def session(self) -> _MeterSession:
        if self._session is None:
            raise RuntimeError("the virtual optical port is not open")
        return self._session

    async def open(self) -> str:
        master, slave = os.openpty()
        try:
            tty.setraw(slave)
            attrs = termios.tcgetattr(slave)
            attrs[4] = attrs[5] = termios.B300
            termios.tcsetattr(slave, termios.TCSANOW, attrs)
            os.set_blocking(master, False)
            path = os.ttyname(slave)
        except OSError:
            os.close(master)
            os.close(slave)
            raise
        self._master, self._slave, self.path = master, slave, path
        loop = asyncio.get_running_loop()
        self._writable = asyncio.Event()
        self._session = _MeterSession(
            self.meter,
            self._write,
            software_7e1=self.software_7e1,
            frame_log=self.frame_log,
            line_speed=self._client_speed,
        )
        loop.add_reader(master, self._on_readable)
        how = "software 7E1" if self.software_7e1 else "8N1"
        self.frame_log.note(f"virtual optical port on {path} ({how})")
        return path

    def _client_speed(self) -> int | None:
        try:
            attrs = termios.tcgetattr(self._slave)
        except termios.error:
            return None
        return _SPEEDS.get(attrs[5])

    def _on_readable(self) -> None:
        try:
            data = os.read(self._master, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return  # EIO: no reader on the slave side; we hold it open, so rare
        if data and self._session is not None:
            self._session.data_received(data)

    async def _write(self, data: bytes) -> None:
        loop = asyncio.get_running_loop()
        view = memoryview(data)
        while view:
            try:
                written = os.write(self._master, view)
            except BlockingIOError:
                written = 0
            view = view[written:]
            if view:
                ready: asyncio.Future[None] = loop.create_future()
                loop.add_writer(self._master, ready.set_result, None)
                try:
                    await ready
                finally:
                    loop.remove_writer(self._master)

    async def close(self) -> None:
        if self._master < 0:
            return
        loop = asyncio.get_running_loop()
        loop.remove_reader(self._master)
        if self._session is not None:
            await self._session.close()
        os.close(self._master)
        os.close(self._slave)
        self._master = self._slave = -1

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


class TcpOpticalPort:
    """The meter on a TCP port: each connection gets its own session (one meter's state)."""

    def __init__(
        self,
        meter_factory: Callable[[], OpticalMeter],
        *,
        software_7e1: bool = False,
        frame_log: FrameLog | None = None,
    ) -> None:
        self.meter_factory = meter_factory
        self.software_7e1 = software_7e1
        self.frame_log = frame_log if frame_log is not None else FrameLog()
        self.url: str | None = None
        self.sessions = 0
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    async def open(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen; returns ``socket://HOST:PORT`` (port 0 picks a free one)."""
        self._server = await asyncio.start_server(self._serve, host, port)
        bound = self._server.sockets[0].getsockname()
        self.url = f"socket://{bound[0]}:{bound[1]}"
        self.frame_log.note(f"virtual optical port on {self.url}")
        return self.url

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.sessions += 1

        async def write(data: bytes) -> None:
            writer.write(data)
            await writer.drain()

        session = _MeterSession(
            self.meter_factory(), write, software_7e1=self.software_7e1, frame_log=self.frame_log
        )
        try:
            while data := await reader.read(4096):
                session.data_received(data)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            await session.close()
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()
            self._handlers.discard(task)

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in list(self._handlers):
            task.cancel()
        if self._handlers:
            await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()
