"""Configuration SRs (service reference 6 and the commissioning of 8.1.1): the device's
clock and settings."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day
from typing import Any

from lxml import etree

from gateway.srv.example import EMPTY, Example, Home, Values
from gateway.srv.fields import (
    Fields,
    children,
    invalid,
    number,
    one,
    read_datetime,
    read_int,
    time_of,
)
from gateway.srv.gas import (
    GasBillingCalendar,
    build_gas_billing,
    build_import_mprn,
    gas_billing_use_case,
    read_gas_billing,
)
from gateway.srv.registry import serves
from gateway.srv.spec import Codec, Command
from gbcs import content as gc
from gbcs.payloads import dlms

__all__ = ["CommissionDevice", "SynchroniseClock"]


@dataclass(frozen=True, slots=True)
class SynchroniseClock:
    """SR6.11 ``SynchroniseClock``: ECS70 (ESME) / GCS28 (GSME). The device adjusts only
    when its time source is within ``current`` .. ``current + tolerance``."""

    current: datetime
    tolerance: int
    """DUIS TolerancePeriod, seconds."""


@dataclass(frozen=True, slots=True)
class CommissionDevice:
    """SR8.1.1 ``CommissionDeviceSynchroniseClock``: the commissioning set-clock (ECS70 /
    GCS28); success makes the device Commissioned in the SMI."""

    current: datetime
    tolerance: int


_CLOCKS = frozenset({"ECS70", "GCS28"})


def _read_clock(body: etree._Element) -> tuple[datetime, int]:
    f = Fields(body, ("CurrentDateTime", "TolerancePeriod"))
    current = read_datetime("CurrentDateTime", f.text("CurrentDateTime"))
    tolerance = read_int("TolerancePeriod", f.text("TolerancePeriod"), 0, 86400)
    return current, tolerance


def _build_clock(cmd: Command) -> bytes:
    request: SynchroniseClock | CommissionDevice = cmd.request
    start = request.current.astimezone(UTC).replace(microsecond=0)
    end = start + timedelta(seconds=request.tolerance)
    if cmd.use_case.name == "GCS28":
        return gc.SetGasClock(start, end).encode()
    return gc.SetClock(cmd.counter, start, end).encode()


_CLOCK_EXAMPLE = Example({"CurrentDateTime": Home.NOW, "TolerancePeriod": "60"})

serves(
    "6.11",
    Codec(
        read=lambda body: SynchroniseClock(*_read_clock(body)),
        build=_build_clock,
        builds=_CLOCKS,
        example=_CLOCK_EXAMPLE,
    ),
)
serves(
    "8.1.1",
    Codec(
        read=lambda body: CommissionDevice(*_read_clock(body)),
        build=_build_clock,
        builds=_CLOCKS,
        example=_CLOCK_EXAMPLE,
    ),
)


# =========================================================================== DLMS settings
#
# Each of these SRs is one gc.DeviceSettings command: a list of (object, value) the device
# writes or runs, built here from the DUIS body by the GBCS use case's object list.

Write = tuple[dlms.AccessSpec, dlms.Data]
_RESET = dlms.integer(0)
"""The data of a register / profile reset action (GBCS sends integer 0)."""


def _settings(cmd: Command, writes: list[Write]) -> bytes:
    return gc.DeviceSettings(cmd.use_case.code, cmd.counter, tuple(writes)).encode()


def _uint(f: Fields, name: str, high: int = 0xFFFF_FFFF) -> int:
    return read_int(name, f.text(name), 0, high)


@dataclass(frozen=True, slots=True)
class ResetLoadLimitCounter:
    """SR6.4.2 ``UpdateDeviceConfigurationLoadLimitingCounterReset``: ECS28b."""


@dataclass(frozen=True, slots=True)
class AverageVoltage:
    """One phase's average RMS voltage settings (volts; period in seconds)."""

    over: int
    under: int
    period: int


@dataclass(frozen=True, slots=True)
class UpdateVoltage:
    """SR6.5 ``UpdateDeviceConfigurationVoltage``: ECS29a (single phase) / ECS29b
    (polyphase), ECS29c / ECS29d when the RMS voltage counters are not reset."""

    extreme_over: tuple[int, int]
    """(threshold V, measurement period s) of each RMS limiter."""
    extreme_under: tuple[int, int]
    sag: tuple[int, int]
    swell: tuple[int, int]
    phases: tuple[AverageVoltage, ...]
    """One (single phase) or three, by phase."""
    reset_counters: bool


_AVERAGE = (
    "AverageRMSOverVoltageThreshold",
    "AverageRMSUnderVoltageThreshold",
    "AverageRMSVoltageMeasurementPeriod",
)


def _average(element: etree._Element) -> AverageVoltage:
    f = Fields(element, _AVERAGE)
    over, under, period = (_uint(f, name) for name in _AVERAGE)
    return AverageVoltage(over, under, period)


def _read_voltage(body: etree._Element) -> UpdateVoltage:
    poly = children(body, "PolyPhaseVoltageSettings")
    rest = copy.deepcopy(body)  # the one element that comes three times is read on its own
    for element in children(rest, "PolyPhaseVoltageSettings"):
        rest.remove(element)
    f = Fields(
        rest, ("RMSVoltageSettings", "SinglePhaseVoltageSettings", "RMSVoltageCountersNotReset")
    )
    rms = Fields(
        _child(f, "RMSVoltageSettings"),
        tuple(
            f"{kind}{what}"
            for kind in (
                "RMSExtremeOverVoltage",
                "RMSExtremeUnderVoltage",
                "RMSVoltageSag",
                "RMSVoltageSwell",
            )
            for what in ("MeasurementPeriod", "Threshold")
        ),
    )

    def pair(kind: str) -> tuple[int, int]:
        return _uint(rms, f"{kind}Threshold"), _uint(rms, f"{kind}MeasurementPeriod")

    single = f.elements.get("SinglePhaseVoltageSettings")
    if (single is None) == (not poly):
        raise invalid(
            f.owner, "it takes SinglePhaseVoltageSettings or three PolyPhaseVoltageSettings"
        )
    if single is not None:
        phases: tuple[AverageVoltage, ...] = (_average(single),)
    else:
        if len(poly) != 3:
            raise invalid("PolyPhaseVoltageSettings", f"three are needed, not {len(poly)}")
        by_phase: dict[int, AverageVoltage] = {}
        for element in poly:
            phase = number(element, "Phase", 1, 3)
            if phase in by_phase:
                raise invalid("Phase", f"phase {phase} is given twice")
            by_phase[phase] = _average(one(element, "PhaseVoltageSettings"))
        phases = tuple(by_phase[p] for p in (1, 2, 3))
    return UpdateVoltage(
        pair("RMSExtremeOverVoltage"),
        pair("RMSExtremeUnderVoltage"),
        pair("RMSVoltageSag"),
        pair("RMSVoltageSwell"),
        phases,
        not f.marker("RMSVoltageCountersNotReset"),
    )


def _child(f: Fields, name: str) -> etree._Element:
    element = f.elements.get(name)
    if element is None:
        raise invalid(f.owner, f"{name} is missing")
    return element


def _choose_voltage(request: UpdateVoltage, names: tuple[str, ...]) -> str:
    poly = len(request.phases) == 3
    if request.reset_counters:
        return "ECS29b" if poly else "ECS29a"
    return "ECS29d" if poly else "ECS29c"


_PHASE_C = (32, 52, 72)
"""OBIS C of the phase voltages (L1, L2, L3)."""


def _build_voltage(cmd: Command) -> bytes:
    r: UpdateVoltage = cmd.request
    u32 = dlms.double_long_unsigned
    periods = [
        (dlms.set_(7, f"1-0:{c}.24.0.255", 4), u32(p.period))
        for c, p in zip(_PHASE_C, r.phases, strict=False)
    ]
    limiters: list[Write] = []
    for n, (threshold, period) in enumerate((r.extreme_over, r.extreme_under, r.sag, r.swell), 1):
        limiters.append((dlms.set_(71, f"0-0:17.0.{n}.255", 4), u32(threshold)))
        limiters.append((dlms.set_(71, f"0-0:17.0.{n}.255", 6), u32(period)))
    l1 = r.phases[0]
    over1 = (dlms.set_(1, "1-0:32.35.0.4", 2), u32(l1.over))
    under1 = (dlms.set_(1, "1-0:32.31.0.4", 2), u32(l1.under))
    others: list[Write] = []
    for c, p in zip(_PHASE_C[1:], r.phases[1:], strict=False):
        others.append((dlms.set_(1, f"1-0:{c}.31.0.4", 2), u32(p.under)))
        others.append((dlms.set_(1, f"1-0:{c}.35.0.4", 2), u32(p.over)))
    resets: list[Write] = []
    if r.reset_counters:
        for c in _PHASE_C[: len(r.phases)]:
            resets.append((dlms.action(3, f"1-0:{c}.32.0.4", 1), _RESET))
            resets.append((dlms.action(3, f"1-0:{c}.36.0.4", 1), _RESET))
        return _settings(cmd, [*periods, *limiters, over1, under1, *others, *resets])
    # Without the counter reset GBCS lists the thresholds first (ECS29c / ECS29d).
    return _settings(cmd, [under1, over1, *others, *periods, *limiters])


@dataclass(frozen=True, slots=True)
class ResetVoltageCounters:
    """SR6.27 ``UpdateDeviceConfigurationRMSVoltageCounterReset``: ECS29e, or ECS29f on a
    polyphase ESME. The body is empty: the SMI's ESME variant (``C..``) decides."""


def _choose_voltage_reset(names: tuple[str, ...], esme_variant: str | None) -> str:
    polyphase = (esme_variant or "").startswith("C")
    return "ECS29f" if polyphase and "ECS29f" in names else "ECS29e"


def _build_voltage_reset(cmd: Command) -> bytes:
    # GBCS ECS29f: each phase's RMS voltage sag and swell counters (L1 32, L2 52, L3 72),
    # phase by phase; ECS29e the first phase's only.
    phases = _PHASE_C if cmd.use_case.name == "ECS29f" else _PHASE_C[:1]
    resets: list[Write] = []
    for c in phases:
        resets.append((dlms.action(3, f"1-0:{c}.32.0.4", 1), _RESET))
        resets.append((dlms.action(3, f"1-0:{c}.36.0.4", 1), _RESET))
    return _settings(cmd, resets)


def _build_load_limit_reset(cmd: Command) -> bytes:
    return _settings(cmd, [(dlms.action(3, "0-0:94.44.42.255", 1), _RESET)])


@dataclass(frozen=True, slots=True)
class BillingCalendar:
    """SR6.8 ``UpdateDeviceConfigurationBillingCalendar`` (electricity): ECS30 for a
    monthly calendar, ECS30a for the other periodicities. ``dates`` are the COSEM dates
    (5 bytes, wildcards 0xFF) the billing schedule runs at ``time``."""

    time: time_of_day
    dates: tuple[bytes, ...]
    monthly: bool
    gas: GasBillingCalendar | None = None
    """A ``GasBillingCalendar`` instead (GCS25 / GCS25a on a GSME)."""


_PERIODS = {"Quarterly": 3, "SixMonthly": 6, "Yearly": 12}


def _read_billing(body: etree._Element) -> BillingCalendar:
    f = Fields(body, ("ElectricityBillingCalendar", "GasBillingCalendar"))
    if "GasBillingCalendar" in f.elements:
        if "ElectricityBillingCalendar" in f.elements:
            raise invalid(f.owner, "it takes one calendar, electricity or gas")
        gas = read_gas_billing(f.elements["GasBillingCalendar"])
        return BillingCalendar(time_of_day(0), (), False, gas)
    e = Fields(
        _child(f, "ElectricityBillingCalendar"),
        ("BillingTime", "Daily", "Weekly", "Monthly", "Quarterly", "SixMonthly", "Yearly"),
    )
    at = time_of(e.text("BillingTime")).replace(microsecond=0)
    kinds = [k for k in e.elements if k != "BillingTime"]
    if len(kinds) != 1:
        raise invalid(e.owner, "it takes one periodicity: Daily, Weekly, Monthly, ...")
    kind = kinds[0]
    any_year = b"\xff\xff"
    dates: tuple[bytes, ...]
    if kind == "Daily":
        e.marker("Daily")
        dates = (any_year + b"\xff\xff\xff",)
    elif kind == "Weekly":
        dates = (any_year + bytes([0xFF, 0xFF, _uint(e, "Weekly", 7) or _zero("Weekly")]),)
    elif kind == "Monthly":
        dates = (any_year + bytes([0xFF, read_int("Monthly", e.text("Monthly"), 1, 28), 0xFF]),)
    else:
        q = e.elements[kind]
        day = number(q, "DayOfMonth", 1, 28)
        start = number(q, "BillingPeriodStartMonth", 1, 12)
        step = _PERIODS[kind]
        months = [(start - 1 + step * i) % 12 + 1 for i in range(12 // step)]
        dates = tuple(any_year + bytes([m, day, 0xFF]) for m in months)
    return BillingCalendar(at, dates, kind == "Monthly")


def _zero(name: str) -> int:
    raise invalid(name, "'0' is not a day of the week (1 Monday .. 7 Sunday)")


def _choose_billing(r: BillingCalendar, names: tuple[str, ...]) -> str:
    if r.gas is not None:
        wanted = gas_billing_use_case(r.gas, names)
    else:
        wanted = "ECS30" if r.monthly else "ECS30a"
    if wanted not in names:
        other = "Electricity" if r.gas is not None else "Gas"
        raise invalid(
            "UpdateDeviceConfigurationBillingCalendar",
            f"this device takes {other}BillingCalendar",
        )
    return wanted


def _build_billing(cmd: Command) -> bytes:
    r: BillingCalendar = cmd.request
    if r.gas is not None:
        return build_gas_billing(cmd, r.gas)
    t = r.time
    at = dlms.octet_string(bytes([t.hour, t.minute, t.second, 0]))
    entries = [dlms.structure(at, dlms.octet_string(d)) for d in r.dates]
    return _settings(cmd, [(dlms.set_(22, "0-0:15.0.0.255", 4), dlms.array(*entries))])


@dataclass(frozen=True, slots=True)
class PowerThresholds:
    """SR6.12 ``UpdateDeviceConfigurationInstantaneousPowerThreshold``: ECS34 (W)."""

    low_medium: int
    medium_high: int


def _read_power(body: etree._Element) -> PowerThresholds:
    f = Fields(body, ("LowMediumPowerThreshold", "MediumHighPowerThreshold"))
    low, high = _uint(f, "LowMediumPowerThreshold"), _uint(f, "MediumHighPowerThreshold")
    if low > high:
        raise invalid("MediumHighPowerThreshold", f"{high} is below the low/medium threshold {low}")
    return PowerThresholds(low, high)


def _build_power(cmd: Command) -> bytes:
    r: PowerThresholds = cmd.request
    values = dlms.array(
        dlms.double_long_unsigned(r.low_medium), dlms.double_long_unsigned(r.medium_high)
    )
    return _settings(cmd, [(dlms.set_(21, "0-0:16.0.0.255", 2), values)])


@dataclass(frozen=True, slots=True)
class MaximumDemandPeriod:
    """SR6.18.1 ``SetMaximumDemandConfigurableTimePeriod``: ECS37."""

    start: time_of_day
    end: time_of_day


def _read_md_period(body: etree._Element) -> MaximumDemandPeriod:
    f = Fields(body, ("MaximumDemandTimePeriodSchedule",))
    s = Fields(
        _child(f, "MaximumDemandTimePeriodSchedule"),
        ("StartTime", "EndTime"),
    )
    start, end = time_of(s.text("StartTime")), time_of(s.text("EndTime"))
    return MaximumDemandPeriod(start.replace(microsecond=0), end.replace(microsecond=0))


_MD_SCRIPT = dlms.octet_string(bytes.fromhex("00000a8064ff"))
"""The maximum demand period's script table (0-0:10.128.100.255)."""


def _build_md_period(cmd: Command) -> bytes:
    r: MaximumDemandPeriod = cmd.request
    entries = []
    for index, at in enumerate((r.start, r.end)):
        entries.append(
            dlms.structure(
                dlms.long_unsigned(index),
                dlms.boolean(True),
                _MD_SCRIPT,
                dlms.long_unsigned(index + 1),  # script 1 starts the period, 2 ends it
                dlms.octet_string(bytes([at.hour, at.minute, at.second, 0])),
                dlms.long_unsigned(0xFFFF),  # validity window: always
                dlms.BitString(7, b"\xfe"),  # every day of the week
                dlms.BitString(0, b""),  # no special days
                dlms.octet_string(bytes.fromhex("000001ffff")),
                dlms.octet_string(bytes.fromhex("ffffffffff")),
            )
        )
    return _settings(cmd, [(dlms.set_(10, "0-0:12.0.0.255", 2), dlms.array(*entries))])


@dataclass(frozen=True, slots=True)
class ResetMaximumDemand:
    """SR6.18.2 ``ResetMaximumDemandRegisters``: ECS57; the registers named are reset."""

    import_value: bool
    export_value: bool
    configurable_import: bool


def _read_md_reset(body: etree._Element) -> ResetMaximumDemand:
    names = (
        "MaxDemandActivePowerImportValue",
        "MaxDemandActivePowerExportValue",
        "MaxDemandConfigTimeActivePowerImportValue",
    )
    f = Fields(body, names)
    request = ResetMaximumDemand(*(f.marker(n) for n in names))
    if not any((request.import_value, request.export_value, request.configurable_import)):
        raise invalid(f.owner, "it names no register to reset")
    return request


def _build_md_reset(cmd: Command) -> bytes:
    r: ResetMaximumDemand = cmd.request
    chosen = [
        ("1-0:1.6.0.255", r.import_value),
        ("1-0:1.6.1.255", r.configurable_import),
        ("1-0:2.6.0.255", r.export_value),
    ]
    return _settings(cmd, [(dlms.action(4, o, 1), _RESET) for o, on in chosen if on])


@dataclass(frozen=True, slots=True)
class ImportMpxn:
    """SR6.20.1 ``SetDeviceConfigurationImportMPxN``: ECS39a (MPANs) / GCS41 (MPRN)."""

    mpans: tuple[str, ...]
    mprn: str | None


def _mpxn(name: str, text: str | None, digits: tuple[int, ...]) -> str:
    value = text or ""
    if not value.isascii() or not value.isdigit() or len(value) not in digits:
        raise invalid(name, f"{value!r} is not {' or '.join(map(str, digits))} digits")
    return value


def _read_import_mpxn(body: etree._Element) -> ImportMpxn:
    f = Fields(body, ("ImportMPANs", "ImportMPRN"))
    if ("ImportMPANs" in f.elements) == ("ImportMPRN" in f.elements):
        raise invalid(f.owner, "it takes ImportMPANs or ImportMPRN")
    if "ImportMPRN" in f.elements:
        return ImportMpxn((), _mpxn("ImportMPRN", f.text("ImportMPRN"), tuple(range(6, 11))))
    m = Fields(f.elements["ImportMPANs"], ("ImportMPAN", "SecondaryImportMPAN"))
    mpans = [_mpxn("ImportMPAN", m.text("ImportMPAN"), (13,))]
    if "SecondaryImportMPAN" in m.elements:
        mpans.append(_mpxn("SecondaryImportMPAN", m.text("SecondaryImportMPAN"), (13,)))
    return ImportMpxn(tuple(mpans), None)


def _choose_import_mpxn(request: ImportMpxn, names: tuple[str, ...]) -> str:
    gas = "GCS41" in names
    if gas != (request.mprn is not None):
        wanted = "ImportMPRN" if gas else "ImportMPANs"
        raise invalid("SetDeviceConfigurationImportMPxN", f"this device takes {wanted}")
    return names[0]


def _build_import_mpxn(cmd: Command) -> bytes:
    r: ImportMpxn = cmd.request
    if r.mprn is not None:
        return build_import_mprn(cmd, r.mprn)
    value = dlms.octet_string("".join(r.mpans).encode())
    return _settings(cmd, [(dlms.set_(1, "0-0:94.44.34.11", 2), value)])


@dataclass(frozen=True, slots=True)
class ExportMpan:
    """SR6.20.2 ``SetDeviceConfigurationExportMPAN``: ECS39b."""

    mpan: str


def _build_export_mpan(cmd: Command) -> bytes:
    r: ExportMpan = cmd.request
    return _settings(cmd, [(dlms.set_(1, "1-0:0.0.2.255", 2), dlms.octet_string(r.mpan.encode()))])


def _empty(kind: type) -> Callable[[etree._Element], Any]:
    def read(body: etree._Element) -> Any:
        Fields(body, ())
        return kind()

    return read


# ---------------------------------------------------------------------------- examples

_RMS = (
    "RMSExtremeOverVoltageMeasurementPeriod",
    "RMSExtremeOverVoltageThreshold",
    "RMSExtremeUnderVoltageMeasurementPeriod",
    "RMSExtremeUnderVoltageThreshold",
    "RMSVoltageSagMeasurementPeriod",
    "RMSVoltageSagThreshold",
    "RMSVoltageSwellMeasurementPeriod",
    "RMSVoltageSwellThreshold",
)


def _voltage_example(v: Values) -> str:
    """Single phase, or the same averages on each of three phases (PolyPhaseVoltageSettings=yes)."""
    average = v.elements(*_AVERAGE)
    if v.get("PolyPhaseVoltageSettings") is None:
        phases = f"<sr:SinglePhaseVoltageSettings>{average}</sr:SinglePhaseVoltageSettings>"
    else:
        phases = "".join(
            f"<sr:PolyPhaseVoltageSettings><sr:Phase>{phase}</sr:Phase><sr:PhaseVoltageSettings>"
            f"{average}</sr:PhaseVoltageSettings></sr:PolyPhaseVoltageSettings>"
            for phase in (1, 2, 3)
        )
    return (
        f"<sr:RMSVoltageSettings>{v.elements(*_RMS)}</sr:RMSVoltageSettings>{phases}"
        f"{v.marker('RMSVoltageCountersNotReset')}"
    )


_VOLTAGE_EXAMPLE = Example(
    {
        "RMSExtremeOverVoltageMeasurementPeriod": "10",
        "RMSExtremeOverVoltageThreshold": "276",
        "RMSExtremeUnderVoltageMeasurementPeriod": "10",
        "RMSExtremeUnderVoltageThreshold": "184",
        "RMSVoltageSagMeasurementPeriod": "10",
        "RMSVoltageSagThreshold": "207",
        "RMSVoltageSwellMeasurementPeriod": "10",
        "RMSVoltageSwellThreshold": "253",
        "AverageRMSOverVoltageThreshold": "253",
        "AverageRMSUnderVoltageThreshold": "216",
        "AverageRMSVoltageMeasurementPeriod": "600",
        "PolyPhaseVoltageSettings": None,
        "RMSVoltageCountersNotReset": None,
    },
    _voltage_example,
)

_BILLING_PERIODS = ("Daily", "Weekly", "Monthly", "Quarterly", "SixMonthly", "Yearly")


def _billing_example(v: Values) -> str:
    """Gas when a Periodicity is given; else the electricity periodicity given (Monthly)."""
    if v.given("Periodicity"):
        gas = v.elements("BillingPeriodStart", "Periodicity")
        return f"<sr:GasBillingCalendar>{gas}</sr:GasBillingCalendar>"
    kind = v.first_given(_BILLING_PERIODS, "Monthly")
    if kind == "Daily":
        period = "<sr:Daily/>"
    elif kind in ("Weekly", "Monthly"):
        period = v.element(kind)
    else:
        start = v.elements("DayOfMonth", "BillingPeriodStartMonth")
        period = f"<sr:{kind}>{start}</sr:{kind}>"
    return (
        f"<sr:ElectricityBillingCalendar>{v.element('BillingTime')}{period}"
        "</sr:ElectricityBillingCalendar>"
    )


_BILLING_EXAMPLE = Example(
    {
        "BillingTime": "00:00:00",
        "Daily": None,
        "Weekly": None,
        "Monthly": "1",
        "Quarterly": None,
        "SixMonthly": None,
        "Yearly": None,
        "DayOfMonth": "1",
        "BillingPeriodStartMonth": "1",
        "BillingPeriodStart": Home.TOMORROW,
        "Periodicity": None,
    },
    _billing_example,
)

_MD_PERIOD_EXAMPLE = Example(
    {"StartTime": "16:00:00", "EndTime": "19:00:00"},
    lambda v: (
        "<sr:MaximumDemandTimePeriodSchedule>"
        f"{v.elements('StartTime', 'EndTime')}</sr:MaximumDemandTimePeriodSchedule>"
    ),
)

_MD_REGISTERS = (
    "MaxDemandActivePowerImportValue",
    "MaxDemandActivePowerExportValue",
    "MaxDemandConfigTimeActivePowerImportValue",
)
_MD_RESET_EXAMPLE = Example(
    {_MD_REGISTERS[0]: "yes", _MD_REGISTERS[1]: None, _MD_REGISTERS[2]: None},
    lambda v: "".join(v.marker(name) for name in _MD_REGISTERS),
)


def _import_mpxn_example(v: Values) -> str:
    """The MPANs (an ESME's), or the MPRN when ImportMPRN is given (a GSME's)."""
    if v.given("ImportMPRN"):
        return v.element("ImportMPRN")
    mpans = v.elements("ImportMPAN", "SecondaryImportMPAN")
    return f"<sr:ImportMPANs>{mpans}</sr:ImportMPANs>"


_IMPORT_MPXN_EXAMPLE = Example(
    {"ImportMPAN": Home.IMPORT_MPAN, "SecondaryImportMPAN": None, "ImportMPRN": Home.GAS_MPRN},
    _import_mpxn_example,
)


serves(
    "6.4.2",
    Codec(
        read=_empty(ResetLoadLimitCounter),
        build=_build_load_limit_reset,
        builds=frozenset({"ECS28b"}),
        example=EMPTY,
    ),
)
serves(
    "6.5",
    Codec(
        read=_read_voltage,
        build=_build_voltage,
        builds=frozenset({"ECS29a", "ECS29b", "ECS29c", "ECS29d"}),
        choose=_choose_voltage,
        example=_VOLTAGE_EXAMPLE,
    ),
)
serves(
    "6.8",
    Codec(
        read=_read_billing,
        build=_build_billing,
        builds=frozenset({"ECS30", "ECS30a", "GCS25", "GCS25a"}),
        choose=_choose_billing,
        example=_BILLING_EXAMPLE,
    ),
)
serves(
    "6.12",
    Codec(
        read=_read_power,
        build=_build_power,
        builds=frozenset({"ECS34"}),
        example=Example({"LowMediumPowerThreshold": "2000", "MediumHighPowerThreshold": "6000"}),
    ),
)
serves(
    "6.18.1",
    Codec(
        read=_read_md_period,
        build=_build_md_period,
        builds=frozenset({"ECS37"}),
        example=_MD_PERIOD_EXAMPLE,
    ),
)
serves(
    "6.18.2",
    Codec(
        read=_read_md_reset,
        build=_build_md_reset,
        builds=frozenset({"ECS57"}),
        example=_MD_RESET_EXAMPLE,
    ),
)
serves(
    "6.20.1",
    Codec(
        read=_read_import_mpxn,
        build=_build_import_mpxn,
        builds=frozenset({"ECS39a", "GCS41"}),
        choose=_choose_import_mpxn,
        example=_IMPORT_MPXN_EXAMPLE,
    ),
)
serves(
    "6.20.2",
    Codec(
        read=lambda body: ExportMpan(
            _mpxn("ExportMPAN", Fields(body, ("ExportMPAN",)).text("ExportMPAN"), (13,))
        ),
        build=_build_export_mpan,
        builds=frozenset({"ECS39b"}),
        # The DCC's reference sends it from the ACB (the import supplier's meter, set for the
        # export supplier).
        acb_use_cases=frozenset({"ECS39b"}),
        example=Example({"ExportMPAN": "1312345678444"}),
    ),
)
serves(
    "6.27",
    Codec(
        read=_empty(ResetVoltageCounters),
        build=_build_voltage_reset,
        builds=frozenset({"ECS29e", "ECS29f"}),
        choose_by_variant=_choose_voltage_reset,
        example=EMPTY,
    ),
)
