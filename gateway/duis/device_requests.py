"""The device service requests' DUIS bodies to the typed requests of
:mod:`gateway.services.device`.

Like :mod:`gateway.duis.nondevice`, the readers check what the schema would (so that a gateway
started without ``--duis-schema`` still refuses a bad value with a sentence naming it,
``duis_invalid_element``), and a body that is not the SR's own is ``duis_body_mismatch``.
Future-dated requests (``ExecutionDateTime``) are refused: this gateway sends every command
at once.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from datetime import UTC, datetime
from datetime import time as time_of_day
from typing import Final

from lxml import etree

from gateway.duis.catalogue import CommandVariant, ServiceReferenceVariant
from gateway.duis.envelope import DuisRequest, parse_eui_text
from gateway.duis.xml import SR_NS, is_element, local_name
from gateway.errors import ServiceError
from gateway.services.device import (
    ArmSupply,
    CommissionDevice,
    DeviceCall,
    DeviceRequest,
    DisableSupply,
    EnableSupply,
    ReadFirmwareVersion,
    ReadImportRegisters,
    SignedPreCommand,
    SynchroniseClock,
    TopUpDevice,
    UpdateHanDeviceLog,
    UpdateImportTariff,
)
from gbcs import content as gc

__all__ = ["BODY_OF", "DEVICE_VARIANTS", "read_device_call", "read_device_request"]

V = ServiceReferenceVariant

BODY_OF: Final[dict[ServiceReferenceVariant, str]] = {
    V.SR_4_1_1: "ReadInstantaneousImportRegisters",
    V.SR_7_1: "EnableSupply",
    V.SR_7_2: "DisableSupply",
    V.SR_7_3: "ArmSupply",
    V.SR_6_11: "SynchroniseClock",
    V.SR_8_1_1: "CommissionDeviceSynchroniseClock",
    V.SR_8_11: "UpdateHANDeviceLog",
    V.SR_11_2: "ReadFirmwareVersion",
    V.SR_2_2: "TopUpDevice",
    V.SR_1_1_1: "UpdateImportTariffPrimaryElement",
}
"""The body element of each device SR this gateway serves (CV5/CV6: ``SignedPreCommand``)."""

DEVICE_VARIANTS: Final = frozenset(BODY_OF)

_SIGNED: Final = frozenset(
    {CommandVariant.SIGNED_PRECOMMAND, CommandVariant.SIGNED_PRECOMMAND_LOCAL}
)
_DATETIME: Final = re.compile(
    r"(-?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?"
)


def _invalid(element: str, reason: str) -> ServiceError:
    return ServiceError("duis_invalid_element", element=element, reason=reason)


class _Fields:
    """The children of a body element by local name: each at most once, none unknown."""

    def __init__(self, element: etree._Element, allowed: tuple[str, ...]) -> None:
        self.owner = local_name(element)
        self.elements: dict[str, etree._Element] = {}
        text = (element.text or "").strip()
        if text:
            raise _invalid(self.owner, f"it holds text {text[:40]!r}")
        for child in element:
            if not is_element(child):
                continue
            name = local_name(child)
            if etree.QName(child).namespace != SR_NS or name not in allowed:
                expected = ", ".join(allowed) if allowed else "nothing"
                raise _invalid(self.owner, f"unexpected element {name} (expected {expected})")
            if name in self.elements:
                raise _invalid(name, "it appears twice")
            self.elements[name] = child
        if "ExecutionDateTime" in self.elements:
            raise ServiceError(
                "duis_sr_not_supported",
                srv="with an ExecutionDateTime (future-dated)",
            )

    def text(self, name: str, *, required: bool = True) -> str | None:
        element = self.elements.get(name)
        if element is None:
            if required:
                raise _invalid(self.owner, f"{name} is missing")
            return None
        return (element.text or "").strip()


def _datetime(name: str, text: str | None) -> datetime:
    value = text or ""
    match = _DATETIME.fullmatch(value)
    if match is None:
        raise _invalid(name, f"{value!r} is not an xs:dateTime (e.g. 2014-12-31T23:59:10.00Z)")
    iso = value.replace("Z", "+00:00")
    if match.group(7):  # Python wants 0, 3 or 6 fraction digits
        fraction = match.group(7)[1:7].ljust(6, "0")
        iso = iso.replace(match.group(7), "." + fraction, 1)
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError as exc:
        raise _invalid(name, f"{value!r}: {exc}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _int(name: str, text: str | None, low: int, high: int) -> int:
    value = text or ""
    if not re.fullmatch(r"[+-]?\d+", value) or not low <= int(value) <= high:
        raise _invalid(name, f"{value!r} is not an integer from {low} to {high}")
    return int(value)


def _read_registers(body: etree._Element) -> DeviceRequest:
    _Fields(body, ("ExecutionDateTime",))
    return ReadImportRegisters()


def _read_firmware(body: etree._Element) -> DeviceRequest:
    _Fields(body, ("ExecutionDateTime",))
    return ReadFirmwareVersion()


def _supply(
    kind: type[EnableSupply | DisableSupply | ArmSupply],
) -> Callable[[etree._Element], DeviceRequest]:
    def read(body: etree._Element) -> DeviceRequest:
        _Fields(body, ())
        return kind()

    return read


def _read_clock(body: etree._Element) -> tuple[datetime, int]:
    f = _Fields(body, ("CurrentDateTime", "TolerancePeriod"))
    current = _datetime("CurrentDateTime", f.text("CurrentDateTime"))
    tolerance = _int("TolerancePeriod", f.text("TolerancePeriod"), 0, 86400)
    return current, tolerance


def _read_han_log(body: etree._Element) -> UpdateHanDeviceLog:
    f = _Fields(body, ("ExecutionDateTime", "DeviceID", "RequestType", "AddDeviceToCHFWhitelist"))
    device = parse_eui_text(f.text("DeviceID"), "DeviceID")
    kind = f.text("RequestType")
    if kind not in ("Add", "Remove"):
        raise _invalid("RequestType", f"{kind!r} is not Add or Remove")
    whitelist = f.elements.get("AddDeviceToCHFWhitelist")
    if kind == "Remove":
        if whitelist is not None:
            raise _invalid("AddDeviceToCHFWhitelist", "a Remove carries none")
        return UpdateHanDeviceLog(device, add=False)
    if whitelist is None:
        raise _invalid("UpdateHANDeviceLog", "an Add needs AddDeviceToCHFWhitelist")
    w = _Fields(
        whitelist,
        ("JoinTimePeriod", "InstallCode", "ImportMPxN", "SecondaryImportMPAN", "ExportMPAN"),
    )
    join = _int("JoinTimePeriod", w.text("JoinTimePeriod"), 1, 3600)
    code_text = w.text("InstallCode") or ""
    try:
        install_code = bytes.fromhex(code_text)
    except ValueError:
        install_code = b""
    if not 6 <= len(install_code) <= 16 or len(code_text) != 2 * len(install_code):
        raise _invalid("InstallCode", f"{code_text!r} is not 6 to 16 bytes of hex")
    mpxns: dict[str, str | None] = {}
    for name, low, high in (
        ("ImportMPxN", 1, 13),
        ("SecondaryImportMPAN", 13, 13),
        ("ExportMPAN", 13, 13),
    ):
        value = w.text(name, required=False)
        if value is not None and not low <= len(value) <= high:
            raise _invalid(name, f"{value!r} must be {low} to {high} characters long")
        mpxns[name] = value
    return UpdateHanDeviceLog(
        device,
        add=True,
        join_time_period=join,
        install_code=install_code,
        import_mpxn=mpxns["ImportMPxN"],
        secondary_import_mpan=mpxns["SecondaryImportMPAN"],
        export_mpan=mpxns["ExportMPAN"],
    )


def _read_top_up(body: etree._Element) -> TopUpDevice:
    f = _Fields(body, ("UTRN",))
    utrn = f.text("UTRN") or ""
    if not re.fullmatch(r"[0-9]{20}", utrn):
        raise _invalid("UTRN", f"{utrn!r} is not 20 decimal digits")
    return TopUpDevice(utrn)


def _read_signed(body: etree._Element) -> SignedPreCommand:
    f = _Fields(body, ("ExecutionDateTime", "GBCSPayload"))
    text = re.sub(r"\s+", "", f.text("GBCSPayload") or "")
    try:
        payload = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _invalid("GBCSPayload", "it is not base64") from None
    if not payload:
        raise _invalid("GBCSPayload", "it is empty")
    return SignedPreCommand(payload)


def _all(element: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in element if is_element(c) and local_name(c) == name]


def _one(element: etree._Element, name: str) -> etree._Element:
    found = _all(element, name)
    if len(found) != 1:
        raise _invalid(local_name(element), f"it must hold one {name}, not {len(found)}")
    return found[0]


def _number(element: etree._Element, name: str, low: int, high: int) -> int:
    return _int(name, (_one(element, name).text or "").strip(), low, high)


def _date_part(date: etree._Element, name: str, specified: str, width: int) -> int:
    """A DUIS Date field as COSEM: the value, 0xFF(FF) not specified, 0xFE / 0xFD for the
    last / second last day of the month."""
    part = _one(date, name)
    choices = [c for c in part if is_element(c)]
    if len(choices) != 1:
        raise _invalid(name, "it must hold one choice")
    choice = choices[0]
    kind = local_name(choice)
    if kind == specified:
        return _int(kind, (choice.text or "").strip(), 1, 9999)
    if kind == "LastDayOfMonth":
        return 0xFE
    if kind == "SecondLastDayOfMonth":
        return 0xFD
    return (1 << (8 * width)) - 1


def _cosem_date(date: etree._Element, *, with_time: bool) -> bytes:
    year = _date_part(date, "Year", "SpecifiedYear", 2)
    month = _date_part(date, "Month", "SpecifiedMonth", 1)
    day = _date_part(date, "DayOfMonth", "SpecifiedDayOfMonth", 1)
    weekday = _date_part(date, "DayOfWeek", "SpecifiedDayOfWeek", 1)
    raw = year.to_bytes(2, "big") + bytes([month, day, weekday])
    if with_time:
        raw += bytes([0, 0, 0, 0]) + b"\x80\x00\xff"
    return raw


def _time(text: str | None) -> time_of_day:
    value = (text or "").strip()
    match = re.fullmatch(r"(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]00:00)?", value)
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise _invalid("StartTime", f"{value!r} is not an xs:time of the day (e.g. 07:30:00)")
    return time_of_day(int(match.group(1)), int(match.group(2)), min(int(match.group(3)), 59))


def _read_tariff(body: etree._Element) -> DeviceRequest:
    """SR1.1.1 ``UpdateImportTariffPrimaryElement`` (electricity, TOU or block tariff) as
    the ECS01a content of :class:`gbcs.content.UpdateTariff` (its counter is set later)."""
    f = _Fields(body, ("ExecutionDateTime", "ElecTariffElements", "GasTariffElements",
                       "PriceElements"))  # fmt: skip
    if "ElecTariffElements" not in f.elements:
        raise _invalid(
            "UpdateImportTariffPrimaryElement", "an ESME tariff needs ElecTariffElements"
        )
    tariff = f.elements["ElecTariffElements"]
    table = _one(tariff, "SwitchingTable")
    days = []
    for day in _all(_one(table, "DayProfiles"), "DayProfile"):
        switches = []
        for schedule in _all(day, "ProfileSchedule"):
            action = _all(schedule, "TOUTariffAction") or _all(schedule, "BlockTariffAction")
            if len(action) != 1:
                raise _invalid("ProfileSchedule", "it needs a TOUTariffAction or BlockTariffAction")
            rate = _int(local_name(action[0]), (action[0].text or "").strip(), 1, 48)
            start = _time(_one(schedule, "StartTime").text)
            switches.append(gc.TariffSwitch(start, rate))
        days.append(gc.DayProfile(_number(day, "DayName", 1, 16), tuple(switches)))
    weeks = []
    for week in _all(_one(table, "WeekProfiles"), "WeekProfile"):
        refs = sorted(_all(week, "ReferencedDayName"), key=lambda e: int(e.get("index") or "0"))
        found = [_int("ReferencedDayName", (r.text or "").strip(), 1, 16) for r in refs]
        if len(found) != 7:
            raise _invalid("WeekProfile", f"it names {len(found)} days, not 7")
        names = (found[0], found[1], found[2], found[3], found[4], found[5], found[6])
        name = _number(week, "WeekName", 1, 4)
        weeks.append(gc.WeekProfile(bytes([name]), names))
    seasons = []
    for season in _all(_one(table, "Seasons"), "Season"):
        label = (_one(season, "SeasonName").text or "").strip().encode("ascii", "replace")[:8]
        season_start = _cosem_date(_one(season, "SeasonStartDate"), with_time=True)
        week_name = bytes([_number(season, "ReferencedWeekName", 1, 4)])
        seasons.append(gc.Season(label, season_start, week_name))
    special = tuple(
        gc.SpecialDay(
            index,
            _cosem_date(_one(sd, "Date"), with_time=False),
            _number(sd, "ReferencedDayName", 1, 16),
        )
        for index, sd in enumerate(_all(_one(tariff, "SpecialDays"), "SpecialDay"), start=1)
    )
    thresholds: list[tuple[int, ...]] = [(0xFFFF_FFFF,)] * 8
    for entry in _all(_one(tariff, "ThresholdMatrix"), "Thresholds"):
        slot = _int("Thresholds", entry.get("index"), 1, 8)
        blocks = sorted(_all(entry, "BlockThreshold"), key=lambda e: int(e.get("index") or "0"))
        thresholds[slot - 1] = tuple(
            _int("BlockThreshold", (b.text or "").strip(), 0, 0xFFFF_FFFF) for b in blocks
        )
    prices = _one(_one(f.elements["PriceElements"], "ElectricityPriceElements"), "StandingCharge")
    elements = prices.getparent()
    assert elements is not None
    standing = _int("StandingCharge", (prices.text or "").strip(), -32768, 32767)
    price_scale = _number(elements, "PriceScale", -128, 127)
    tou = [0] * 48
    block_prices = [[0] * 8 for _ in range(4)]
    for price in (
        _all(_all(elements, "TOUTariff")[0], "TOUPrice") if _all(elements, "TOUTariff") else []
    ):
        tou[_int("TOUPrice", price.get("index"), 1, 48) - 1] = _int(
            "TOUPrice", (price.text or "").strip(), -32768, 32767
        )
    for rates in (
        _all(_all(elements, "BlockTariff")[0], "BlockPrices")
        if _all(elements, "BlockTariff")
        else []
    ):
        rate = _int("BlockPrices", rates.get("index"), 1, 8)
        for price in _all(rates, "BlockPrice"):
            block = _int("BlockPrice", price.get("index"), 1, 4)
            block_prices[block - 1][rate - 1] = _int(
                "BlockPrice", (price.text or "").strip(), -32768, 32767
            )
    if _all(elements, "HybridTariff"):
        raise ServiceError("use_case_unavailable", srv="1.1.1", use_case="ECS01a hybrid tariffs")
    return UpdateImportTariff(
        gc.UpdateTariff(
            counter=0,
            seasons=tuple(seasons),
            week_profiles=tuple(weeks),
            day_profiles=tuple(days),
            standing_charge=standing,
            tou_prices=tuple(tou),
            block_prices=tuple(tuple(b) for b in block_prices),
            block_thresholds=tuple(thresholds),
            special_days=special,
            price_scale=price_scale,
        )
    )


_READERS: Final[dict[str, Callable[[etree._Element], DeviceRequest]]] = {
    "ReadInstantaneousImportRegisters": _read_registers,
    "EnableSupply": _supply(EnableSupply),
    "DisableSupply": _supply(DisableSupply),
    "ArmSupply": _supply(ArmSupply),
    "SynchroniseClock": lambda b: SynchroniseClock(*_read_clock(b)),
    "CommissionDeviceSynchroniseClock": lambda b: CommissionDevice(*_read_clock(b)),
    "UpdateHANDeviceLog": _read_han_log,
    "ReadFirmwareVersion": _read_firmware,
    "TopUpDevice": _read_top_up,
    "UpdateImportTariffPrimaryElement": _read_tariff,
    "SignedPreCommand": _read_signed,
}


def read_device_request(request: DuisRequest) -> DeviceRequest:
    """The typed request of a device SR's body (``SignedPreCommand`` for CV5/CV6)."""
    header = request.header
    variant = header.service_reference_variant
    expected = BODY_OF.get(variant)
    if expected is None:
        raise ServiceError("duis_sr_not_supported", srv=variant.value)
    if header.command_variant in _SIGNED:
        expected = "SignedPreCommand"
    if request.body_name != expected:
        raise ServiceError(
            "duis_body_mismatch", srv=variant.value, expected=expected, found=request.body_name
        )
    return _READERS[expected](request.body)


def read_device_call(request: DuisRequest, sender: bytes) -> DeviceCall:
    """The :class:`DeviceCall` the device service takes for a parsed request."""
    header = request.header
    return DeviceCall(
        sender=sender,
        request_id=header.request_id,
        command_variant=int(header.command_variant),
        service_reference_variant=header.service_reference_variant.value,
        request=read_device_request(request),
    )
