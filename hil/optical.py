"""Asyncio client for a meter's optical port (IEC 62056-21, protocol mode C readout).

A session: (the wake-up sequence for battery meters,) a sign-on request at 300 baud 7E1,
the identification, the acknowledgement/option select naming the agreed baud rate, the switch
to that rate, the data readout (BCC checked), and back to 300 baud. Modes A and B (no option
select) are followed too. Programming mode (password, R1 reads, break) is in
:meth:`OpticalClient.programming`.

Times come from :class:`OpticalTiming` (the standard's values by default; tests shrink them).
Every failure is a :class:`~hil.errors.SessionError` whose message names the port, and whose
``frame_log`` holds the dump of the session's recent frames.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Collection
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Self

from hil.errors import (
    Iec62056DecodeError,
    NoAnswer,
    ProtocolViolation,
    SessionError,
)
from hil.framelog import FrameLog
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
    ProtocolMode,
    SignOnRequest,
    mode_c_baud_char,
)
from hil.link import ByteLink, Framing, Parity
from hil.obis import DATE, TIME, ObisCode

log = logging.getLogger(__name__)

RegisterValue = Decimal | str | dt.date | dt.time


@dataclass(frozen=True, slots=True)
class OpticalTiming:
    """Times of IEC 62056-21, in seconds (defaults: the standard's)."""

    reaction: float = 0.2  # wait after the meter's message before answering (tr min)
    fast_reaction: float = 0.02  # the same when the identification announces a 20 ms meter
    answer_timeout: float = 1.5  # longest wait for the first byte of an answer (tr max)
    inter_char_timeout: float = 1.5  # longest silence inside a message (ta)
    session_timeout: float = 120.0  # longest a whole readout may take
    retries: int = 3  # sign-on attempts when the meter stays silent
    retry_pause: float = 1.5  # wait between attempts, so that the meter is back to idle
    wake_up_duration: float = 2.2  # NUL characters at 300 baud for 2.1..2.3 s ...
    wake_up_pause: float = 1.6  # ... then silence for 1.5..1.7 s before the sign-on

    def __post_init__(self) -> None:
        if self.retries < 1:
            raise ValueError(f"retries must be at least 1: {self.retries}")
        for name in (
            "reaction",
            "fast_reaction",
            "answer_timeout",
            "inter_char_timeout",
            "session_timeout",
            "retry_pause",
            "wake_up_duration",
            "wake_up_pause",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative: {getattr(self, name)}")

    def scaled(self, factor: float) -> OpticalTiming:
        """Every time multiplied by ``factor`` (retries unchanged): for tests and simulations."""
        return replace(
            self,
            reaction=self.reaction * factor,
            fast_reaction=self.fast_reaction * factor,
            answer_timeout=self.answer_timeout * factor,
            inter_char_timeout=self.inter_char_timeout * factor,
            session_timeout=self.session_timeout * factor,
            retry_pause=self.retry_pause * factor,
            wake_up_duration=self.wake_up_duration * factor,
            wake_up_pause=self.wake_up_pause * factor,
        )

    def wake_up_nuls(self) -> int:
        """How many NUL characters fill the wake-up duration at 300 baud (10 bits each)."""
        return max(1, round(self.wake_up_duration * INITIAL_BAUD / 10))


# -- typed registers --------------------------------------------------------------------------


def _parse_time(text: str) -> dt.time | None:
    digits = text.replace(":", "")
    if len(digits) != 6 or not digits.isdigit():
        return None
    try:
        return dt.time(int(digits[0:2]), int(digits[2:4]), int(digits[4:6]))
    except ValueError:
        return None


def _parse_date(text: str) -> dt.date | None:
    digits = text.replace("-", "").replace("/", "")
    if not digits.isdigit():
        return None
    century = 2000
    if len(digits) == 7:  # a leading century digit: 0 for 19xx, 1 for 20xx
        century = 1900 + 100 * int(digits[0])
        digits = digits[1:]
    if len(digits) != 6:
        return None
    try:
        return dt.date(century + int(digits[0:2]), int(digits[2:4]), int(digits[4:6]))
    except ValueError:
        return None


def typed_value(obis: ObisCode | None, value: str, unit: str | None) -> RegisterValue:
    """The value as Python sees it: a Decimal quantity when it has a unit and is a number,
    a time for 0.9.1, a date for 0.9.2, and the text otherwise (serial numbers stay text)."""
    if obis is not None and obis.same_register(TIME):
        return _parse_time(value) or value
    if obis is not None and obis.same_register(DATE):
        return _parse_date(value) or value
    if unit is not None:
        try:
            return Decimal(value)
        except InvalidOperation:
            return value
    return value


@dataclass(frozen=True, slots=True)
class Register:
    """One data set of a readout, typed."""

    address: str
    obis: ObisCode | None
    value: RegisterValue
    unit: str | None
    text: str  # the value as received

    @classmethod
    def from_dataset(cls, dataset: DataSet) -> Register:
        obis = ObisCode.try_parse(dataset.address)
        return cls(
            dataset.address,
            obis,
            typed_value(obis, dataset.value, dataset.unit),
            dataset.unit,
            dataset.value,
        )

    @property
    def kind(self) -> str:
        if isinstance(self.value, Decimal):
            return "quantity"
        if isinstance(self.value, dt.time):
            return "time"
        if isinstance(self.value, dt.date):
            return "date"
        return "text"

    def to_json(self) -> dict[str, Any]:
        value = self.value
        rendered: str = value.isoformat() if isinstance(value, dt.date | dt.time) else str(value)
        return {
            "address": self.address,
            "obis": str(self.obis) if self.obis is not None else None,
            "value": rendered,
            "unit": self.unit,
            "type": self.kind,
        }


@dataclass(frozen=True, slots=True)
class Readout:
    """What a meter's data readout said, with the identification and the baud it came at."""

    identification: Identification
    registers: tuple[Register, ...]
    baud: int

    def get(self, code: ObisCode | str) -> Register | None:
        obis = ObisCode.parse(code) if isinstance(code, str) else code
        for register in self.registers:
            if register.obis is not None and register.obis.same_register(obis):
                return register
        return None

    def value(self, code: ObisCode | str) -> RegisterValue | None:
        register = self.get(code)
        return None if register is None else register.value

    @property
    def clock(self) -> dt.datetime | None:
        """The meter's date and time (0.9.2 and 0.9.1), when both were read and parse."""
        date, time_ = self.value(DATE), self.value(TIME)
        if isinstance(date, dt.date) and isinstance(time_, dt.time):
            return dt.datetime.combine(date, time_)
        return None

    def to_json(self) -> dict[str, Any]:
        ident = self.identification
        clock = self.clock
        return {
            "identification": {
                "manufacturer": ident.manufacturer,
                "ident": ident.ident,
                "baud_char": ident.baud_char,
                "protocol_mode": ident.protocol_mode.value,
                "max_baud": ident.max_baud,
                "fast_reaction": ident.fast_reaction,
                "mode_e": ident.mode_e,
            },
            "baud": self.baud,
            "clock": clock.isoformat() if clock is not None else None,
            "registers": [register.to_json() for register in self.registers],
        }


# -- the client -------------------------------------------------------------------------------


def agreed_baud(identification: Identification, max_baud: int) -> int:
    """The highest mode C rate both the meter and we can do."""
    offered = min(identification.max_baud, max_baud)
    return max((rate for rate in MODE_C_BAUD.values() if rate <= offered), default=INITIAL_BAUD)


class OpticalClient:
    """Talks IEC 62056-21 over an open :class:`~hil.link.ByteLink` (7E1)."""

    def __init__(
        self,
        link: ByteLink,
        *,
        timing: OpticalTiming | None = None,
        address: str = "",
        max_baud: int = 19200,
        wake_up: bool = False,
    ) -> None:
        self.link = link
        self.timing = timing if timing is not None else OpticalTiming()
        self.sign_on_request = SignOnRequest(address)
        self.max_baud = max_baud
        self.wake_up = wake_up
        self._decoder = Decoder()
        self._echo = b""

    @property
    def port(self) -> str:
        return self.link.state.url

    # -- building blocks ----------------------------------------------------------------------

    async def _send(self, message: Message, *, note: str = "") -> None:
        data = message.to_bytes()
        self._echo = data  # a half-duplex head may hand this straight back: see _strip_echo
        await self.link.write_and_drain(data, note=note or type(message).__name__)

    def _strip_echo(self, data: bytes) -> bytes:
        """Drop the echo of what we sent last, if the port gives one back first.

        Half-duplex optical heads echo every character; an echoed ``P1 (password)`` holds an
        STX block that would otherwise pass for the meter's answer.
        """
        echo = self._echo
        if not echo:
            return data
        common = min(len(echo), len(data))
        if data[:common] != echo[:common]:
            self._echo = b""  # no echo on this port (or not this time)
            return data
        self._echo = echo[common:]
        return data[common:]

    async def _receive(self, expect: Collection[MessageType], *, what: str) -> Message:
        """The next expected message; NoAnswer on silence, ProtocolViolation on garbage."""
        timing = self.timing
        start = time.monotonic()
        session_deadline = start + timing.session_timeout
        byte_deadline = start + timing.answer_timeout
        received = 0
        while True:
            try:
                message = self._decoder.next_message(expect)
            except Iec62056DecodeError as exc:
                self.link.log_rx(f"error: {exc}")
                self._decoder = Decoder()
                raise ProtocolViolation(f"{self.port}: {exc}") from exc
            if message is not None:
                self.link.log_rx(type(message).__name__)
                return message
            until = min(byte_deadline, session_deadline)
            if time.monotonic() >= until:
                self.link.log_rx(f"timeout waiting for the {what}")
                if received == 0:
                    raise NoAnswer(f"no answer from {self.port} (waiting for the {what})")
                if self._decoder.noise and not self._decoder.buffered:
                    raise NoAnswer(
                        f"no {what} from {self.port}: only {self._decoder.noise} bytes of noise"
                    )
                raise ProtocolViolation(
                    f"{self.port}: the {what} stopped after {len(self._decoder.buffered)} bytes"
                )
            data = await self.link.read_some(until)
            if data:
                byte_deadline = time.monotonic() + timing.inter_char_timeout
                data = self._strip_echo(data)
                received += len(data)
                self._decoder.feed(data)

    async def _reaction_pause(self, identification: Identification | None) -> None:
        fast = identification is not None and identification.fast_reaction
        await asyncio.sleep(self.timing.fast_reaction if fast else self.timing.reaction)

    async def _wake_up(self) -> None:
        count = self.timing.wake_up_nuls()
        await self.link.write_and_drain(bytes(count), note=f"wake-up: {count} NUL")
        await asyncio.sleep(self.timing.wake_up_pause)

    # -- sessions -----------------------------------------------------------------------------

    async def sign_on(self) -> Identification:
        """Wake-up (if asked), sign-on request at 300 baud, identification; with retries."""
        timing = self.timing
        for attempt in range(1, timing.retries + 1):
            self.link.set_baudrate(INITIAL_BAUD)
            self.link.discard_input()
            self._decoder = Decoder()
            if self.wake_up:
                await self._wake_up()
            await self._send(self.sign_on_request, note=f"sign-on, attempt {attempt}")
            try:
                message = await self._receive({Identification}, what="identification")
            except NoAnswer as exc:
                if attempt == timing.retries:
                    raise NoAnswer(
                        f"no answer from {self.port} after {attempt} sign-on attempt(s)"
                        + (" with wake-up" if self.wake_up else "")
                    ) from exc
                await asyncio.sleep(timing.retry_pause)
                continue
            assert isinstance(message, Identification)
            return message
        raise AssertionError("unreachable")  # pragma: no cover

    async def _select(self, identification: Identification, mode: ModeControl) -> int:
        """Option select (mode C) and the baud switch; returns the baud the data comes at."""
        if identification.protocol_mode is ProtocolMode.A:
            if mode is not ModeControl.READOUT:
                raise ProtocolViolation(
                    f"{self.port}: the meter speaks protocol mode A (no programming mode)"
                )
            return INITIAL_BAUD
        if identification.protocol_mode is ProtocolMode.B:
            if mode is not ModeControl.READOUT:
                raise ProtocolViolation(
                    f"{self.port}: the meter speaks protocol mode B (no programming mode)"
                )
            self.link.set_baudrate(identification.max_baud)
            return identification.max_baud
        baud = agreed_baud(identification, self.max_baud)
        await self._reaction_pause(identification)
        select = AckOptionSelect(ProtocolControl.NORMAL, mode_c_baud_char(baud), mode)
        await self._send(select, note=f"option select: {mode.name.lower()} at {baud} baud")
        self.link.set_baudrate(baud)
        return baud

    async def read_out(self) -> Readout:
        """A whole data readout session."""
        identification = await self.sign_on()
        baud = await self._select(identification, ModeControl.READOUT)
        try:
            message = await self._receive({DataReadout}, what="data readout")
        finally:
            self.link.set_baudrate(INITIAL_BAUD)
        assert isinstance(message, DataReadout)
        registers = tuple(Register.from_dataset(ds) for ds in message.datasets)
        return Readout(identification, registers, baud)

    async def programming(self, password: str) -> ProgrammingSession:
        """Sign on, enter programming mode and send the password (``P1``)."""
        identification = await self.sign_on()
        await self._select(identification, ModeControl.PROGRAMMING)
        operand = await self._receive({CommandMessage}, what="password request (P0)")
        assert isinstance(operand, CommandMessage)
        if operand.command is not CommandId.PASSWORD or operand.command_type != "0":
            raise ProtocolViolation(
                f"{self.port}: expected the password request P0, got "
                f"{operand.command.value}{operand.command_type}"
            )
        session = ProgrammingSession(self, identification, operand.parenthesised or "")
        answer = await session.exchange(
            CommandMessage.password(password), what="password reply", repeat_on_nak=False
        )
        if isinstance(answer, Acknowledge):
            return session
        await session.close()
        raise ProtocolViolation(f"{self.port}: the meter refused the password")


class ProgrammingSession:
    """Programming mode after a good password: ``read()`` registers, then ``close()`` (B0)."""

    def __init__(self, client: OpticalClient, identification: Identification, operand: str) -> None:
        self.client = client
        self.identification = identification
        self.operand = operand
        self.closed = False

    async def exchange(
        self, command: CommandMessage, *, what: str, repeat_on_nak: bool = True
    ) -> Message:
        """Send a command and return the answer. A garbled answer (bad BCC) is answered with
        NAK, asking the meter to repeat; the meter's NAK makes us repeat the command (if
        ``repeat_on_nak``); both up to ``timing.retries`` times."""
        client = self.client
        expect: set[MessageType] = {Acknowledge, NegativeAcknowledge, DataMessage}
        outgoing: Message = command
        for attempt in range(1, client.timing.retries + 1):
            await client._reaction_pause(self.identification)
            await client._send(outgoing)
            try:
                answer = await client._receive(expect, what=what)
            except ProtocolViolation as exc:
                garbled = isinstance(exc.__cause__, Iec62056DecodeError)
                if not garbled or attempt == client.timing.retries:
                    raise
                client._decoder = Decoder()
                outgoing = NegativeAcknowledge()
                continue
            if isinstance(answer, NegativeAcknowledge) and repeat_on_nak:
                if attempt < client.timing.retries:
                    outgoing = command
                    continue
                raise ProtocolViolation(f"{client.port}: the meter kept answering NAK to {what}")
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    async def read(self, address: str) -> DataSet:
        """``R1 address()``: the register's data set; ProtocolViolation on an ERxx answer."""
        answer = await self.exchange(CommandMessage.read(address), what=f"answer to R1 {address}")
        if isinstance(answer, DataMessage):
            if answer.error is not None:
                raise ProtocolViolation(
                    f"{self.client.port}: the meter answered R1 {address} with {answer.error}"
                )
            if answer.datasets:
                return answer.datasets[0]
        raise ProtocolViolation(f"{self.client.port}: no data in the answer to R1 {address}")

    async def close(self) -> None:
        """``B0``: end the session; the meter returns to 300 baud."""
        if self.closed:
            return
        self.closed = True
        client = self.client
        try:
            await client._reaction_pause(self.identification)
            await client._send(CommandMessage.break_(), note="break")
        finally:
            client.link.set_baudrate(INITIAL_BAUD)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


async def open_optical(
    port: str, *, parity: Parity = Parity.AUTO, frame_log: FrameLog | None = None
) -> ByteLink:
    """Open ``port`` (device path or ``socket://HOST:PORT``) for the optical protocol: 300 7E1."""
    if port.startswith("socket://") and parity is Parity.AUTO:
        parity = Parity.NONE  # a TCP bridge carries the 7-bit characters; its UART does the parity
    return await ByteLink.open(
        port, baudrate=INITIAL_BAUD, framing=Framing.SEVEN_E1, parity=parity, frame_log=frame_log
    )


async def read_meter(
    port: str,
    *,
    parity: Parity = Parity.AUTO,
    timing: OpticalTiming | None = None,
    address: str = "",
    max_baud: int = 19200,
    wake_up: bool = False,
    frame_log: FrameLog | None = None,
) -> Readout:
    """Open ``port``, read the meter out, close. On failure the error's ``frame_log`` holds
    the dump of the session's frames (also logged at WARNING on the ``hil.optical`` logger)."""
    frames = frame_log if frame_log is not None else FrameLog()
    link = await open_optical(port, parity=parity, frame_log=frames)
    try:
        client = OpticalClient(
            link, timing=timing, address=address, max_baud=max_baud, wake_up=wake_up
        )
        return await client.read_out()
    except SessionError as exc:
        link.log_rx()
        exc.frame_log = frames.dump()
        log.warning("optical session on %s failed: %s\n%s", port, exc, exc.frame_log)
        raise
    finally:
        await link.close()
