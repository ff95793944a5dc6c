"""The ESME's prepayment daily read log (ECS21b, SR4.14 Read Prepayment Daily Read Log): at
each midnight (UTC) its clock passes, the ESME logs its prepayment registers - the six of
ECS19 (meter balance, emergency credit balance, accumulated debt, payment-based debt, the
two time-based debts), in the meter's currency unit - and ECS21b answers the entries whose
midnight is in the period asked, encrypted for the requester: the supplier, or - the ACB
sending it with a key agreement certificate - the Unknown Remote Party
(:mod:`emulator.usecases.urp`, the meter's own counter in the KDF).

The answer is the IC 30 protected read of the log (0-0:98.1.8.255): ``structure {
compact-array }`` of ``structure { capture time (double-long-unsigned, seconds since 2000),
the six registers (double-long) }``, as GBCS's ECS21b response lays it out.
"""

from __future__ import annotations

import struct
from typing import Any, Final

from emulator.devices.families import Alert, Reply, handles, next_due, notes_clock, ticks
from emulator.devices.meter import MeterDevice
from emulator.devices.trust import DeviceContext
from emulator.usecases.reading import (
    DAY,
    UNIX_2000,
    _protected_read,
    _protected_reply,
    prepay_values,
)
from gbcs.devices import DeviceType
from gbcs.errors import DecodeError
from gbcs.frames import Message
from gbcs.payloads._buf import Reader, axdr_length

__all__ = [
    "ECS21B",
    "FAMILY",
    "PREPAY_DAILY_TYPE",
    "prepay_daily_plaintext",
    "read_prepay_daily_plaintext",
]

FAMILY: Final = "prepay_log_esme"
ECS21B: Final = 0x0034
PREPAY_DAYS: Final = 31
"""Days the log keeps."""
PREPAY_DAILY_TYPE: Final = bytes.fromhex("0207" + "06" + "05" * 6)
"""compact-array type: structure { capture time, six prepayment registers }."""
_ENTRY = struct.Struct(">I6i")
_HEAD = b"\x02\x01\x13" + PREPAY_DAILY_TYPE


def prepay_daily_plaintext(entries: list[list[int]]) -> bytes:
    """The ECS21b plaintext of [seconds since 2000, six registers] entries."""
    body = b"".join(_ENTRY.pack(*entry) for entry in entries)
    return _HEAD + axdr_length(len(body)) + body


def read_prepay_daily_plaintext(plaintext: bytes) -> list[list[int]]:
    """The entries of a :func:`prepay_daily_plaintext`."""
    if not plaintext.startswith(_HEAD):
        raise DecodeError("not the prepayment daily read log")
    reader = Reader(plaintext, len(_HEAD))
    size = reader.axdr_length()
    body = plaintext[reader.pos :]
    if len(body) != size or size % _ENTRY.size:
        raise DecodeError("the prepayment daily read log's length does not match its entries")
    return [list(v) for v in _ENTRY.iter_unpack(body)]


@ticks
def record_prepay_days(device: Any, now: int) -> list[Alert]:
    """Log the ESME's prepayment registers at each midnight (UTC) the clock passes: the
    values of the tick that passes it."""
    if not isinstance(device, MeterDevice) or device.DEVICE_TYPE is not DeviceType.ESME:
        return []
    state = device.family_state(FAMILY)
    clock = device.device_time(now)
    after = state.get("from")
    state["from"] = clock
    if after is None or clock <= after:
        return []
    log: list[list[int]] = state.setdefault("days", [])
    values = list(prepay_values(device.meter))
    first = after - after % DAY + DAY
    for midnight in range(first, clock + 1, DAY):
        log.append([midnight - UNIX_2000, *values])
    del log[:-PREPAY_DAYS]
    return []


@next_due(record_prepay_days)
def _next_midnight(device: Any, clock: int) -> int | None:
    if not isinstance(device, MeterDevice) or device.DEVICE_TYPE is not DeviceType.ESME:
        return None
    state = device.extra.get(FAMILY) if device.extra else None
    after = state.get("from") if state else None
    return clock if after is None else int(after) - int(after) % DAY + DAY


@notes_clock(record_prepay_days, DeviceType.ESME)
def _clock_seen(device: Any, clock: int) -> None:
    state = device.extra[FAMILY]
    if clock > state["from"]:
        state.setdefault("days", [])
    state["from"] = clock


@handles(DeviceType.ESME, ECS21B)
def read_prepay_daily_log(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS21b: the entries logged at the midnights in the period asked, encrypted."""
    cmd = _protected_read(device, command, ECS21B)
    assert cmd.span is not None  # the use case is a ranged read
    start, end = cmd.span.seconds()
    days = [e for e in device.family_state(FAMILY).get("days", []) if start <= e[0] <= end]
    return _protected_reply(device, command, ctx, cmd, prepay_daily_plaintext(days))
