"""The ESME's payment mode (ECS02 credit, ECS03 prepayment), prepayment configuration
(ECS08a) and a twin-element ESME's secondary tariff and prices (ECS01c, ECS01d), each now,
held for its activation date-time, or a held one cancelled.

They share the tariff family's state (``device.family_state("tariff")``): ``pending_mode``
and ``pending_prepay`` are held as the GSME's are and fall due by the family's ticker
(:func:`emulator.usecases.tariff.future_dated`), which raises one 0x8F66 alert an activation
time the command set (``specs``), as the DCC's reference alerts do; ``prepay`` holds the
configuration applied and ``debt_suspension`` the prepayment mode's debt flags;
``pending_secondary`` a held secondary tariff, applied by this module's own ticker.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
from typing import Any

from emulator.clock import from_seconds
from emulator.devices.families import Alert, Reply, handles, next_due, ticks
from emulator.devices.trust import DeviceContext
from emulator.errors import CommandError
from emulator.metering import Meter, PaymentMode, Season, SpecialDay, Tariff
from emulator.tariff_calendar import NonDisablementSchedule, ScheduleSwitch
from emulator.usecases.tariff import (
    FAMILY,
    FUTURE_DATED_DLMS,
    _meter,
    _ok,
    _prepay_config,
    _refused,
    _state,
    _switch_mode,
)
from gbcs import content as c
from gbcs.content.tariff_prepay import DEBT_CAP_WEEK
from gbcs.devices import DeviceType
from gbcs.frames import Message
from gbcs.payloads import dlms
from gbcs.payloads.dlms import AccessSpec

E = DeviceType.ESME
ECS02, ECS03, ECS08A = 0x001A, 0x001B, 0x00DE


def _specs(specs: tuple[AccessSpec, ...]) -> list[list[Any]]:
    """The activation-time attributes a command sets, as the held change keeps them."""
    return [[s.class_id, str(s.obis), s.index] for s in specs]


def _device_clock(device: Any, now: int) -> _dt.datetime:
    return from_seconds(device.device_time(now))


@handles(E, ECS02)
@handles(E, ECS03)
def esme_payment_mode(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS02 / ECS03: switch credit <-> prepayment now (the billing data logged first), hold
    a future-dated switch, or cancel the one held. A switch to the mode the meter is in
    already, or a secondary element's charge on a single-element meter, is refused."""
    prepayment = command.message_code == ECS03
    cmd: c.ElecCreditMode | c.ElecPrepaymentMode = (
        c.ElecPrepaymentMode.decode(command.content)
        if prepayment
        else c.ElecCreditMode.decode(command.content)
    )
    meter_device = _meter(device)
    meter = meter_device.meter
    state = _state(device)
    if cmd.cancel_pending:
        state.pop("pending_mode", None)
        return _ok(cmd)
    if cmd.twin and getattr(device, "secondary", None) is None:
        return _refused(device, cmd, "it charges a secondary element the meter does not have")
    wanted = PaymentMode.PREPAYMENT if prepayment else PaymentMode.CREDIT
    activations: tuple[AccessSpec, ...]
    if isinstance(cmd, c.ElecPrepaymentMode):
        cut_off = cmd.disablement_threshold
        flags = {
            "disabled": cmd.suspend_debt_disabled,
            "emergency": cmd.suspend_debt_emergency,
        }
        activations = (cmd.specs()[3], cmd.specs()[4])
    else:
        cut_off = meter.prepayment.disablement_threshold
        flags = None
        activations = (cmd.specs()[2],)
    if cmd.activate_at is not None and cmd.activate_at > _device_clock(device, now):
        state["pending_mode"] = {
            "mode": wanted.value,
            "at": cmd.activate_at.isoformat(),
            "cut_off": cut_off,
            "counter": command.originator_counter,
            "message_code": command.message_code,
            "specs": _specs(activations),
        }
        return _ok(cmd)
    if meter.mode is wanted:
        return _refused(device, cmd, f"the meter is in {wanted.value} mode already")
    _switch_mode(meter_device, prepayment, cut_off, now)
    if flags is not None:
        state["debt_suspension"] = flags
    return _ok(cmd)


def _cosem_date(raw: bytes) -> tuple[int, int, int]:
    """A 5-byte COSEM date as (year, month, day); year 0xFFFF every year, 0xFF any."""
    return (int.from_bytes(raw[0:2], "big"), raw[2], raw[3])


def non_disablement_schedule(cmd: c.ElecPrepayConfig) -> NonDisablementSchedule:
    """ECS08a's special days and schedule, which the meter follows day by day."""
    return NonDisablementSchedule(
        special_days=tuple(_cosem_date(raw) for raw in cmd.special_days),
        switches=tuple(
            ScheduleSwitch(
                entry.start,
                entry.time.hour * 60 + entry.time.minute,
                entry.weekdays,
                entry.special_days,
                _cosem_date(entry.begin),
                _cosem_date(entry.end),
            )
            for entry in cmd.schedule
        ),
    )


@handles(E, ECS08A)
def update_esme_prepay(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS08a: the emergency credit limit and threshold, the low credit threshold, the debt
    recovery rate cap (a week) and the non-disablement schedule (followed day by day) become
    the meter's; the maximum balance and credit threshold and the calendar are held
    (``prepay``). A future one is held (``pending_prepay``), a cancellation drops it, an
    inconsistent one is refused and changes nothing."""
    cmd = c.ElecPrepayConfig.decode(command.content)
    state = _state(device)
    if cmd.cancel_pending:
        state.pop("pending_prepay", None)
        return _ok(cmd)
    clock = _device_clock(device, now)
    later = cmd.activate_at is not None and cmd.activate_at > clock
    held: dict[str, Any] = {
        "emergency_credit_limit": cmd.emergency_credit_limit,
        "emergency_credit_threshold": cmd.emergency_credit_threshold,
        "low_credit_threshold": cmd.low_credit_threshold,
        "debt_cap": cmd.debt_cap,
        "debt_cap_period": DEBT_CAP_WEEK,
        "max_meter_balance": cmd.max_meter_balance,
        "max_credit_threshold": cmd.max_credit_threshold,
        "special_days": [raw.hex() for raw in cmd.special_days],
        "calendar": non_disablement_schedule(cmd).to_json(),
    }
    meter_device = _meter(device)
    config = _prepay_config(meter_device, held)
    problems = cmd.problems() + config.problems()
    if problems:
        return _refused(device, cmd, "; ".join(problems))
    if later and cmd.activate_at is not None:
        specs = cmd.specs()
        held |= {
            "at": cmd.activate_at.isoformat(),
            "counter": command.originator_counter,
            "message_code": command.message_code,
            "specs": _specs((specs[8], *specs[10:])),
        }
        state["pending_prepay"] = held
        return _ok(cmd)
    meter_device.meter.prepayment = config
    state["prepay"] = held
    return _ok(cmd)


# -- the secondary element (ECS01c, ECS01d) ----------------------------------------------------

ECS01C, ECS01D = 0x00B7, 0x00C7


def _secondary_prices(cmd: c.SecondaryTariff | c.SecondaryPrice) -> tuple[int, ...]:
    """The command's prices as milli-pence per kWh (refused when finer)."""
    money = cmd.price_scale + 5  # milli-pence are 1e-5 of a pound
    energy = 3 - cmd.commodity_scale  # prices per kWh
    if money < 0 or money + energy < 0:
        raise CommandError(f"price scale {cmd.price_scale} is finer than milli-pence")
    return tuple(p * 10 ** (money + energy) for p in cmd.prices)


def secondary_tariff_of(cmd: c.SecondaryTariff) -> Tariff:
    """The secondary element's tariff: its first season's week of switching tables, a table
    for each special day, and its TOU prices (the ESME takes the standing charge once, on
    its primary element)."""
    weeks = {w.name: w for w in cmd.week_profiles}
    if not cmd.seasons or any(s.week not in weeks for s in cmd.seasons):
        raise CommandError("the calendar has no week profile for each of its seasons")
    profiles = {d.day_id: d for d in cmd.day_profiles}

    def table(day_id: int) -> tuple[int, ...]:
        day = profiles.get(day_id)
        if day is None or not day.switches:
            raise CommandError(f"the calendar has no tariff switch for day profile {day_id}")
        switching = []
        for slot in range(48):
            rate = day.switches[0].rate
            for switch in day.switches:
                if switch.start.hour * 60 + switch.start.minute <= slot * 30:
                    rate = switch.rate
            switching.append(rate - c.SECONDARY_SCRIPT_BASE - 1)
        return tuple(switching)

    seasons = tuple(
        Season.from_cosem(s.start, tuple(table(day_id) for day_id in weeks[s.week].days))
        for s in cmd.seasons
    )
    week = seasons[0].weekdays
    return Tariff(
        prices=_secondary_prices(cmd),
        standing_charge=0,
        switching=week[0],
        weekdays=week if len(set(week)) > 1 else (),
        special_days=tuple(
            SpecialDay(int.from_bytes(d.date[0:2], "big"), d.date[2], d.date[3], table(d.day_id))
            for d in cmd.special_days
        ),
        seasons=seasons if len(seasons) > 1 else (),
    )


@handles(E, ECS01C)
@handles(E, ECS01D)
def secondary_tariff(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS01c / ECS01d: the secondary element's tariff (or its prices on the switching table
    it holds) now, held for its activation time (``pending_secondary``), or the held one
    cancelled. A single-element ESME, or a tariff it would reject, refuses and changes
    nothing."""
    cmd: c.SecondaryTariff | c.SecondaryPrice = (
        c.SecondaryTariff.decode(command.content)
        if command.message_code == ECS01C
        else c.SecondaryPrice.decode(command.content)
    )
    state = _state(device)
    if cmd.cancel_pending:
        state.pop("pending_secondary", None)
        return _ok(cmd)
    secondary: Meter | None = getattr(device, "secondary", None)
    if secondary is None:
        return _refused(device, cmd, "the meter has no secondary element")
    try:
        problems = cmd.problems()
        if isinstance(cmd, c.SecondaryTariff):
            tariff = secondary_tariff_of(cmd)
        else:
            tariff = dataclasses.replace(secondary.tariff, prices=_secondary_prices(cmd))
        problems += tariff.problems()
    except CommandError as exc:
        problems = [str(exc)]
    if problems:
        return _refused(device, cmd, "; ".join(problems))
    if cmd.activate_at is not None and cmd.activate_at > _device_clock(device, now):
        specs = cmd.specs()
        activations = (specs[5], specs[6], specs[7]) if len(specs) > 2 else (specs[1],)
        state["pending_secondary"] = {
            "at": cmd.activate_at.isoformat(),
            "tariff": tariff.to_json(),
            "counter": command.originator_counter,
            "message_code": command.message_code,
            "specs": _specs(activations),
        }
        return _ok(cmd)
    secondary.apply_tariff(tariff, None)
    return _ok(cmd)


@ticks
def secondary_due(device: Any, now: int) -> list[Alert]:
    """A held secondary tariff falls due: installed (the secondary element has accounted up
    to the device's tick, so the half hours since its time are on the old one) with one
    0x8F66 an activation time the command set, or 0x8F67 when it no longer fits."""
    if device.extra is None:
        return []
    state = device.extra.get(FAMILY)
    held = state.get("pending_secondary") if state else None
    secondary: Meter | None = getattr(device, "secondary", None)
    if held is None or secondary is None:
        return []
    at = _dt.datetime.fromisoformat(held["at"])
    if at > _device_clock(device, now):
        return []
    del state["pending_secondary"]
    try:
        secondary.apply_tariff(Tariff.from_json(held["tariff"]), None)
        ok = True
    except CommandError:
        ok = False
    device._log(f"future-dated secondary tariff {'applied' if ok else 'failed'}")
    code = 0x8F66 if ok else 0x8F67
    out = []
    for class_id, obis, index in held["specs"]:
        alert = c.DlmsAlert.future_dated(
            device.next_alert_counter(),
            executed=ok,
            when=at,
            message_code=int(held["message_code"]),
            command_counter=int(held["counter"]),
            spec=dlms.set_(int(class_id), str(obis), int(index)),
        )
        out.append(Alert(code, message_code=FUTURE_DATED_DLMS, content=alert.encode()))
    return out


@next_due(secondary_due)
def _secondary_next_due(device: Any, clock: int) -> int | None:
    state = device.extra.get(FAMILY) if device.extra else None
    held = state.get("pending_secondary") if state else None
    if held is None or getattr(device, "secondary", None) is None:
        return None
    # Whole seconds, rounded down: the device clock the ticker compares with has no fraction.
    return math.floor(_dt.datetime.fromisoformat(held["at"]).timestamp())
