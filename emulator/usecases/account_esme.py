"""The ESME's account use cases beside the tariff: its meter balance adjusted (ECS04a) or its
credits reset (ECS04b), its debts managed (ECS07), its privacy PIN protection disabled (ECS14)
and its event log cleared (ECS15a); and the GSME's prepayment-mode meter balance (GCS40a,
GCS40b).

They keep the tariff family's state (``device.family_state("tariff")``): ``debt`` (the three
registers and their recovery terms, as GCS04 keeps them), ``privacy_pin``,
``event_log_cleared``; the balance, debt and recovery are the meter's own. Clearing the event
log empties the log the reading family keeps (what ECS35a reads).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from emulator.devices.families import Reply, handles
from emulator.devices.trust import DeviceContext
from emulator.metering import PaymentMode
from emulator.usecases.reading import EVENT_LOG
from emulator.usecases.tariff import ZCL_FAILURE, _meter, _ok, _refused, _state, _when, _zcl
from gbcs import content as c
from gbcs.devices import DeviceType
from gbcs.frames import Message

E, G = DeviceType.ESME, DeviceType.GSME


@handles(E, 0x001C)
def adjust_meter_balance(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS04a: the meter balance moves by the amount (milli-pence)."""
    cmd = c.AdjustMeterBalance.decode(command.content)
    _meter(device).meter.credit.balance += cmd.amount
    return _ok(cmd)


@handles(E, 0x00B3)
def reset_meter_balance(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS04b: the meter balance and the emergency credit in use go back to zero."""
    cmd = c.ResetMeterBalance.decode(command.content)
    credit = _meter(device).meter.credit
    credit.balance = 0
    credit.emergency_credit_active = False
    return _ok(cmd)


def _per_day(recovery: c.TimeDebtRecovery) -> int | None:
    """A recovery rate as milli-pence a day (None when finer than a milli-penny)."""
    money = recovery.price_scale + 5
    if money < 0:
        return None
    per = 24 if recovery.interval is c.RecoveryInterval.HOURLY else 1
    return int(recovery.rate * 10**money * per)


@handles(E, 0x001E)
def manage_debt(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS07: each amount adds to its debt register and the meter's debt, and the time-based
    debts are recovered at their rates. A change that would leave a register negative, a
    negative rate, or a rate finer than the meter's milli-pence is refused and changes
    nothing."""
    cmd = c.ManageDebt.decode(command.content)
    meter = _meter(device).meter
    state = _state(device)
    held = state.get("debt", {"registers": [0, 0, 0], "terms": [None, None, None]})
    amounts = (cmd.time_debt_1, cmd.time_debt_2, cmd.payment_debt)
    registers = [r + a for r, a in zip(held["registers"], amounts, strict=True)]
    rates = [_per_day(cmd.recovery_1), _per_day(cmd.recovery_2)]
    if min(registers) < 0:
        return _refused(device, cmd, "a debt register would fall below zero")
    if any(r is None or r < 0 for r in rates):
        return _refused(device, cmd, "a recovery rate is negative or finer than milli-pence")
    state["debt"] = {
        "registers": registers,
        "terms": [
            {"rate": r.rate, "price_scale": r.price_scale, "period": r.interval.name.lower()}
            for r in (cmd.recovery_1, cmd.recovery_2)
        ]
        + [{"percentage": cmd.per_payment}],
    }
    meter.credit.debt += sum(amounts)
    meter.prepayment = replace(meter.prepayment, debt_recovery_per_day=sum(r or 0 for r in rates))
    return _ok(cmd)


@handles(E, 0x0023)
def disable_esme_privacy_pin(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS14: the consumer's data is no longer behind the privacy PIN."""
    cmd = c.DisableEsmePrivacyPin.decode(command.content)
    _state(device)["privacy_pin"] = False
    return _ok(cmd)


@handles(E, 0x0024)
def clear_esme_event_log(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """ECS15a: the ESME event log is emptied (a later ECS35a reads no earlier entry)."""
    cmd = c.ClearEsmeEventLog.decode(command.content)
    device.family_state("reading")[EVENT_LOG] = ""
    _state(device)["event_log_cleared"] = _when(device, now)
    return _ok(cmd)


@handles(G, 0x0086)
@handles(G, 0x00B4)
def gas_prepayment_balance(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
    """GCS40a / GCS40b: the prepayment-mode meter balance, adjusted or reset; refused in
    credit mode (ZCL FAILURE)."""
    cmd = c.GasMeterBalance.decode(command.content)
    meter = _meter(device).meter
    if meter.mode is not PaymentMode.PREPAYMENT:
        device._log("GCS40a/b refused: the meter is in credit mode")
        return _zcl(cmd, ZCL_FAILURE)
    if cmd.kind is c.CreditAdjustment.INCREMENTAL:
        meter.credit.balance += cmd.amount
    else:
        meter.credit.balance = cmd.amount
    return _zcl(cmd)
