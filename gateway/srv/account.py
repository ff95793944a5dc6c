"""Prepayment and account SRs beside the tariff itself (service references 1.5, 1.7, 2.3, 2.5,
3.1 - 3.5 and 6.26): meter balance, block counters, debt, emergency credit, messages, change
of tenancy, event logs, supplier name and the privacy PIN.

The GSME's ZCL commands carry an Issuer Event ID the DCC takes from its own clock when it
builds the command (:attr:`Command.now`), as GBCS says; date-times the request holds (the
change of tenancy date) come from the request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, TypeVar

from lxml import etree

from gateway.srv.example import EMPTY, Example, ExampleError, Home, Values
from gateway.srv.fields import Fields, invalid, read_datetime, read_int
from gateway.srv.registry import serves
from gateway.srv.spec import Codec, Command
from gbcs import content as gc
from gbcs.content.account import CANCEL_PENDING, NOW
from gbcs.payloads import gbz

__all__ = [
    "ActivateEmergencyCredit",
    "ClearEventLog",
    "DailyBlockReset",
    "DisablePrivacyPin",
    "DisplayMessage",
    "ResetBlockCounters",
    "RestrictTenancy",
    "UpdateDebt",
    "UpdateMeterBalance",
    "UpdatePaymentMode",
    "UpdateSupplierName",
]

INT32: Final = (-(1 << 31), (1 << 31) - 1)
INT16: Final = (-(1 << 15), (1 << 15) - 1)
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class UpdateMeterBalance:
    """SR1.5: adjust (by ``adjust``) or reset (``adjust`` None) the meter balance of the
    credit or the prepayment mode."""

    credit_mode: bool
    adjust: int | None


CANCELLATION: Final = datetime(3000, 12, 31, tzinfo=UTC)
"""The ExecutionDateTime with which DUIS cancels a pending future-dated change."""


def execution(f: Fields) -> datetime | None:
    """The request's ExecutionDateTime (None: at once)."""
    text = f.text("ExecutionDateTime", required=False)
    return None if text is None else read_datetime("ExecutionDateTime", text)


def zigbee_execution(when: datetime | None) -> int:
    """An execution date-time as the ZCL implementation date-time GBCS sends."""
    if when is None:
        return NOW
    if when == CANCELLATION:
        return CANCEL_PENDING
    return gbz.zigbee_time(when)


@dataclass(frozen=True, slots=True)
class UpdatePaymentMode:
    """SR1.6: credit, or prepayment with its debt suspension flags and disablement
    threshold, at once or at ``execution`` (:data:`CANCELLATION` cancels a pending one)."""

    execution: datetime | None
    prepayment: bool
    suspend_debt_disabled: bool = True
    suspend_debt_emergency: bool = False
    disablement_threshold: int = -1


@dataclass(frozen=True, slots=True)
class ResetBlockCounters:
    """SR1.7 ``ResetTariffBlockCounterMatrix``: ECS05."""


@dataclass(frozen=True, slots=True)
class DebtRecovery:
    rate: int
    hourly: bool
    price_scale: int | None = None
    """The ESME's rate is in units of ``10**price_scale`` of the currency (None: a GSME's)."""


@dataclass(frozen=True, slots=True)
class UpdateDebt:
    """SR2.3: adjustments of the two time-based debt registers and the payment-based one,
    the share of each payment recovered (hundredths of a percent) and the recovery rates."""

    time_debt_1: int
    time_debt_2: int
    payment_debt: int
    per_payment: int
    recovery_1: DebtRecovery
    recovery_2: DebtRecovery
    gas: bool


@dataclass(frozen=True, slots=True)
class ActivateEmergencyCredit:
    """SR2.5: ECS09 / GCS06."""


@dataclass(frozen=True, slots=True)
class DisplayMessage:
    """SR3.1: the supplier message, printable ASCII, 1 to 116 characters."""

    text: str


@dataclass(frozen=True, slots=True)
class RestrictTenancy:
    """SR3.2: the change of tenancy date-time."""

    when: datetime


@dataclass(frozen=True, slots=True)
class ClearEventLog:
    """SR3.3: the ESME log to clear (``ESME`` or ``ALCS``; None for a GSME)."""

    log: str | None


@dataclass(frozen=True, slots=True)
class UpdateSupplierName:
    """SR3.4: the supplier's name and telephone number the meter shows."""

    name: str
    telephone: str


@dataclass(frozen=True, slots=True)
class DisablePrivacyPin:
    """SR3.5: ECS14 / GCS11."""


@dataclass(frozen=True, slots=True)
class DailyBlockReset:
    """SR6.26: whether the block counter matrix resets every day."""

    daily: bool


def _only(element: etree._Element, allowed: tuple[str, ...], what: str) -> etree._Element:
    found = Fields(element, allowed)
    if len(found.elements) != 1:
        raise invalid(found.owner, f"it must hold one of {', '.join(allowed)} ({what})")
    return next(iter(found.elements.values()))


def _read_balance(body: etree._Element) -> UpdateMeterBalance:
    mode = _only(body, ("PrepaymentMode", "CreditMode"), "the meter balance's mode")
    action = _only(mode, ("AdjustMeterBalance", "ResetMeterBalance"), "adjust or reset")
    if etree.QName(action).localname == "ResetMeterBalance":
        Fields(action, ())
        amount = None
    else:
        amount = read_int("AdjustMeterBalance", (action.text or "").strip(), *INT32)
    return UpdateMeterBalance(etree.QName(mode).localname == "CreditMode", amount)


def _choose_balance(request: UpdateMeterBalance, names: tuple[str, ...]) -> str:
    # ESME: ECS04a adjusts, ECS04b resets; GSME: GCS40a/b prepayment, GCS40c/d credit mode.
    if names[0].startswith("ECS"):
        return names[0] if request.adjust is not None else names[1]
    index = (2 if request.credit_mode else 0) + (0 if request.adjust is not None else 1)
    return names[index]


_GAS_BALANCE = {
    "GCS40a": gc.CreditAdjustment.INCREMENTAL,
    "GCS40b": gc.CreditAdjustment.ABSOLUTE,
    "GCS40c": gc.CreditAdjustment.ADJUST,
    "GCS40d": gc.CreditAdjustment.RESET,
}
"""The ZCL credit adjustment type of each GSME use case (the reset ones carry 0)."""


def _build_balance(cmd: Command) -> bytes:
    request: UpdateMeterBalance = cmd.request
    name = cmd.use_case.name
    if name == "ECS04a":
        assert request.adjust is not None  # _choose_balance picks ECS04a for an adjustment
        return gc.AdjustMeterBalance(cmd.counter, request.adjust).encode()
    if name == "ECS04b":
        return gc.ResetMeterBalance(cmd.counter).encode()
    issued = gc.issuer_id(cmd.now)
    return gc.GasMeterBalance(issued, _GAS_BALANCE[name], request.adjust or 0).encode()


def _boolean(name: str, text: str | None) -> bool:
    if text not in ("true", "false", "1", "0"):
        raise invalid(name, f"{text!r} is not a boolean")
    return text in ("true", "1")


def _read_payment_mode(body: etree._Element) -> UpdatePaymentMode:
    f = Fields(body, ("ExecutionDateTime", "Credit", "Prepayment"), dated=True)
    when = execution(f)
    if ("Credit" in f.elements) == ("Prepayment" in f.elements):
        raise invalid("UpdatePaymentMode", "it must hold one of Credit, Prepayment")
    if "Credit" in f.elements:
        Fields(f.elements["Credit"], ())
        return UpdatePaymentMode(when, prepayment=False)
    names = ("SuspendDebtDisabled", "SuspendDebtEmergency", "DisablementThreshold")
    p = Fields(f.elements["Prepayment"], names)
    return UpdatePaymentMode(
        when,
        prepayment=True,
        suspend_debt_disabled=_boolean(names[0], p.text(names[0])),
        suspend_debt_emergency=_boolean(names[1], p.text(names[1])),
        disablement_threshold=read_int(names[2], p.text(names[2]), *INT32),
    )


def _choose_payment_mode(request: UpdatePaymentMode, names: tuple[str, ...]) -> str:
    return names[1] if request.prepayment else names[0]


def _build_payment_mode(cmd: Command) -> bytes:
    request: UpdatePaymentMode = cmd.request
    cancel = request.execution == CANCELLATION
    at = None if cancel else request.execution
    if cmd.use_case.name == "ECS02":
        return gc.ElecCreditMode(cmd.counter, cmd.twin_element, at, cancel).encode()
    if cmd.use_case.name == "ECS03":
        return gc.ElecPrepaymentMode(
            cmd.counter,
            request.disablement_threshold,
            request.suspend_debt_disabled,
            request.suspend_debt_emergency,
            cmd.twin_element,
            at,
            cancel,
        ).encode()
    return gc.GasPaymentMode(
        gc.issuer_id(cmd.now),
        request.prepayment,
        zigbee_execution(request.execution),
        request.suspend_debt_disabled,
        request.suspend_debt_emergency,
        request.disablement_threshold,
    ).encode()


def _read_empty(kind: type[_T]) -> Callable[[etree._Element], _T]:
    def read(body: etree._Element) -> _T:
        Fields(body, ())
        return kind()

    return read


def _read_recovery(element: etree._Element) -> DebtRecovery:
    elec = etree.QName(element).localname.startswith("Elec")
    scale_name = "DebtRecoveryRatePriceScale"
    names = ("DebtRecoveryRate", scale_name, "DebtRecoveryRatePeriod")
    f = Fields(element, names if elec else (names[0], names[2]))
    # An ESME's rate is a DLMS long; a GSME's a ZCL 32-bit amount.
    rate = read_int("DebtRecoveryRate", f.text("DebtRecoveryRate"), *(INT16 if elec else INT32))
    scale = read_int(scale_name, f.text(scale_name), -128, 127) if elec else None
    period = f.text("DebtRecoveryRatePeriod")
    if period not in ("HOURLY", "DAILY"):
        raise invalid("DebtRecoveryRatePeriod", f"{period!r} is not HOURLY or DAILY")
    return DebtRecovery(rate, period == "HOURLY", scale)


def _read_debt(body: etree._Element) -> UpdateDebt:
    names = ("TimeDebtRegister1", "TimeDebtRegister2", "PaymentDebtRegister")
    recoveries = ("ElecDebtRecovery1", "ElecDebtRecovery2", "GasDebtRecovery1", "GasDebtRecovery2")
    f = Fields(body, (*names, "DebtRecoveryPerPayment", *recoveries))
    values = [read_int(n, f.text(n), *INT32) for n in names]
    per_payment = read_int("DebtRecoveryPerPayment", f.text("DebtRecoveryPerPayment"), 0, 10000)
    gas = "GasDebtRecovery1" in f.elements
    prefix = "Gas" if gas else "Elec"
    pair = [f.elements.get(f"{prefix}DebtRecovery{n}") for n in (1, 2)]
    if pair[0] is None or pair[1] is None or ("ElecDebtRecovery1" in f.elements) == gas:
        raise invalid("UpdateDebt", "it needs ElecDebtRecovery1 and 2, or GasDebtRecovery1 and 2")
    return UpdateDebt(
        values[0],
        values[1],
        values[2],
        per_payment,
        _read_recovery(pair[0]),
        _read_recovery(pair[1]),
        gas,
    )


def _esme_recovery(r: DebtRecovery) -> gc.TimeDebtRecovery:
    interval = gc.RecoveryInterval.HOURLY if r.hourly else gc.RecoveryInterval.DAILY
    return gc.TimeDebtRecovery(r.rate, r.price_scale or 0, interval)


def _build_debt(cmd: Command) -> bytes:
    request: UpdateDebt = cmd.request
    if cmd.use_case.name == "ECS07":
        if request.gas:
            raise invalid("UpdateDebt", "an ESME's debt recovery is ElecDebtRecovery1 and 2")
        return gc.ManageDebt(
            cmd.counter,
            _esme_recovery(request.recovery_1),
            _esme_recovery(request.recovery_2),
            request.per_payment,
            request.payment_debt,
            request.time_debt_1,
            request.time_debt_2,
        ).encode()
    if not request.gas:
        raise invalid("UpdateDebt", "a GSME's debt recovery is GasDebtRecovery1 and 2")
    amounts = (request.time_debt_1, request.time_debt_2, request.payment_debt)
    rates = (request.recovery_1.rate, request.recovery_2.rate)
    if min(amounts + rates) < 0:
        # GCS04's ZCL ChangeDebt carries unsigned amounts and rates.
        raise invalid("UpdateDebt", "a GSME takes debt increments and rates of 0 or more")

    def period(r: DebtRecovery) -> gc.RecoveryPeriod:
        return gc.RecoveryPeriod.HOURLY if r.hourly else gc.RecoveryPeriod.DAILY

    changes = (
        gc.DebtChange(1, amounts[0], rates[0], period(request.recovery_1)),
        gc.DebtChange(2, amounts[1], rates[1], period(request.recovery_2)),
        gc.DebtChange(3, amounts[2], percentage=request.per_payment),
    )
    return gc.ManageGasDebt(gc.issuer_id(cmd.now), changes).encode()


def _printable(name: str, text: str | None, low: int, high: int, pattern: str) -> str:
    value = text or ""
    if not low <= len(value) <= high or not re.fullmatch(pattern, value):
        raise invalid(name, f"{value!r} is not {low} to {high} characters of {pattern}")
    return value


def _read_message(body: etree._Element) -> DisplayMessage:
    f = Fields(body, ("SupplierMessage",))
    return DisplayMessage(
        _printable("SupplierMessage", f.text("SupplierMessage"), 1, 116, "[ -~]+")
    )


def _read_tenancy(body: etree._Element) -> RestrictTenancy:
    f = Fields(body, ("RestrictionDateTime",))
    return RestrictTenancy(read_datetime("RestrictionDateTime", f.text("RestrictionDateTime")))


def _read_clear(body: etree._Element) -> ClearEventLog:
    f = Fields(body, ("ESMEEventLogType",))
    log = f.text("ESMEEventLogType", required=False)
    if log not in (None, "ESME", "ALCS"):
        raise invalid("ESMEEventLogType", f"{log!r} is not ESME or ALCS")
    return ClearEventLog(log)


def _choose_clear(request: ClearEventLog, names: tuple[str, ...]) -> str:
    if names[0] == "ECS15a":
        if request.log is None:
            raise invalid("ClearEventLog", "an ESME needs ESMEEventLogType (ESME or ALCS)")
        return "ECS15c" if request.log == "ALCS" else "ECS15a"
    if request.log is not None:
        raise invalid("ESMEEventLogType", "only an ESME has an ESME or ALCS event log")
    return names[0]


def _read_supplier(body: etree._Element) -> UpdateSupplierName:
    f = Fields(body, ("SupplierName", "SupplierTelephoneNumber"))
    name = _printable("SupplierName", f.text("SupplierName"), 1, 15, "[ -~]+")
    phone = _printable(
        "SupplierTelephoneNumber", f.text("SupplierTelephoneNumber"), 1, 18, "[0-9 ]+"
    )
    return UpdateSupplierName(name, phone)


def _read_daily(body: etree._Element) -> DailyBlockReset:
    f = Fields(body, ("DailyTariffBlockCounterMatrixReset",))
    name = "DailyTariffBlockCounterMatrixReset"
    return DailyBlockReset(_boolean(name, f.text(name)))


def _build(cmd: Command) -> bytes:
    name = cmd.use_case.name
    request = cmd.request
    issued = gc.issuer_id(cmd.now)
    content: gc.Command
    match name:
        case "ECS05":
            content = gc.ResetBlockCounters(cmd.counter)
        case "ECS09":
            content = gc.ActivateEmergencyCredit(cmd.counter)
        case "GCS06":
            content = gc.GasEmergencyCredit()
        case "ECS10":
            content = gc.SendMessage(cmd.counter, request.text.encode("ascii"))
        case "GCS07":
            content = gc.GasMessage(issued, request.text.encode("ascii"))
        case "ECS12":
            content = gc.SetTenancyDate(cmd.counter, request.when)
        case "GCS09":
            content = gc.GasTenancy(issued, request.when)
        case "ECS15a":
            content = gc.ClearEsmeEventLog(cmd.counter)
        case "ECS15c":
            content = gc.ClearAlcsLog(cmd.counter)
        case "CS11":
            content = gc.ClearGasEventLog()
        case "ECS16":
            name_bytes, phone = request.name.encode("ascii"), request.telephone.encode("ascii")
            content = gc.SupplierContact(cmd.counter, name_bytes, phone)
        case "GCS44":
            name_bytes, phone = request.name.encode("ascii"), request.telephone.encode("ascii")
            content = gc.GasContact(issued, name_bytes, phone)
        case "ECS14":
            content = gc.DisableEsmePrivacyPin(cmd.counter)
        case "GCS11":
            content = gc.GasPrivacyPin(issued)
        case "ECS48":
            content = gc.DailyBlockCounterReset(cmd.counter, request.daily)
        case _:  # the catalogue sends only the use cases of ``builds`` here
            raise AssertionError(f"no content for {name}")
    return content.encode()


def _balance_example(v: Values) -> str:
    """Adjust (by ``AdjustMeterBalance``) or reset (``ResetMeterBalance=yes``) the balance of
    the credit mode (the use cases served) or, given ``PrepaymentMode=yes``, the prepayment
    mode's."""
    mode = v.first_given(("PrepaymentMode", "CreditMode"), "CreditMode")
    action = v.first_given(("AdjustMeterBalance", "ResetMeterBalance"), "AdjustMeterBalance")
    content = v.element(action) if action == "AdjustMeterBalance" else "<sr:ResetMeterBalance/>"
    return f"<sr:{mode}>{content}</sr:{mode}>"


_BALANCE_EXAMPLE = Example(
    {
        "PrepaymentMode": None,
        "CreditMode": None,
        "AdjustMeterBalance": "1000",
        "ResetMeterBalance": None,
    },
    _balance_example,
)

_PREPAYMENT = ("SuspendDebtDisabled", "SuspendDebtEmergency", "DisablementThreshold")


def _payment_mode_example(v: Values) -> str:
    """Credit mode, or prepayment (``Prepayment=yes`` or any of its settings given)."""
    prepayment = v.given("Prepayment") or any(v.given(n) for n in _PREPAYMENT)
    if prepayment and v.given("Credit"):
        raise ExampleError("give Credit or Prepayment (and its settings), not both")
    mode = (
        f"<sr:Prepayment>{v.elements(*_PREPAYMENT)}</sr:Prepayment>"
        if prepayment
        else "<sr:Credit/>"
    )
    return v.element("ExecutionDateTime") + mode


_PAYMENT_MODE_EXAMPLE = Example(
    {
        "ExecutionDateTime": None,
        "Credit": None,
        "Prepayment": None,
        "SuspendDebtDisabled": "true",
        "SuspendDebtEmergency": "false",
        "DisablementThreshold": "0",
    },
    _payment_mode_example,
)


def _debt_example(v: Values) -> str:
    """A GSME's debt registers and recovery, or an ESME's (``ElecDebtRecovery=yes``, whose
    rates carry ``DebtRecoveryRatePriceScale``): the schema's two ``GasDebtRecovery`` (or
    ``ElecDebtRecovery``) elements each hold a ``DebtRecoveryRate`` and its period, which the
    fields name with the register's number."""
    fuel = "Elec" if v.given("ElecDebtRecovery") else "Gas"
    scale = (
        f"<sr:DebtRecoveryRatePriceScale>{v.text('DebtRecoveryRatePriceScale')}"
        "</sr:DebtRecoveryRatePriceScale>"
        if fuel == "Elec"
        else ""
    )
    recoveries = "".join(
        f"<sr:{fuel}DebtRecovery{n}><sr:DebtRecoveryRate>{v.text(f'DebtRecoveryRate{n}')}"
        f"</sr:DebtRecoveryRate>{scale}<sr:DebtRecoveryRatePeriod>"
        f"{v.text(f'DebtRecoveryRatePeriod{n}')}</sr:DebtRecoveryRatePeriod>"
        f"</sr:{fuel}DebtRecovery{n}>"
        for n in (1, 2)
    )
    registers = ("TimeDebtRegister1", "TimeDebtRegister2", "PaymentDebtRegister")
    return v.elements(*registers, "DebtRecoveryPerPayment") + recoveries


_DEBT_EXAMPLE = Example(
    {
        "TimeDebtRegister1": "5000",
        "TimeDebtRegister2": "0",
        "PaymentDebtRegister": "0",
        "DebtRecoveryPerPayment": "0",
        "DebtRecoveryRate1": "100",
        "DebtRecoveryRatePeriod1": "DAILY",
        "DebtRecoveryRate2": "0",
        "DebtRecoveryRatePeriod2": "DAILY",
        "ElecDebtRecovery": None,
        "DebtRecoveryRatePriceScale": "-5",
    },
    _debt_example,
)

serves(
    "1.5",
    Codec(
        read=_read_balance,
        build=_build_balance,
        builds=frozenset({"ECS04a", "ECS04b", "GCS40a", "GCS40b", "GCS40c", "GCS40d"}),
        choose=_choose_balance,
        example=_BALANCE_EXAMPLE,
    ),
)
serves(
    "1.7",
    Codec(
        read=_read_empty(ResetBlockCounters),
        build=_build,
        builds=frozenset({"ECS05"}),
        example=EMPTY,
    ),
)
serves(
    "2.3",
    Codec(
        read=_read_debt,
        build=_build_debt,
        builds=frozenset({"ECS07", "GCS04"}),
        example=_DEBT_EXAMPLE,
    ),
)
serves(
    "2.5",
    Codec(
        read=_read_empty(ActivateEmergencyCredit),
        build=_build,
        builds=frozenset({"ECS09", "GCS06"}),
        example=EMPTY,
    ),
)
serves(
    "3.1",
    Codec(
        read=_read_message,
        build=_build,
        builds=frozenset({"ECS10", "GCS07"}),
        example=Example({"ExecutionDateTime": None, "SupplierMessage": "Welcome to smart"}),
    ),
)
serves(
    "3.2",
    Codec(
        read=_read_tenancy,
        build=_build,
        builds=frozenset({"ECS12", "GCS09"}),
        example=Example({"ExecutionDateTime": None, "RestrictionDateTime": Home.NOW}),
    ),
)
serves(
    "3.3",
    Codec(
        read=_read_clear,
        build=_build,
        builds=frozenset({"ECS15a", "ECS15c", "CS11"}),
        choose=_choose_clear,
        example=Example({"ESMEEventLogType": "ALCS"}),
    ),
)
serves(
    "3.4",
    Codec(
        read=_read_supplier,
        build=_build,
        builds=frozenset({"ECS16", "GCS44"}),
        example=Example(
            {
                "ExecutionDateTime": None,
                "SupplierName": "Smetsim Energy",
                "SupplierTelephoneNumber": "0800 123 4567",
            }
        ),
    ),
)
serves(
    "3.5",
    Codec(
        read=_read_empty(DisablePrivacyPin),
        build=_build,
        builds=frozenset({"ECS14", "GCS11"}),
        example=EMPTY,
    ),
)
serves(
    "6.26",
    Codec(
        read=_read_daily,
        build=_build,
        builds=frozenset({"ECS48"}),
        example=Example({"DailyTariffBlockCounterMatrixReset": "true"}),
    ),
)
serves(
    "1.6",
    Codec(
        read=_read_payment_mode,
        build=_build_payment_mode,
        builds=frozenset({"ECS02", "ECS03", "GCS02", "GCS03"}),
        choose=_choose_payment_mode,
        example=_PAYMENT_MODE_EXAMPLE,
        reads_execution=True,
    ),
)
