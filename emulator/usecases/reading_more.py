"""More of the reading family on the emulated ESME, answered from what it keeps: its
configuration as the settings commands last wrote it (ECS26b voltage, ECS26c,
ECS26d / ECS26l billing calendar, ECS26f power thresholds; :func:`configuration_value`), the
load limit data (ECS27), the maximum demand registers (ECS18a export, ECS18b import) and the
tariff it bills on (ECS24: the active price, then the tariff in ECS01a's own encoding); and
the GSME's payment mode (GCS21j) and daily read log (GCS16a). Each in the DCC's response
shape: a DLMS Access-Response, one value per attribute the use case GETs
(:data:`gbcs.content.reads.DLMS_READS`), or ZCL (a Read Attributes Response; Publish
Snapshots).

A setting never written reads as the device's factory value (:data:`FACTORY`). The counters
and registers are computed from the meter's half-hour record on demand rather than kept
apart, so they cannot drift from the profile data the same meter returns:

* the load-limit counter counts the held half hours since its last reset (ECS28b) whose
  average power exceeded the load-limit threshold;
* the maximum demand import register is the highest half-hour average power since its last
  reset (ECS57), with the end of that half hour as its capture time; the configurable-period
  register the same over the half hours starting inside the period the ECS37 schedule sets
  (its first two entries: start and end, each day, UTC). The emulated premises export
  nothing, so the export register is 0, captured at its reset.
"""

from __future__ import annotations

import datetime as _dt
import struct
from typing import Any

from emulator.devices.families import Reply, handles
from emulator.devices.trust import DeviceContext
from emulator.errors import CommandError
from emulator.metering import PaymentMode, Season, SpecialDay
from emulator.usecases import urp
from emulator.usecases.configuration import FAMILY as CONFIGURATION
from emulator.usecases.configuration import setting
from emulator.usecases.reading import daily_reads
from gbcs import content as gc
from gbcs.content.configuration import spec_key
from gbcs.content.reads import DLMS_READS, Get
from gbcs.devices import DeviceType
from gbcs.frames import Message
from gbcs.payloads import dlms
from gbcs.payloads.dlms import CosemDateTime
from gbcs.payloads.gbz import (
    CONTROL_ENCRYPTED,
    CONTROL_LAST,
    FC_CLUSTER_SPECIFIC,
    FC_DISABLE_DEFAULT_RESPONSE,
    FC_SERVER_TO_CLIENT,
    READ_ATTRIBUTES_RESPONSE,
    AttributeRecord,
    EncryptedZcl,
    GbzComponent,
    GbzPayload,
    ReadAttributesResponse,
    ZclFrame,
    ZclType,
    ZclValue,
)

HALF_HOUR = 1800
DAY = 86_400
ECS26B = 0x003C
ECS26C = 0x003D
ECS26D = 0x003E
ECS26L = 0x00D9
ECS26K = 0x00C6
ECS26F = 0x0040
ECS27 = 0x0042
ECS18A = 0x002B
ECS18B = 0x002C

WATT = dlms.structure(dlms.integer(0), dlms.enum(27))
"""scaler_unit of a register in W (unit 27, scaler 0)."""
NO_UNIT = dlms.structure(dlms.integer(0), dlms.enum(255))
"""scaler_unit of a counter (unit 255: count)."""


def _limiter(threshold: int, duration: int = 30) -> dict[str, dlms.Data]:
    return {"4": dlms.double_long_unsigned(threshold), "6": dlms.double_long_unsigned(duration)}


def _time(hour: int, minute: int = 0) -> bytes:
    return bytes([hour, minute, 0, 0])


FACTORY: dict[str, dlms.Data] = {
    # Voltage quality (ECS29a writes them): RMS limiters' thresholds (V) and durations (s):
    # 1 extreme over-voltage, 2 extreme under-voltage, 3 sag, 4 swell (GBCS's order).
    **{
        f"set 71 0-0:17.0.{n}.255/{a}": value
        for n, levels in ((1, 264), (2, 207), (3, 216), (4, 253))
        for a, value in _limiter(levels).items()
    },
    # Each phase's average RMS over / under voltage thresholds (V) and the average RMS
    # voltage profile's capture period (s); L2 and L3 (52, 72) on a polyphase meter.
    **{
        key: value
        for phase in (32, 52, 72)
        for key, value in (
            (f"set 1 1-0:{phase}.35.0.4/2", dlms.double_long_unsigned(253)),
            (f"set 1 1-0:{phase}.31.0.4/2", dlms.double_long_unsigned(216)),
            (f"set 7 1-0:{phase}.24.0.255/4", dlms.double_long_unsigned(1800)),
        )
    },
    # ECS26c's three device values (not settable by a command this emulator takes).
    "set 1 0-0:94.44.0.0/2": dlms.long_unsigned(0),
    "set 1 0-0:94.44.0.2/2": dlms.long_unsigned(0),
    "set 1 0-0:94.44.0.1/2": dlms.long_unsigned(0),
    # The billing calendar (ECS30 writes it): none until set.
    "set 22 0-0:15.0.0.255/4": dlms.array(),
    # The instantaneous power thresholds (ECS34), W.
    "set 21 0-0:16.0.0.255/2": dlms.array(
        dlms.double_long_unsigned(3000), dlms.double_long_unsigned(6000)
    ),
    # Load limiting: the supply is not restricted; threshold (W), over / under durations (s).
    "set 9000 0-0:94.44.0.3/2": dlms.boolean(False),
    "set 71 0-0:17.0.0.255/4": dlms.double_long_unsigned(15_000),
    "set 71 0-0:17.0.0.255/6": dlms.double_long_unsigned(300),
    "set 71 0-0:17.0.0.255/7": dlms.double_long_unsigned(30),
    # The maximum demand configurable period (ECS37): 16:00 to 19:00 UTC each day.
    "set 10 0-0:12.0.0.255/2": dlms.array(
        *(
            dlms.structure(
                dlms.long_unsigned(index),
                dlms.boolean(True),
                dlms.octet_string(bytes.fromhex("00000a8064ff")),
                dlms.long_unsigned(index),
                dlms.octet_string(_time(hour)),
                dlms.long_unsigned(0xFFFF),
                dlms.BitString(7, b"\xfe"),  # every weekday
                dlms.BitString(0, b""),  # no special days
                dlms.octet_string(bytes.fromhex("000001ffff")),  # valid from 1 January
                dlms.octet_string(bytes.fromhex("ffffffffff")),  # for ever
            )
            for index, hour in ((1, 16), (2, 19))
        )
    ),
}
"""The value a setting reads as until a command writes it, by its settings key."""


def key_of(get: Get) -> str:
    """The settings key (:func:`gbcs.content.spec_key`) of the attribute ``get`` reads."""
    return spec_key(dlms.set_(get.class_id, get.obis, get.attribute))


def configuration_value(device: Any, get: Get) -> dlms.Data:
    """The attribute as last written to ``device``, or its factory value."""
    key = key_of(get)
    found = setting(device, key)
    if found is not None:
        return found
    if key not in FACTORY:
        raise CommandError(f"the device keeps no value for {key}")
    return FACTORY[key]


def _read(command: Message, code: int) -> gc.DlmsRead:
    cmd = gc.decode_command(code, command.content)
    if not isinstance(cmd, gc.DlmsRead):
        raise CommandError(f"message code 0x{code:04X} content is not a DLMS read")
    return cmd


def _configuration_read(device: Any, command: Message, code: int) -> Reply:
    cmd = _read(command, code)
    data = tuple(configuration_value(device, g) for g in DLMS_READS[code])
    return Reply(gc.DlmsReadResponse.for_command(cmd, data).encode())


@handles(DeviceType.ESME, ECS26B)
def read_voltage_configuration(
    device: Any, command: Message, now: int, ctx: DeviceContext
) -> Reply:
    """ECS26b: the RMS voltage limiters and thresholds, as ECS29a last set them."""
    return _configuration_read(device, command, ECS26B)


@handles(DeviceType.ESME, ECS26K)
def read_voltage_configuration_polyphase(
    device: Any, command: Message, now: int, ctx: DeviceContext
) -> Reply:
    """ECS26k: ECS26b's limiters and each phase's average RMS thresholds, as ECS29b last set
    them (a polyphase ESME's firmware lists it)."""
    return _configuration_read(device, command, ECS26K)


@handles(DeviceType.ESME, ECS26C)
def read_device_values(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS26c: the three 0-0:94.44.0.x values."""
    return _configuration_read(device, command, ECS26C)


@handles(DeviceType.ESME, ECS26D)
def read_billing_calendar(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS26d: the billing calendar's execution times, as ECS30 last set them."""
    return _configuration_read(device, command, ECS26D)


@handles(DeviceType.ESME, ECS26L)
def read_billing_calendar_l(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS26l: the billing calendar (the variant of ECS30a)."""
    return _configuration_read(device, command, ECS26L)


@handles(DeviceType.ESME, ECS26F)
def read_power_thresholds(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS26f: the instantaneous power thresholds, as ECS34 last set them."""
    return _configuration_read(device, command, ECS26F)


# -- registers computed from the half-hour record -----------------------------------------


def reset_at(device: Any, key: str) -> int | None:
    """Device time (Unix seconds) of the last run of the reset action ``key``, or None."""
    found = device.family_state(CONFIGURATION).get("resets", {}).get(key)
    return None if found is None else int(found)


def _since(device: Any, key: str) -> list[tuple[int, int]]:
    """The held half hours (start, Wh) that started at or after the last reset ``key``."""
    held: list[tuple[int, int]] = device.meter.half_hours(since=reset_at(device, key))
    return held


def _uint_of(value: dlms.Data, what: str) -> int:
    if not isinstance(value, dlms.Integer):
        raise CommandError(f"{what} is not a number")
    return value.value


LOAD_LIMIT_RESET = "action 3 0-0:94.44.42.255/1"


def load_limit_count(device: Any) -> int:
    """Held half hours since the counter's reset whose average power (W) exceeded the
    load-limit threshold."""
    threshold = _uint_of(
        configuration_value(device, Get(71, "0-0:17.0.0.255", 4)), "the load-limit threshold"
    )
    return sum(1 for _, wh in _since(device, LOAD_LIMIT_RESET) if wh * 2 > threshold)


@handles(DeviceType.ESME, ECS27)
def read_load_limit(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS27: the load-limit state, counter and limiter settings."""
    cmd = _read(command, ECS27)
    data: list[dlms.Data] = []
    for g in DLMS_READS[ECS27]:
        if g.obis == "0-0:94.44.42.255":
            data.append(
                dlms.double_long_unsigned(load_limit_count(device)) if g.attribute == 2 else NO_UNIT
            )
        else:
            data.append(configuration_value(device, g))
    return Reply(gc.DlmsReadResponse.for_command(cmd, tuple(data)).encode())


def _stamp(unix: int | None) -> dlms.Data:
    """A COSEM date-time (UTC) octet string; not specified (all 0xFF) when None."""
    if unix is None:
        return dlms.octet_string(b"\xff" * 12)
    when = _dt.datetime.fromtimestamp(unix, _dt.UTC)
    return dlms.octet_string(CosemDateTime.from_datetime(when).to_bytes())


def _period(device: Any) -> tuple[int, int]:
    """The configurable period (start, end) in seconds of the UTC day: the switch times of
    the ECS37 schedule's first two entries."""
    schedule = configuration_value(device, Get(10, "0-0:12.0.0.255"))
    entries = schedule.items if isinstance(schedule, dlms.Array) else ()
    times = []
    for entry in entries[:2]:
        field = entry.items[4] if isinstance(entry, dlms.Structure) else None
        if not isinstance(field, dlms.OctetString) or len(field.value) < 2:
            raise CommandError("the maximum demand schedule carries no switch time")
        times.append(field.value[0] * 3600 + field.value[1] * 60)
    if len(times) != 2:
        raise CommandError("the maximum demand schedule has no start and end")
    return times[0], times[1]


def maximum_demand(held: list[tuple[int, int]]) -> tuple[int, int | None]:
    """(the highest half-hour average power in W, the end of that half hour) of ``held``;
    (0, None) when none is held. The first of equal highs is kept, as a register does."""
    best, at = 0, None
    for begin, wh in held:
        if at is None or wh * 2 > best:
            best, at = wh * 2, begin + HALF_HOUR
    return best, at


@handles(DeviceType.ESME, ECS18B)
def read_maximum_demand_import(
    device: Any, command: Message, now: int, ctx: DeviceContext
) -> Reply:
    """ECS18b: the maximum demand import registers (overall and in the configurable period),
    their resets' times and the period's schedule."""
    cmd = _read(command, ECS18B)
    overall_key = "action 4 1-0:1.6.0.255/1"
    period_key = "action 4 1-0:1.6.1.255/1"
    overall = maximum_demand(_since(device, overall_key))
    start, end = _period(device)
    in_period = [(b, q) for b, q in _since(device, period_key) if start <= b % DAY < end]
    windowed = maximum_demand(in_period)
    data = (
        _stamp(reset_at(device, overall_key)),
        _stamp(reset_at(device, period_key)),
        dlms.double_long_unsigned(overall[0]),
        WATT,
        _stamp(overall[1]),
        dlms.double_long_unsigned(windowed[0]),
        WATT,
        _stamp(windowed[1]),
        configuration_value(device, Get(10, "0-0:12.0.0.255")),
    )
    return Reply(gc.DlmsReadResponse.for_command(cmd, data).encode())


@handles(DeviceType.ESME, ECS18A)
def read_maximum_demand_export(
    device: Any, command: Message, now: int, ctx: DeviceContext
) -> Reply:
    """ECS18a: the maximum demand export register (0: the premises export nothing)."""
    cmd = _read(command, ECS18A)
    reset = reset_at(device, "action 4 1-0:2.6.0.255/1")
    data = (_stamp(reset), dlms.double_long_unsigned(0), WATT, _stamp(reset))
    return Reply(gc.DlmsReadResponse.for_command(cmd, data).encode())


# -- the tariff the meter holds -----------------------------------------------------------

ECS24 = 0x003A
MAX_CHARGE = 0x7FFF
"""The largest charge a price table entry (a DLMS long) carries."""
NO_THRESHOLD = 0xFFFF_FFFF
"""A block threshold never reached (an unused threshold of a block rate, or a TOU rate)."""
CURRENCY = dlms.structure(dlms.integer(-5), dlms.enum(254))
"""scaler_unit of a price in 1e-5 of the currency (milli-pence), per kWh."""


def _day_profile(switching: tuple[int, ...], blocks: dict[int, int]) -> tuple[gc.TariffSwitch, ...]:
    """The switches of a day whose half hours bill to ``switching``: one at midnight and one
    wherever the register changes (TOU rate n is register n - 1; a register billed by block
    rate n switches to ECS01a's block script n)."""
    out = []
    for slot, register in enumerate(switching):
        if slot == 0 or register != switching[slot - 1]:
            start = _dt.time(slot // 2, 30 * (slot % 2))
            rate = gc.BLOCK_SCRIPT_BASE + blocks[register] if register in blocks else register + 1
            out.append(gc.TariffSwitch(start, rate))
    return tuple(out)


def _price_scale(charges: list[int]) -> int:
    """The finest price scale (from milli-pence, 1e-5) at which every charge fits a long."""
    scale = -5
    while any(x // 10 ** (scale + 5) > MAX_CHARGE for x in charges):
        scale += 1
    return scale


SEASON_MIDNIGHT = bytes.fromhex("ff000000008000ff")
"""A season start's day of week (any), time (00:00:00.00), deviation (none) and clock
status (none), as the meter's activity calendar carries them."""


def _special_date(day: SpecialDay) -> bytes:
    """A special day's 5-byte COSEM date (year, month, day; any day of the week)."""
    return day.year.to_bytes(2, "big") + bytes((day.month, day.day, 0xFF))


def _season_start(season: Season) -> bytes:
    """A season's start as a COSEM date-time: its date (wildcards kept), midnight UTC."""
    return season.year.to_bytes(2, "big") + bytes((season.month, season.day)) + SEASON_MIDNIGHT


def tariff_data(meter: Any) -> tuple[dlms.Data, ...]:
    """The active calendar, special days, block thresholds, tariff type, standing charge and
    price matrix of the meter's tariff, in ECS01a's encoding (the same codec writes and reads
    them): each season (one from 2000 when the tariff has a single one) whose week gives each
    day its switching table, a day profile for each distinct table (the seasons' weeks', then
    the special days'), each special day on its
    table's profile, and each block rate's thresholds and block prices."""
    tariff = meter.tariff
    blocks = {b.register: b.rate for b in tariff.block_rates}
    week = tariff.weekdays or (tariff.switching,) * 7
    seasons = tariff.seasons or (Season(2000, 1, 1, week),)
    tables: dict[tuple[int, ...], int] = {}
    weeks = [t for season in seasons for t in season.weekdays]
    for table in (*weeks, *(d.switching for d in tariff.special_days)):
        tables.setdefault(tuple(table), len(tables) + 1)
    prices = list(tariff.prices) + [0] * (gc.TOU_RATES - len(tariff.prices))
    block_prices = [[0] * gc.BLOCK_RATES for _ in range(gc.BLOCKS)]
    thresholds = [(NO_THRESHOLD,) * 3] * 8
    for block in tariff.block_rates:
        for n, price in enumerate(block.prices):
            block_prices[n][block.rate - 1] = price
        padded = tuple(block.thresholds) + (NO_THRESHOLD,) * (3 - len(block.thresholds))
        thresholds[block.rate - 1] = padded
    charges = [tariff.standing_charge, *prices, *(p for row in block_prices for p in row)]
    scale = _price_scale(charges)
    unit = 10 ** (scale + 5)
    update = gc.UpdateTariff(
        counter=0,
        seasons=tuple(
            gc.Season(bytes((n,)), _season_start(season), bytes((n,)))
            for n, season in enumerate(seasons, 1)
        ),
        week_profiles=tuple(
            gc.WeekProfile(bytes((n,)), tuple(tables[tuple(t)] for t in season.weekdays))  # type: ignore[arg-type]
            for n, season in enumerate(seasons, 1)
        ),
        day_profiles=tuple(gc.DayProfile(n, _day_profile(t, blocks)) for t, n in tables.items()),
        standing_charge=round(tariff.standing_charge / unit),
        tou_prices=tuple(round(p / unit) for p in prices),
        block_prices=tuple(tuple(round(p / unit) for p in row) for row in block_prices),
        block_thresholds=tuple(thresholds),
        special_days=tuple(
            gc.SpecialDay(n, _special_date(d), tables[tuple(d.switching)])
            for n, d in enumerate(tariff.special_days)
        ),
        price_scale=scale,
    )
    written = dlms.decode_dlms(update.encode())
    assert isinstance(written, dlms.AccessRequest)  # UpdateTariff encodes one
    # Seasons, weeks, days, special days, 8 thresholds, flag, standing charge, prices.
    return written.data[:15]


def active_price(meter: Any, device_time: int) -> int:
    """The price (milli-pence per kWh) the current half hour bills at: its register's, by
    the switching table of the day (a special day's, else its week day's); on a block rate,
    the price of the block the rate's counters have reached."""
    tariff = meter.tariff
    day = _dt.datetime.fromtimestamp(device_time, _dt.UTC)
    switching = tariff.switching_on(day.date())
    register = switching[(device_time // HALF_HOUR) % len(switching)]
    for block in tariff.block_rates:
        if block.register == register:
            row = (block.rate - 1) * gc.BLOCKS
            counters = meter.block_counters or [0] * (gc.BLOCK_RATES * gc.BLOCKS)
            consumed = sum(counters[row : row + gc.BLOCKS])
            return int(block.prices[sum(1 for t in block.thresholds if t <= consumed)])
    return int(tariff.prices[register])


@handles(DeviceType.ESME, ECS24)
def read_tariff(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS24: the tariff the meter bills on (its active price first)."""
    cmd = _read(command, ECS24)
    meter = device.meter
    seasons, weeks, days, special, *rest = tariff_data(meter)
    thresholds, (flag, standing, prices) = rest[:8], rest[8:]
    data = (
        dlms.double_long_unsigned(active_price(meter, device.device_time(now))),
        CURRENCY,
        seasons,
        weeks,
        days,
        special,
        *thresholds,
        flag,
        standing,
        prices,
    )
    return Reply(gc.DlmsReadResponse.for_command(cmd, data).encode())


# -- the gas meter's payment mode ---------------------------------------------------------

GCS21J = 0x00BF
PAYMENT_CONTROL = 0x0000
"""Prepayment cluster attribute: the payment control configuration (bitmap16)."""


def payment_control(device: Any) -> int:
    """The payment control configuration of the GSME's mode, as GCS02 / GCS03 set it (the
    meter keeps the mode; the debt flags are those the DCC's commands send)."""
    return gc.GasPaymentMode(0, device.meter.mode is PaymentMode.PREPAYMENT).control


@handles(DeviceType.GSME, GCS21J)
def read_gas_payment_mode(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """GCS21j: the payment control configuration, in a Read Attributes Response."""
    cmd = gc.decode_command(GCS21J, command.content)
    if not isinstance(cmd, gc.GbzRead):
        raise CommandError("GCS21j content is not a GBZ read")
    (asked,) = GbzPayload.from_bytes(command.content).components
    if not isinstance(asked.frame, ZclFrame):
        raise CommandError("GCS21j asks in a plain ZCL frame")
    value = ZclValue(ZclType.BITMAP16, payment_control(device).to_bytes(2, "little"))
    records = ReadAttributesResponse((AttributeRecord(PAYMENT_CONTROL, 0, value),))
    frame = ZclFrame(
        FC_SERVER_TO_CLIENT, asked.frame.sequence, READ_ATTRIBUTES_RESPONSE, records.to_bytes()
    )
    component = GbzComponent(asked.cluster_id, frame, CONTROL_LAST)
    return Reply(GbzPayload((component,)).to_bytes())


# -- the gas meter's daily read log -------------------------------------------------------

GCS16A = 0x0077
METERING = 0x0702
PREPAYMENT = 0x0705
PUBLISH_SNAPSHOT = 0x06
DEFAULT_RESPONSE = 0x0B
SNAPSHOT_NOT_FOUND = 0x8B
GET_SNAPSHOT = 0x06
GENERAL_CAUSE = 0x0000_0001
BLOCK_TIER_DELIVERED_NO_BILLING = 0x06
"""ZSE snapshot payload type: block tier information set delivered (no billing)."""
GAS_TIERS = 4
GAS_BLOCKS = 4


def _u48(value: int) -> bytes:
    return (value & 0xFFFF_FFFF_FFFF).to_bytes(6, "little")


def snapshot_plaintext(
    snapshot_id: int, at: int, found: int, total: int, tou: list[int], cause: int = GENERAL_CAUSE
) -> bytes:
    """A Publish Snapshot payload of one entry: its id, time (seconds since 2000), how many
    the period holds, one command of one, the cause (a daily read: general), the total and
    the four tier registers; one tier of four blocks, the blocks 0 (no block tariff)."""
    head = struct.pack(
        "<IIBBBIB", snapshot_id, at, found, 0, 1, cause, BLOCK_TIER_DELIVERED_NO_BILLING
    )
    tiers = bytes([GAS_TIERS]) + b"".join(_u48(v) for v in tou[:GAS_TIERS])
    blocks = bytes([0x10 | GAS_BLOCKS]) + _u48(0) * GAS_BLOCKS
    return head + _u48(total) + tiers + blocks


def read_snapshot_plaintext(plaintext: bytes) -> tuple[int, int, int, int, list[int]]:
    """(id, time, found, total, tier registers) of a :func:`snapshot_plaintext`."""
    snapshot_id, at, found, _, _, _, _ = struct.unpack_from("<IIBBBIB", plaintext)
    at_total = struct.calcsize("<IIBBBIB")
    total = int.from_bytes(plaintext[at_total : at_total + 6], "little")
    tiers = plaintext[at_total + 7 : at_total + 7 + 6 * GAS_TIERS]
    tou = [int.from_bytes(tiers[i : i + 6], "little") for i in range(0, len(tiers), 6)]
    return snapshot_id, at, found, total, tou


def snapshot_reply(
    device: Any,
    command: Message,
    ctx: DeviceContext,
    by_cluster: dict[int, tuple[int, list[bytes]]],
) -> Reply:
    """The answer to a log read of one Get (Prepay) Snapshot per offset: on a component of
    cluster c, with ``by_cluster[c] = (publish, snapshots)``, offset n is ``snapshots[n]``
    (most recent first) in an encrypted Publish (Prepay) Snapshot ``publish``; an offset
    beyond them a NOT_FOUND default response."""
    components = []
    encrypted = 0
    asked = GbzPayload.from_bytes(command.content).components
    for n, component in enumerate(asked):
        frame = component.frame
        if not isinstance(frame, ZclFrame) or len(frame.payload) < 9:
            raise CommandError("a snapshot log read asks with plain Get Snapshot commands")
        offset = frame.payload[8]
        if component.cluster_id not in by_cluster:
            raise CommandError(f"no snapshots on cluster 0x{component.cluster_id:04X}")
        publish, snapshots = by_cluster[component.cluster_id]
        control = CONTROL_LAST if n == len(asked) - 1 else 0
        if offset >= len(snapshots):
            answer = ZclFrame(
                FC_SERVER_TO_CLIENT,
                frame.sequence,
                DEFAULT_RESPONSE,
                bytes([frame.command_id, SNAPSHOT_NOT_FOUND]),
            )
            components.append(GbzComponent(component.cluster_id, answer, control))
            continue
        ciphered = urp.encrypt(device, command, ctx, snapshots[offset])
        sealed = EncryptedZcl(
            FC_CLUSTER_SPECIFIC | FC_SERVER_TO_CLIENT | FC_DISABLE_DEFAULT_RESPONSE,
            frame.sequence,
            publish,
            ciphered,
            0,
            encrypted & 0xFF,
        )
        encrypted += 1
        components.append(GbzComponent(component.cluster_id, sealed, control | CONTROL_ENCRYPTED))
    return Reply(
        GbzPayload(tuple(components)).to_bytes(), extensions=urp.extensions(device, command, ctx)
    )


@handles(DeviceType.GSME, GCS16A)
def read_gas_daily_log(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """GCS16a: for each Get Snapshot asked (offset n: the n-th most recent daily read in the
    period), the registers at that midnight (UTC), encrypted; an offset the period does not
    hold is a NOT_FOUND default response. The reads are rebuilt from the half hours held
    (:func:`emulator.usecases.reading.daily_reads`)."""
    cmd = gc.decode_command(GCS16A, command.content)
    if not isinstance(cmd, gc.GbzRead) or cmd.span is None:
        raise CommandError("GCS16a content is not a snapshot read")
    reads = list(reversed(daily_reads(device.meter, cmd.span)))  # most recent first
    snapshots = [
        snapshot_plaintext(at // DAY, at, len(reads), total, tou) for at, total, tou in reads
    ]
    return snapshot_reply(device, command, ctx, {METERING: (PUBLISH_SNAPSHOT, snapshots)})
