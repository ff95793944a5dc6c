"""The reading family on the emulated devices, answered from the meter's own record: the
ESME's half-hour active import profile (ECS22b, SR4.8.1), reactive import and export
profiles (ECS22c / ECS22a, SR4.8.2 / 4.8.3), daily read log (ECS21a, SR4.6.1), daily
consumption log (ECS66, SR4.17), TOU registers (ECS17d, SR4.1.2), prepayment registers
(ECS19, SR4.3), meter balance (ECS82, SR4.18) and event and security logs (ECS35a / ECS35b,
SR6.13), and the GSME's half-hour profile (GCS17, SR4.8.1), daily consumption log (GCS61,
SR4.17) and event and security logs (CS10a / CS10b, SR6.13) - each in the DCC's response
shape, encrypted for the party that asked where GBCS says so.

The event and security logs are this family's state on the device (``family_state
("reading")``, saved with it): every alert the device raises goes in its event log, every
command it executes (its message code) and every command it refuses (the alert code) in its
security log, each with the device's time; the last :data:`LOG_ENTRIES` of each are kept.

The meter records every half hour as it passes (``Meter.advance``, driven by the device
clock); a log read returns exactly the entries whose capture time is in the period asked
(inclusive), those the meter still holds."""

from __future__ import annotations

import struct
from typing import Any

from emulator.devices.families import Reply, handles, observes
from emulator.devices.trust import DeviceContext
from emulator.errors import CommandError
from emulator.usecases import urp
from gbcs import content as gc
from gbcs.content.reads_gbz import GET_SAMPLED_DATA, NOT_FOUND
from gbcs.devices import DeviceType
from gbcs.frames import Message
from gbcs.payloads import dlms, gbz
from gbcs.payloads.gbz import (
    CONTROL_ENCRYPTED,
    CONTROL_LAST,
    EncryptedZcl,
    GbzComponent,
    ZclFrame,
)
from gbcs.payloads.read_values import (
    DAILY_INTERVAL,
    DAILY_SAMPLES,
    EVENT_TYPE,
    EXPORT_TYPE,
    PAIRS_TYPE,
    SECURITY_TYPE,
    TOU_REGISTERS,
    daily_plaintext,
    pairs_body,
    pairs_plaintext,
    prepay_plaintext,
    samples_plaintext,
    tou_plaintext,
)

UNIX_2000 = 946_684_800
"""2000-01-01T00:00:00Z in Unix seconds: the origin of the logs' capture times."""
HALF_HOUR = 1800
DAY = 86_400
ECS17D = 0x0029
ECS22B = 0x0037
ECS66 = 0x0060
GCS17 = 0x0078
GET_SAMPLED_DATA_RESPONSE = 0x07
GCS61 = 0x00A0
ECS22C = 0x0038
ECS22A = 0x0036
ECS82 = 0x0069
ECS35A = 0x0048
ECS35B = 0x0049
LOG_ENTRIES = 100
"""Entries each of the event and security logs keeps."""
MAX_CONTENT = 0xFFFF
"""The most content bytes one GBCS message carries (its length field)."""


def fitting(content: bytes, extensions: bytes | None = None) -> Reply:
    """The reply of ``content``; a period holding more than one response carries (13 months
    of half hours do not fit) is the device's error response, asking for a shorter one."""
    if len(content) > MAX_CONTENT:
        raise CommandError(
            f"the period asked holds {len(content)} bytes of data, more than one response "
            f"carries ({MAX_CONTENT}): ask for a shorter period"
        )
    return Reply(content, extensions=extensions)


def half_hours_in(meter: Any, span: gc.Span) -> list[tuple[int, int]]:
    """The recorded half hours whose capture time (the end of the half hour) is in ``span``,
    oldest first, as (seconds since 2000, Wh)."""
    start, end = span.seconds()
    offset = UNIX_2000 - HALF_HOUR  # capture time (since 2000) -> start (Unix)
    held = meter.half_hours(since=start + offset, until=end + offset)
    return [(begin - offset, used) for begin, used in held]


def whole_days(meter: Any, first: int = 0, last: int | None = None) -> list[tuple[int, int]]:
    """The days (UTC) the meter holds every half hour of, oldest first: (the day's start in
    seconds since 2000, its consumption) - those starting from ``first`` to ``last``
    (seconds since 2000) if given."""
    totals: dict[int, int] = {}
    counts: dict[int, int] = {}
    until = None if last is None else last + UNIX_2000 + DAY - 1
    for begin, used in meter.half_hours(since=first + UNIX_2000, until=until):
        day = begin - begin % DAY - UNIX_2000
        totals[day] = totals.get(day, 0) + used
        counts[day] = counts.get(day, 0) + 1
    return [(day, totals[day]) for day in sorted(totals) if counts[day] == DAY // HALF_HOUR]


def days_in(meter: Any, span: gc.Span) -> list[tuple[int, int]]:
    """The whole days held whose end (the midnight, UTC) is in ``span``: (that midnight in
    seconds since 2000, the day's consumption)."""
    start, end = span.seconds()
    held = whole_days(meter, max(0, start - DAY), end - DAY)
    return [(day + DAY, used) for day, used in held if start <= day + DAY <= end]


def _protected_read(device: Any, command: Message, code: int) -> gc.ProtectedRead:
    cmd = gc.decode_command(code, command.content)
    if not isinstance(cmd, gc.ProtectedRead):
        raise CommandError(f"message code 0x{code:04X} content is not a protected read")
    # A read for an Unknown Remote Party names the user who asked, the ACB sending it.
    urp_user = command.extensions[:8] if len(command.extensions) > 16 else None
    if cmd.device != device.eui or cmd.requester not in (command.business_originator, urp_user):
        raise CommandError("the protection parameters name other parties")
    return cmd


def _protected_reply(
    device: Any, command: Message, ctx: DeviceContext, cmd: gc.ProtectedRead, plaintext: bytes
) -> Reply:
    encrypted = urp.encrypt(device, command, ctx, plaintext)
    return fitting(
        gc.ProtectedResponse(cmd.counter, cmd.device, cmd.requester, encrypted).encode(),
        extensions=urp.extensions(device, command, ctx),
    )


@handles(DeviceType.ESME, ECS22B)
def read_active_import_profile(
    device: Any, command: Message, now: int, ctx: DeviceContext
) -> Reply:
    """ECS22b: the half hours of the period asked."""
    cmd = _protected_read(device, command, ECS22B)
    assert cmd.span is not None  # the use case is a ranged read
    return _protected_reply(
        device, command, ctx, cmd, pairs_plaintext(half_hours_in(device.meter, cmd.span))
    )


@handles(DeviceType.ESME, ECS66)
def read_daily_consumption(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS66: each whole day's import in the period asked."""
    cmd = _protected_read(device, command, ECS66)
    assert cmd.span is not None
    return _protected_reply(
        device, command, ctx, cmd, pairs_plaintext(days_in(device.meter, cmd.span))
    )


@handles(DeviceType.ESME, ECS17D)
def read_tou_registers(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS17d: the TOU registers as the meter accumulates them under its tariff."""
    cmd = _protected_read(device, command, ECS17D)
    secondary = None if device.secondary is None else list(device.secondary.tou)
    plaintext = tou_plaintext(list(device.meter.tou), secondary)
    return _protected_reply(device, command, ctx, cmd, plaintext)


def _gas_read(command: Message, code: int) -> gc.GbzRead:
    cmd = gc.decode_command(code, command.content)
    if not isinstance(cmd, gc.GbzRead) or cmd.span is None:
        raise CommandError(f"message code 0x{code:04X} content is not a Get Sampled Data")
    return cmd


def _sampled_reply(device: Any, command: Message, ctx: DeviceContext, plaintext: bytes) -> Reply:
    """A Get Sampled Data Response component, its payload encrypted for the requester."""
    encrypted = urp.encrypt(device, command, ctx, plaintext)
    frame = EncryptedZcl(
        gbz.FC_CLUSTER_SPECIFIC | gbz.FC_SERVER_TO_CLIENT | gbz.FC_DISABLE_DEFAULT_RESPONSE,
        0,
        GET_SAMPLED_DATA_RESPONSE,
        encrypted,
    )
    component = GbzComponent(gbz.Cluster.METERING, frame, CONTROL_LAST | CONTROL_ENCRYPTED)
    return fitting(
        gbz.GbzPayload((component,)).to_bytes(), extensions=urp.extensions(device, command, ctx)
    )


@handles(DeviceType.GSME, GCS17)
def read_gas_profile(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """GCS17: the half hours from the start time asked to the last asked, those held (the
    samples start at the first held); none held is the NOT_FOUND default response."""
    cmd = _gas_read(command, GCS17)
    assert cmd.span is not None
    start, end = cmd.span.seconds()
    held = [
        (begin - UNIX_2000, used)
        for begin, used in device.meter.half_hours(since=start + UNIX_2000, until=end + UNIX_2000)
    ]
    if not held:
        return Reply(gc.ZclFailure(GET_SAMPLED_DATA, NOT_FOUND).encode())
    plaintext = samples_plaintext(held[0][0], [used for _, used in held])
    return _sampled_reply(device, command, ctx, plaintext)


@handles(DeviceType.GSME, GCS61)
def read_gas_daily_consumption(
    device: Any, command: Message, now: int, ctx: DeviceContext
) -> Reply:
    """GCS61: each whole day held from the day asked first to the last, its dm3 (the samples
    start at the first such day); none is the NOT_FOUND default response."""
    cmd = _gas_read(command, GCS61)
    assert cmd.span is not None
    start, end = cmd.span.seconds()
    days = [(day, used) for day, used in whole_days(device.meter, start, end) if day <= end]
    if not days:
        return Reply(gc.ZclFailure(GET_SAMPLED_DATA, NOT_FOUND).encode())
    plaintext = samples_plaintext(
        days[0][0], [used for _, used in days], DAILY_INTERVAL, DAILY_SAMPLES
    )
    return _sampled_reply(device, command, ctx, plaintext)


# -- profiles of plain DLMS reads ---------------------------------------------------------


def reactive_of(meter: Any, active: int) -> int:
    """A half hour's reactive import (varh) for its active import: the meter's own ratio, as
    its ECS17b reactive register grows."""
    return int(active * (40 + meter.key % 160) // 1000)


def _dlms_read(command: Message, code: int) -> gc.DlmsRead:
    cmd = gc.decode_command(code, command.content)
    if not isinstance(cmd, gc.DlmsRead) or cmd.span is None:
        raise CommandError(f"message code 0x{code:04X} content is not a ranged read")
    return cmd


@handles(DeviceType.ESME, ECS22C)
def read_reactive_import_profile(
    device: Any, command: Message, now: int, ctx: DeviceContext
) -> Reply:
    """ECS22c: the half hours' reactive import in the period asked."""
    cmd = _dlms_read(command, ECS22C)
    assert cmd.span is not None
    meter = device.meter
    entries = [(t, reactive_of(meter, used)) for t, used in half_hours_in(meter, cmd.span)]
    data = (dlms.CompactArray(PAIRS_TYPE, pairs_body(entries)),)
    return fitting(gc.DlmsReadResponse.for_command(cmd, data).encode())


@handles(DeviceType.ESME, ECS22A)
def read_export_profile(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS22a: the half hours in the period asked, exporting nothing (the emulated
    premises have no generation)."""
    cmd = _dlms_read(command, ECS22A)
    assert cmd.span is not None
    body = b"".join(struct.pack(">III", t, 0, 0) for t, _ in half_hours_in(device.meter, cmd.span))
    data = (dlms.CompactArray(EXPORT_TYPE, body),)
    return fitting(gc.DlmsReadResponse.for_command(cmd, data).encode())


@handles(DeviceType.ESME, ECS82)
def read_meter_balance(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS82: the meter balance (the credit the meter holds), as the meter keeps it."""
    cmd = gc.decode_command(ECS82, command.content)
    if not isinstance(cmd, gc.DlmsRead):
        raise CommandError("ECS82 content is not a read")
    balance = dlms.double_long(int(device.meter.credit.balance))
    return Reply(gc.DlmsReadResponse.for_command(cmd, (balance,)).encode())


# -- event and security logs --------------------------------------------------------------

EVENT_LOG = "events"
SECURITY_LOG = "security"


_ENTRY = struct.Struct(">IH")
"""One log entry as a log keeps it: seconds since 2000, event code (12 hex digits)."""
_ENTRY_HEX = 2 * _ENTRY.size


@observes
def _record(device: Any, kind: str, code: int, now: int) -> None:
    """What the device did, in its logs (see the module docstring). A log is kept as the
    hex of its packed entries: the device's state is saved after every command, and a
    hundred entries as JSON pairs took most of that save's encoding."""
    log = EVENT_LOG if kind == "alert" else SECURITY_LOG
    state = device.log_state("reading")
    # A clock set before 2000 logs at 2000: the entry's time is unsigned, as on the wire.
    at = max(0, device.device_time(now) - UNIX_2000)
    text = _packed(state.get(log)) + _ENTRY.pack(at, code).hex()
    state[log] = text[-LOG_ENTRIES * _ENTRY_HEX :]


def _packed(kept: str | list[list[int]] | None) -> str:
    """A log as kept now; a state saved before logs were packed holds ``[[t, code], ...]``."""
    if isinstance(kept, list):
        return "".join(_ENTRY.pack(t, c).hex() for t, c in kept)
    return kept or ""


def log_entries(device: Any, log: str, span: gc.Span | None = None) -> list[tuple[int, int]]:
    """(seconds since 2000, code) of the log, oldest first, those in ``span`` if given."""
    packed = _packed(device.family_state("reading").get(log))
    entries: list[tuple[int, int]] = list(_ENTRY.iter_unpack(bytes.fromhex(packed)))
    if span is None:
        return entries
    start, end = span.seconds()
    return [(t, c) for t, c in entries if start <= t <= end]


@handles(DeviceType.ESME, ECS35A)
def read_event_log(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS35a: the event log entries in the period asked (no event data)."""
    cmd = _dlms_read(command, ECS35A)
    # Read before this command's own entry is added (it is added once it has run).
    entries = log_entries(device, EVENT_LOG, cmd.span)
    body = b"".join(struct.pack(">IHB", t, c, 0) for t, c in entries)
    data = (dlms.CompactArray(EVENT_TYPE, body),)
    return fitting(gc.DlmsReadResponse.for_command(cmd, data).encode())


@handles(DeviceType.ESME, ECS35B)
def read_security_log(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS35b: the security log entries in the period asked."""
    cmd = _dlms_read(command, ECS35B)
    entries = log_entries(device, SECURITY_LOG, cmd.span)
    body = b"".join(struct.pack(">IH", t, c) for t, c in entries)
    data = (dlms.CompactArray(SECURITY_TYPE, body),)
    return fitting(gc.DlmsReadResponse.for_command(cmd, data).encode())


# -- daily read log -----------------------------------------------------------------------

ECS21A = 0x0033


def daily_reads(meter: Any, span: gc.Span) -> list[tuple[int, int, list[int]]]:
    """The registers at each midnight (UTC) in ``span`` that the meter can still rebuild
    (every half hour since then recorded): (seconds since 2000, total, 48 TOU registers),
    oldest first. A register's reading then is its reading now less what the half hours
    since billed to it (by the tariff's switching table)."""
    start, end = span.seconds()
    # Every half hour from the period's start on: the registers are walked back from now.
    held = meter.half_hours(since=start + UNIX_2000)
    if not held:
        return []
    switching = meter.tariff.switching
    total = int(meter.total)
    tou = (list(meter.tou) + [0] * TOU_REGISTERS)[:TOU_REGISTERS]
    out = []
    # Walk back from the newest half hour, taking each off the registers it added to.
    for begin, used in reversed(held):
        if (begin + HALF_HOUR) % DAY == 0:
            midnight = begin + HALF_HOUR - UNIX_2000
            if start <= midnight <= end:
                out.append((midnight, total, list(tou)))
        total -= used
        tou[switching[(begin // HALF_HOUR) % len(switching)]] -= used
    first = held[0][0]
    if first % DAY == 0 and start <= first - UNIX_2000 <= end:
        out.append((first - UNIX_2000, total, list(tou)))
    return sorted(out)


@handles(DeviceType.ESME, ECS21A)
def read_daily_log(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS21a: the registers at each midnight of the period asked, encrypted."""
    cmd = _protected_read(device, command, ECS21A)
    assert cmd.span is not None
    plaintext = daily_plaintext(daily_reads(device.meter, cmd.span))
    return _protected_reply(device, command, ctx, cmd, plaintext)


# -- the gas meter's event and security logs ----------------------------------------------

CS10A = 0x0014
CS10B = 0x00A1
EVENTS_CLUSTER = 0x0709
PUBLISH_EVENT_LOG = 0x01
GET_EVENT_LOG = 0x00
_ZIGBEE_LOG_IDS = {CS10A: (EVENT_LOG, 0x03), CS10B: (SECURITY_LOG, 0x04)}
"""Use case -> (the family's log, the ZigBee log id its entries carry)."""


def publish_event_log(log_id: int, entries: list[tuple[int, int]]) -> bytes:
    """A ZCL Publish Event Log payload: every entry in one command (log id, event code,
    time, no event data)."""
    head = struct.pack("<HBBB", len(entries), 0, 1, 0)
    return head + b"".join(struct.pack("<BHIB", log_id, code, t, 0) for t, code in entries)


def _gas_log(device: Any, command: Message, code: int) -> Reply:
    cmd = _gas_read(command, code)
    log, log_id = _ZIGBEE_LOG_IDS[code]
    entries = log_entries(device, log, cmd.span)
    if not entries:
        return Reply(gc.ZclFailure(GET_EVENT_LOG, NOT_FOUND, EVENTS_CLUSTER).encode())
    frame = ZclFrame(
        gbz.FC_CLUSTER_SPECIFIC | gbz.FC_SERVER_TO_CLIENT | gbz.FC_DISABLE_DEFAULT_RESPONSE,
        0,
        PUBLISH_EVENT_LOG,
        publish_event_log(log_id, entries),
    )
    return Reply(gbz.GbzPayload((GbzComponent(EVENTS_CLUSTER, frame, CONTROL_LAST),)).to_bytes())


@handles(DeviceType.GSME, CS10A)
def read_gas_event_log(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """CS10a: the gas meter's event log in the period asked; none is NOT_FOUND."""
    return _gas_log(device, command, CS10A)


@handles(DeviceType.GSME, CS10B)
def read_gas_security_log(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """CS10b: the gas meter's security log in the period asked; none is NOT_FOUND."""
    return _gas_log(device, command, CS10B)


# -- prepayment registers -----------------------------------------------------------------

ECS19 = 0x002D


def prepay_values(meter: Any) -> tuple[int, ...]:
    """The ECS19 registers of the meter's credit: the balance, the emergency credit left
    (its limit less what a negative balance has used, while active), the debt; the meter
    keeps no payment- or time-based debt apart."""
    credit = meter.credit
    limit = meter.prepayment.emergency_credit_limit
    emergency = limit + min(credit.balance, 0) if credit.emergency_credit_active else 0
    return (int(credit.balance), int(emergency), int(credit.debt), 0, 0, 0)


@handles(DeviceType.ESME, ECS19)
def read_prepay_values(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS19: the prepayment registers, encrypted for the requester."""
    cmd = _protected_read(device, command, ECS19)
    plaintext = prepay_plaintext(prepay_values(device.meter))
    return _protected_reply(device, command, ctx, cmd, plaintext)
