"""The logs a meter records as the injected clock passes: the ESME's billing data log
(ECS20c, SR 4.4.3), what the meter held at each billing date of its billing calendar, and
the GSME's prepayment daily read log (GCS16b, SR 4.14), its debt / credit status at each
midnight (UTC) - the last :data:`PREPAY_DAYS`, the values of the tick that passes the
midnight (milli-pence), in the reading family's state (``prepay_days``).

The billing calendar is the one ECS30 / ECS30a last wrote (``set 22 0-0:15.0.0.255/4``:
execution times, each a COSEM time and date with wildcards), else the factory one: midnight
(UTC) on the first of every month; the GSME's is the one GCS25a set (a start and a duration
in minutes, days, weeks or months; ``gas`` in the configuration family's state), with the
same factory default. At each billing date the ESME logs its registers (total and 48 TOU; no
block tariff) and its prepayment registers (those of ECS19); the GSME (GCS15c, SR 4.4.3) its
total and 4 tier registers and its debt / credit status. The registers are those at the
billing date exactly, rebuilt from the half-hour record (the registers now less the half
hours since, as the daily read log does), so a coarse clock step logs the same values as a
fine one; the prepayment values are those of the tick in which the device clock passes the
date. A date the clock passed before the meter accounted past it waits (``<log>_pending``)
until it has. Each log keeps the last :data:`BILLING_ENTRIES` entries in the reading
family's state and starts at the first tick that sees the device with family state
(``<log>_from``, device time: the last tick's; a tick on which a meter runs no ticker, none
being due, still notes it - :data:`~emulator.devices.families.TICKER_NOTES`).

Each entry the ESME logs also goes to the supplier as it is logged: ECS68 (0x8F0A), the entry
encrypted for the supplier (a twin-element ESME adds its secondary element's total and 4 TOU
registers at the billing date, as the DCC's twin vector does).

Recording happens in family tickers, so on devices that keep any family state (every device
that has run a command).
"""

from __future__ import annotations

import datetime as _dt
import itertools
import struct
from collections.abc import Callable, Iterator
from typing import Any

from emulator.clock import from_seconds, to_seconds
from emulator.devices.families import (
    Alert,
    Reply,
    handles,
    next_due,
    notes_clock,
    ticks,
    writes_sealed_alerts,
)
from emulator.devices.meter import MeterDevice
from emulator.devices.trust import DeviceContext
from emulator.errors import CommandError
from emulator.usecases.configuration import setting
from emulator.usecases.reading import (
    HALF_HOUR,
    UNIX_2000,
    _protected_read,
    _protected_reply,
    prepay_values,
)
from emulator.usecases.reading_more import (
    METERING,
    PREPAYMENT,
    PUBLISH_SNAPSHOT,
    snapshot_plaintext,
    snapshot_reply,
)
from gbcs import content as gc
from gbcs.devices import DeviceType
from gbcs.frames import Message
from gbcs.payloads import dlms
from gbcs.payloads._buf import Reader, axdr_length
from gbcs.payloads.read_values import DAILY_TYPE

ECS20C = 0x0030
BILLING_ENTRIES = 12
"""Entries the billing data log keeps (a year of monthly billing)."""
CALENDAR_KEY = "set 22 0-0:15.0.0.255/4"
FACTORY_CALENDAR = ((bytes(4), bytes.fromhex("ffffff01ff")),)
"""Midnight on the first of every month: (time, date) as ECS30 writes them."""
PREPAY_LOG_TYPE = bytes.fromhex("020706050505050505")
"""A prepayment entry of the log: capture time, then the six ECS19 registers."""
_REGISTERS = struct.Struct(">II48I32I")
_PREPAY = struct.Struct(">I6i")
TOU = 48
DAY = 86_400


def calendar(device: Any) -> tuple[tuple[bytes, bytes], ...]:
    """The billing calendar's (time, date) execution times."""
    found = setting(device, CALENDAR_KEY)
    if found is None:
        return FACTORY_CALENDAR
    out = []
    for entry in found.items if isinstance(found, dlms.Array) else ():
        items = entry.items if isinstance(entry, dlms.Structure) else ()
        if len(items) != 2 or not all(isinstance(v, dlms.OctetString) for v in items):
            raise CommandError("the billing calendar entries are not (time, date)")
        time, date = (v.value for v in items if isinstance(v, dlms.OctetString))
        out.append((time, date))
    return tuple(out)


def _matches(date: bytes, day: _dt.date) -> bool:
    year = int.from_bytes(date[0:2], "big")
    month, dom, dow = date[2], date[3], date[4]
    return (
        (year == 0xFFFF or year == day.year)
        and (month == 0xFF or month == day.month)
        and (dom == 0xFF or dom == day.day)
        and (dow == 0xFF or dow == day.isoweekday())
    )


def billing_dates(entries: tuple[tuple[bytes, bytes], ...], after: int, upto: int) -> list[int]:
    """The billing dates (Unix seconds, UTC) in (``after``, ``upto``], oldest first."""
    found: set[int] = set()
    day = _dt.datetime.fromtimestamp(after - after % DAY, _dt.UTC).date()
    while True:
        midnight = int(_dt.datetime(day.year, day.month, day.day, tzinfo=_dt.UTC).timestamp())
        if midnight > upto:
            break
        for time, date in entries:
            if len(time) < 2 or len(date) != 5 or not _matches(date, day):
                continue
            at = midnight + (time[0] % 24) * 3600 + (time[1] % 60) * 60
            if after < at <= upto:
                found.add(at)
        day += _dt.timedelta(days=1)
    return sorted(found)


def registers_at(meter: Any, at: int) -> tuple[int, list[int]] | None:
    """(total, 48 TOU registers) at ``at`` (a half-hour boundary the meter has accounted
    to), or None when the half hours since are no longer all held."""
    since = meter.half_hours(since=at)
    if since and since[0][0] != at:
        return None
    if not since and at != meter.accounted_to:
        return None
    total = int(meter.total)
    tou = (list(meter.tou) + [0] * TOU)[:TOU]
    switching = meter.tariff.switching
    for begin, used in since:
        total -= used
        tou[switching[(begin // HALF_HOUR) % len(switching)]] -= used
    return total, tou


def _record(
    device: Any,
    now: int,
    log_key: str,
    dates: Callable[[int, int], list[int]],
    status: list[int],
    tiers: int,
) -> list[list[int]]:
    """Log the billing dates the device clock passed since the last tick: each with
    ``status`` (the values of this tick, before it accounts its half hours) and, once the
    meter has accounted past it, the registers at that date (held as pending until then;
    dropped when the half hours since are no longer all held). Returns the entries logged."""
    state = device.family_state("reading")
    meter = device.meter
    clock = device.device_time(now)
    after = state.get(f"{log_key}_from")
    state[f"{log_key}_from"] = clock
    pending: list[list[int]] = state.setdefault(f"{log_key}_pending", [])
    if after is not None:
        pending.extend([at, *status] for at in dates(int(after), clock))
    log: list[list[int]] = state.setdefault(log_key, [])
    logged: list[list[int]] = []
    waiting = []
    for at, *values in pending:
        if at > meter.accounted_to:
            waiting.append([at, *values])
            continue
        registers = registers_at(meter, at - at % HALF_HOUR)
        if registers is not None:
            total, tou = registers
            logged.append([at - UNIX_2000, total, *tou[:tiers], *values])
    log.extend(logged)
    state[f"{log_key}_pending"] = waiting
    del log[:-BILLING_ENTRIES]
    return logged


_QUIET: dict[tuple[tuple[bytes, bytes], ...], tuple[int, int]] = {}
"""Per billing calendar, the last span ``(lo, hi)`` found to hold no billing date. Most ticks
fall inside one (a billing date comes once a month), and looking it up costs far less than
walking the days; it is a pure function of the calendar, so devices with the same calendar
share it."""
_QUIET_LIMIT = 1024
_LOOK_AHEAD = 400 * DAY


def _quiet(entries: tuple[tuple[bytes, bytes], ...], after: int, clock: int) -> bool:
    """No billing date of ``entries`` in (``after``, ``clock``]."""
    return clock < _next_date(entries, after)


def _next_date(entries: tuple[tuple[bytes, bytes], ...], after: int) -> int:
    """The first billing date of ``entries`` after ``after`` (at most :data:`_LOOK_AHEAD`
    later: a calendar with none sooner is looked at again then)."""
    span = _QUIET.get(entries)
    if span is None or not span[0] <= after < span[1]:
        dates = billing_dates(entries, after, after + _LOOK_AHEAD)
        span = (after, dates[0] if dates else after + _LOOK_AHEAD)
        if len(_QUIET) >= _QUIET_LIMIT:
            _QUIET.clear()
        _QUIET[entries] = span
    return span[1]


@ticks
def record_billing(device: Any, now: int) -> list[Alert]:
    """Log each billing date of the ESME's calendar the clock passes, and send each entry
    logged to the supplier: ECS68, 0x8F0A (the end of a billing period)."""
    if not isinstance(device, MeterDevice) or device.DEVICE_TYPE is not DeviceType.ESME:
        return []
    entries = calendar(device)
    state = device.family_state("reading")
    after = state.get("billing_from")
    if after is not None and not state.get("billing_pending"):
        clock = device.device_time(now)
        if _quiet(entries, int(after), clock):
            state["billing_from"] = clock
            return []
    logged = _record(
        device,
        now,
        "billing",
        lambda after, upto: billing_dates(entries, after, upto),
        list(prepay_values(device.meter)),
        TOU,
    )
    return [_billing_alert(device, entry) for entry in logged]


def _logged_to(device: Any, log_key: str) -> int | None:
    """The device time a :func:`_record` log has looked up to, when it waits only for its
    next date; None while a date waits for the meter's half hours, or before the log has
    started: it then has work at every tick."""
    state = device.extra.get("reading") if device.extra else None
    after = state.get(f"{log_key}_from") if state else None
    if after is None or state is None or state.get(f"{log_key}_pending"):
        return None
    return int(after)


@next_due(record_billing)
def _billing_due(device: Any, clock: int) -> int | None:
    if not isinstance(device, MeterDevice) or device.DEVICE_TYPE is not DeviceType.ESME:
        return None
    after = _logged_to(device, "billing")
    return clock if after is None else _next_date(calendar(device), after)


# What the three logs write on a tick with no date due, as they would running (they ran
# first, so what they keep is there).


@notes_clock(record_billing, DeviceType.ESME)
def _billing_seen(device: Any, clock: int) -> None:
    device.extra["reading"]["billing_from"] = clock


# -- ECS68: the billing data log alert -----------------------------------------------------

ECS68 = 0x0061
SECONDARY_TOU = 4
"""TOU registers of a twin-element ESME's secondary element."""
_ALERT_ENTRY = struct.Struct(">II48I")
_ALERT_SECONDARY = struct.Struct(">I4I")
_BLOCKS = bytes.fromhex("01000806") * 4  # 4 arrays of 8 block registers (type description)


def _billing_alert(device: Any, entry: list[int]) -> Alert:
    """The ECS68 alert of a log entry: its registers (and, on a twin-element ESME, the
    secondary element's at the same billing date) packed in the alert's detail, which the
    content writer encrypts for the supplier when the alert leaves."""
    detail = _ALERT_ENTRY.pack(entry[0], *(v & 0xFFFF_FFFF for v in entry[1 : 2 + TOU]))
    secondary = getattr(device, "secondary", None)
    if secondary is not None:
        at = entry[0] + UNIX_2000
        found = registers_at(secondary, at - at % HALF_HOUR)
        # The secondary element's half hours may no longer reach back to the date: its
        # registers now, rather than no entry.
        total, tou = found if found is not None else (int(secondary.total), list(secondary.tou))
        tou = (list(tou) + [0] * SECONDARY_TOU)[:SECONDARY_TOU]
        detail += _ALERT_SECONDARY.pack(total & 0xFFFF_FFFF, *(v & 0xFFFF_FFFF for v in tou))
    return Alert(0x8F0A, message_code=ECS68, detail=detail)


def billing_alert_plaintext(detail: bytes) -> bytes:
    """The ECS68 plaintext of an alert's detail: ``structure { compact array of one entry }``
    - capture time (seconds since 2000), total import, [the secondary element's total], the
    48 TOU registers, [the secondary's 4], then 4 arrays of 8 block registers (0: the
    emulated meters have no block tariff)."""
    time, total, *tou = _ALERT_ENTRY.unpack(detail[: _ALERT_ENTRY.size])
    rest = detail[_ALERT_ENTRY.size :]
    blocks = bytes(4 * 32)
    if rest:
        secondary_total, *secondary_tou = _ALERT_SECONDARY.unpack(rest)
        description = b"\x02\x09\x06\x06\x06\x01\x00\x30\x06\x01\x00\x04\x06" + _BLOCKS
        body = struct.pack(
            f">III{TOU}I{SECONDARY_TOU}I", time, total, secondary_total, *tou, *secondary_tou
        )
    else:
        description = b"\x02\x07\x06\x06\x01\x00\x30\x06" + _BLOCKS
        body = struct.pack(f">II{TOU}I", time, total, *tou)
    body += blocks
    return b"\x02\x01\x13" + description + axdr_length(len(body)) + body


@writes_sealed_alerts(ECS68)
def _billing_alert_content(
    device: Any, alert: Alert, counter: int, now: int, ctx: DeviceContext
) -> bytes:
    supplier = device.trust.supplier
    encrypted = ctx.builder.encrypt_payload(
        device=device.eui,
        target=supplier,
        counter=counter,
        plaintext=billing_alert_plaintext(alert.detail),
    )
    when = from_seconds(device.device_time(now))
    return gc.BillingDataLogAlert(counter, when, device.eui, supplier, encrypted).encode()


def billing_plaintext(entries: list[list[int]]) -> bytes:
    """The ECS20c plaintext: ``structure { registers log, prepayment log }``, each a compact
    array of the entries (capture time first; block registers 0)."""
    registers = b"".join(
        _REGISTERS.pack(e[0], e[1] & 0xFFFF_FFFF, *(v & 0xFFFF_FFFF for v in e[2:50]), *[0] * 32)
        for e in entries
    )
    prepay = b"".join(_PREPAY.pack(e[0], *e[50:56]) for e in entries)
    return (
        b"\x02\x02"
        + b"\x13"
        + DAILY_TYPE
        + axdr_length(len(registers))
        + registers
        + b"\x13"
        + PREPAY_LOG_TYPE
        + axdr_length(len(prepay))
        + prepay
    )


def read_billing_plaintext(plaintext: bytes) -> list[tuple[int, int, list[int], tuple[int, ...]]]:
    """(capture time, total, TOU registers, prepayment registers) of each entry of a
    :func:`billing_plaintext`."""
    reader = Reader(plaintext)
    if reader.take(2, "structure") != b"\x02\x02":
        raise CommandError("not a billing data log")
    bodies = []
    for description, size in ((DAILY_TYPE, _REGISTERS.size), (PREPAY_LOG_TYPE, _PREPAY.size)):
        head = b"\x13" + description
        if reader.take(len(head), "compact array") != head:
            raise CommandError("not a billing data log")
        body = reader.take(reader.axdr_length(), "entries")
        if len(body) % size:
            raise CommandError("the log's length does not match its entries")
        bodies.append(body)
    rows = list(_REGISTERS.iter_unpack(bodies[0]))
    prepay = list(_PREPAY.iter_unpack(bodies[1]))
    return [(r[0], r[1], list(r[2:50]), p[1:]) for r, p in zip(rows, prepay, strict=True)]


@handles(DeviceType.ESME, ECS20C)
def read_billing_log(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS20c: the billing data log entries captured in the period asked, encrypted."""
    cmd = _protected_read(device, command, ECS20C)
    assert cmd.span is not None  # the use case is a ranged read
    start, end = cmd.span.seconds()
    entries = [e for e in device.family_state("reading").get("billing", []) if start <= e[0] <= end]
    return _protected_reply(device, command, ctx, cmd, billing_plaintext(entries))


# -- the gas meter's prepayment daily read log (GCS16b) ------------------------------------

GCS16B = 0x0096
PREPAY_DAYS = 31
"""Days the prepayment daily read log keeps."""
PUBLISH_PREPAY_SNAPSHOT = 0x01
_PREPAY_SNAPSHOT = struct.Struct("<IIBBBIB6i")
DEBT_CREDIT_STATUS = 0x00
"""ZSE prepay snapshot payload type: debt / credit status."""


def prepay_status(device: Any) -> list[int]:
    """The GSME's debt / credit status now: accumulated debt, the three debt registers (as
    GCS04 added to them), emergency credit left, credit (the meter balance); milli-pence."""
    meter = device.meter
    credit = meter.credit
    debts = device.family_state("tariff").get("debt", {}).get("registers", [0, 0, 0])
    limit = meter.prepayment.emergency_credit_limit
    emergency = limit + min(credit.balance, 0) if credit.emergency_credit_active else 0
    return [int(credit.debt), *(int(d) for d in debts), int(emergency), int(credit.balance)]


@ticks
def record_prepay_days(device: Any, now: int) -> list[Alert]:
    """Log the GSME's debt / credit status at each midnight (UTC) the clock passes: the
    values of the tick that passes it."""
    if not isinstance(device, MeterDevice) or device.DEVICE_TYPE is not DeviceType.GSME:
        return []
    state = device.family_state("reading")
    clock = device.device_time(now)
    after = state.get("prepay_days_from")
    state["prepay_days_from"] = clock
    if after is None or clock <= after:
        return []
    log: list[list[int]] = state.setdefault("prepay_days", [])
    status = prepay_status(device)
    first = after - after % DAY + DAY
    for midnight in range(first, clock + 1, DAY):
        log.append([midnight - UNIX_2000, *status])
    del log[:-PREPAY_DAYS]
    return []


@next_due(record_prepay_days)
def _prepay_days_due(device: Any, clock: int) -> int | None:
    """The next midnight."""
    if not isinstance(device, MeterDevice) or device.DEVICE_TYPE is not DeviceType.GSME:
        return None
    state = device.extra.get("reading") if device.extra else None
    after = state.get("prepay_days_from") if state else None
    return clock if after is None else int(after) - int(after) % DAY + DAY


@notes_clock(record_prepay_days, DeviceType.GSME)
def _prepay_days_seen(device: Any, clock: int) -> None:
    state = device.extra["reading"]
    if clock > state["prepay_days_from"]:
        state.setdefault("prepay_days", [])
    state["prepay_days_from"] = clock


def prepay_snapshot_plaintext(
    snapshot_id: int, found: int, entry: list[int], cause: int = 1
) -> bytes:
    """A Publish Prepay Snapshot payload of one entry (time, then the status)."""
    return _PREPAY_SNAPSHOT.pack(
        snapshot_id, entry[0], found, 0, 1, cause, DEBT_CREDIT_STATUS, *entry[1:7]
    )


def read_prepay_snapshot_plaintext(plaintext: bytes) -> tuple[int, int, int, list[int]]:
    """(id, time, found, the six status values) of a :func:`prepay_snapshot_plaintext`."""
    values = _PREPAY_SNAPSHOT.unpack(plaintext)
    return values[0], values[1], values[2], list(values[7:])


@handles(DeviceType.GSME, GCS16B)
def read_gas_prepay_daily_log(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """GCS16b: for each Get Prepay Snapshot asked (offset n: the n-th most recent day in the
    period), the debt / credit status logged at that midnight, encrypted; NOT_FOUND beyond."""
    cmd = gc.decode_command(GCS16B, command.content)
    if not isinstance(cmd, gc.GbzRead) or cmd.span is None:
        raise CommandError("GCS16b content is not a snapshot read")
    start, end = cmd.span.seconds()
    held = device.family_state("reading").get("prepay_days", [])
    days = [e for e in reversed(held) if start <= e[0] <= end]  # most recent first
    snapshots = [prepay_snapshot_plaintext(e[0] // DAY, len(days), e) for e in days]
    return snapshot_reply(device, command, ctx, {PREPAYMENT: (PUBLISH_PREPAY_SNAPSHOT, snapshots)})


# -- the gas meter's billing calendar billing log (GCS15c) ---------------------------------

GCS15C = 0x0076
BILLING_CAUSE = 0x0000_0002
"""ZSE snapshot cause: the billing period (calendar) ended."""
GAS_TIERS = 4
MINUTE, DAYS, WEEKS, MONTHS = 0, 1, 2, 3
"""ZSE billing period duration timebases (the low nibble of the duration type)."""


def _add_months(unix: int, months: int) -> int:
    when = _dt.datetime.fromtimestamp(unix, _dt.UTC)
    month = when.month - 1 + months
    year, month = when.year + month // 12, month % 12 + 1
    day = min(when.day, 28)  # a day every month has
    return int(when.replace(year=year, month=month, day=day).timestamp())


def gas_billing_dates(device: Any, after: int, upto: int) -> list[int]:
    """The GSME's billing dates in (``after``, ``upto``]: from the start GCS25a set, every
    duration (its timebase minutes, days, weeks or months); factory: midnight UTC on the
    first of every month."""
    gas = device.family_state("configuration").get("gas", {})
    if gas.get("billing_start") is None:
        return billing_dates(FACTORY_CALENDAR, after, upto)
    return list(itertools.takewhile(lambda at: at <= upto, _gas_dates(gas, after)))


def _gas_dates(gas: dict[str, Any], after: int) -> Iterator[int]:
    """The billing dates after ``after`` of the calendar GCS25a set (``gas``), oldest first,
    without end."""
    start = int(gas["billing_start"])
    duration = max(int(gas.get("billing_duration", 1)), 1)
    timebase = int(gas.get("billing_unit", MONTHS)) & 0x0F
    k = 0
    while True:
        if timebase == MONTHS:
            at = _add_months(start, k * duration)
        else:
            step = {MINUTE: 60, DAYS: DAY, WEEKS: 7 * DAY}.get(timebase, DAY)
            at = start + k * duration * step
            if at <= after:  # jump close to ``after`` rather than walk from the start
                k = max(k + 1, (after - start) // (duration * step))
                continue
        if at > after:
            yield at
        k += 1


@ticks
def record_gas_billing(device: Any, now: int) -> list[Alert]:
    """Log each billing date of the GSME's billing calendar the clock passes: its registers
    at that date and its debt / credit status."""
    if not isinstance(device, MeterDevice) or device.DEVICE_TYPE is not DeviceType.GSME:
        return []
    _record(
        device,
        now,
        "gas_billing",
        lambda after, upto: gas_billing_dates(device, after, upto),
        prepay_status(device),
        GAS_TIERS,
    )
    return []


@next_due(record_gas_billing)
def _gas_billing_due(device: Any, clock: int) -> int | None:
    if not isinstance(device, MeterDevice) or device.DEVICE_TYPE is not DeviceType.GSME:
        return None
    after = _logged_to(device, "gas_billing")
    if after is None:
        return clock
    gas = ((device.extra or {}).get("configuration") or {}).get("gas", {})
    if gas.get("billing_start") is None:
        return _next_date(FACTORY_CALENDAR, after)
    return next(_gas_dates(gas, after))


@notes_clock(record_gas_billing, DeviceType.GSME)
def _gas_billing_seen(device: Any, clock: int) -> None:
    device.extra["reading"]["gas_billing_from"] = clock
    device.extra.setdefault("configuration", {})  # (looking for dates, it takes that state)


@handles(DeviceType.GSME, GCS15C)
def read_gas_billing_log(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """GCS15c: per Get Snapshot offset the registers, per Get Prepay Snapshot offset the
    debt / credit status, logged at the billing dates of the period (most recent first),
    encrypted; NOT_FOUND beyond."""
    cmd = gc.decode_command(GCS15C, command.content)
    if not isinstance(cmd, gc.GbzRead) or cmd.span is None:
        raise CommandError("GCS15c content is not a snapshot read")
    start, end = cmd.span.seconds()
    held = device.family_state("reading").get("gas_billing", [])
    entries = [e for e in reversed(held) if start <= e[0] <= end]
    found = len(entries)
    registers = [
        snapshot_plaintext(e[0] // DAY, e[0], found, e[1], e[2 : 2 + GAS_TIERS], BILLING_CAUSE)
        for e in entries
    ]
    status = [
        prepay_snapshot_plaintext(e[0] // DAY, found, [e[0], *e[2 + GAS_TIERS :]], BILLING_CAUSE)
        for e in entries
    ]
    return snapshot_reply(
        device,
        command,
        ctx,
        {METERING: (PUBLISH_SNAPSHOT, registers), PREPAYMENT: (PUBLISH_PREPAY_SNAPSHOT, status)},
    )


# -- the gas meter's change of mode billing log (GCS15b) -----------------------------------

GCS15B = 0x00C3
CHANGE_OF_MODE = 0x0000_4000
"""ZSE snapshot cause: the meter's payment mode changed."""


def mode_changes(device: Any) -> list[tuple[int, int, list[int], list[int]]]:
    """What the GSME logged at each payment mode change (the tariff family's
    ``billing_log``), oldest first: (seconds since 2000, total, 4 tier registers, debt /
    credit status - the accumulated debt and the balance; the debt registers and emergency
    credit are not logged apart, 0)."""
    out = []
    for entry in device.family_state("tariff").get("billing_log", []):
        at = to_seconds(_dt.datetime.fromisoformat(entry["at"])) - UNIX_2000
        registers = [int(v) for v in entry["registers"]]
        tou = (registers[1:] + [0] * GAS_TIERS)[:GAS_TIERS]
        status = [int(entry["debt"]), 0, 0, 0, 0, int(entry["balance"])]
        out.append((at, registers[0], tou, status))
    return out


@handles(DeviceType.GSME, GCS15B)
def read_gas_mode_billing_log(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """GCS15b: per Get Prepay Snapshot offset the debt / credit status, per Get Snapshot
    offset the registers, logged at each payment mode change in the period (most recent
    first), encrypted; NOT_FOUND beyond."""
    cmd = gc.decode_command(GCS15B, command.content)
    if not isinstance(cmd, gc.GbzRead) or cmd.span is None:
        raise CommandError("GCS15b content is not a snapshot read")
    start, end = cmd.span.seconds()
    entries = [e for e in reversed(mode_changes(device)) if start <= e[0] <= end]
    found = len(entries)
    status = [
        prepay_snapshot_plaintext(n, found, [at, *values], CHANGE_OF_MODE)
        for n, (at, _, _, values) in enumerate(entries)
    ]
    registers = [
        snapshot_plaintext(n, at, found, total, tou, CHANGE_OF_MODE)
        for n, (at, total, tou, _) in enumerate(entries)
    ]
    return snapshot_reply(
        device,
        command,
        ctx,
        {PREPAYMENT: (PUBLISH_PREPAY_SNAPSHOT, status), METERING: (PUBLISH_SNAPSHOT, registers)},
    )
