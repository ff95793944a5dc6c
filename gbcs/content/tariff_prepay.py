"""The ESME's payment mode and prepayment configuration: ECS02 (credit mode), ECS03
(prepayment mode) and ECS08a (the prepayment configuration with its non-disablement
calendar), each at once, at an activation date-time, or cancelling the pending one.

The layouts are those of the DCC's reference commands: which charges each credit pays (the
account's credit-charge configuration) follows from the payment mode, the debt suspension
flags of the request and whether the ESME has a secondary element (a twin-element ESME has
the secondary element's consumption charge too).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import ClassVar

from gbcs.content._common import (
    DlmsCommand,
    Outcome,
    _check_exact,
    _int,
    _items,
    _octets,
    _parse_request,
    _request,
    register,
)
from gbcs.content.tariff import activation, read_activation
from gbcs.errors import DecodeError
from gbcs.payloads import dlms
from gbcs.payloads.dlms import AccessSpec, BitString, Data, Obis

# =========================================================================== ECS02 / ECS03

ACCOUNT = "0-1:19.0.0.255"
DISABLEMENT_THRESHOLD = "0-0:94.44.128.22"
CREDIT_MODE, PREPAYMENT_MODE = 1, 2
"""The account's payment mode (IC 111 attribute 2's first enum)."""
ACCOUNT_ACTIVE = 1

TOKEN_CREDIT, EMERGENCY_CREDIT, DEBT_CREDIT = (f"0-0:19.10.{n}.255" for n in range(3))
CONSUMPTION, TIME_DEBT_1, TIME_DEBT_2, PAYMENT_DEBT, STANDING, SECONDARY = (
    f"0-0:19.20.{n}.255" for n in range(6)
)
COLLECT_ALWAYS = b"\xe0"
SUSPENDED_WHEN_DISABLED = b"\xc0"
"""The 3-bit collection configurations: every bit set, or the third cleared (the time-based
debts are not collected while the supply is disabled)."""


def credit_charges(
    prepayment: bool, twin: bool, suspend_disabled: bool = False, suspend_emergency: bool = False
) -> tuple[tuple[str, str, bytes], ...]:
    """The account's credit-charge configuration: (credit, charge, collection bits), in the
    order the DCC sends them."""
    rows: list[tuple[str, str, bytes]] = [
        (TOKEN_CREDIT, CONSUMPTION, COLLECT_ALWAYS),
        (TOKEN_CREDIT, STANDING, COLLECT_ALWAYS),
    ]
    if prepayment:
        time_debt = SUSPENDED_WHEN_DISABLED if suspend_disabled else COLLECT_ALWAYS
        rows += [
            (TOKEN_CREDIT, TIME_DEBT_1, time_debt),
            (TOKEN_CREDIT, TIME_DEBT_2, time_debt),
            (TOKEN_CREDIT, PAYMENT_DEBT, COLLECT_ALWAYS),
            (EMERGENCY_CREDIT, PAYMENT_DEBT, COLLECT_ALWAYS),
            (EMERGENCY_CREDIT, CONSUMPTION, COLLECT_ALWAYS),
            (EMERGENCY_CREDIT, STANDING, COLLECT_ALWAYS),
            (EMERGENCY_CREDIT, TIME_DEBT_1, time_debt),
            (EMERGENCY_CREDIT, TIME_DEBT_2, time_debt),
        ]
        if suspend_emergency:
            rows += [
                (DEBT_CREDIT, STANDING, COLLECT_ALWAYS),
                (DEBT_CREDIT, TIME_DEBT_1, COLLECT_ALWAYS),
                (DEBT_CREDIT, TIME_DEBT_2, COLLECT_ALWAYS),
            ]
    if twin:
        rows.append((TOKEN_CREDIT, SECONDARY, COLLECT_ALWAYS))
        if prepayment:
            rows.append((EMERGENCY_CREDIT, SECONDARY, COLLECT_ALWAYS))
    return tuple(rows)


def _charges_data(rows: tuple[tuple[str, str, bytes], ...]) -> Data:
    return dlms.array(
        *(
            dlms.structure(
                dlms.octet_string(Obis.parse(credit).raw),
                dlms.octet_string(Obis.parse(charge).raw),
                BitString(3, bits),
            )
            for credit, charge, bits in rows
        )
    )


def _read_charges(value: Data) -> tuple[tuple[str, str, bytes], ...]:
    rows = []
    for row in _items(value, "credit charge configuration"):
        credit, charge, bits = _items(row, "credit charge", 3)
        if not isinstance(bits, BitString) or bits.bits != 3:
            raise DecodeError("credit charge: the collection configuration is not 3 bits")
        rows.append(
            (
                str(Obis(_octets(credit, "credit"))),
                str(Obis(_octets(charge, "charge"))),
                bits.data,
            )
        )
    return tuple(rows)


@dataclass(frozen=True, slots=True)
class ElecCreditMode(DlmsCommand):
    """ECS02 Set ESME Payment Mode to Credit (critical): the account's mode, the charges the
    credit pays, and when it takes effect (None: now; ``cancel_pending``: cancel the pending
    change)."""

    counter: int
    twin: bool = False
    activate_at: _dt.datetime | None = None
    cancel_pending: bool = False
    message_code: ClassVar[int] = 0x001A

    def specs(self) -> tuple[AccessSpec, ...]:
        return (
            dlms.set_(111, ACCOUNT, 2),
            dlms.set_(111, ACCOUNT, 11),
            dlms.set_(111, ACCOUNT, 13),
        )

    def encode(self) -> bytes:
        mode = dlms.structure(dlms.enum(CREDIT_MODE), dlms.enum(ACCOUNT_ACTIVE))
        charges = _charges_data(credit_charges(False, self.twin))
        when = activation(self.activate_at, self.cancel_pending)
        return _request(self.counter, self.specs(), (mode, charges, when))

    @classmethod
    def decode(cls, content: bytes) -> ElecCreditMode:
        counter, data = _parse_request(content, cls(0).specs())
        rows = _read_charges(data[1])
        when, cancel = read_activation([_octets(data[2], "activation")], "ECS02")
        found = cls(counter, any(c == SECONDARY for _, c, _ in rows), when, cancel)
        _check_exact(found, content)
        return found


@dataclass(frozen=True, slots=True)
class ElecPrepaymentMode(DlmsCommand):
    """ECS03 Set ESME Payment Mode to Prepayment (critical): the account's mode, the
    disablement threshold, the charges each credit pays (the debt suspension flags decide
    the debts' share) and when it takes effect."""

    counter: int
    disablement_threshold: int
    suspend_debt_disabled: bool = True
    suspend_debt_emergency: bool = False
    twin: bool = False
    activate_at: _dt.datetime | None = None
    cancel_pending: bool = False
    message_code: ClassVar[int] = 0x001B

    def specs(self) -> tuple[AccessSpec, ...]:
        return (
            dlms.set_(111, ACCOUNT, 2),
            dlms.set_(9000, DISABLEMENT_THRESHOLD, 4),
            dlms.set_(111, ACCOUNT, 11),
            dlms.set_(9000, DISABLEMENT_THRESHOLD, 6),
            dlms.set_(111, ACCOUNT, 13),
        )

    def rows(self) -> tuple[tuple[str, str, bytes], ...]:
        return credit_charges(
            True, self.twin, self.suspend_debt_disabled, self.suspend_debt_emergency
        )

    def encode(self) -> bytes:
        mode = dlms.structure(dlms.enum(PREPAYMENT_MODE), dlms.enum(ACCOUNT_ACTIVE))
        when = activation(self.activate_at, self.cancel_pending)
        data = (
            mode,
            dlms.double_long(self.disablement_threshold),
            _charges_data(self.rows()),
            when,
            when,
        )
        return _request(self.counter, self.specs(), data)

    @classmethod
    def decode(cls, content: bytes) -> ElecPrepaymentMode:
        counter, data = _parse_request(content, cls(0, 0).specs())
        threshold = _int(data[1], "disablement threshold", dlms.DataType.DOUBLE_LONG)
        rows = _read_charges(data[2])
        when, cancel = read_activation(
            [_octets(data[3], "activation"), _octets(data[4], "activation")], "ECS03"
        )
        found = cls(
            counter,
            threshold,
            any(c == TIME_DEBT_1 and b == SUSPENDED_WHEN_DISABLED for _, c, b in rows),
            any(credit == DEBT_CREDIT for credit, _, _ in rows),
            any(c == SECONDARY for _, c, _ in rows),
            when,
            cancel,
        )
        _check_exact(found, content)
        return found


# =========================================================================== ECS08a

PREPAY_SPECIAL_DAYS = "0-1:11.0.2.255"
NON_DISABLEMENT_SCHEDULE = "0-1:12.0.1.255"
NON_DISABLEMENT_SCRIPTS = Obis.parse("0-0:10.0.106.255")
START_NON_DISABLEMENT, STOP_NON_DISABLEMENT = 32, 33
"""The non-disablement script table's selectors (START / STOP of a non-disablement period)."""
MAX_METER_BALANCE = "0-0:94.44.2.20"
MAX_CREDIT_THRESHOLD = "0-0:94.44.2.10"
DEBT_CAP_AMOUNT = "0-0:94.44.128.12"
DEBT_CAP_PERIOD = "0-0:94.44.128.13"
LOW_CREDIT_THRESHOLD = "0-0:94.44.128.9"
EMERGENCY_CREDIT_LIMIT = "0-0:94.44.128.2"
EMERGENCY_CREDIT_THRESHOLD = "0-0:94.44.128.3"
SPECIAL_DAYS_ACTIVATION = "0-0:94.44.128.31"
CALENDAR_ACTIVATION = "0-0:94.44.128.28"
"""The activation times of the non-disablement special days and calendar, named as the DCC's
ECS08a alerts name them (as 94.44.128.29 and .30 are the tariffs' special days')."""
DEBT_CAP_WEEK = 7 * 24 * 3600
"""The debt recovery rate cap's period: DUIS carries the cap only; the DCC sends a week."""
ANY_TIME = 0xFFFF
"""The schedule entry's validity window: not limited."""


@dataclass(frozen=True, slots=True)
class NonDisablementSwitch:
    """A non-disablement schedule entry: START (or STOP) a non-disablement period at
    ``time`` on the ``weekdays`` (Monday = 0) and the ``special_days`` (1-based indexes into
    the calendar's special days), between ``begin`` and ``end`` (5-byte COSEM dates, year
    0xFFFF every year)."""

    start: bool
    time: _dt.time
    weekdays: frozenset[int]
    special_days: frozenset[int]
    begin: bytes
    end: bytes


def _bits(selected: frozenset[int], n: int, base: int) -> BitString:
    value = 0
    for index in selected:
        value |= 1 << (n - 1 - (index - base))
    size = (n + 7) // 8
    return BitString(n, (value << (8 * size - n)).to_bytes(size, "big") if n else b"")


def _read_bits(value: Data, base: int, what: str) -> tuple[frozenset[int], int]:
    if not isinstance(value, BitString):
        raise DecodeError(f"{what}: expected a bit-string")
    size = len(value.data)
    number = int.from_bytes(value.data, "big") >> (8 * size - value.bits) if size else 0
    found = {i + base for i in range(value.bits) if number >> (value.bits - 1 - i) & 1}
    return frozenset(found), value.bits


@dataclass(frozen=True, slots=True)
class ElecPrepayConfig(DlmsCommand):
    """ECS08a Update Prepayment Configuration on ESME (critical): the non-disablement
    calendar (its special days and schedule), the maximum meter balance and credit
    threshold, the debt recovery rate cap (per week), the low credit and emergency credit
    settings, and when they take effect (None: now; ``cancel_pending``: cancel)."""

    counter: int
    special_days: tuple[bytes, ...]
    schedule: tuple[NonDisablementSwitch, ...]
    max_meter_balance: int
    max_credit_threshold: int
    debt_cap: int
    low_credit_threshold: int
    emergency_credit_limit: int
    emergency_credit_threshold: int
    activate_at: _dt.datetime | None = None
    cancel_pending: bool = False
    message_code: ClassVar[int] = 0x00DE

    def specs(self) -> tuple[AccessSpec, ...]:
        return (
            dlms.set_(11, PREPAY_SPECIAL_DAYS, 2),
            dlms.set_(9000, MAX_METER_BALANCE, 4),
            dlms.set_(9000, MAX_CREDIT_THRESHOLD, 4),
            dlms.set_(10, NON_DISABLEMENT_SCHEDULE, 2),
            dlms.set_(9000, DEBT_CAP_AMOUNT, 4),
            dlms.set_(9000, DEBT_CAP_PERIOD, 4),
            dlms.set_(9000, LOW_CREDIT_THRESHOLD, 4),
            dlms.set_(9000, EMERGENCY_CREDIT_LIMIT, 4),
            dlms.set_(9000, SPECIAL_DAYS_ACTIVATION, 6),
            dlms.set_(9000, EMERGENCY_CREDIT_THRESHOLD, 4),
            *(
                dlms.set_(9000, obis, 6)
                for obis in (
                    MAX_METER_BALANCE,
                    MAX_CREDIT_THRESHOLD,
                    DEBT_CAP_AMOUNT,
                    DEBT_CAP_PERIOD,
                    LOW_CREDIT_THRESHOLD,
                    EMERGENCY_CREDIT_LIMIT,
                    EMERGENCY_CREDIT_THRESHOLD,
                    CALENDAR_ACTIVATION,
                )
            ),
        )

    def problems(self) -> list[str]:
        """Why a meter would refuse this configuration (empty when it is consistent)."""
        found = []
        if not self.schedule:
            found.append("the non-disablement calendar has no schedule entry")
        for n, entry in enumerate(self.schedule, start=1):
            if any(d > len(self.special_days) for d in entry.special_days):
                found.append(f"schedule entry {n} names a special day the calendar lacks")
            if not entry.weekdays and not entry.special_days:
                found.append(f"schedule entry {n} applies to no day")
        if self.emergency_credit_threshold > self.emergency_credit_limit:
            found.append("the emergency credit threshold exceeds the emergency credit limit")
        return found

    def encode(self) -> bytes:
        days = dlms.array(
            *(
                dlms.structure(dlms.long_unsigned(i), dlms.octet_string(date), dlms.unsigned(i))
                for i, date in enumerate(self.special_days, start=1)
            )
        )
        entries = dlms.array(
            *(
                dlms.structure(
                    dlms.long_unsigned(i),
                    dlms.boolean(True),
                    dlms.octet_string(NON_DISABLEMENT_SCRIPTS.raw),
                    dlms.long_unsigned(START_NON_DISABLEMENT if e.start else STOP_NON_DISABLEMENT),
                    dlms.octet_string(bytes([e.time.hour, e.time.minute, e.time.second, 0])),
                    dlms.long_unsigned(ANY_TIME),
                    _bits(e.weekdays, 7, 0),
                    _bits(e.special_days, len(self.special_days), 1),
                    dlms.octet_string(e.begin),
                    dlms.octet_string(e.end),
                )
                for i, e in enumerate(self.schedule, start=1)
            )
        )
        when = activation(self.activate_at, self.cancel_pending)
        data: list[Data] = [
            days,
            dlms.double_long(self.max_meter_balance),
            dlms.double_long(self.max_credit_threshold),
            entries,
            dlms.long_unsigned(self.debt_cap),
            dlms.double_long(DEBT_CAP_WEEK),
            dlms.double_long(self.low_credit_threshold),
            dlms.double_long(self.emergency_credit_limit),
            when,
            dlms.double_long(self.emergency_credit_threshold),
            *([when] * 8),
        ]
        return _request(self.counter, self.specs(), data)

    @classmethod
    def decode(cls, content: bytes) -> ElecPrepayConfig:
        counter, data = _parse_request(content, cls(0, (), (), 0, 0, 0, 0, 0, 0).specs())
        special = []
        for n, entry in enumerate(_items(data[0], "special days"), start=1):
            index, date, day = _items(entry, "special day", 3)
            if (
                _int(index, "index", dlms.DataType.LONG_UNSIGNED) != n
                or _int(day, "day id", dlms.DataType.UNSIGNED) != n
            ):
                raise DecodeError("ECS08a: special days are not numbered 1, 2, ...")
            special.append(_octets(date, "special day date"))
        schedule = []
        for entry in _items(data[3], "non-disablement schedule"):
            fields = _items(entry, "schedule entry", 10)
            selector = _int(fields[3], "script selector", dlms.DataType.LONG_UNSIGNED)
            if selector not in (START_NON_DISABLEMENT, STOP_NON_DISABLEMENT):
                raise DecodeError(f"ECS08a: script selector {selector} is not START or STOP")
            t = _octets(fields[4], "switch time")
            if len(t) != 4:
                raise DecodeError("ECS08a: the switch time is not 4 bytes")
            try:
                when = _dt.time(t[0], t[1], t[2])
            except ValueError:
                raise DecodeError(f"ECS08a: bad switch time {t.hex()}") from None
            weekdays, _ = _read_bits(fields[6], 0, "weekdays")
            specials, _ = _read_bits(fields[7], 1, "special days")
            schedule.append(
                NonDisablementSwitch(
                    selector == START_NON_DISABLEMENT,
                    when,
                    weekdays,
                    specials,
                    _octets(fields[8], "begin date"),
                    _octets(fields[9], "end date"),
                )
            )
        activations = [_octets(v, "activation") for v in (data[8], *data[10:])]
        at, cancel = read_activation(activations, "ECS08a")
        found = cls(
            counter,
            tuple(special),
            tuple(schedule),
            _int(data[1], "max meter balance", dlms.DataType.DOUBLE_LONG),
            _int(data[2], "max credit threshold", dlms.DataType.DOUBLE_LONG),
            _int(data[4], "debt cap", dlms.DataType.LONG_UNSIGNED),
            _int(data[6], "low credit threshold", dlms.DataType.DOUBLE_LONG),
            _int(data[7], "emergency credit limit", dlms.DataType.DOUBLE_LONG),
            _int(data[9], "emergency credit threshold", dlms.DataType.DOUBLE_LONG),
            at,
            cancel,
        )
        _check_exact(found, content)
        return found


register(0x001A, ElecCreditMode.decode, Outcome.decode)
register(0x001B, ElecPrepaymentMode.decode, Outcome.decode)
register(0x00DE, ElecPrepayConfig.decode, Outcome.decode)

Command = ElecCreditMode | ElecPrepaymentMode | ElecPrepayConfig

__all__ = [
    "ElecCreditMode",
    "ElecPrepayConfig",
    "ElecPrepaymentMode",
    "NonDisablementSwitch",
    "credit_charges",
]
