"""GSME configuration SRs of the configuration family: gas conversion (6.6, GCS23), gas flow
and supply states (6.7, GCS24 / GCS24a), the gas billing calendar (6.8 on a GSME: GCS25
monthly, GCS25a the other periodicities) and the MPRN (6.20.1 on a GSME, GCS41).

Each is one :class:`gbcs.content.GasSettings`: ZCL commands little-endian as ZigBee SE writes
them. Their issuer event id is the gateway's clock as a ZigBee UTCTime (what the DCC's
reference commands carry: the time they were made), and their start time 0 (now).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from lxml import etree

from gateway.srv.example import Example, Values
from gateway.srv.fields import Fields, invalid, read_datetime, read_int
from gateway.srv.registry import serves
from gateway.srv.spec import Codec, Command
from gbcs import content as gc
from gbcs.payloads.gbz import Cluster, zigbee_time

__all__ = [
    "GasBillingCalendar",
    "GasConversion",
    "GasFlow",
    "build_gas_billing",
    "build_import_mprn",
    "gas_billing_use_case",
    "read_gas_billing",
]


def _u32(value: int) -> bytes:
    return value.to_bytes(4, "little")


def _event(cmd: Command) -> bytes:
    return _u32(zigbee_time(cmd.now.replace(microsecond=0)))


def _decimal(name: str, text: str | None, places: int, high: Decimal) -> int:
    """A DUIS decimal with at most ``places`` fraction digits, as an integer of that scale."""
    value = (text or "").strip()
    if not re.fullmatch(r"\d+(\.\d+)?", value):
        raise invalid(name, f"{value!r} is not a decimal")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise invalid(name, f"{value!r} is not a decimal") from None
    exponent = number.as_tuple().exponent
    if (
        isinstance(exponent, int)
        and -exponent > places
        and number != number.quantize(Decimal(1).scaleb(-places))
    ):
        raise invalid(name, f"{value!r} has more than {places} decimal places")
    if number > high:
        raise invalid(name, f"{value!r} is above {high}")
    return int(number.scaleb(places))


@dataclass(frozen=True, slots=True)
class GasConversion:
    """SR6.6 ``UpdateDeviceConfigurationGasConversion``: GCS23. Calorific value in tenths
    of MJ/m3, conversion factor in 1e-5."""

    calorific_value: int
    conversion_factor: int


def _read_conversion(body: etree._Element) -> GasConversion:
    f = Fields(body, ("CalorificValue", "ConversionFactor"))
    cv = _decimal("CalorificValue", f.text("CalorificValue"), 1, Decimal("429496729.5"))
    factor = _decimal("ConversionFactor", f.text("ConversionFactor"), 5, Decimal("42949.67295"))
    if factor == 0:
        raise invalid("ConversionFactor", "a conversion factor of 0 would zero every reading")
    return GasConversion(cv, factor)


def _build_conversion(cmd: Command) -> bytes:
    r: GasConversion = cmd.request
    start_now = _u32(0)
    calls = (
        # PublishConversionFactor: the factor and its trailing digit (5 decimal places).
        gc.ZclCall(
            Cluster.PRICE, 0x02, _event(cmd) + start_now + _u32(r.conversion_factor) + b"\x50", True
        ),
        # PublishCalorificValue: the value, unit 1 (MJ/m3), 1 decimal place.
        gc.ZclCall(
            Cluster.PRICE,
            0x03,
            _event(cmd) + start_now + _u32(r.calorific_value) + b"\x01\x10",
            True,
        ),
    )
    return gc.GasSettings(cmd.use_case.code, calls).encode()


_STATES = {"Unchanged": 3, "Locked": 0}
"""DUIS supply depletion / tamper state -> ZSE SupplyStatus (3 unchanged, 0 supply off)."""


@dataclass(frozen=True, slots=True)
class GasFlow:
    """SR6.7 ``UpdateDeviceConfigurationGasFlow``: GCS24 (a whole m3/h threshold) or GCS24a
    (``UncontrolledGasFlowRateDecimal``, four decimal places)."""

    threshold: int
    decimal: bool
    depletion: int
    tamper: int
    stabilisation: int
    measurement: int


def _read_flow(body: etree._Element) -> GasFlow:
    f = Fields(
        body,
        (
            "UncontrolledGasFlowRate",
            "UncontrolledGasFlowRateDecimal",
            "SupplyDepletionState",
            "SupplyTamperState",
            "StabilisationPeriod",
            "MeasurementPeriod",
        ),
    )
    whole = "UncontrolledGasFlowRate" in f.elements
    if whole == ("UncontrolledGasFlowRateDecimal" in f.elements):
        raise invalid(f.owner, "it takes UncontrolledGasFlowRate or UncontrolledGasFlowRateDecimal")
    if whole:
        threshold = read_int("UncontrolledGasFlowRate", f.text("UncontrolledGasFlowRate"), 0, 65535)
    else:
        name = "UncontrolledGasFlowRateDecimal"
        threshold = _decimal(name, f.text(name), 4, Decimal("6.5535"))
    states = []
    for name in ("SupplyDepletionState", "SupplyTamperState"):
        text = f.text(name) or ""
        if text not in _STATES:
            raise invalid(name, f"{text!r} is not Unchanged or Locked")
        states.append(_STATES[text])
    return GasFlow(
        threshold,
        not whole,
        states[0],
        states[1],
        read_int("StabilisationPeriod", f.text("StabilisationPeriod"), 1, 255),
        read_int("MeasurementPeriod", f.text("MeasurementPeriod"), 1, 65535),
    )


def _build_flow(cmd: Command) -> bytes:
    r: GasFlow = cmd.request
    divisor = 10_000 if r.decimal else 1
    threshold = (
        _u32(0)  # provider id
        + _event(cmd)
        + r.threshold.to_bytes(2, "little")
        + b"\x01"  # unit: m3
        + (1).to_bytes(2, "little")  # multiplier
        + divisor.to_bytes(2, "little")
        + bytes([r.stabilisation])
        + r.measurement.to_bytes(2, "little")
    )
    # SetSupplyStatus: tamper, depletion, uncontrolled flow (0: unchanged by this SR), load
    # limit (3: unchanged).
    status = _event(cmd) + bytes([r.tamper, r.depletion, 0, 3])
    calls = (
        gc.ZclCall(Cluster.METERING, 0x0E, threshold),
        gc.ZclCall(Cluster.METERING, 0x0D, status),
    )
    return gc.GasSettings(cmd.use_case.code, calls).encode()


_PERIODS = {
    "Daily": (1, 0x21),
    "Weekly": (1, 0x22),
    "Monthly": (1, 0x23),
    "Quarterly": (3, 0x23),
    "SixMonthly": (6, 0x23),
    "Yearly": (12, 0x23),
}
"""DUIS periodicity -> (ZSE duration, duration type: timebase days 1 / weeks 2 / months 3)."""


@dataclass(frozen=True, slots=True)
class GasBillingCalendar:
    """SR6.8 ``GasBillingCalendar``: GCS25 (monthly) or GCS25a, periods of ``periodicity``
    from ``start``."""

    start: datetime
    periodicity: str


def gas_billing_use_case(r: GasBillingCalendar, names: tuple[str, ...]) -> str:
    """GCS25 for a monthly calendar, GCS25a (all periodicities) for the others - the split
    GBCS makes for the ESME's ECS30 / ECS30a. Both carry the same two Price cluster commands
    (GBCS gives GCS25a the same layout, adding the other durations), so the body decides."""
    if r.periodicity == "Monthly" and "GCS25" in names:
        return "GCS25"
    return "GCS25a"


def build_gas_billing(cmd: Command, r: GasBillingCalendar) -> bytes:
    duration, kind = _PERIODS[r.periodicity]
    start = _u32(zigbee_time(r.start))
    period = _u32(0) + _event(cmd) + start + duration.to_bytes(3, "little")
    calls = (
        gc.ZclCall(Cluster.PRICE, 0x09, period + bytes([kind, 0x00]), True),
        gc.ZclCall(Cluster.PRICE, 0x01, period + bytes([0x02, kind, 0x00, 0x01]), True),
    )
    return gc.GasSettings(cmd.use_case.code, calls).encode()


def read_gas_billing(element: etree._Element) -> GasBillingCalendar:
    f = Fields(element, ("BillingPeriodStart", "Periodicity"))
    start = read_datetime("BillingPeriodStart", f.text("BillingPeriodStart"))
    periodicity = f.text("Periodicity") or ""
    if periodicity not in _PERIODS:
        raise invalid("Periodicity", f"{periodicity!r} is not one of {', '.join(_PERIODS)}")
    return GasBillingCalendar(start, periodicity)


def build_import_mprn(cmd: Command, mprn: str) -> bytes:
    """SR6.20.1 on a GSME: GCS41 sets the MPRN (Device Management UpdateSiteID)."""
    site = _event(cmd) + _u32(0) + _u32(0) + bytes([len(mprn)]) + mprn.encode()
    return gc.GasSettings(
        cmd.use_case.code, (gc.ZclCall(Cluster.DEVICE_MANAGEMENT, 0x03, site, True),)
    ).encode()


# ---------------------------------------------------------------------------- examples


def _flow_example(v: Values) -> str:
    """The whole m3/h threshold, or the decimal one when UncontrolledGasFlowRateDecimal is given."""
    rate = v.first_given(
        ("UncontrolledGasFlowRate", "UncontrolledGasFlowRateDecimal"), "UncontrolledGasFlowRate"
    )
    rest = ("SupplyDepletionState", "SupplyTamperState", "StabilisationPeriod", "MeasurementPeriod")
    return v.element(rate) + v.elements(*rest)


_FLOW_EXAMPLE = Example(
    {
        "UncontrolledGasFlowRate": "6",
        "UncontrolledGasFlowRateDecimal": None,
        "SupplyDepletionState": "Unchanged",
        "SupplyTamperState": "Unchanged",
        "StabilisationPeriod": "30",
        "MeasurementPeriod": "600",
    },
    _flow_example,
)


serves(
    "6.6",
    Codec(
        read=_read_conversion,
        build=_build_conversion,
        builds=frozenset({"GCS23"}),
        example=Example({"CalorificValue": "39.5", "ConversionFactor": "1.02264"}),
    ),
)
serves(
    "6.7",
    Codec(
        read=_read_flow,
        build=_build_flow,
        builds=frozenset({"GCS24", "GCS24a"}),
        choose=lambda r, names: "GCS24a" if r.decimal else "GCS24",
        example=_FLOW_EXAMPLE,
    ),
)
