"""What the use-case family modules of :mod:`emulator.usecases` add to every device: a
handler's :class:`Reply` and the :class:`Alert` s it raises, and the registries a family
fills at import - handlers by (device type, message code), tickers, observers, alert content
writers and alert filters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from emulator.devices.trust import DeviceContext
from gbcs.devices import DeviceType
from gbcs.frames import Message


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert a device is about to send."""

    code: int
    """The alert code (0x8F.. critical, 0x81.. non-critical)."""
    message_code: int = 0
    """0: the generic alert code (0x1000 critical / 0x1001 non-critical)."""
    content: bytes | None = None
    """Ready-made content (e.g. a firmware receipt); None: the device's standard alert."""
    critical: bool | None = None
    """None: critical iff the code is 0x8Fxx."""
    detail: bytes = b""
    """Alert-specific data appended to the standard alert content (e.g. an image hash)."""
    network_operator: bool = False
    """Sent to the network operator (the supply's own alerts, e.g. ECS80), not the supplier."""
    target: bytes | None = None
    """Sent to this party (the DCC's ACB, which forwards it), not the supplier / network
    operator."""
    extensions: bytes = b""
    """The alert's other-information (the supplementary remote party and its counter)."""

    @property
    def is_critical(self) -> bool:
        return self.critical if self.critical is not None else (self.code >> 8) == 0x8F


@dataclass(slots=True)
class Reply:
    """What a use-case handler returns: the response content, and alerts it raised."""

    content: bytes
    encrypt: bool = False
    """Encrypt the whole content for the command's originator (most handlers encrypt a part
    themselves, with :meth:`gbcs.builders.Builder.encrypt_payload`)."""
    alerts: list[Alert] = field(default_factory=list)
    extensions: bytes | None = None
    """The response's other-information; None: the command's (a read for an Unknown Remote
    Party answers without the certificate, :mod:`emulator.usecases.urp`)."""
    date_time: bytes | None = None
    """The response header's date-time (COSEM), where GBCS gives one: the execution time of a
    use case that may be future-dated."""


Handler = Callable[[Any, Message, int, DeviceContext], Reply]

FAMILY_HANDLERS: dict[tuple[DeviceType, int], Handler] = {}
"""Handlers the use-case family modules of :mod:`emulator.usecases` add, by (device type,
message code); a device class's own :attr:`Device.HANDLERS` come first."""


def handles(device_type: DeviceType, code: int) -> Callable[[Handler], Handler]:
    """Register a family's handler of the use case ``code`` on devices of ``device_type``."""

    def register(handler: Handler) -> Handler:
        key = (device_type, code)
        if key in FAMILY_HANDLERS:
            raise ValueError(f"{device_type} already handles message code 0x{code:04X}")
        FAMILY_HANDLERS[key] = handler
        return handler

    return register


Ticker = Callable[[Any, int], "list[Alert]"]

FAMILY_TICKERS: list[Ticker] = []
"""What the use-case families of :mod:`emulator.usecases` do as time passes on a meter (a
future-dated change falling due): called with the device and ``now`` before the meter
accounts up to ``now``, only on devices holding family state; they return the alerts raised."""


def ticks(ticker: Ticker) -> Ticker:
    """Register a family's :data:`FAMILY_TICKERS` entry."""
    FAMILY_TICKERS.append(ticker)
    return ticker


NextDue = Callable[[Any, int], "int | None"]

TICKER_DUE: dict[Ticker, NextDue] = {}
"""When each ticker next has work, given a meter's state after a tick and its device time
then: (device, device time) -> the earliest device time at which the ticker may do more than
note that the clock moved, or None (nothing until the device's family state changes); a time
not after the tick's means every tick. It may answer early (the ticker then runs and finds
nothing), never late. A meter runs no ticker before the earliest of these (see
:meth:`emulator.devices.meter.MeterDevice.tick`), so most commands run none; a ticker without
one runs on every tick. What a ticker still does on a tick when nothing is due (a log noting
the clock it has seen) is its :data:`TICKER_NOTES` entry."""


def next_due(ticker: Ticker) -> Callable[[NextDue], NextDue]:
    """Register when ``ticker`` (a :data:`FAMILY_TICKERS` entry) next has work."""

    def register(due: NextDue) -> NextDue:
        if ticker not in FAMILY_TICKERS:
            raise ValueError(f"{ticker.__qualname__} is not a registered ticker")
        TICKER_DUE[ticker] = due
        return due

    return register


Note = Callable[[Any, int], None]

TICKER_NOTES: dict[DeviceType, list[Note]] = {}
"""What the tickers do on a tick of a device of each type when none of them is due: called
with (device, device time) instead of the tickers, they write what the tickers would have
(a log's ``<log>_from``: the clock it has looked up to), so a skipped tick leaves the state
exactly as running every ticker does (a calendar changed later then counts from the same
moment)."""


def notes_clock(ticker: Ticker, device_type: DeviceType) -> Callable[[Note], Note]:
    """Register what ``ticker`` writes on a tick of a ``device_type`` device when it has
    nothing due (see :data:`TICKER_NOTES`)."""

    def register(note: Note) -> Note:
        if ticker not in FAMILY_TICKERS:
            raise ValueError(f"{ticker.__qualname__} is not a registered ticker")
        TICKER_NOTES.setdefault(device_type, []).append(note)
        return note

    return register


Observer = Callable[[Any, str, int, int], None]

FAMILY_OBSERVERS: list[Observer] = []
"""What the use-case family modules are told, with (device, kind, code, now): each command a
device executed (``"command"``, its message code), refused before running (``"refused"``,
the alert code) and each alert it raised (``"alert"``, the alert code) - the logs a device
keeps of them live in the families (e.g. the event and security logs of the reading one)."""


def observes(observer: Observer) -> Observer:
    """Register a family's observer of what devices execute and raise."""
    FAMILY_OBSERVERS.append(observer)
    return observer


def _observe(device: Any, kind: str, code: int, now: int) -> None:
    for observer in FAMILY_OBSERVERS:
        observer(device, kind, code, now)


AlertWriter = Callable[[Any, Alert, int, int], bytes]

FAMILY_ALERT_CONTENT: dict[int, AlertWriter] = {}
"""The content of alerts with their own message code and layout (e.g. ECS80's outage times),
by message code, written by a family from (device, alert, alert counter, now) where the
device's standard alert content does not fit."""


def writes_alerts(message_code: int) -> Callable[[AlertWriter], AlertWriter]:
    """Register a family's writer of the content of ``message_code`` alerts."""

    def register(writer: AlertWriter) -> AlertWriter:
        if message_code in FAMILY_ALERT_CONTENT:
            raise ValueError(f"0x{message_code:04X} alerts have a writer already")
        FAMILY_ALERT_CONTENT[message_code] = writer
        return writer

    return register


SealedAlertWriter = Callable[[Any, Alert, int, int, DeviceContext], bytes]

FAMILY_SEALED_ALERT_CONTENT: dict[int, SealedAlertWriter] = {}
"""As :data:`FAMILY_ALERT_CONTENT`, for alerts whose content holds a part encrypted for the
recipient (e.g. ECS68's billing data log): the writer also gets the device's context."""


def writes_sealed_alerts(message_code: int) -> Callable[[SealedAlertWriter], SealedAlertWriter]:
    """Register a family's writer of ``message_code`` alerts with an encrypted part."""

    def register(writer: SealedAlertWriter) -> SealedAlertWriter:
        if message_code in FAMILY_SEALED_ALERT_CONTENT or message_code in FAMILY_ALERT_CONTENT:
            raise ValueError(f"0x{message_code:04X} alerts have a writer already")
        FAMILY_SEALED_ALERT_CONTENT[message_code] = writer
        return writer

    return register


AlertFilter = Callable[[Any, Alert], bool]

FAMILY_ALERT_FILTERS: list[AlertFilter] = []
"""Whether a device sends an alert it raised (a family's alert behaviour settings, SR 6.22):
an alert any filter refuses is noted (observers) but not sent."""


def filters_alerts(alert_filter: AlertFilter) -> AlertFilter:
    """Register a family's :data:`FAMILY_ALERT_FILTERS` entry."""
    FAMILY_ALERT_FILTERS.append(alert_filter)
    return alert_filter
