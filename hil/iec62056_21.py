"""Sans-IO codec of IEC 62056-21 (the optical port protocol): bytes in, typed messages out.

Messages (7-bit ASCII; ``CR LF`` ends a line):

- sign-on request ``/? [address] ! CR LF`` (HHU to meter);
- identification ``/ XXX Z [\\W] ident CR LF`` (meter): XXX the manufacturer (a lowercase third
  letter announces a 20 ms minimum reaction time instead of 200 ms), Z the baud rate character
  (``0``..``6`` protocol mode C, ``A``..``F`` mode B, anything else mode A), ``\\2`` the mode E
  (HDLC) marker;
- acknowledgement / option select ``ACK V Z Y CR LF`` (HHU): V protocol control, Z baud, Y mode
  (``0`` data readout, ``1`` programming, ``2`` binary/HDLC);
- data readout ``STX data-block ! CR LF ETX BCC`` (meter), data sets ``address(value*unit)``;
- programming mode: command messages ``SOH C D [STX data] ETX BCC`` (``P0`` operand from the meter,
  ``P1 (password)``, ``R1``/``W1`` read/write, ``B0`` break), data messages ``STX data ETX BCC``,
  and the single characters ``ACK`` and ``NAK``.

The BCC is the XOR of every byte after the first SOH or STX up to and including ETX (or EOT).

:class:`Decoder` is fed bytes as they arrive and returns whole messages of the kinds the caller
expects. Bytes before the start of an expected message are noise and are skipped (counted in
``Decoder.noise``); once a message has started it must be well formed, else
:class:`~hil.errors.Iec62056DecodeError` (:class:`~hil.errors.BccError` for a wrong BCC) is
raised at the first bad byte - never a wait for bytes that cannot make it valid. A message that
grows past ``max_message_size`` without ending is an error too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from hil.errors import BccError, Iec62056DecodeError, Iec62056EncodeError

SOH = 0x01
STX = 0x02
ETX = 0x03
EOT = 0x04
ACK = 0x06
NAK = 0x15
CR = 0x0D
LF = 0x0A
CRLF = b"\r\n"

MODE_C_BAUD: dict[str, int] = {
    "0": 300,
    "1": 600,
    "2": 1200,
    "3": 2400,
    "4": 4800,
    "5": 9600,
    "6": 19200,
}
MODE_B_BAUD: dict[str, int] = {"A": 600, "B": 1200, "C": 2400, "D": 4800, "E": 9600, "F": 19200}
_RESERVED_BAUD = frozenset("789GHI")
INITIAL_BAUD = 300

MAX_IDENT_LENGTH = 16  # the standard's limit; encoding enforces it
MAX_IDENT_LENGTH_RECEIVED = 64  # real meters overshoot: decoding is lenient up to here
MAX_ADDRESS_LENGTH = 32  # sign-on device address


class ProtocolMode(StrEnum):
    """How the meter proceeds after its identification (from the baud rate character)."""

    A = "A"  # no baud switch, data follows the identification
    B = "B"  # the meter switches to the announced baud and sends data, no acknowledgement
    C = "C"  # the HHU acknowledges and selects baud and mode


class ProtocolControl(StrEnum):
    """V in ``ACK V Z Y``."""

    NORMAL = "0"
    SECONDARY = "1"
    HDLC = "2"


class ModeControl(StrEnum):
    """Y in ``ACK V Z Y``."""

    READOUT = "0"
    PROGRAMMING = "1"
    BINARY = "2"  # HDLC, protocol mode E
    MANUFACTURER = "6"


def bcc(data: bytes | bytearray) -> int:
    """Block check character: XOR of ``data`` (pass the bytes after SOH/STX through ETX)."""
    # XOR of all bytes, folding the whole block as one integer: log2(n) big-int steps
    value = int.from_bytes(data, "little")
    width = len(data)
    while width > 1:
        half = (width + 1) // 2
        value = (value & ((1 << (8 * half)) - 1)) ^ (value >> (8 * half))
        width = half
    return value


def baud_rate(char: str) -> int:
    """The baud rate a baud rate character announces (300 for mode A characters)."""
    if char in MODE_C_BAUD:
        return MODE_C_BAUD[char]
    if char in MODE_B_BAUD:
        return MODE_B_BAUD[char]
    if char in _RESERVED_BAUD:
        raise ValueError(f"reserved baud rate character {char!r}")
    return INITIAL_BAUD


def protocol_mode(char: str) -> ProtocolMode:
    if char in MODE_C_BAUD or (char in _RESERVED_BAUD and char.isdigit()):
        return ProtocolMode.C
    if char in MODE_B_BAUD or char in _RESERVED_BAUD:
        return ProtocolMode.B
    return ProtocolMode.A


def mode_c_baud_char(baud: int) -> str:
    """The mode C character for ``baud``; ValueError naming the baud if it has none."""
    for char, rate in MODE_C_BAUD.items():
        if rate == baud:
            return char
    raise ValueError(f"no IEC 62056-21 mode C baud rate character for {baud} baud")


_NOT_PRINTABLE: dict[str, re.Pattern[str]] = {}


def _printable(text: str, *, forbidden: str, what: str) -> None:
    pattern = _NOT_PRINTABLE.get(forbidden)
    if pattern is None:
        pattern = re.compile("[^ -~]" + (f"|[{re.escape(forbidden)}]" if forbidden else ""))
        _NOT_PRINTABLE[forbidden] = pattern
    bad = pattern.search(text)
    if bad is not None:
        raise Iec62056EncodeError(f"{what} may not contain {bad[0]!r}: {text!r}")


@dataclass(frozen=True, slots=True)
class SignOnRequest:
    """``/? address ! CR LF``; an empty address asks any meter on the port."""

    address: str = ""

    def __post_init__(self) -> None:
        if len(self.address) > MAX_ADDRESS_LENGTH:
            raise Iec62056EncodeError(
                f"device address longer than {MAX_ADDRESS_LENGTH} characters: {self.address!r}"
            )
        for char in self.address:
            if not (char.isascii() and (char.isalnum() or char == " ")):
                raise Iec62056EncodeError(
                    f"device address may hold digits, letters and spaces only: {self.address!r}"
                )

    def to_bytes(self) -> bytes:
        return b"/?" + self.address.encode("ascii") + b"!" + CRLF


@dataclass(frozen=True, slots=True)
class Identification:
    """``/ XXX Z [\\W...] ident CR LF`` - the meter's answer to a sign-on request."""

    manufacturer: str
    baud_char: str
    ident: str
    enhanced: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.manufacturer) != 3 or not (
            self.manufacturer.isascii() and self.manufacturer.isalpha()
        ):
            raise Iec62056EncodeError(
                f"manufacturer identification must be 3 letters: {self.manufacturer!r}"
            )
        if len(self.baud_char) != 1:
            raise Iec62056EncodeError(f"baud rate character must be one: {self.baud_char!r}")
        _printable(self.baud_char, forbidden="/!\\", what="baud rate character")
        _printable(self.ident, forbidden="/!", what="identification")
        for char in self.enhanced:
            if len(char) != 1:
                raise Iec62056EncodeError(
                    f"enhanced identification must be one character: {char!r}"
                )
            _printable(char, forbidden="/!", what="enhanced identification")

    @property
    def fast_reaction(self) -> bool:
        """A lowercase third letter: the meter reacts within 20 ms instead of 200 ms."""
        return self.manufacturer[2].islower()

    @property
    def mode_e(self) -> bool:
        """The ``\\2`` marker: the meter speaks HDLC (protocol mode E)."""
        return "2" in self.enhanced

    @property
    def protocol_mode(self) -> ProtocolMode:
        return protocol_mode(self.baud_char)

    @property
    def max_baud(self) -> int:
        """The highest baud rate the meter offers."""
        return baud_rate(self.baud_char)

    def to_bytes(self) -> bytes:
        if len(self.ident) > MAX_IDENT_LENGTH:
            raise Iec62056EncodeError(
                f"identification longer than {MAX_IDENT_LENGTH} characters: {self.ident!r}"
            )
        enhanced = "".join("\\" + char for char in self.enhanced)
        text = f"/{self.manufacturer}{self.baud_char}{enhanced}{self.ident}"
        return text.encode("ascii") + CRLF


@dataclass(frozen=True, slots=True)
class AckOptionSelect:
    """``ACK V Z Y CR LF``: the HHU picks protocol, baud rate and mode (protocol mode C)."""

    protocol: ProtocolControl
    baud_char: str
    mode: ModeControl

    def to_bytes(self) -> bytes:
        _printable(self.baud_char, forbidden="", what="baud rate character")
        text = f"{self.protocol.value}{self.baud_char}{self.mode.value}"
        return bytes([ACK]) + text.encode("ascii") + CRLF

    @property
    def baud(self) -> int:
        return baud_rate(self.baud_char)


@dataclass(frozen=True, slots=True)
class DataSet:
    """``address(value*unit)``; an empty address continues the previous data set."""

    address: str
    value: str
    unit: str | None = None

    def to_text(self) -> str:
        _printable(self.address, forbidden="()/!", what="data set address")
        _printable(self.value, forbidden="()*/!", what="data set value")
        if self.unit is not None:
            _printable(self.unit, forbidden="()/!", what="data set unit")
            return f"{self.address}({self.value}*{self.unit})"
        return f"{self.address}({self.value})"


def _encode_block(datasets: Iterable[DataSet], *, lines: bool) -> bytes:
    sep = "\r\n" if lines else ""
    text = sep.join(ds.to_text() for ds in datasets)
    if lines and text:
        text += "\r\n"
    return text.encode("ascii")


def _with_bcc(start: int, body: bytes) -> bytes:
    return bytes([start]) + body + bytes([bcc(body)])


@dataclass(frozen=True, slots=True)
class DataReadout:
    """``STX data-block ! CR LF ETX BCC``: the meter's readout, one data set a line."""

    datasets: tuple[DataSet, ...]

    def to_bytes(self) -> bytes:
        return _with_bcc(STX, _encode_block(self.datasets, lines=True) + b"!" + CRLF + bytes([ETX]))


@dataclass(frozen=True, slots=True)
class DataMessage:
    """``STX data ETX BCC`` in programming mode (``EOT`` instead of ETX: a partial block)."""

    datasets: tuple[DataSet, ...]
    partial: bool = False

    def to_bytes(self) -> bytes:
        end = EOT if self.partial else ETX
        return _with_bcc(STX, _encode_block(self.datasets, lines=False) + bytes([end]))

    @property
    def error(self) -> str | None:
        """The meter's error code (``ERxx``) when the message is ``(ERxx)``, else None."""
        if len(self.datasets) == 1 and not self.datasets[0].address:
            value = self.datasets[0].value
            if value.startswith("ER"):
                return value
        return None


class CommandId(StrEnum):
    PASSWORD = "P"
    WRITE = "W"
    READ = "R"
    EXECUTE = "E"
    BREAK = "B"


@dataclass(frozen=True, slots=True)
class CommandMessage:
    """``SOH C D STX data ETX BCC`` (``SOH B0 ETX BCC`` has no data) in programming mode."""

    command: CommandId
    command_type: str
    data: str | None = None
    partial: bool = False

    def __post_init__(self) -> None:
        if len(self.command_type) != 1 or not self.command_type.isdigit():
            raise Iec62056EncodeError(
                f"command type identifier must be one digit: {self.command_type!r}"
            )

    @classmethod
    def password(cls, password: str, *, command_type: str = "1") -> CommandMessage:
        """``P1 (password)`` (``P2`` for a secured algorithm result)."""
        _printable(password, forbidden="()/!", what="password")
        return cls(CommandId.PASSWORD, command_type, f"({password})")

    @classmethod
    def operand(cls, operand: str) -> CommandMessage:
        """``P0 (operand)``: the meter asks for a password, optionally offering a seed."""
        _printable(operand, forbidden="()/!", what="operand")
        return cls(CommandId.PASSWORD, "0", f"({operand})")

    @classmethod
    def read(cls, address: str, value: str = "") -> CommandMessage:
        """``R1 address(value)``; the value is often empty or a count of entries."""
        return cls(CommandId.READ, "1", DataSet(address, value).to_text())

    @classmethod
    def write(cls, address: str, value: str) -> CommandMessage:
        return cls(CommandId.WRITE, "1", DataSet(address, value).to_text())

    @classmethod
    def break_(cls) -> CommandMessage:
        """``B0``: end the session, the meter returns to 300 baud and waits for a sign-on."""
        return cls(CommandId.BREAK, "0")

    @property
    def parenthesised(self) -> str | None:
        """What stands between the parentheses of the data (the password, the operand)."""
        if self.data is None:
            return None
        open_at = self.data.find("(")
        close_at = self.data.rfind(")")
        if open_at < 0 or close_at < open_at:
            return None
        return self.data[open_at + 1 : close_at]

    @property
    def address(self) -> str | None:
        """The address of an R or W command's data (before the parenthesis)."""
        if self.data is None:
            return None
        open_at = self.data.find("(")
        return self.data if open_at < 0 else self.data[:open_at]

    def to_bytes(self) -> bytes:
        head = f"{self.command.value}{self.command_type}".encode("ascii")
        end = bytes([EOT if self.partial else ETX])
        if self.data is None:
            return _with_bcc(SOH, head + end)
        _printable(self.data, forbidden="", what="command data")
        return _with_bcc(SOH, head + bytes([STX]) + self.data.encode("ascii") + end)


@dataclass(frozen=True, slots=True)
class Acknowledge:
    """The single character ACK (programming mode: command accepted)."""

    def to_bytes(self) -> bytes:
        return bytes([ACK])


@dataclass(frozen=True, slots=True)
class NegativeAcknowledge:
    """The single character NAK (repeat your last message, or: refused)."""

    def to_bytes(self) -> bytes:
        return bytes([NAK])


Message = (
    SignOnRequest
    | Identification
    | AckOptionSelect
    | DataReadout
    | DataMessage
    | CommandMessage
    | Acknowledge
    | NegativeAcknowledge
)
MessageType = (
    type[SignOnRequest]
    | type[Identification]
    | type[AckOptionSelect]
    | type[DataReadout]
    | type[DataMessage]
    | type[CommandMessage]
    | type[Acknowledge]
    | type[NegativeAcknowledge]
)

# What the HHU expects from a meter and the meter from an HHU, at any time.
FROM_METER: frozenset[MessageType] = frozenset(
    {Identification, DataReadout, DataMessage, CommandMessage, Acknowledge, NegativeAcknowledge}
)

_BODY_BAD = re.compile(rb"[^\x20-\x7e\r\n]")
_SIGN_ON_CHAR = re.compile(rb"[0-9A-Za-z ]")


def _describe(byte: int) -> str:
    names = {SOH: "SOH", STX: "STX", ETX: "ETX", EOT: "EOT", ACK: "ACK", NAK: "NAK"}
    names |= {CR: "CR", LF: "LF"}
    if byte in names:
        return names[byte]
    if 0x20 <= byte <= 0x7E:
        return f"{chr(byte)!r}"
    hint = " (bit 7 set: is the port set for 7E1, or software 7E1 on a pty?)" if byte > 0x7F else ""
    return f"0x{byte:02X}{hint}"


_DATASET = r"[\r\n]*([^()/!\r\n]*)\(([^()/!*]*)(\*[^()/!*]*)?\)"
_DATASETS = re.compile(_DATASET)
_BLOCK = re.compile(f"(?:{_DATASET})*[\\r\\n]*")


def parse_data_block(text: str, *, where: str) -> tuple[DataSet, ...]:
    """Data sets of a data block (``address(value*unit)`` separated by nothing or CR LF)."""
    if _BLOCK.fullmatch(text) is None:
        _diagnose(text, where=where)  # raises, saying what is wrong
        raise Iec62056DecodeError(f"{where}: malformed data block {text[:40]!r}")
    datasets = []
    for address, value, star_unit in _DATASETS.findall(text):
        if "*" in address and not _reduced_star(address):
            raise Iec62056DecodeError(f"{where}: malformed data set address {address!r}")
        datasets.append(DataSet(address, value, star_unit[1:] if star_unit else None))
    return tuple(datasets)


def _diagnose(text: str, *, where: str) -> tuple[DataSet, ...]:
    """The slow walk through a data block that did not parse: it names the fault."""
    datasets: list[DataSet] = []
    i = 0
    n = len(text)
    while i < n:
        if text[i] in "\r\n":
            i += 1
            continue
        open_at = text.find("(", i)
        if open_at < 0:
            raise Iec62056DecodeError(f"{where}: data set without '(' at {text[i : i + 20]!r}")
        address = text[i:open_at]
        if any(c in address for c in ")/!\r\n*(") and not _reduced_star(address):
            raise Iec62056DecodeError(f"{where}: malformed data set address {address!r}")
        close_at = text.find(")", open_at)
        if close_at < 0:
            raise Iec62056DecodeError(f"{where}: data set {address!r} has no ')'")
        inner = text[open_at + 1 : close_at]
        if "(" in inner or "/" in inner or "!" in inner:
            raise Iec62056DecodeError(
                f"{where}: malformed value in data set {address!r}: {inner!r}"
            )
        value, star, unit = inner.partition("*")
        if star and "*" in unit:
            raise Iec62056DecodeError(f"{where}: two units in data set {address!r}: {inner!r}")
        datasets.append(DataSet(address, value, unit if star else None))
        i = close_at + 1
    return tuple(datasets)


def _reduced_star(address: str) -> bool:
    # "1.8.0*01" (a billing period) is a legal address; reject any other bad character.
    base, star, period = address.partition("*")
    return (
        bool(star)
        and not any(c in base for c in "()/!\r\n*")
        and period.isdigit()
        and len(period) <= 3
    )


@dataclass
class Decoder:
    """Incremental decoder: ``feed()`` bytes, then ``next_message(expect)`` until it gives None.

    ``expect`` names the message classes acceptable now (e.g. ``{Identification}`` after a
    sign-on); don't expect both :class:`Acknowledge` and :class:`AckOptionSelect` at once.
    After a decode error the offending message's first byte is dropped, so a caller that wants
    to resynchronise may simply call again.
    """

    max_message_size: int = 65536
    noise: int = 0
    _buffer: bytearray = field(default_factory=bytearray)
    _scanned: int = 0  # how far the body of the message at the front has been checked

    def feed(self, data: bytes) -> None:
        self._buffer += data

    @property
    def buffered(self) -> bytes:
        return bytes(self._buffer)

    def clear(self) -> None:
        self._buffer.clear()
        self._scanned = 0

    def _drop(self, count: int) -> None:
        del self._buffer[:count]
        self._scanned = 0

    def next_message(self, expect: Iterable[MessageType]) -> Message | None:
        wanted = frozenset(expect)
        buf = self._buffer
        start = self._find_start(wanted)
        if start is None:
            return None
        try:
            result = self._parse_at(wanted)
        except Iec62056DecodeError:
            self._drop(1)
            raise
        if result is None:
            if len(buf) > self.max_message_size:
                self._drop(1)
                raise Iec62056DecodeError(
                    f"message longer than {self.max_message_size} bytes without an end"
                )
            return None
        message, size = result
        self._drop(size)
        return message

    # -- internals -------------------------------------------------------------------------

    def _find_start(self, wanted: frozenset[MessageType]) -> int | None:
        """Drop noise before the first byte that can start a wanted message; None if none."""
        buf = self._buffer
        i = 0
        n = len(buf)
        found: int | None = None
        while i < n:
            byte = buf[i]
            if byte == ord("/") and (SignOnRequest in wanted or Identification in wanted):
                if i + 1 == n:
                    found = i
                    break
                second = buf[i + 1]
                if (second == ord("?") and SignOnRequest in wanted) or (
                    second != ord("?") and Identification in wanted
                ):
                    found = i
                    break
            elif (
                (byte == ACK and (AckOptionSelect in wanted or Acknowledge in wanted))
                or (byte == NAK and NegativeAcknowledge in wanted)
                or (byte == STX and (DataReadout in wanted or DataMessage in wanted))
                or (byte == SOH and CommandMessage in wanted)
            ):
                found = i
                break
            i += 1
        skipped = i if found is None else found
        if skipped:
            self.noise += skipped
            self._drop(skipped)
        return None if found is None else 0

    def _parse_at(self, wanted: frozenset[MessageType]) -> tuple[Message, int] | None:
        buf = self._buffer
        first = buf[0]
        if first == ord("/"):
            if len(buf) < 2:
                return None
            if buf[1] == ord("?"):
                return self._sign_on()
            return self._identification()
        if first == ACK:
            if AckOptionSelect in wanted:
                return self._option_select()
            return Acknowledge(), 1
        if first == NAK:
            return NegativeAcknowledge(), 1
        if first == STX:
            return self._data(wanted)
        return self._command()

    def _line(self, start: int, what: str) -> int | None:
        """Index of the CR of a CR LF ending a line that begins at ``start``; None if not yet."""
        buf = self._buffer
        cr = buf.find(b"\r", start)
        if cr < 0:
            return None
        if cr + 1 == len(buf):
            return None
        if buf[cr + 1] != LF:
            raise Iec62056DecodeError(f"{what}: CR not followed by LF but {_describe(buf[cr + 1])}")
        return cr

    def _sign_on(self) -> tuple[Message, int] | None:
        buf = self._buffer
        i = 2
        while i < len(buf) and _SIGN_ON_CHAR.fullmatch(buf[i : i + 1]):
            i += 1
            if i - 2 > MAX_ADDRESS_LENGTH:
                raise Iec62056DecodeError("sign-on request: device address longer than 32")
        if i == len(buf):
            return None
        if buf[i] != ord("!"):
            raise Iec62056DecodeError(
                f"sign-on request: unexpected {_describe(buf[i])} in the device address"
            )
        if len(buf) < i + 3:
            if len(buf) == i + 2 and buf[i + 1] != CR:
                raise Iec62056DecodeError(
                    f"sign-on request: expected CR LF after '!', got {_describe(buf[i + 1])}"
                )
            return None
        if buf[i + 1 : i + 3] != CRLF:
            raise Iec62056DecodeError(
                f"sign-on request: expected CR LF after '!', got {bytes(buf[i + 1 : i + 3])!r}"
            )
        address = buf[2:i].decode("ascii")
        return SignOnRequest(address), i + 3

    def _identification(self) -> tuple[Message, int] | None:
        buf = self._buffer
        what = "identification"
        # validate what has arrived, so that garbage fails now rather than after a timeout
        limit = 1 + 3 + 1 + 2 * 8 + MAX_IDENT_LENGTH_RECEIVED + 2
        for i in range(1, min(len(buf), limit)):
            byte = buf[i]
            if i <= 3:
                if not (chr(byte).isascii() and chr(byte).isalpha()):
                    raise Iec62056DecodeError(
                        f"{what}: manufacturer letter expected, got {_describe(byte)}"
                    )
            elif byte in (CR, LF):
                break
            elif not 0x20 <= byte <= 0x7E or (i >= 5 and byte in b"/!"):
                raise Iec62056DecodeError(f"{what}: unexpected {_describe(byte)}")
        cr = self._line(1, what)
        if cr is None:
            if len(buf) >= limit:
                raise Iec62056DecodeError(f"{what}: no CR LF within {limit} characters")
            return None
        if cr < 5:
            raise Iec62056DecodeError(f"{what}: too short: {bytes(buf[: cr + 2])!r}")
        text = buf[1:cr].decode("ascii")
        manufacturer, baud_char, rest = text[:3], text[3], text[4:]
        if baud_char in "/!\\":
            raise Iec62056DecodeError(f"{what}: bad baud rate character {baud_char!r}")
        if baud_char in _RESERVED_BAUD:
            raise Iec62056DecodeError(f"{what}: reserved baud rate character {baud_char!r}")
        enhanced: list[str] = []
        while rest.startswith("\\"):
            if len(rest) < 2:
                raise Iec62056DecodeError(f"{what}: '\\' at the end of {text!r}")
            enhanced.append(rest[1])
            rest = rest[2:]
        if "\\" in rest:
            raise Iec62056DecodeError(f"{what}: stray '\\' in {text!r}")
        if len(rest) > MAX_IDENT_LENGTH_RECEIVED:
            raise Iec62056DecodeError(f"{what}: identification too long: {rest!r}")
        return Identification(manufacturer, baud_char, rest, tuple(enhanced)), cr + 2

    def _option_select(self) -> tuple[Message, int] | None:
        buf = self._buffer
        what = "acknowledgement/option select"
        for i in range(1, min(len(buf), 6)):
            byte = buf[i]
            if i in (1, 3) and not ord("0") <= byte <= ord("9"):
                raise Iec62056DecodeError(f"{what}: digit expected, got {_describe(byte)}")
            if i == 2 and not 0x20 <= byte <= 0x7E:
                raise Iec62056DecodeError(f"{what}: bad baud rate character {_describe(byte)}")
            if i == 4 and byte != CR:
                raise Iec62056DecodeError(f"{what}: CR expected, got {_describe(byte)}")
            if i == 5 and byte != LF:
                raise Iec62056DecodeError(f"{what}: LF expected, got {_describe(byte)}")
        if len(buf) < 6:
            return None
        v, z, y = chr(buf[1]), chr(buf[2]), chr(buf[3])
        try:
            protocol = ProtocolControl(v)
        except ValueError:
            raise Iec62056DecodeError(f"{what}: unknown protocol control {v!r}") from None
        try:
            mode = ModeControl(y)
        except ValueError:
            raise Iec62056DecodeError(f"{what}: unknown mode control {y!r}") from None
        return AckOptionSelect(protocol, z, mode), 6

    def _block_end(self, start: int, what: str) -> int | None:
        """Index of the ETX/EOT ending a body that starts at ``start``, checking the body."""
        buf = self._buffer
        match = _BODY_BAD.search(buf, max(start, self._scanned))
        if match is None:
            self._scanned = len(buf)  # checked: the next call starts here
            return None
        end = match.start()
        if buf[end] not in (ETX, EOT):
            raise Iec62056DecodeError(f"{what}: unexpected {_describe(buf[end])} at byte {end}")
        return end

    def _check_bcc(self, end: int, what: str) -> None:
        buf = self._buffer
        received = buf[end + 1]
        computed = bcc(buf[1 : end + 1])
        if received != computed:
            raise BccError(
                f"bad BCC in {what}: received 0x{received:02X}, computed 0x{computed:02X}",
                received=received,
                computed=computed,
            )

    def _data(self, wanted: frozenset[MessageType]) -> tuple[Message, int] | None:
        buf = self._buffer
        readout_wanted = DataReadout in wanted
        what = "data readout" if readout_wanted and DataMessage not in wanted else "data message"
        end = self._block_end(1, what)
        if end is None or end + 1 >= len(buf):
            return None
        self._check_bcc(end, what)
        body = buf[1:end].decode("ascii")
        partial = buf[end] == EOT
        if body.endswith("!\r\n") and not partial and readout_wanted:
            datasets = parse_data_block(body[:-3], where="data readout")
            return DataReadout(datasets), end + 2
        if DataMessage not in wanted:
            raise Iec62056DecodeError(
                "data readout: the data block does not end with '!' CR LF ETX"
                if not partial
                else "data readout: partial block (EOT) where a whole readout was expected"
            )
        return DataMessage(parse_data_block(body, where=what), partial), end + 2

    def _command(self) -> tuple[Message, int] | None:
        buf = self._buffer
        what = "command message"
        if len(buf) < 4:
            if len(buf) >= 2 and chr(buf[1]) not in "PWREB":
                raise Iec62056DecodeError(f"{what}: unknown command {_describe(buf[1])}")
            if len(buf) >= 3 and not ord("0") <= buf[2] <= ord("9"):
                raise Iec62056DecodeError(f"{what}: command type digit expected")
            return None
        try:
            command = CommandId(chr(buf[1]))
        except ValueError:
            raise Iec62056DecodeError(f"{what}: unknown command {_describe(buf[1])}") from None
        if not ord("0") <= buf[2] <= ord("9"):
            raise Iec62056DecodeError(
                f"{what}: command type digit expected, got {_describe(buf[2])}"
            )
        kind = f"{command.value}{chr(buf[2])}"
        if buf[3] in (ETX, EOT):
            if len(buf) < 5:
                return None
            self._check_bcc(3, f"{kind} {what}")
            return CommandMessage(command, chr(buf[2]), None, buf[3] == EOT), 5
        if buf[3] != STX:
            raise Iec62056DecodeError(
                f"{kind} {what}: STX or ETX expected, got {_describe(buf[3])}"
            )
        end = self._block_end(4, f"{kind} {what}")
        if end is None or end + 1 >= len(buf):
            return None
        self._check_bcc(end, f"{kind} {what}")
        data = buf[4:end].decode("ascii")
        return CommandMessage(command, chr(buf[2]), data, buf[end] == EOT), end + 2
