"""The ESME's account use cases beside the tariff: its meter balance adjusted (ECS04a) or
reset (ECS04b), its debt managed (ECS07), its privacy PIN protection disabled (ECS14) and its
event log cleared (ECS15a).

The objects are the account's credits (IC 112: the token credit, the emergency credit and
the third credit the payment mode configures) and charges (IC 113: the two time-based debts
and the payment-based debt), as the DCC's reference commands address them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, Self

from gbcs.content._common import (
    DlmsCommand,
    Outcome,
    _check_exact,
    _int,
    _octets,
    _parse_request,
    _request,
    register,
)
from gbcs.content.account import _FixedAction
from gbcs.content.tariff import _parse_unit_charge, _unit_charge
from gbcs.errors import DecodeError
from gbcs.payloads import dlms
from gbcs.payloads.dlms import AccessSpec, Data

CREDITS = ("0-0:19.10.0.255", "0-0:19.10.1.255", "0-0:19.10.2.255")
"""The token credit (the meter balance), the emergency credit and the third credit."""
TIME_DEBT_1, TIME_DEBT_2, PAYMENT_DEBT = (f"0-0:19.20.{n}.255" for n in (1, 2, 3))
UPDATE_AMOUNT, SET_AMOUNT = 1, 2
"""Credit (IC 112) methods: add to the amount, set it."""
ACTIVATE_CHARGE, UPDATE_TOTAL = 2, 4
"""Charge (IC 113) methods: activate the passive unit charge, add to the amount to collect."""


@dataclass(frozen=True, slots=True)
class AdjustMeterBalance(DlmsCommand):
    """ECS04a: the meter balance (the token credit) goes up or down by ``amount``."""

    counter: int
    amount: int
    message_code: ClassVar[int] = 0x001C

    def specs(self) -> tuple[AccessSpec, ...]:
        return (dlms.action(112, CREDITS[0], UPDATE_AMOUNT),)

    def encode(self) -> bytes:
        return _request(self.counter, self.specs(), (dlms.double_long(self.amount),))

    @classmethod
    def decode(cls, content: bytes) -> AdjustMeterBalance:
        counter, data = _parse_request(content, cls(0, 0).specs())
        found = cls(counter, _int(data[0], "balance adjustment", dlms.DataType.DOUBLE_LONG))
        _check_exact(found, content)
        return found


@dataclass(frozen=True, slots=True)
class ResetMeterBalance(DlmsCommand):
    """ECS04b: each of the account's credits is set to zero."""

    counter: int
    message_code: ClassVar[int] = 0x00B3

    def specs(self) -> tuple[AccessSpec, ...]:
        return tuple(dlms.action(112, credit, SET_AMOUNT) for credit in CREDITS)

    def encode(self) -> bytes:
        return _request(self.counter, self.specs(), (dlms.double_long(0),) * len(CREDITS))

    @classmethod
    def decode(cls, content: bytes) -> Self:
        counter, _ = _parse_request(content, cls(0).specs())
        found = cls(counter)
        _check_exact(found, content)
        return found


class RecoveryInterval(IntEnum):
    """A time-based debt's recovery period, seconds (the charge's period attribute)."""

    HOURLY = 3600
    DAILY = 86400


@dataclass(frozen=True, slots=True)
class TimeDebtRecovery:
    """A time-based debt's recovery: ``rate`` in units of ``10**price_scale`` of the currency
    each ``interval``."""

    rate: int
    price_scale: int
    interval: RecoveryInterval


def _recovery_data(recovery: TimeDebtRecovery) -> Data:
    return _unit_charge(0, recovery.price_scale, (0, bytes(6), 0), [(b"", recovery.rate)])


def _read_recovery(charge: Data, period: Data) -> TimeDebtRecovery:
    commodity_scale, price_scale, commodity, table = _parse_unit_charge(charge)
    if commodity_scale != 0 or commodity != (0, bytes(6), 0) or len(table) != 1 or table[0][0]:
        raise DecodeError("ECS07: a debt recovery rate not in the GBCS form")
    seconds = _int(period, "recovery period", dlms.DataType.DOUBLE_LONG_UNSIGNED)
    try:
        interval = RecoveryInterval(seconds)
    except ValueError:
        raise DecodeError(
            f"ECS07: a recovery period of {seconds} s is not hourly or daily"
        ) from None
    return TimeDebtRecovery(table[0][1], price_scale, interval)


@dataclass(frozen=True, slots=True)
class ManageDebt(DlmsCommand):
    """ECS07 Manage Debt on the ESME (critical): the two time-based debts' recovery rates and
    periods (activated now), the share of each payment recovered for the payment-based debt
    (hundredths of a percent), and the amounts added to the three debts."""

    counter: int
    recovery_1: TimeDebtRecovery
    recovery_2: TimeDebtRecovery
    per_payment: int
    payment_debt: int
    time_debt_1: int
    time_debt_2: int
    message_code: ClassVar[int] = 0x001E

    def specs(self) -> tuple[AccessSpec, ...]:
        return (
            dlms.set_(113, TIME_DEBT_1, 6),
            dlms.set_(113, TIME_DEBT_2, 6),
            dlms.set_(113, PAYMENT_DEBT, 13),
            dlms.set_(113, TIME_DEBT_1, 8),
            dlms.set_(113, TIME_DEBT_2, 8),
            dlms.action(113, TIME_DEBT_1, ACTIVATE_CHARGE),
            dlms.action(113, TIME_DEBT_2, ACTIVATE_CHARGE),
            dlms.action(113, PAYMENT_DEBT, UPDATE_TOTAL),
            dlms.action(113, TIME_DEBT_1, UPDATE_TOTAL),
            dlms.action(113, TIME_DEBT_2, UPDATE_TOTAL),
        )

    def encode(self) -> bytes:
        data = (
            _recovery_data(self.recovery_1),
            _recovery_data(self.recovery_2),
            dlms.long_unsigned(self.per_payment),
            dlms.double_long_unsigned(self.recovery_1.interval),
            dlms.double_long_unsigned(self.recovery_2.interval),
            dlms.integer(0),
            dlms.integer(0),
            dlms.double_long(self.payment_debt),
            dlms.double_long(self.time_debt_1),
            dlms.double_long(self.time_debt_2),
        )
        return _request(self.counter, self.specs(), data)

    @classmethod
    def decode(cls, content: bytes) -> ManageDebt:
        none = TimeDebtRecovery(0, 0, RecoveryInterval.DAILY)
        counter, data = _parse_request(content, cls(0, none, none, 0, 0, 0, 0).specs())
        amounts = [_int(v, "debt", dlms.DataType.DOUBLE_LONG) for v in data[7:10]]
        found = cls(
            counter,
            _read_recovery(data[0], data[3]),
            _read_recovery(data[1], data[4]),
            _int(data[2], "recovery per payment", dlms.DataType.LONG_UNSIGNED),
            amounts[0],
            amounts[1],
            amounts[2],
        )
        _check_exact(found, content)
        return found


PRIVACY_PIN = "0-0:94.44.3.1"


@dataclass(frozen=True, slots=True)
class DisableEsmePrivacyPin(DlmsCommand):
    """ECS14: the privacy PIN is set empty, which disables the protection."""

    counter: int
    message_code: ClassVar[int] = 0x0023

    def specs(self) -> tuple[AccessSpec, ...]:
        return (dlms.set_(1, PRIVACY_PIN, 2),)

    def encode(self) -> bytes:
        return _request(self.counter, self.specs(), (dlms.octet_string(b""),))

    @classmethod
    def decode(cls, content: bytes) -> DisableEsmePrivacyPin:
        counter, data = _parse_request(content, cls(0).specs())
        if _octets(data[0], "privacy PIN"):
            raise DecodeError("ECS14: the privacy PIN is set to a value, not emptied")
        found = cls(counter)
        _check_exact(found, content)
        return found


ESME_EVENT_LOG = "0-0:99.98.0.255"


@dataclass(frozen=True, slots=True)
class ClearEsmeEventLog(_FixedAction):
    """ECS15a: reset the ESME event log (profile generic ``reset``)."""

    message_code: ClassVar[int] = 0x0024
    SPEC: ClassVar[AccessSpec] = dlms.action(7, ESME_EVENT_LOG, 1)
    ARGUMENT: ClassVar[Data] = dlms.integer(0)


for _command in (AdjustMeterBalance, ResetMeterBalance, ManageDebt, DisableEsmePrivacyPin,
                 ClearEsmeEventLog):  # fmt: skip
    register(_command.message_code, _command.decode, Outcome.decode)

Command = (
    AdjustMeterBalance | ResetMeterBalance | ManageDebt | DisableEsmePrivacyPin | ClearEsmeEventLog
)

__all__ = [
    "AdjustMeterBalance",
    "ClearEsmeEventLog",
    "DisableEsmePrivacyPin",
    "ManageDebt",
    "RecoveryInterval",
    "ResetMeterBalance",
    "TimeDebtRecovery",
]
