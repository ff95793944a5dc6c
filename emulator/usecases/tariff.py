"""The tariff family's device behaviour beside the tariff itself: payment mode (GCS02/03),
meter balance (GCS40c/d), debt (GCS04), emergency credit (ECS09, GCS06), block counter resets
(ECS05, ECS48), supplier messages (ECS10, GCS07), change of tenancy (ECS12, GCS09), event
logs (ECS15c, CS11), supplier name (ECS16, GCS44) and the gas privacy PIN (GCS11).

What the device holds for them lives in ``device.family_state("tariff")`` (JSON-ready, saved
with the device): ``message``, ``supplier``, ``tenancy``, ``privacy_pin``, ``block_counters``,
``daily_block_reset``, ``alcs_log_cleared``, ``debt`` (the three registers and their
recovery terms), ``billing_log`` (what a payment mode change logged) and ``pending_mode`` (a
future-dated payment mode change: held, cancelled by a later cancellation). The meter's own
mode, balance, debt and emergency credit are its :class:`~emulator.metering.Meter`'s.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from emulator.clock import from_seconds
from emulator.devices.base import Device
from emulator.devices.families import Alert, Reply, handles, next_due, ticks
from emulator.devices.meter import METER_EVENT_ALERTS, MeterDevice
from emulator.devices.trust import DeviceContext
from emulator.errors import CommandError
from emulator.metering import (
    EVERY_YEAR,
    BlockRate,
    MeterEvent,
    NonDisablementCalendar,
    PaymentMode,
    PrepaymentConfig,
    Season,
    SpecialDay,
    Tariff,
)
from emulator.profiles import SLOTS_PER_DAY
from emulator.tariff_calendar import non_disablement_from_json
from gbcs import content as c
from gbcs.content.account import CANCEL_PENDING, NOW
from gbcs.devices import DeviceType
from gbcs.frames import Message
from gbcs.payloads import dlms, gbz

FAMILY = "tariff"
RESULT_OTHER_REASON = 250
"""DLMS data-access / action result 'other reason': what the ESME answers a command it
refuses in its current state."""
ZCL_FAILURE = 0x01
"""ZCL status FAILURE: what the GSME answers a command it refuses in its current state."""

E, G = DeviceType.ESME, DeviceType.GSME


def _state(device: Device) -> dict[str, Any]:
    return device.family_state(FAMILY)


def _when(device: Device, now: int) -> str:
    return from_seconds(device.device_time(now)).isoformat()


def _ok(cmd: c.DlmsCommand) -> Reply:
    return Reply(c.Outcome.for_command(cmd).encode())


def _refused(device: Device, cmd: c.DlmsCommand, why: str) -> Reply:
    device._log(f"{type(cmd).__name__} refused: {why}")
    return Reply(c.Outcome.for_command(cmd, RESULT_OTHER_REASON).encode())


def _zcl(command: object, status: int = 0) -> Reply:
    return Reply(c.ZclStatus.answering(command, status).encode())


def _meter(device: Device) -> MeterDevice:
    assert isinstance(device, MeterDevice)  # only meters register these use cases
    return device


# -- emergency credit ------------------------------------------------------------------------


def _activate_emergency_credit(device: MeterDevice) -> str | None:
    """Activate emergency credit as a consumer would: only in prepayment mode, below the
    emergency credit threshold, when it is not active already. None, or why not."""
    meter = device.meter
    credit, config = meter.credit, meter.prepayment
    if meter.mode is not PaymentMode.PREPAYMENT:
        return "the meter is in credit mode"
    if credit.emergency_credit_active:
        return "emergency credit is active already"
    if config.emergency_credit_limit <= 0:
        return "no emergency credit is configured"
    if credit.balance >= config.emergency_credit_threshold:
        return "credit is above the emergency credit threshold"
    credit.emergency_credit_active = True
    return None


@handles(E, 0x0020)
def activate_emergency_credit(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS09."""
    cmd = c.ActivateEmergencyCredit.decode(command.content)
    why = _activate_emergency_credit(_meter(device))
    if why is not None:
        return _refused(device, cmd, why)
    alert = Alert(METER_EVENT_ALERTS[MeterEvent.EMERGENCY_CREDIT_ACTIVATED])
    return Reply(c.Outcome.for_command(cmd).encode(), alerts=[alert])


@handles(G, 0x0070)
def activate_gas_emergency_credit(
    device: Any, command: Message, now: int, ctx: DeviceContext
) -> Reply:
    """GCS06."""
    cmd = c.GasEmergencyCredit.decode(command.content)
    why = _activate_emergency_credit(_meter(device))
    if why is not None:
        device._log(f"GCS06 refused: {why}")
        return _zcl(cmd, ZCL_FAILURE)
    alert = Alert(METER_EVENT_ALERTS[MeterEvent.EMERGENCY_CREDIT_ACTIVATED])
    return Reply(c.ZclStatus.answering(cmd).encode(), alerts=[alert])


# -- block counters --------------------------------------------------------------------------


@handles(E, 0x001D)
def reset_block_counters(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS05: the block counters start again from zero."""
    cmd = c.ResetBlockCounters.decode(command.content)
    # The device has accounted up to now (it ticks before it handles a command): the half
    # hours before the reset stay in the old counters.
    _meter(device).meter.reset_block_counters()
    state = _state(device)
    state["block_counters"] = [0, 0, 0, 0]
    state["block_counters_reset"] = _when(device, now)
    return _ok(cmd)


@handles(E, 0x00DB)
def daily_block_reset(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS48: whether the block counters reset every midnight."""
    cmd = c.DailyBlockCounterReset.decode(command.content)
    _state(device)["daily_block_reset"] = cmd.daily
    _meter(device).meter.daily_block_reset = cmd.daily
    return _ok(cmd)


# -- what the meter shows --------------------------------------------------------------------


@handles(E, 0x0021)
def send_message(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS10: the message replaces the one shown."""
    cmd = c.SendMessage.decode(command.content)
    _state(device)["message"] = cmd.text.decode("ascii", "replace")
    return _ok(cmd)


@handles(G, 0x0071)
def send_gas_message(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """GCS07."""
    cmd = c.GasMessage.decode(command.content)
    _state(device)["message"] = cmd.text.decode("ascii", "replace")
    return _zcl(cmd)


@handles(E, 0x0025)
def supplier_contact(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS16."""
    cmd = c.SupplierContact.decode(command.content)
    _state(device)["supplier"] = {
        "name": cmd.name.decode("ascii", "replace"),
        "telephone": cmd.telephone.decode("ascii", "replace"),
    }
    return _ok(cmd)


@handles(G, 0x0088)
def gas_supplier_contact(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """GCS44."""
    cmd = c.GasContact.decode(command.content)
    _state(device)["supplier"] = {
        "name": cmd.name.decode("ascii", "replace"),
        "telephone": cmd.telephone.decode("ascii", "replace"),
    }
    return _zcl(cmd)


@handles(G, 0x0073)
def disable_privacy_pin(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """GCS11: the consumer's data is no longer behind the privacy PIN."""
    cmd = c.GasPrivacyPin.decode(command.content)
    _state(device)["privacy_pin"] = False
    return _zcl(cmd)


# -- change of tenancy and event logs --------------------------------------------------------


@handles(E, 0x0022)
def tenancy_date(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS12."""
    cmd = c.SetTenancyDate.decode(command.content)
    _state(device)["tenancy"] = cmd.when.isoformat()
    return _ok(cmd)


@handles(DeviceType.GPF, 0x0072)
def gas_tenancy_date(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """GCS09 (on the GPF, which holds the gas consumer's data)."""
    cmd = c.GasTenancy.decode(command.content)
    _state(device)["tenancy"] = cmd.when.isoformat()
    return _zcl(cmd)


@handles(E, 0x00C1)
def clear_alcs_log(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS15c."""
    cmd = c.ClearAlcsLog.decode(command.content)
    _state(device)["alcs_log_cleared"] = _when(device, now)
    return _ok(cmd)


@handles(G, 0x0015)
def clear_gas_event_log(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """CS11: the device's event log is emptied."""
    c.ClearGasEventLog.decode(command.content)
    device.log = None
    _state(device)["event_log_cleared"] = _when(device, now)
    return Reply(c.GasLogCleared().encode())


# -- balance, debt, payment mode -------------------------------------------------------------


@handles(G, 0x00C0)
@handles(G, 0x00C2)
def gas_meter_balance(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """GCS40c / GCS40d: the credit-mode meter balance, adjusted or reset."""
    cmd = c.GasMeterBalance.decode(command.content)
    meter = _meter(device).meter
    if meter.mode is not PaymentMode.CREDIT:
        device._log("GCS40c/d refused: the meter is in prepayment mode")
        return _zcl(cmd, ZCL_FAILURE)
    if cmd.kind is c.CreditAdjustment.RESET:
        meter.credit.balance = 0
    else:
        meter.credit.balance += cmd.amount
    return _zcl(cmd)


@handles(G, 0x006E)
def manage_gas_debt(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """GCS04: each change adds to its debt register (the meter recovers their sum)."""
    cmd = c.ManageGasDebt.decode(command.content)
    meter = _meter(device).meter
    state = _state(device)
    registers = state.setdefault("debt", {"registers": [0, 0, 0], "terms": [None, None, None]})
    for change in cmd.changes:
        registers["registers"][change.register - 1] += change.amount
        registers["terms"][change.register - 1] = {
            "rate": change.rate,
            "period": change.period.name.lower(),
            "percentage": change.percentage,
        }
        meter.credit.debt += change.amount
    daily = 0
    for change in cmd.changes:
        if change.register in (1, 2):
            per = 24 if change.period is c.RecoveryPeriod.HOURLY else 1
            daily += change.rate * per
    if daily:
        meter.prepayment = replace(meter.prepayment, debt_recovery_per_day=daily)
    return _zcl(cmd)


def _switch_mode(device: MeterDevice, prepayment: bool, cut_off: int, now: int) -> None:
    meter = device.meter
    state = _state(device)
    log = state.setdefault("billing_log", [])
    log.append(
        {
            "at": _when(device, now),
            "from": meter.mode.value,
            "registers": list(meter.registers),
            "balance": meter.credit.balance,
            "debt": meter.credit.debt,
        }
    )
    del log[:-12]  # the log keeps the last twelve changes
    meter.set_mode(PaymentMode.PREPAYMENT if prepayment else PaymentMode.CREDIT)
    if prepayment:
        meter.prepayment = replace(meter.prepayment, disablement_threshold=cut_off)


@handles(G, 0x006C)
@handles(G, 0x006D)
def gas_payment_mode(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """GCS02 / GCS03: switch credit <-> prepayment now, hold a future-dated switch, or
    cancel the one held. A switch to the mode the meter is in already is refused."""
    cmd = c.GasPaymentMode.decode(command.content)
    meter_device = _meter(device)
    meter = meter_device.meter
    state = _state(device)
    wanted = PaymentMode.PREPAYMENT if cmd.prepayment else PaymentMode.CREDIT
    if cmd.implementation == CANCEL_PENDING:
        state.pop("pending_mode", None)
    elif cmd.implementation != NOW and gbz.from_zigbee_time(cmd.implementation) > from_seconds(
        device.device_time(now)
    ):
        state["pending_mode"] = {
            "mode": wanted.value,
            "at": gbz.from_zigbee_time(cmd.implementation).isoformat(),
            "cut_off": cmd.cut_off,
            "counter": command.originator_counter,
            "message_code": command.message_code,
        }
    elif meter.mode is wanted:
        device._log(f"GCS02/03 refused: the meter is in {wanted.value} mode already")
        return _zcl(cmd, ZCL_FAILURE)
    else:
        _switch_mode(meter_device, cmd.prepayment, cmd.cut_off, now)
    config = meter.prepayment
    answer = c.GasPaymentModeAnswer(
        0, 0, config.emergency_credit_limit, config.emergency_credit_threshold
    )
    return Reply(answer.encode())


# -- prices ----------------------------------------------------------------------------------


@handles(E, 0x00A2)
def update_price(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS01b: new standing charge and prices on the switching table the meter holds, now;
    a future-dated one is held (``pending_price``) and a cancellation drops it."""
    cmd = c.UpdatePrice.decode(command.content)
    meter = _meter(device).meter
    state = _state(device)
    if cmd.cancel_pending:
        state.pop("pending_price", None)
        return _ok(cmd)
    money = cmd.price_scale + 5  # milli-pence are 1e-5 of a pound
    energy = 3 - cmd.commodity_scale  # prices per kWh
    problems = cmd.problems()
    if money < 0 or money + energy < 0:
        problems.append(f"price scale {cmd.price_scale} is finer than milli-pence")
    if problems:
        return _refused(device, cmd, "; ".join(problems))
    scale = 10 ** (money + energy)
    held = {
        "prices": [p * scale for p in cmd.tou_prices],
        "standing_charge": cmd.standing_charge * 10**money,
        "block_prices": {
            str(rate): [cmd.block_prices[b][rate - 1] * scale for b in range(c.BLOCKS)]
            for rate in range(1, c.BLOCK_RATES + 1)
        },
    }
    if cmd.activate_at is not None and cmd.activate_at > from_seconds(device.device_time(now)):
        state["pending_price"] = held | {
            "at": cmd.activate_at.isoformat(),
            "counter": command.originator_counter,
            "message_code": command.message_code,
        }
        return _ok(cmd)
    meter.tariff = repriced(meter.tariff, held)
    return _ok(cmd)


def repriced(tariff: Tariff, held: dict[str, Any]) -> Tariff:
    """``tariff`` on new prices (ECS01b, GCS01b): each TOU register's, the standing charge,
    and each block rate's block prices (a block rate's register at its block A price)."""
    prices = list(int(p) for p in held["prices"])
    count = len(tariff.prices)
    prices = (prices + [prices[-1]] * count)[:count]
    blocks = []
    for block in tariff.block_rates:
        new = held.get("block_prices", {}).get(str(block.rate))
        if new is not None:
            block = replace(block, prices=tuple(int(p) for p in new[: len(block.prices)]))
        prices[block.register] = block.prices[0]
        blocks.append(block)
    return replace(
        tariff,
        prices=tuple(prices),
        standing_charge=int(held["standing_charge"]),
        block_rates=tuple(blocks),
    )


@handles(G, 0x00A3)
def update_gas_price(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """GCS01b: the standing charge and prices (1e-5 of the currency: milli-pence) on the
    switching table the meter holds; on a block tariff, the block prices of its block rate.
    A future start is held (``pending_price``); a cancellation drops it."""
    cmd = c.GasPrice.decode(command.content)
    meter = _meter(device).meter
    state = _state(device)
    answer = Reply(c.ZclStatus(gbz.Cluster.PRICE, False, ((0x04, 0), (0x05, 0))).encode())
    if cmd.cancel:
        state.pop("pending_price", None)
        return answer
    held: dict[str, Any] = {
        "prices": list(cmd.prices[:1] if cmd.block else cmd.prices),
        "standing_charge": cmd.standing_charge,
        "block_prices": {"1": list(cmd.prices)} if cmd.block else {},
    }
    if cmd.start != 0 and gbz.from_zigbee_time(cmd.start) > from_seconds(device.device_time(now)):
        state["pending_price"] = held | {
            "at": gbz.from_zigbee_time(cmd.start).isoformat(),
            "counter": command.originator_counter,
            "message_code": command.message_code,
        }
        return answer
    meter.tariff = repriced(meter.tariff, held)
    return answer


@handles(G, 0x006B)
def update_gas_tariff(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """GCS01a: the calendar and prices (:func:`gas_tariff_of`). A future start is held
    (``pending_tariff``); a cancellation drops it; a calendar naming a day or week it does
    not hold is refused."""
    cmd = c.GasTariff.decode(command.content)
    clusters = (gbz.Cluster.CALENDAR,) * (len(cmd.days) + len(cmd.weeks) + 3)
    clusters += (gbz.Cluster.PRICE,) * (3 if cmd.price.block else 2)
    frames = gbz.GbzPayload.from_bytes(command.content).components
    commands = [f.frame.command_id for f in frames if isinstance(f.frame, gbz.ZclFrame)]

    def answer(status: int) -> Reply:
        statuses = tuple((command_id, status) for command_id in commands)
        return Reply(c.ZclStatus(gbz.Cluster.CALENDAR, False, statuses, clusters).encode())

    meter = _meter(device).meter
    state = _state(device)
    if cmd.price.cancel:
        state.pop("pending_tariff", None)
        return answer(0)
    try:
        tariff = gas_tariff_of(cmd)
    except CommandError as exc:
        device._log(f"GCS01a refused: {exc}")
        return answer(ZCL_FAILURE)
    at = cmd.price.start
    if at != 0 and gbz.from_zigbee_time(at) > from_seconds(device.device_time(now)):
        state["pending_tariff"] = {
            "at": gbz.from_zigbee_time(at).isoformat(),
            "tariff": tariff.to_json(),
            "block": cmd.price.block,
            "counter": command.originator_counter,
            "message_code": command.message_code,
        }
        return answer(0)
    meter.apply_tariff(tariff, None)
    state["calendar"] = {
        "days": len(cmd.days),
        "weeks": len(cmd.weeks),
        "tier": tariff.switching[0] + 1,
    }
    return answer(0)


def gas_tariff_of(cmd: c.GasTariff) -> Tariff:
    """The gas meter's tariff from a GCS01a: each day of the first season's week and each
    special day bills all day on its day profile's tier (prices in milli-pence per m3); on a
    block tariff every day bills on register 1 through the block thresholds in use (in the
    meter's dm3) at each block's price. A calendar naming a profile it lacks, or a tariff
    the meter's engine cannot hold, raises :class:`CommandError`."""
    problems = cmd.problems()
    days = {d.day_id: d.tier for d in cmd.days}
    weeks = dict(cmd.weeks)
    if (
        not cmd.seasons
        or any(s.week_id not in weeks for s in cmd.seasons)
        or any(d not in days for s in cmd.seasons for d in weeks[s.week_id])
    ):
        problems.append("the calendar names a day or week profile it lacks")
    if problems:
        raise CommandError("; ".join(problems))

    def table(day_id: int) -> tuple[int, ...]:
        return (max(days[day_id], 1) - 1,) * SLOTS_PER_DAY

    prices = cmd.price.prices
    blocks: tuple[BlockRate, ...] = ()
    if cmd.price.block:
        thresholds = cmd.thresholds[: cmd.price.thresholds]
        blocks = (BlockRate(0, 1, thresholds, prices[: len(thresholds) + 1]),)
        prices = prices[:1]
    seasons = tuple(
        Season.from_zcl(s.start, tuple(table(d) for d in weeks[s.week_id])) for s in cmd.seasons
    )
    tables = seasons[0].weekdays
    tariff = Tariff(
        prices=prices,
        standing_charge=cmd.price.standing_charge,
        switching=tables[0],
        weekdays=tables if len(set(tables)) > 1 else (),
        special_days=tuple(
            SpecialDay(
                EVERY_YEAR if s.date[0] == 0xFF else 1900 + s.date[0],
                s.date[1],
                s.date[2],
                table(s.day_id),
            )
            for s in cmd.special_days
        ),
        seasons=seasons if len(seasons) > 1 else (),
        block_rates=blocks,
    )
    if tariff.problems():
        raise CommandError("; ".join(tariff.problems()))
    return tariff


@handles(G, 0x006F)
def update_gas_prepay(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """GCS05: emergency credit limit and threshold and the low credit threshold become the
    meter's prepayment configuration; the debt cap, maximum balance and credit and the
    non-disablement calendar are held (``prepay``). A future start is held
    (``pending_prepay``); a cancellation drops it; an inconsistent set is refused."""
    cmd = c.GasPrepayConfig.decode(command.content)
    frames = gbz.GbzPayload.from_bytes(command.content).components
    statuses_for = [
        (f.cluster_id, f.frame.command_id) for f in frames if isinstance(f.frame, gbz.ZclFrame)
    ]

    def answer(status: int) -> Reply:
        clusters = tuple(cluster for cluster, _ in statuses_for)
        statuses = tuple((command_id, status) for _, command_id in statuses_for)
        return Reply(c.ZclStatus(gbz.Cluster.PREPAYMENT, True, statuses, clusters).encode())

    state = _state(device)
    if cmd.cancel:
        state.pop("pending_prepay", None)
        return answer(0)
    held = {
        "emergency_credit_limit": cmd.emergency_credit_limit,
        "emergency_credit_threshold": cmd.emergency_credit_threshold,
        "low_credit_threshold": cmd.low_credit_threshold,
        "debt_cap": cmd.debt_cap,
        "max_meter_balance": cmd.max_meter_balance,
        "max_credit_threshold": cmd.max_credit_threshold,
        "non_disablement": [
            {"day": d.day_id, "switches": [[m, on] for m, on in d.switches]} for d in cmd.days
        ],
    }
    try:
        held["calendar"] = _non_disablement(cmd).to_json()
    except CommandError as refused:
        device._log(f"GCS05 refused: {refused}")
        return answer(ZCL_FAILURE)
    config = _prepay_config(_meter(device), held)
    if config.problems():
        device._log("GCS05 refused: " + "; ".join(config.problems()))
        return answer(ZCL_FAILURE)
    if cmd.start != 0 and gbz.from_zigbee_time(cmd.start) > from_seconds(device.device_time(now)):
        held |= {
            "at": gbz.from_zigbee_time(cmd.start).isoformat(),
            "counter": command.originator_counter,
            "message_code": command.message_code,
        }
        state["pending_prepay"] = held
        return answer(0)
    _meter(device).meter.prepayment = config
    state["prepay"] = held
    return answer(0)


def _non_disablement(cmd: c.GasPrepayConfig) -> NonDisablementCalendar:
    """GCS05's non-disablement calendar: each day profile's half hours in a period (its
    start / end switches, from a day that starts outside one), each season's week of them,
    and its special days. A calendar naming a profile it lacks raises
    :class:`CommandError`."""
    weeks = dict(cmd.weeks)
    profiles = {d.day_id: d.switches for d in cmd.days}
    named = [d for s in cmd.seasons for d in weeks.get(s.week_id, ())]
    if not cmd.seasons or any(s.week_id not in weeks for s in cmd.seasons):
        raise CommandError("the non-disablement calendar has no week profile for a season")
    if any(d not in profiles for d in named) or any(
        s.day_id not in profiles for s in cmd.special_days
    ):
        raise CommandError("the non-disablement calendar names a day profile it lacks")

    def table(day_id: int) -> tuple[int, ...]:
        periods = []
        for slot in range(SLOTS_PER_DAY):
            on = False
            for minute, start in profiles[day_id]:
                if minute <= slot * 30:
                    on = start
            periods.append(int(on))
        return tuple(periods)

    seasons = tuple(
        Season.from_zcl(s.start, tuple(table(d) for d in weeks[s.week_id])) for s in cmd.seasons
    )
    return NonDisablementCalendar(
        weekdays=seasons[0].weekdays,
        seasons=seasons if len(seasons) > 1 else (),
        special_days=tuple(
            SpecialDay(
                EVERY_YEAR if s.date[0] == 0xFF else 1900 + s.date[0],
                s.date[1],
                s.date[2],
                table(s.day_id),
            )
            for s in cmd.special_days
        ),
    )


GAS_DEBT_CAP_PERIOD = 7 * 24 * 3600
"""The GSME's overall debt cap carries no period of its own: the emulated gas meter caps
time-based debt recovery per week, the period the DCC sends an ESME (ECS08a)."""


def _prepay_config(device: MeterDevice, held: dict[str, Any]) -> PrepaymentConfig:
    periods = set(held.get("periods", ()))
    calendar = held.get("calendar")
    return replace(
        device.meter.prepayment,
        emergency_credit_limit=int(held["emergency_credit_limit"]),
        emergency_credit_threshold=int(held["emergency_credit_threshold"]),
        low_credit_threshold=int(held["low_credit_threshold"]),
        non_disablement=tuple(slot in periods for slot in range(48)) if periods else (),
        non_disablement_calendar=None if calendar is None else non_disablement_from_json(calendar),
        debt_cap=int(held.get("debt_cap", 0)),
        debt_cap_period=int(held.get("debt_cap_period", GAS_DEBT_CAP_PERIOD)),
    )


# -- future-dated changes falling due --------------------------------------------------------

FUTURE_DATED_DLMS = 0x00CC
FUTURE_DATED_GBZ = 0x00CD
EXECUTED, NOT_EXECUTED = 0x8F66, 0x8F67
_CALENDAR, _PRICE, _PREPAYMENT = 0x0707, 0x0700, 0x0705
_GAS_COMPONENTS: dict[str, tuple[tuple[int, int, int], ...]] = {
    "pending_mode": ((_PREPAYMENT, 0x01, 0x06),),
    "pending_price": ((_PRICE, 0x09, 0x04), (_PRICE, 0x09, 0x05)),
    "pending_prepay": (
        (_PREPAYMENT, 0x01, 0x03),
        (_PREPAYMENT, 0x01, 0x0C),
        (_PREPAYMENT, 0x01, 0x09),
        (_PREPAYMENT, 0x01, 0x0B),
        # The DCC's GCS05 alerts name the non-disablement calendar's commands with the
        # prepayment components' frame control (0x01), not the 0x09 the command sends them
        # with (and GCS01a's alerts name its calendar with): the meter alerts as they do.
        (_CALENDAR, 0x01, 0x00),
        (_CALENDAR, 0x01, 0x04),
    ),
    "pending_tariff": (
        (_CALENDAR, 0x09, 0x00),
        (_CALENDAR, 0x09, 0x04),
        (_PRICE, 0x09, 0x04),
        (_PRICE, 0x09, 0x05),
    ),
}
"""The (cluster, frame control, command) a GSME's future-dated alerts name, one alert each,
by what was held."""


def _apply(device: MeterDevice, key: str, held: dict[str, Any], at: int) -> bool:
    meter = device.meter
    if key == "pending_mode":
        prepayment = held["mode"] == PaymentMode.PREPAYMENT.value
        if (meter.mode is PaymentMode.PREPAYMENT) == prepayment:
            return False
        _switch_mode(device, prepayment, int(held["cut_off"]), at)
        return True
    if key == "pending_prepay":
        config = _prepay_config(device, held)
        if config.problems():
            return False
        meter.prepayment = config
        kept = ("at", "counter", "message_code", "specs")
        _state(device)["prepay"] = {k: v for k, v in held.items() if k not in kept}
        return True
    if "tariff" in held:
        tariff = Tariff.from_json(held["tariff"])
    elif "switching" in held:  # held before the tariff was kept whole
        tariff = Tariff(
            tuple(held["prices"]), int(held["standing_charge"]), tuple(held["switching"])
        )
    else:
        tariff = repriced(meter.tariff, held)
    try:
        meter.apply_tariff(tariff, None)
    except CommandError:
        return False
    return True


def _alerts(device: MeterDevice, key: str, held: dict[str, Any], at: int, ok: bool) -> list[Alert]:
    code = EXECUTED if ok else NOT_EXECUTED
    when = from_seconds(at)
    if device.DEVICE_TYPE is E:
        # One alert an activation time set (attribute 7), as the DCC's reference alerts.
        out = []
        specs = held.get("specs") or [[113, c.STANDING_CHARGE, 7], [113, c.PRICE_MATRIX, 7]]
        for class_id, obis, index in specs:
            alert = c.DlmsAlert.future_dated(
                device.next_alert_counter(),
                executed=ok,
                when=when,
                message_code=int(held["message_code"]),
                command_counter=int(held["counter"]),
                spec=dlms.set_(int(class_id), str(obis), int(index)),
            )
            out.append(Alert(code, message_code=FUTURE_DATED_DLMS, content=alert.encode()))
        return out
    components = list(_GAS_COMPONENTS[key])
    if held.get("block"):
        components.insert(3, (_PRICE, 0x09, 0x06))
    out = []
    for cluster, frame_control, command_id in components:
        fields = (
            bytes([14])
            + int(held["message_code"]).to_bytes(2, "big")
            + int(held["counter"]).to_bytes(8, "big")
            + cluster.to_bytes(2, "big")
            + bytes([frame_control, command_id])
        )
        body = c.gbz_alert(code, when, fields).to_bytes()
        out.append(Alert(code, message_code=FUTURE_DATED_GBZ, content=body))
    return out


_PENDING = ("pending_mode", "pending_price", "pending_tariff", "pending_prepay")
"""What the family holds for later, in the order it is applied when due at once."""


@ticks
def future_dated(device: Any, now: int) -> list[Alert]:
    """Apply what is held when its time comes: the meter accounts up to it on the old terms
    first, then switches, and alerts 0x8F66 (executed) or 0x8F67 (not)."""
    if not isinstance(device, MeterDevice) or device.extra is None:
        return []
    state = device.extra.get(FAMILY)
    if not state:
        return []
    alerts: list[Alert] = []
    clock = device.device_time(now)
    for key in _PENDING:
        held = state.get(key)
        if held is None:
            continue
        at = int(datetime.fromisoformat(held["at"]).timestamp())
        if at > clock:
            continue
        device.meter.advance(at - device.clock_offset)
        del state[key]
        ok = _apply(device, key, held, at)
        device._log(f"future-dated {key.removeprefix('pending_')} {'applied' if ok else 'failed'}")
        alerts += _alerts(device, key, held, at, ok)
    return alerts


@next_due(future_dated)
def _future_dated_due(device: Any, clock: int) -> int | None:
    state = device.extra.get(FAMILY) if isinstance(device, MeterDevice) and device.extra else None
    if not state:
        return None
    held = (state.get(key) for key in _PENDING)
    return min(
        (int(datetime.fromisoformat(h["at"]).timestamp()) for h in held if h is not None),
        default=None,
    )
