"""What the read responses carry, as values: the plaintexts of the encrypted reads (profile
and daily logs, TOU registers, gas samples) written and read back, and every read answer
shown as labelled values with their units and times (``smetsim decode`` / ``send --wait``).

Times are the GB-specific UTC clock (seconds since 2000-01-01); energy in Wh (varh for
reactive), gas in dm3 (m3 / 1000).
"""

from __future__ import annotations

import datetime as _dt
import struct
from collections.abc import Callable

from gbcs.errors import DecodeError
from gbcs.payloads import dlms, gbz
from gbcs.payloads._buf import Reader, axdr_length

TOU_REGISTERS = 48
"""An ESME has 48 TOU registers (the secondary element of a twin, 4)."""
SECONDARY_TOU_REGISTERS = 4
HALF_HOUR = 1800
EPOCH_2000 = _dt.datetime(2000, 1, 1, tzinfo=_dt.UTC)

_PAIR = struct.Struct(">II")
PAIRS_TYPE = bytes.fromhex("02020606")
"""compact-array type: structure { capture time, quantity }, double-long-unsigned both (the
ECS22b / ECS22c profiles, the ECS66 daily consumption log)."""
EXPORT_TYPE = bytes.fromhex("0203060606")
"""compact-array type of the export profile: structure { capture time, active, reactive }."""
EVENT_TYPE = bytes.fromhex("0203061209")
"""compact-array type of the event log: structure { time, event code, event data }."""
SECURITY_TYPE = bytes.fromhex("02020612")
"""compact-array type of the security log: structure { time, event code }."""
CREDITS_TYPE = bytes.fromhex("02020606")
"""compact-array type of the ESME's prepayment credits log (ECS20d): structure { time, credit
in milli-pence }."""
DEBT_TYPE = bytes.fromhex("02020606")
"""compact-array type of the ESME's payment-based debt payments log (ECS20a), as GBCS has it:
structure { time, amount collected in milli-pence }."""
VOLTAGE_TYPE = bytes.fromhex("02020606")
"""compact-array type of the average RMS voltage profile (ECS23): structure { time, V }."""
DAILY_TYPE = bytes.fromhex("020706060100300601000806010008060100080601000806")
MODE_CHANGE_TYPE = bytes.fromhex("020D06060100300601000806010008060100080601000806" + "05" * 6)
"""compact-array type of the ESME's change of mode billing log (ECS20b): the daily read log's
row (time, total import, 48 TOU and 4 x 8 block registers), then the six ECS19 prepayment
registers (:data:`PREPAY_VALUES`, double-long each)."""
"""compact-array type of the daily read log: structure { time, total import, 48 TOU
registers, 4 arrays of 8 block registers }, all double-long-unsigned."""
_DAILY = struct.Struct(">II48I32I")
_SAMPLES = struct.Struct("<HIBHH")
"""Get Sampled Data Response: sample id, start time, sample type, interval, count."""


def _wrapped(description: bytes, body: bytes) -> bytes:
    """``structure { compact-array }`` of these rows: the plaintext of the protected reads."""
    return b"\x02\x01\x13" + description + axdr_length(len(body)) + body


def _unwrapped(plaintext: bytes, description: bytes, size: int) -> bytes:
    head = b"\x02\x01\x13" + description
    if not plaintext.startswith(head):
        raise DecodeError("not a log of this read's entries")
    reader = Reader(plaintext, len(head))
    n = reader.axdr_length()
    body = plaintext[reader.pos :]
    if len(body) != n or n % size:
        raise DecodeError("the log's length does not match its entries")
    return body


def pairs_plaintext(entries: list[tuple[int, int]]) -> bytes:
    """The plaintext of (capture time, quantity) entries (ECS22b, ECS66)."""
    return _wrapped(PAIRS_TYPE, pairs_body(entries))


def pairs_body(entries: list[tuple[int, int]]) -> bytes:
    return b"".join(_PAIR.pack(t, v & 0xFFFF_FFFF) for t, v in entries)


def read_pairs_plaintext(plaintext: bytes) -> list[tuple[int, int]]:
    """The entries of a :func:`pairs_plaintext`."""
    return list(_PAIR.iter_unpack(_unwrapped(plaintext, PAIRS_TYPE, _PAIR.size)))


def tou_plaintext(primary: list[int], secondary: list[int] | None) -> bytes:
    """The ECS17d plaintext: the 48 TOU registers (and a twin's 4 secondary ones), Wh."""

    def registers(values: list[int], n: int) -> dlms.Array:
        padded = (values + [0] * n)[:n]
        return dlms.array(*(dlms.double_long_unsigned(v & 0xFFFF_FFFF) for v in padded))

    items = [registers(primary, TOU_REGISTERS)]
    if secondary is not None:
        items.append(registers(secondary, SECONDARY_TOU_REGISTERS))
    return dlms.structure(dlms.structure(*items)).to_bytes()


def read_tou_plaintext(plaintext: bytes) -> tuple[list[int], list[int] | None]:
    """The registers of a :func:`tou_plaintext`."""
    (inner,) = _items(dlms.decode_data(plaintext))
    arrays = [[_int(v) for v in _items(a)] for a in _items(inner)]
    if not arrays:
        raise DecodeError("not an ECS17d register set")
    found = (arrays[0], arrays[1] if len(arrays) > 1 else None)
    if tou_plaintext(*found) != plaintext:
        raise DecodeError("not an ECS17d register set")
    return found


def _items(value: dlms.Data) -> tuple[dlms.Data, ...]:
    if not isinstance(value, dlms.Structure | dlms.Array):
        raise DecodeError("expected a structure or array")
    return value.items


def _int(value: dlms.Data) -> int:
    if not isinstance(value, dlms.Integer):
        raise DecodeError("expected an integer")
    return value.value


DAILY_SAMPLES = 1
"""Sample id of the daily consumption log (GCS61); 0 is the half-hour profile (GCS17)."""
DAILY_INTERVAL = 0xFFFF
"""The interval a daily consumption log's samples carry (the DCC's GCS61 answer)."""


def samples_plaintext(
    start: int, samples: list[int], interval: int = HALF_HOUR, sample_id: int = 0
) -> bytes:
    """A Get Sampled Data Response payload (GCS17, GCS61): consumption samples from
    ``start``, each an unsigned 24-bit count of dm3."""
    head = _SAMPLES.pack(sample_id, start, 0, interval, len(samples))
    return head + b"".join(min(v, 0xFF_FFFF).to_bytes(3, "little") for v in samples)


def read_samples_plaintext(plaintext: bytes) -> tuple[int, list[int]]:
    """(start, samples) of a :func:`samples_plaintext`."""
    if len(plaintext) < _SAMPLES.size:
        raise DecodeError("not a Get Sampled Data Response")
    sample_id, start, _, interval, count = _SAMPLES.unpack(plaintext[: _SAMPLES.size])
    body = plaintext[_SAMPLES.size :]
    samples = [int.from_bytes(body[i : i + 3], "little") for i in range(0, len(body), 3)]
    if len(samples) != count or samples_plaintext(start, samples, interval, sample_id) != plaintext:
        raise DecodeError("not a Get Sampled Data Response")
    return start, samples


def daily_plaintext(reads: list[tuple[int, int, list[int]]]) -> bytes:
    """The ECS21a plaintext of (midnight, total, 48 TOU registers) entries (block registers
    0: no block tariff)."""
    blocks = [0] * 32
    body = b"".join(
        _DAILY.pack(t, total & 0xFFFF_FFFF, *(v & 0xFFFF_FFFF for v in tou), *blocks)
        for t, total, tou in reads
    )
    return _wrapped(DAILY_TYPE, body)


def read_daily_plaintext(plaintext: bytes) -> list[tuple[int, int, list[int]]]:
    """The (time, total, TOU) of each entry of a :func:`daily_plaintext`."""
    body = _unwrapped(plaintext, DAILY_TYPE, _DAILY.size)
    return [(v[0], v[1], list(v[2:50])) for v in _DAILY.iter_unpack(body)]


PREPAY_VALUES = (
    "meter balance",
    "emergency credit balance",
    "accumulated debt",
    "payment-based debt",
    "time-based debt 1",
    "time-based debt 2",
)
"""The ECS19 prepayment registers, in order (in the meter's currency unit: the emulated
meters keep milli-pence)."""


def prepay_plaintext(values: tuple[int, ...]) -> bytes:
    """The ECS19 plaintext: the :data:`PREPAY_VALUES`, each a double-long."""
    if len(values) != len(PREPAY_VALUES):
        raise ValueError(f"{len(PREPAY_VALUES)} prepayment registers, not {len(values)}")
    return dlms.structure(dlms.structure(*(dlms.double_long(v) for v in values))).to_bytes()


def read_prepay_plaintext(plaintext: bytes) -> tuple[int, ...]:
    """The registers of a :func:`prepay_plaintext`."""
    (inner,) = _items(dlms.decode_data(plaintext))
    found = tuple(_int(v) for v in _items(inner))
    if len(found) != len(PREPAY_VALUES) or prepay_plaintext(found) != plaintext:
        raise DecodeError("not the ECS19 prepayment registers")
    return found


# =========================================================================== labelled values


def when(seconds: int) -> str:
    """Seconds since 2000 as an ISO UTC time."""
    moment = EPOCH_2000 + _dt.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _compact_rows(content: bytes, description: bytes, layout: str) -> list[tuple[int, ...]]:
    """The rows of the single compact-array a plain DLMS read answered with."""
    apdu = dlms.decode_dlms(content)
    if not isinstance(apdu, dlms.AccessResponse) or len(apdu.data) != 1:
        raise DecodeError("expected one data value")
    value = apdu.data[0]
    if not isinstance(value, dlms.CompactArray) or value.description != description:
        raise DecodeError("not this read's log")
    size = struct.calcsize(layout)
    if len(value.contents) % size:
        raise DecodeError("the log's length does not match its entries")
    return list(struct.iter_unpack(layout, value.contents))


def _profile(unit: str) -> Callable[[bytes], list[str]]:
    return lambda plaintext: [f"{when(t)}  {v} {unit}" for t, v in read_pairs_plaintext(plaintext)]


def _daily_consumption(plaintext: bytes) -> list[str]:
    return [f"day to {when(t)}  {v} Wh" for t, v in read_pairs_plaintext(plaintext)]


def _tou(plaintext: bytes) -> list[str]:
    primary, secondary = read_tou_plaintext(plaintext)
    lines = [f"TOU register {n + 1}: {v} Wh" for n, v in enumerate(primary) if v]
    if secondary is not None:
        lines += [f"secondary TOU register {n + 1}: {v} Wh" for n, v in enumerate(secondary)]
    return lines or ["every TOU register: 0 Wh"]


def _daily(plaintext: bytes) -> list[str]:
    return [
        f"{when(t)}  total import {total} Wh, TOU "
        + ", ".join(f"{n + 1}: {v}" for n, v in enumerate(tou) if v)
        for t, total, tou in read_daily_plaintext(plaintext)
    ]


def _gas_samples(plaintext: bytes) -> list[str]:
    start, samples = read_samples_plaintext(plaintext)
    return [f"{when(start + n * HALF_HOUR)}  {v / 1000:g} m3" for n, v in enumerate(samples)]


def _prepay(plaintext: bytes) -> list[str]:
    values = read_prepay_plaintext(plaintext)
    return [f"{name}: {v}" for name, v in zip(PREPAY_VALUES, values, strict=True)]


ENCRYPTED: dict[int, Callable[[bytes], list[str]]] = {
    0x002D: _prepay,  # ECS19
    0x0037: _profile("Wh"),  # ECS22b
    0x0060: _daily_consumption,  # ECS66
    0x0029: _tou,  # ECS17d
    0x0033: _daily,  # ECS21a
}
"""Message code -> the labelled values of its decrypted plaintext."""


def _gas_days(plaintext: bytes) -> list[str]:
    start, samples = read_samples_plaintext(plaintext)
    return [f"day from {when(start + n * 86_400)}  {v / 1000:g} m3" for n, v in enumerate(samples)]


ENCRYPTED_GBZ: dict[int, Callable[[bytes], list[str]]] = {
    0x0078: _gas_samples,  # GCS17
    0x00A0: _gas_days,  # GCS61
}
"""Message code -> the labelled values of its decrypted GBZ component payload."""


def _plain_profile(
    layout: str, description: bytes, show: Callable[[tuple[int, ...]], str]
) -> Callable[[bytes], list[str]]:
    return lambda content: [show(row) for row in _compact_rows(content, description, layout)]


PLAIN: dict[int, Callable[[bytes], list[str]]] = {
    0x0038: _plain_profile(">II", PAIRS_TYPE, lambda r: f"{when(r[0])}  {r[1]} varh"),
    0x0036: _plain_profile(
        ">III", EXPORT_TYPE, lambda r: f"{when(r[0])}  export {r[1]} Wh, {r[2]} varh"
    ),
    0x0048: _plain_profile(">IHB", EVENT_TYPE, lambda r: f"{when(r[0])}  event 0x{r[1]:04X}"),
    0x0049: _plain_profile(">IH", SECURITY_TYPE, lambda r: f"{when(r[0])}  event 0x{r[1]:04X}"),
}
"""Message code -> the labelled values of its plain response content."""


def _event_log(content: bytes) -> list[str]:
    """A Publish Event Log (CS10a / CS10b): each entry's time and event code."""
    frame = gbz.GbzPayload.from_bytes(content).components[0].frame
    if not isinstance(frame, gbz.ZclFrame) or frame.command_id != 0x01:
        raise DecodeError("not a Publish Event Log")
    body = frame.payload[5:]
    return [
        f"{when(t)}  event 0x{code:04X}"
        for _, code, t, _ in struct.iter_unpack("<BHIB", body[: len(body) - len(body) % 8])
    ]


PLAIN[0x0014] = _event_log  # CS10a
PLAIN[0x00A1] = _event_log  # CS10b
PLAIN[0x00C9] = _plain_profile(  # ECS20d
    ">II", CREDITS_TYPE, lambda r: f"{when(r[0])}  credit {r[1] / 100_000:.2f} GBP"
)
PLAIN[0x002E] = _plain_profile(  # ECS20a
    ">II",
    DEBT_TYPE,
    lambda r: f"{when(r[0])}  payment-based debt {r[1] / 100_000:.2f} GBP collected",
)

_CONTROL_STATES = {0: "disconnected (supply off)", 1: "connected (supply on)", 2: "armed"}


def _load_switch(content: bytes) -> list[str]:
    """ECS45: the disconnect control's state."""
    apdu = dlms.decode_dlms(content)
    if not isinstance(apdu, dlms.AccessResponse) or len(apdu.data) != 1:
        raise DecodeError("expected one data value")
    value = apdu.data[0]
    if not isinstance(value, dlms.Integer) or value.value not in _CONTROL_STATES:
        raise DecodeError("not a control state")
    return [f"load switch: {_CONTROL_STATES[value.value]}"]


def _network_data(content: bytes) -> list[str]:
    """ECS23 / ECS23b: each phase's RMS voltage counters and average RMS voltage profile."""
    apdu = dlms.decode_dlms(content)
    if not isinstance(apdu, dlms.AccessResponse) or len(apdu.data) % 6:
        raise DecodeError("expected six values a phase")
    lines = []
    for n in range(0, len(apdu.data), 6):
        under, _, over, _, profile, _ = apdu.data[n : n + 6]
        if not isinstance(profile, dlms.CompactArray) or profile.description != VOLTAGE_TYPE:
            raise DecodeError("not a voltage profile")
        if not isinstance(under, dlms.Integer) or not isinstance(over, dlms.Integer):
            raise DecodeError("not voltage counters")
        phase = f"phase {n // 6 + 1}: " if len(apdu.data) > 6 else ""
        lines.append(f"{phase}under-voltage periods {under.value}, over-voltage {over.value}")
        lines += [
            f"{phase}{when(t)}  {v} V" for t, v in struct.iter_unpack(">II", profile.contents)
        ]
    return lines


PLAIN[0x0052] = _load_switch  # ECS45
PLAIN[0x0039] = _network_data  # ECS23
PLAIN[0x00BC] = _network_data  # ECS23b


def _top_up_log(content: bytes) -> list[str]:
    """GCS15e: a Publish Top Up Log - each top-up's time, UTRN and credit."""
    frame = gbz.GbzPayload.from_bytes(content).components[0].frame
    if not isinstance(frame, gbz.ZclFrame) or frame.command_id != 0x05:
        raise DecodeError("not a Publish Top Up Log")
    lines, at, p = [], 2, frame.payload
    while at < len(p):
        n = p[at]
        code = p[at + 1 : at + 1 + n].decode("ascii")
        amount, t = struct.unpack_from("<iI", p, at + 1 + n)
        lines.append(f"{when(t)}  UTRN {code}  credit {amount / 100_000:.2f} GBP")
        at += 1 + n + 8
    return lines


def _network_samples(plaintext: bytes) -> list[str]:
    """GCS18: the network data log's samples (the decrypted Get Sampled Data Response)."""
    _, start, _, interval, _ = _SAMPLES.unpack(plaintext[: _SAMPLES.size])
    _, samples = read_samples_plaintext(plaintext)
    return [f"{when(start + n * interval)}  {v / 1000:g} m3" for n, v in enumerate(samples)]


PLAIN[0x00C5] = _top_up_log  # GCS15e
ENCRYPTED_GBZ[0x0079] = _network_samples  # GCS18


def labelled(message_code: int, content: bytes, plaintexts: list[bytes]) -> list[str]:
    """A read response as labelled values (empty when the use case has none here, or the
    answer is not in its shape - a failure, say)."""
    try:
        if message_code in PLAIN:
            return PLAIN[message_code](content)
        show = ENCRYPTED.get(message_code) or ENCRYPTED_GBZ.get(message_code)
        if show is not None and len(plaintexts) == 1:
            return show(plaintexts[0])
    except (DecodeError, ValueError, struct.error):
        return []
    return []


__all__ = [
    "daily_plaintext",
    "labelled",
    "pairs_plaintext",
    "prepay_plaintext",
    "read_daily_plaintext",
    "read_pairs_plaintext",
    "read_prepay_plaintext",
    "read_samples_plaintext",
    "read_tou_plaintext",
    "samples_plaintext",
    "tou_plaintext",
]
