"""Device reads answered from what the emulated meters keep: the ESME's second element tariff
(ECS24b, SR 4.11.2), its load switch state (ECS45, SR 7.4) and network data (ECS23 / ECS23b,
SR 4.10); the GSME's identity and supply states (GCS21e / GCS21m, SR 6.2.4) and its network
data log (GCS18, SR 4.10), configuration (GCS21a), prepayment configuration (GCS21b),
tariff (GCS21f) and billing calendar (GCS21k).

Network data. The emulated premises' supply voltage is a pure function of the meter's key and
the capture period (:func:`average_voltage`): about 230 V, varying by a few volts, now and then
(about one period in five hundred) outside the average RMS voltage thresholds. Each average
RMS voltage profile entry is a capture period (the profile's ``capture_period``, as ECS29a
sets it: factory 1800 s) the meter's record holds; the counters count the held periods since
their last reset (ECS29e) whose average was over the over-voltage threshold / under the
under-voltage one (ECS29a; factory 253 V / 216 V). The GSME's network data log is the one
GCS31 last started (the HAN family's ``network_data``): from its start, a sample every
interval up to the number asked, each the gas used in that interval (the half hour's
quantity shared out over its intervals).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import struct
from typing import Any

from emulator.clock import from_seconds
from emulator.devices.families import Reply, handles
from emulator.devices.meter import MAX_METER_BALANCE
from emulator.devices.trust import DeviceContext
from emulator.errors import CommandError
from emulator.metering import EVERY_YEAR, Season
from emulator.profiles import unit_interval
from emulator.supply import SupplyState
from emulator.usecases.reading import (
    UNIX_2000,
    fitting,
)
from emulator.usecases.reading_more import (
    CURRENCY,
    NO_UNIT,
    _price_scale,
    _read,
    active_price,
    configuration_value,
    reset_at,
    tariff_data,
)
from gbcs import content as gc
from gbcs.content.gas_tariff import GBP, PRICE_DIGITS, THRESHOLD_DIVISOR
from gbcs.content.reads import DLMS_READS, Get
from gbcs.content.reads_gbz import GET_SAMPLED_DATA, NETWORK_DATA_SAMPLE_ID, NOT_FOUND
from gbcs.devices import DeviceType
from gbcs.frames import Message
from gbcs.payloads import dlms
from gbcs.payloads.dlms import CosemDateTime, Obis
from gbcs.payloads.gbz import (
    CONTROL_ENCRYPTED,
    CONTROL_LAST,
    FC_CLUSTER_SPECIFIC,
    FC_DISABLE_DEFAULT_RESPONSE,
    FC_SERVER_TO_CLIENT,
    READ_ATTRIBUTES,
    READ_ATTRIBUTES_RESPONSE,
    AttributeRecord,
    EncryptedZcl,
    GbzComponent,
    GbzPayload,
    ReadAttributes,
    ReadAttributesResponse,
    ZclFrame,
    ZclType,
    ZclValue,
)
from gbcs.payloads.read_values import SECONDARY_TOU_REGISTERS, VOLTAGE_TYPE, samples_plaintext

HALF_HOUR = 1800
ECS24B = 0x00BD
ECS45 = 0x0052
ECS23 = 0x0039
ECS23B = 0x00BC
GCS21E = 0x009E
GCS21M = 0x00FB
GCS18 = 0x0079

# -- the second element's tariff ------------------------------------------------------------

SECONDARY_IMPORT = Obis.parse("1-20:1.8.0.255").raw
"""The register the second element's prices are per unit of (as the DCC's ECS24b names it)."""
KWH = 3
"""Commodity scale of a price: per 10**3 Wh."""


def secondary_prices(meter: Any) -> dlms.Data:
    """The second element's unit charge (IC 113 attribute 5): scales, the register charged,
    a price (currency per kWh) for each of its TOU rates."""
    prices = (list(meter.tariff.prices) + [0] * SECONDARY_TOU_REGISTERS)[:SECONDARY_TOU_REGISTERS]
    scale = _price_scale(prices)
    unit = 10 ** (scale + 5)
    return dlms.structure(
        dlms.structure(dlms.integer(KWH), dlms.integer(scale)),
        dlms.structure(dlms.long_unsigned(3), dlms.octet_string(SECONDARY_IMPORT), dlms.integer(2)),
        dlms.array(
            *(
                dlms.structure(dlms.octet_string(bytes([n + 1])), dlms.long(round(p / unit)))
                for n, p in enumerate(prices)
            )
        ),
    )


@handles(DeviceType.ESME, ECS24B)
def read_secondary_tariff(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS24b: the second element's prices, active price, special days and calendar (the
    tariff its meter bills on); a single-element ESME has none to read."""
    cmd = _read(command, ECS24B)
    meter = device.secondary
    if meter is None:
        raise CommandError("ECS24b: this ESME has no second element")
    seasons, weeks, days, special, *_ = tariff_data(meter)
    data = (
        secondary_prices(meter),
        dlms.double_long_unsigned(active_price(meter, device.device_time(now))),
        CURRENCY,
        special,
        seasons,
        weeks,
        days,
    )
    return fitting(gc.DlmsReadResponse.for_command(cmd, data).encode())


# -- the load switch ------------------------------------------------------------------------

CONTROL_STATE = {
    SupplyState.DISABLED: 0,  # disconnected
    SupplyState.ENABLED: 1,  # connected
    SupplyState.ARMED: 2,  # ready for reconnection
}
"""The disconnect control's ``control_state`` of each supply state."""


@handles(DeviceType.ESME, ECS45)
def read_load_switch(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS45: the load switch's state, as the meter's supply is."""
    cmd = _read(command, ECS45)
    state = dlms.enum(CONTROL_STATE[device.meter.supply])
    return Reply(gc.DlmsReadResponse.for_command(cmd, (state,)).encode())


# -- network data ---------------------------------------------------------------------------

NOMINAL_VOLTS = 230
EXCURSION = 0.002
"""The share of capture periods whose average RMS voltage leaves the thresholds."""


def average_voltage(key: int, phase: int, end: int, over: int, under: int) -> int:
    """The average RMS voltage (V) of the capture period ending at ``end`` (Unix seconds)."""
    draw = unit_interval(key ^ (phase << 56) ^ (end * 0x2545F491))
    if draw < EXCURSION / 2:
        return over + 1 + int(draw * 4000)
    if draw < EXCURSION:
        return under - 1 - int(draw * 4000)
    return NOMINAL_VOLTS + round(12 * (draw - 0.5))


def _uint(value: dlms.Data, what: str) -> int:
    if not isinstance(value, dlms.Integer) or value.value <= 0:
        raise CommandError(f"{what} is not a positive number")
    return value.value


def _phase_settings(device: Any, phase: int) -> tuple[int, int, int]:
    """(capture period s, over-voltage V, under-voltage V) of a phase."""
    period = configuration_value(device, Get(7, f"1-0:{phase}.24.0.255", 4))
    over = configuration_value(device, Get(1, f"1-0:{phase}.35.0.4"))
    under = configuration_value(device, Get(1, f"1-0:{phase}.31.0.4"))
    return (
        _uint(period, "the voltage capture period"),
        _uint(over, "the over-voltage threshold"),
        _uint(under, "the under-voltage threshold"),
    )


def voltage_profile(device: Any, phase: int, since: int, until: int) -> list[tuple[int, int]]:
    """(end of the capture period in Unix seconds, average V) of each capture period the
    meter's record holds that ends from ``since`` to ``until``."""
    period, over, under = _phase_settings(device, phase)
    meter = device.meter
    first = max(since, meter.first_held() + period)
    last = min(until, meter.accounted_to)
    end = first + (-first % period)
    out = []
    key = meter.key
    while end <= last:
        out.append((end, average_voltage(key, phase, end, over, under)))
        end += period
    return out


def voltage_counters(device: Any, phase: int) -> tuple[int, int]:
    """(under-voltage periods, over-voltage periods) held since each counter's reset."""
    _, over, under = _phase_settings(device, phase)
    low = reset_at(device, f"action 3 1-0:{phase}.32.0.4/1") or 0
    high = reset_at(device, f"action 3 1-0:{phase}.36.0.4/1") or 0
    held = voltage_profile(device, phase, min(low, high), device.meter.accounted_to)
    return (
        sum(1 for at, v in held if v < under and at > low),
        sum(1 for at, v in held if v > over and at > high),
    )


def _network_data(device: Any, command: Message, now: int, code: int) -> Reply:
    cmd = gc.decode_command(code, command.content)
    if not isinstance(cmd, gc.DlmsRead) or cmd.span is None:
        raise CommandError(f"message code 0x{code:04X} content is not a ranged read")
    start, end = cmd.span.seconds()
    data: list[dlms.Data] = []
    gets = DLMS_READS[code]
    for n in range(0, len(gets), 6):
        phase = int(gets[n].obis.split(":")[1].split(".")[0])
        under, over = voltage_counters(device, phase)
        period, _, _ = _phase_settings(device, phase)
        entries = voltage_profile(device, phase, start + UNIX_2000, end + UNIX_2000)
        body = b"".join(
            (at - UNIX_2000).to_bytes(4, "big") + v.to_bytes(4, "big") for at, v in entries
        )
        data += [
            dlms.double_long_unsigned(under),
            NO_UNIT,
            dlms.double_long_unsigned(over),
            NO_UNIT,
            dlms.CompactArray(VOLTAGE_TYPE, body),
            dlms.double_long_unsigned(period),
        ]
    reply = fitting(gc.DlmsReadResponse.for_command(cmd, tuple(data)).encode())
    # GBCS's ECS23 / ECS23b responses carry the meter's date-time in the header: the time the
    # counters and the profile were read at.
    read_at = CosemDateTime.from_datetime(from_seconds(device.device_time(now)))
    return dataclasses.replace(reply, date_time=read_at.to_bytes())


@handles(DeviceType.ESME, ECS23)
def read_network_data(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS23: the RMS voltage counters and the average RMS voltage profile of the period."""
    return _network_data(device, command, now, ECS23)


@handles(DeviceType.ESME, ECS23B)
def read_network_data_polyphase(
    device: Any, command: Message, now: int, ctx: DeviceContext
) -> Reply:
    """ECS23b: ECS23's data for each of the three phases."""
    return _network_data(device, command, now, ECS23B)


def network_data_samples(device: Any, earliest: int, count: int) -> tuple[int, list[int]]:
    """(the first sample's start, in seconds since 2000, and the dm3 of each sample) of the
    GSME's network data log from ``earliest`` (seconds since 2000), at most ``count``; (0, [])
    when no log was started."""
    log = device.family_state("han").get("network_data")
    if log is None:
        return 0, []
    interval, started = int(log["interval"]), int(log["at"])
    limit = min(int(log["samples"]), (device.meter.accounted_to - started) // interval)
    first = max(0, -(-(earliest + UNIX_2000 - started) // interval))
    wanted = range(first, min(limit, first + count))
    if not wanted:
        return 0, []
    since = started + wanted[0] * interval
    until = started + wanted[-1] * interval
    held = dict(device.meter.half_hours(since=since - since % HALF_HOUR, until=until))
    samples = []
    for n in wanted:
        begin = started + n * interval
        slot = begin - begin % HALF_HOUR
        quantity, parts = held.get(slot, 0), HALF_HOUR // interval
        share, rest = divmod(quantity, parts)
        samples.append(share + (1 if (begin - slot) // interval < rest else 0))
    return since - UNIX_2000, samples


@handles(DeviceType.GSME, GCS18)
def read_gas_network_data(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """GCS18: the network data log's samples from the earliest held, at most as many as asked,
    in a Get Sampled Data Response encrypted for the requester, as GBCS has it; none (no log
    started, or none yet) is NOT_FOUND."""
    cmd = gc.decode_command(GCS18, command.content)
    if not isinstance(cmd, gc.GbzRead):  # pragma: no cover - the decoder gives GbzRead
        raise CommandError("GCS18 content is not a Get Sampled Data")
    (component,) = GbzPayload.from_bytes(command.content).components
    frame = component.frame
    if not isinstance(frame, ZclFrame) or len(frame.payload) < 9:
        raise CommandError("GCS18 asks in a plain ZCL frame")
    sample_id = int.from_bytes(frame.payload[0:2], "little")
    earliest = int.from_bytes(frame.payload[2:6], "little")
    count = int.from_bytes(frame.payload[7:9], "little")
    first, samples = network_data_samples(device, earliest, count)
    if sample_id != NETWORK_DATA_SAMPLE_ID or not samples:
        return Reply(gc.ZclFailure(GET_SAMPLED_DATA, NOT_FOUND).encode())
    interval = int(device.family_state("han")["network_data"]["interval"])
    plaintext = samples_plaintext(first, samples, interval, NETWORK_DATA_SAMPLE_ID)
    encrypted = ctx.builder.encrypt_payload(
        device=device.eui,
        target=command.business_originator,
        counter=command.originator_counter,
        plaintext=plaintext,
    )
    answer = EncryptedZcl(
        FC_CLUSTER_SPECIFIC | FC_SERVER_TO_CLIENT,
        frame.sequence,
        0x07,  # Get Sampled Data Response
        encrypted,
    )
    control = CONTROL_LAST | CONTROL_ENCRYPTED
    return Reply(GbzPayload((GbzComponent(component.cluster_id, answer, control),)).to_bytes())


# -- the gas meter's identity ---------------------------------------------------------------

BASIC = 0x0000
METERING = 0x0702
UNSUPPORTED_ATTRIBUTE = 0x86
HARDWARE_VERSION = 1
"""The emulated meters' hardware version (their profiles name none)."""
UNCHANGED = 3
"""ZSE supply status 'unchanged': a GSME's factory supply tamper / depletion state."""


def gas_identity(device: Any) -> dict[tuple[int, int], ZclValue]:
    """The attributes GCS21e / GCS21m read: manufacturer and model (the firmware profile's),
    hardware version, and the supply tamper and depletion states as GCS24 last set them."""
    gas = device.family_state("configuration").get("gas", {})
    profile = device.profile

    def text(value: str) -> ZclValue:
        return ZclValue.string(ZclType.CHARACTER_STRING, value.encode("utf-8")[:32])

    return {
        (BASIC, 0x0004): text(profile.manufacturer),
        (BASIC, 0x0005): text(profile.model),
        (BASIC, 0x0003): ZclValue.uint(ZclType.UINT8, HARDWARE_VERSION),
        (METERING, 0x0607): ZclValue.uint(ZclType.ENUM8, int(gas.get("tamper", UNCHANGED))),
        (METERING, 0x0608): ZclValue.uint(ZclType.ENUM8, int(gas.get("depletion", UNCHANGED))),
    }


def attributes_reply(command: Message, values: dict[tuple[int, int], ZclValue]) -> Reply:
    """Each Read Attributes component answered from ``values`` (an attribute the device does
    not keep: UNSUPPORTED_ATTRIBUTE), in order, numbered as asked."""
    asked = GbzPayload.from_bytes(command.content).components
    out = []
    for n, component in enumerate(asked):
        frame = component.frame
        if not isinstance(frame, ZclFrame) or frame.command_id != READ_ATTRIBUTES:
            raise CommandError("an attribute read asks with plain Read Attributes")
        records = []
        for attribute in ReadAttributes.from_bytes(frame.payload).attributes:
            value = values.get((component.cluster_id, attribute))
            if value is None:
                records.append(AttributeRecord(attribute, UNSUPPORTED_ATTRIBUTE))
            else:
                records.append(AttributeRecord(attribute, 0, value))
        answer = ZclFrame(
            FC_SERVER_TO_CLIENT,
            frame.sequence,
            READ_ATTRIBUTES_RESPONSE,
            ReadAttributesResponse(tuple(records)).to_bytes(),
        )
        control = CONTROL_LAST if n == len(asked) - 1 else 0
        out.append(GbzComponent(component.cluster_id, answer, control))
    return Reply(GbzPayload(tuple(out)).to_bytes())


def _gas_identity_read(device: Any, command: Message, code: int) -> Reply:
    cmd = gc.decode_command(code, command.content)
    if not isinstance(cmd, gc.GbzRead):
        raise CommandError(f"message code 0x{code:04X} content is not a GBZ read")
    return attributes_reply(command, gas_identity(device))


@handles(DeviceType.GSME, GCS21E)
def read_gas_identity(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """GCS21e: manufacturer, model, hardware version, supply tamper and depletion states."""
    return _gas_identity_read(device, command, GCS21E)


@handles(DeviceType.GSME, GCS21M)
def read_gas_identity_m(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """GCS21m: manufacturer, model, supply tamper and depletion states."""
    return _gas_identity_read(device, command, GCS21M)


# -- the gas meter's billing calendar -------------------------------------------------------

GCS21K = 0x00DA
PRICE = 0x0700
GET_BILLING_PERIOD = 0x0B
PUBLISH_BILLING_PERIOD = 0x09


@handles(DeviceType.GSME, GCS21K)
def read_gas_billing_calendar(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """GCS21k: the billing period GCS25 / GCS25a last published to the meter, published back
    (the Publish Billing Period it keeps, as sent); none set is NOT_FOUND."""
    cmd = gc.decode_command(GCS21K, command.content)
    if not isinstance(cmd, gc.GbzRead):
        raise CommandError("GCS21k content is not a GBZ read")
    (asked,) = GbzPayload.from_bytes(command.content).components
    if not isinstance(asked.frame, ZclFrame) or asked.frame.command_id != GET_BILLING_PERIOD:
        raise CommandError("GCS21k asks with a plain Get Billing Period")
    kept = (
        device.family_state("configuration")
        .get("zcl", {})
        .get(f"{PRICE:04X}/{PUBLISH_BILLING_PERIOD:02X}")
    )
    if kept is None:
        return Reply(gc.ZclFailure(GET_BILLING_PERIOD, NOT_FOUND, PRICE).encode())
    # GBCS's Publish Billing Period answer leaves the default response enabled.
    answer = ZclFrame(
        FC_CLUSTER_SPECIFIC | FC_SERVER_TO_CLIENT,
        asked.frame.sequence,
        PUBLISH_BILLING_PERIOD,
        bytes.fromhex(kept),
    )
    return Reply(GbzPayload((GbzComponent(PRICE, answer, CONTROL_LAST),)).to_bytes())


# -- the gas meter's configuration ----------------------------------------------------------

GCS21A = 0x007B
FACTORY_GAS_ZCL = {
    # PublishConversionFactor: issuer event, start, 1.02264 (five decimals: trailing digit 5).
    "0700/02": bytes(8) + (102_264).to_bytes(4, "little") + bytes((0x50,)),
    # PublishCalorificValue: issuer event, start, 39.5 MJ/m3 (unit 1; one decimal).
    "0700/03": bytes(8) + (395).to_bytes(4, "little") + bytes((0x01, 0x10)),
    # SetUncontrolledFlowThreshold: provider, issuer event, threshold 0 (none), unit m3,
    # multiplier 1, divisor 1, stabilisation 0 s, measurement period 0 s.
    "0702/0E": bytes(8) + bytes((0, 0, 0x01, 1, 0, 1, 0, 0, 0, 0)),
}
"""The GSME's settings payloads before GCS23 / GCS24 write theirs, in their layout."""

_GAS_CONFIGURATION = (
    # (cluster, attribute, kept payload, offset, type)
    (PRICE, 0x0302, "0700/02", 8, ZclType.UINT32),  # conversion factor
    (PRICE, 0x0303, "0700/02", 12, ZclType.BITMAP8),  # its trailing digit
    (PRICE, 0x0304, "0700/03", 8, ZclType.UINT32),  # calorific value
    (PRICE, 0x0305, "0700/03", 12, ZclType.ENUM8),  # its unit
    (PRICE, 0x0306, "0700/03", 13, ZclType.BITMAP8),  # its trailing digit
    (METERING, 0x0B10, "0702/0E", 8, ZclType.UINT16),  # uncontrolled flow threshold
    (METERING, 0x0B11, "0702/0E", 10, ZclType.ENUM8),  # its unit of measure
    (METERING, 0x0B12, "0702/0E", 11, ZclType.UINT16),  # its multiplier
    (METERING, 0x0B13, "0702/0E", 13, ZclType.UINT16),  # its divisor
    (METERING, 0x0B14, "0702/0E", 15, ZclType.UINT8),  # stabilisation period (s)
    (METERING, 0x0B15, "0702/0E", 16, ZclType.UINT16),  # measurement period (s)
)
"""Each attribute GCS21a reads: where in the settings payload GCS23 / GCS24 sent it is."""

_WIDTH = {ZclType.UINT32: 4, ZclType.UINT16: 2}


def gas_configuration(device: Any) -> dict[tuple[int, int], ZclValue]:
    """The conversion factor, calorific value and uncontrolled flow settings, as GCS23 /
    GCS24 last set them (:data:`FACTORY_GAS_ZCL` before)."""
    kept = device.family_state("configuration").get("zcl", {})
    out = {}
    for cluster, attribute, key, at, kind in _GAS_CONFIGURATION:
        payload = bytes.fromhex(kept[key]) if key in kept else FACTORY_GAS_ZCL[key]
        width = _WIDTH.get(kind, 1)
        value = int.from_bytes(payload[at : at + width], "little")
        out[(cluster, attribute)] = ZclValue.uint(kind, value)
    return out


@handles(DeviceType.GSME, GCS21A)
def read_gas_configuration(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """GCS21a: the conversion factor, calorific value and uncontrolled flow settings."""
    cmd = gc.decode_command(GCS21A, command.content)
    if not isinstance(cmd, gc.GbzRead):
        raise CommandError("GCS21a content is not a GBZ read")
    return attributes_reply(command, gas_configuration(device))


# -- the gas meter's tariff -----------------------------------------------------------------

GCS21F = 0x009F
CALENDAR = 0x0707
GET_CURRENT_PRICE = 0x00
PUBLISH_PRICE = 0x00
NO_THRESHOLD_48 = 0xFFFF_FFFF_FFFF
"""A block threshold never reached (the emulated GSME bills no blocks)."""
UNTIL_CHANGED = 0xFFFF
"""PublishPrice duration: the price holds until changed."""
GAS_TIERS = 4
_PUBLISHED = FC_CLUSTER_SPECIFIC | FC_SERVER_TO_CLIENT | FC_DISABLE_DEFAULT_RESPONSE
_ATTRIBUTES_ANSWER = FC_SERVER_TO_CLIENT | FC_DISABLE_DEFAULT_RESPONSE


def _current_tier(meter: Any, device_time: int) -> int:
    day = _dt.datetime.fromtimestamp(device_time, _dt.UTC).date()
    switching = meter.tariff.switching_on(day)
    return int(switching[(device_time // HALF_HOUR) % len(switching)]) + 1


def gas_tariff_attributes(meter: Any) -> dict[tuple[int, int], ZclValue]:
    """The Price cluster attributes GCS21f reads, from the tariff the meter bills on."""
    tariff = meter.tariff
    prices = (list(tariff.prices) + [0] * GAS_TIERS)[:GAS_TIERS]
    u32, u48, u24 = ZclType.UINT32, ZclType.UINT48, ZclType.UINT24
    values = {
        (PRICE, 0x0203): ZclValue.uint(u24, THRESHOLD_DIVISOR),
        (PRICE, 0x0202): ZclValue.uint(u24, 1),  # threshold multiplier
        **{(PRICE, 0x0100 + n): ZclValue.uint(u48, NO_THRESHOLD_48) for n in range(3)},
        (PRICE, 0x0615): ZclValue.uint(ZclType.ENUM8, 0),  # unit of measure: kWh
        **{(PRICE, 0x0400 + n): ZclValue.uint(u32, 0) for n in range(4)},  # no block prices
        **{(PRICE, 0x0410 + 0x10 * n): ZclValue.uint(u32, p) for n, p in enumerate(prices)},
        (PRICE, 0x0616): ZclValue.uint(ZclType.UINT16, GBP),
        (PRICE, 0x0617): ZclValue.uint(ZclType.BITMAP8, PRICE_DIGITS),
        (PRICE, 0x0301): ZclValue.uint(u32, tariff.standing_charge),
    }
    return values


def _zcl_date(year: int, month: int, day: int) -> bytes:
    """A ZCL date (year - 1900, month, day, any day of the week; 0xFF any)."""
    return bytes((0xFF if year == EVERY_YEAR else year - 1900, month, day, 0xFF))


def gas_calendar_frames(device: Any) -> dict[int, list[bytes]]:
    """The calendar the GSME bills on, as Publish Day Profile / Week Profile / Seasons /
    Special Days payloads by command: a day profile for each distinct day (its tier all
    day), a week for each season (one season from 2000 when the tariff has one) and the
    special days, as GCS01a would send the tariff the meter holds."""
    tariff = device.meter.tariff
    week = tariff.weekdays or (tariff.switching,) * 7
    seasons = tariff.seasons or (Season(2000, 1, 1, week),)
    tiers: dict[int, int] = {}
    for table in (
        *(t for s in seasons for t in s.weekdays),
        *(d.switching for d in tariff.special_days),
    ):
        tiers.setdefault(int(table[0]) + 1, len(tiers) + 1)
    price = gc.GasPrice(0, tariff.standing_charge, (1,) * max(tiers))
    calendar = gc.GasTariff(
        price,
        tuple(gc.GasDay(day_id, tier) for tier, day_id in tiers.items()),
        tuple(
            (n, tuple(tiers[int(t[0]) + 1] for t in season.weekdays))
            for n, season in enumerate(seasons, 1)
        ),
        tuple(
            gc.GasSeason(_zcl_date(season.year, season.month, season.day), n)
            for n, season in enumerate(seasons, 1)
        ),
        tuple(
            gc.GasSpecialDay(_zcl_date(d.year, d.month, d.day), tiers[int(d.switching[0]) + 1])
            for d in tariff.special_days
        ),
    )
    return _calendar_frames(calendar.encode())


def publish_price(meter: Any, device_time: int) -> bytes:
    """A PublishPrice payload: the price of the tier billed now, from now until changed."""
    tier = _current_tier(meter, device_time)
    prices = list(meter.tariff.prices)
    price = prices[min(tier, len(prices)) - 1]
    now = device_time - UNIX_2000
    return (
        struct.pack("<IB", 0, 0)  # provider, empty rate label
        + struct.pack("<II", 0, now)  # issuer event, current time
        + struct.pack("<BHB", 0, GBP, PRICE_DIGITS | tier)
        + struct.pack("<BIH", (min(len(prices), 15) << 4) | tier, 0, UNTIL_CHANGED)
        + struct.pack("<I", price)
    )


def calendar_reply(
    command: Message,
    attributes: dict[tuple[int, int], ZclValue],
    calendar: dict[int, list[bytes]],
    *,
    attributes_control: int,
    price: bytes | None = None,
) -> Reply:
    """Each component of a GSME configuration read answered in order: Read Attributes from
    ``attributes`` (frame control ``attributes_control``, as the DCC's references differ),
    each calendar Get by its Publish commands (``calendar``, by command id), Get Current
    Price by a PublishPrice of ``price``."""
    answers: list[tuple[int, ZclFrame]] = []
    for component in GbzPayload.from_bytes(command.content).components:
        frame = component.frame
        if not isinstance(frame, ZclFrame):
            raise CommandError("a configuration read asks in plain ZCL frames")
        seq, cluster = frame.sequence, component.cluster_id
        if frame.command_id == READ_ATTRIBUTES and not frame.cluster_specific:
            records = tuple(
                AttributeRecord(a, 0, attributes[(cluster, a)])
                if (cluster, a) in attributes
                else AttributeRecord(a, UNSUPPORTED_ATTRIBUTE)
                for a in ReadAttributes.from_bytes(frame.payload).attributes
            )
            payload = ReadAttributesResponse(records).to_bytes()
            answer = ZclFrame(attributes_control, seq, READ_ATTRIBUTES_RESPONSE, payload)
            answers.append((cluster, answer))
        elif cluster == CALENDAR and frame.command_id in calendar:
            # Get Day Profiles / Week Profiles / Seasons / Special Days: the same command
            # id publishes them.
            for payload in calendar[frame.command_id]:
                answers.append((cluster, ZclFrame(_PUBLISHED, seq, frame.command_id, payload)))
        elif cluster == PRICE and frame.command_id == GET_CURRENT_PRICE and price is not None:
            answers.append((cluster, ZclFrame(_PUBLISHED, seq, PUBLISH_PRICE, price)))
        else:
            raise CommandError(f"the read does not ask command 0x{frame.command_id:02X}")
    components = tuple(
        GbzComponent(cluster, answer, CONTROL_LAST if n == len(answers) - 1 else 0)
        for n, (cluster, answer) in enumerate(answers)
    )
    return fitting(GbzPayload(components).to_bytes())


def _calendar_frames(encoded: bytes) -> dict[int, list[bytes]]:
    """The Publish Day Profile / Week Profile / Seasons / Special Days payloads of a GCS01a
    or GCS05 content, by command (its Publish Calendar left out: no read asks it)."""
    out: dict[int, list[bytes]] = {}
    for component in GbzPayload.from_bytes(encoded).components:
        frame = component.frame
        calendar = component.cluster_id == CALENDAR and isinstance(frame, ZclFrame)
        if calendar and isinstance(frame, ZclFrame) and frame.command_id != 0x00:
            out.setdefault(frame.command_id, []).append(frame.payload)
    return out


@handles(DeviceType.GSME, GCS21F)
def read_gas_tariff(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """GCS21f: the Price attributes, the calendar (each Get answered by its Publish
    commands) and the current price, each component answering its request in order."""
    cmd = gc.decode_command(GCS21F, command.content)
    if not isinstance(cmd, gc.GbzRead):
        raise CommandError("GCS21f content is not a GBZ read")
    return calendar_reply(
        command,
        gas_tariff_attributes(device.meter),
        gas_calendar_frames(device),
        attributes_control=_ATTRIBUTES_ANSWER,
        price=publish_price(device.meter, device.device_time(now)),
    )


# -- the gas meter's prepayment configuration -----------------------------------------------

GCS21B = 0x00B5
PREPAYMENT_CLUSTER = 0x0705
FACTORY_DEBT_CAP = 0
"""The overall debt cap before GCS05 sets one (none)."""


def _debt_terms(device: Any) -> list[dict[str, Any]]:
    debt = device.family_state("tariff").get("debt", {})
    terms = list(debt.get("terms", [None, None, None]))
    return [t or {} for t in (terms + [None] * 3)[:3]]


def gas_prepay_attributes(device: Any) -> dict[tuple[int, int], ZclValue]:
    """The Prepayment attributes GCS21b reads: the meter's prepayment configuration, the
    debt recovery terms GCS04 set and the limits GCS05 set (factory values before)."""
    config = device.meter.prepayment
    held = device.family_state("tariff").get("prepay", {})
    terms = _debt_terms(device)
    u32, i32 = ZclType.UINT32, ZclType.INT32

    def frequency(n: int) -> ZclValue:
        period = str(terms[n].get("period", "daily")).upper()
        return ZclValue.uint(ZclType.ENUM8, gc.RecoveryPeriod[period].value)

    p = PREPAYMENT_CLUSTER
    return {
        (p, 0x0239): ZclValue.uint(ZclType.UINT16, int(terms[2].get("percentage", 0))),
        (p, 0x0006): ZclValue.uint(i32, int(held.get("debt_cap", FACTORY_DEBT_CAP))),
        (p, 0x0216): frequency(0),
        (p, 0x0226): frequency(1),
        (p, 0x0040): ZclValue.uint(i32, int(config.disablement_threshold)),
        (p, 0x0010): ZclValue.uint(u32, int(config.emergency_credit_limit)),
        (p, 0x0011): ZclValue.uint(u32, int(config.emergency_credit_threshold)),
        (p, 0x0031): ZclValue.uint(u32, int(config.low_credit_threshold)),
        (p, 0x0021): ZclValue.uint(u32, int(held.get("max_meter_balance", MAX_METER_BALANCE))),
        (p, 0x0022): ZclValue.uint(u32, int(held.get("max_credit_threshold", MAX_METER_BALANCE))),
        (p, 0x0217): ZclValue.uint(u32, int(terms[0].get("rate", 0))),
        (p, 0x0227): ZclValue.uint(u32, int(terms[1].get("rate", 0))),
        (PRICE, 0x0617): ZclValue.uint(ZclType.BITMAP8, PRICE_DIGITS),
    }


def gas_non_disablement_frames(device: Any) -> dict[int, list[bytes]]:
    """The non-disablement calendar as GCS05 last set its day profiles (none before: one
    day profile without a period), used every day: one week, one season from 2000."""
    held = device.family_state("tariff").get("prepay", {})
    days = tuple(
        gc.NonDisablementDay(int(d["day"]), tuple((int(m), bool(on)) for m, on in d["switches"]))
        for d in held.get("non_disablement", [])
    ) or (gc.NonDisablementDay(1, ((0, False),)),)
    config = device.meter.prepayment
    encoded = gc.GasPrepayConfig(
        issued=0,
        debt_cap=0,
        emergency_credit_limit=int(config.emergency_credit_limit),
        emergency_credit_threshold=int(config.emergency_credit_threshold),
        low_credit_threshold=int(config.low_credit_threshold),
        max_meter_balance=0,
        max_credit_threshold=0,
        days=days,
        weeks=((1, (days[0].day_id,) * 7),),
        seasons=(gc.GasSeason(bytes((100, 1, 1, 0xFF)), 1),),
    ).encode()
    return _calendar_frames(encoded)


@handles(DeviceType.GSME, GCS21B)
def read_gas_prepay_configuration(
    device: Any, command: Message, now: int, ctx: DeviceContext
) -> Reply:
    """GCS21b: the prepayment configuration and the non-disablement calendar."""
    cmd = gc.decode_command(GCS21B, command.content)
    if not isinstance(cmd, gc.GbzRead):
        raise CommandError("GCS21b content is not a GBZ read")
    return calendar_reply(
        command,
        gas_prepay_attributes(device),
        gas_non_disablement_frames(device),
        attributes_control=FC_SERVER_TO_CLIENT,
    )
