"""The CHF's Sub GHz configuration (SR6.28, DBCH04): the channels it may use, by IEEE
802.15.4 channel page, and its duty-cycle and channel-change thresholds; and the request for
a Sub GHz channel scan (SR6.29, DBCH05), which sets the CHF's channel scan request object
``0-0:94.44.10.1`` (beside the configuration ``.0``, the channel ``.2`` and its log ``.3``)
to 0 (an unsigned, as GBCS gives the request): the CHF answers, then assesses whether it
may scan and says so in a DBCH08 alert.

A channel list is a 32-bit channel mask: the page in the top five bits (28: lower band
channels 0-26, 29: lower band 27-34, 30: lower band 35-61, 31: upper band 0-26) and one bit
per channel of the page below them (bit ``n - first channel``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from lxml import etree

from gateway.duis.xml import is_element, local_name
from gateway.srv.example import EMPTY, Example, ExampleError, Values
from gateway.srv.fields import Fields, empty, invalid, read_int
from gateway.srv.registry import serves
from gateway.srv.spec import Codec, Command
from gbcs import content as gc
from gbcs.payloads import dlms

__all__ = ["ChannelScan", "SubGhzConfiguration"]

CHANNEL_SCAN = "0-0:94.44.10.1"
SCAN_REQUEST = 0
"""The value DBCH05 writes to the channel scan request object."""

BANDS = (
    ("LowerBandSubGHzChannels0To26", 28, 0, 26),
    ("LowerBandSubGHzChannels27To34", 29, 27, 34),
    ("LowerBandSubGHzChannels35To61", 30, 35, 61),
    ("UpperBandSubGHzChannels0To26", 31, 0, 26),
)
"""(element, channel page, first channel, last channel)."""


@dataclass(frozen=True, slots=True)
class SubGhzConfiguration:
    """SR6.28 ``SetCHFSubGHzConfiguration``. Thresholds as the CHF keeps them: duty cycles
    in hundredths of a percent point (1.3 -> 130), percentages in hundredths (60.00 -> 6000)."""

    masks: tuple[int, int, int, int]
    normal_limited: int
    limited_critical: int
    changes_per_week: int
    gsme_curfew: int
    quieter: int
    noisier: int
    poor_comms: int
    poor_comms_periods: int
    noise_period: int
    failure: int
    retry: int


def _mask(element: etree._Element, page: int, first: int, last: int) -> int:
    mask = page << 27
    for child in element:
        if not is_element(child):
            continue
        name = local_name(child)
        match = re.fullmatch(r"Channel(\d+)", name)
        if match is None or not first <= int(match.group(1)) <= last:
            raise invalid(local_name(element), f"{name} is not a channel {first} to {last}")
        empty(child)
        mask |= 1 << (int(match.group(1)) - first)
    return mask


def _scaled(f: Fields, name: str, places: int, low: str, high: str) -> int:
    text = (f.text(name) or "").strip()
    if not re.fullmatch(rf"\d+(\.\d{{1,{places}}})?", text):
        raise invalid(name, f"{text!r} is not a decimal of at most {places} places")
    value = Decimal(text)
    if not Decimal(low) <= value <= Decimal(high):
        raise invalid(name, f"{text} is not from {low} to {high}")
    return int(value * 100)


_NAMES = (
    *(b[0] for b in BANDS),
    "NormalLimitedDutyCycleThreshold",
    "LimitedCriticalDutyCycleThreshold",
    "MaximumSubGHzChannelChangesPerWeek",
    "GSMECurfew",
    "ChannelQuieterThreshold",
    "ChannelNoisierThreshold",
    "NonGSMEPoorCommsPercentageThreshold",
    "NonGSMEPoorCommsMeasurementPeriods",
    "LocalCHNoiseMeasurementPeriod",
    "LocalCHFailurePercentage",
    "LocalCHRetryPercentage",
)


def _read(body: etree._Element) -> SubGhzConfiguration:
    f = Fields(body, _NAMES)
    masks = []
    for name, page, first, last in BANDS:
        element = f.elements.get(name)
        if element is None:
            raise invalid(f.owner, f"{name} is missing")
        masks.append(_mask(element, page, first, last))
    normal = _scaled(f, "NormalLimitedDutyCycleThreshold", 1, "0.5", "2.0")
    critical = _scaled(f, "LimitedCriticalDutyCycleThreshold", 1, "0.5", "655.3")
    if critical < normal:
        raise invalid("LimitedCriticalDutyCycleThreshold", "it is below the normal/limited one")
    return SubGhzConfiguration(
        (masks[0], masks[1], masks[2], masks[3]),
        normal,
        critical,
        read_int(
            "MaximumSubGHzChannelChangesPerWeek", f.text("MaximumSubGHzChannelChangesPerWeek"), 1, 7
        ),
        read_int("GSMECurfew", f.text("GSMECurfew"), 0, 65535),
        read_int("ChannelQuieterThreshold", f.text("ChannelQuieterThreshold"), 1, 255),
        read_int("ChannelNoisierThreshold", f.text("ChannelNoisierThreshold"), 0, 20),
        _scaled(f, "NonGSMEPoorCommsPercentageThreshold", 2, "1.00", "100.00"),
        read_int(
            "NonGSMEPoorCommsMeasurementPeriods",
            f.text("NonGSMEPoorCommsMeasurementPeriods"),
            50,
            150,
        ),
        read_int(
            "LocalCHNoiseMeasurementPeriod", f.text("LocalCHNoiseMeasurementPeriod"), 0, 65535
        ),
        _scaled(f, "LocalCHFailurePercentage", 2, "1.00", "100.00"),
        _scaled(f, "LocalCHRetryPercentage", 2, "1.00", "100.00"),
    )


def _build(cmd: Command) -> bytes:
    r: SubGhzConfiguration = cmd.request
    u16, u8 = dlms.long_unsigned, dlms.unsigned
    value = dlms.structure(
        *(dlms.BitString(32, m.to_bytes(4, "big")) for m in r.masks),
        u16(r.normal_limited),
        u16(r.limited_critical),
        u8(r.changes_per_week),
        u16(r.gsme_curfew),
        u8(r.quieter),
        u8(r.noisier),
        u16(r.poor_comms),
        u8(r.poor_comms_periods),
        u16(r.noise_period),
        u16(r.failure),
        u16(r.retry),
    )
    writes = ((dlms.set_(1, "0-0:94.44.10.0", 2), value),)
    return gc.DeviceSettings(cmd.use_case.code, cmd.counter, writes).encode()


@dataclass(frozen=True, slots=True)
class ChannelScan:
    """SR6.29 ``RequestCHFSubGHzChannelScan``: DBCH05 (an empty body)."""


def _read_scan(body: etree._Element) -> ChannelScan:
    Fields(body, ())
    return ChannelScan()


def _build_scan(cmd: Command) -> bytes:
    writes = ((dlms.set_(1, CHANNEL_SCAN, 2), dlms.unsigned(SCAN_REQUEST)),)
    return gc.DeviceSettings(cmd.use_case.code, cmd.counter, writes).encode()


# ---------------------------------------------------------------------------- examples


def _channels(name: str, value: str, first: int, last: int) -> str:
    """A band's channels from ``0-3,7`` (``none``: an empty band) as its marker elements."""
    if value == "none":
        return ""
    chosen: set[int] = set()
    for part in value.split(","):
        low, _, high = part.strip().partition("-")
        if not low.isdigit() or not (high or low).isdigit():
            raise ExampleError(f"{name}={value!r}: give channels as 0-26,30 or none")
        chosen.update(range(int(low), int(high or low) + 1))
    if not chosen <= set(range(first, last + 1)):
        raise ExampleError(f"{name}={value!r}: its channels are {first} to {last}")
    return "".join(f"<sr:Channel{c}/>" for c in sorted(chosen))


def _example(v: Values) -> str:
    bands = "".join(
        f"<sr:{name}>{_channels(name, v.get(name) or 'none', first, last)}</sr:{name}>"
        for name, _, first, last in BANDS
    )
    return bands + v.elements(*_NAMES[len(BANDS) :])


_EXAMPLE = Example(
    {
        **{name: f"{first}-{last}" for name, _, first, last in BANDS},
        "NormalLimitedDutyCycleThreshold": "1.0",
        "LimitedCriticalDutyCycleThreshold": "2.0",
        "MaximumSubGHzChannelChangesPerWeek": "4",
        "GSMECurfew": "600",
        "ChannelQuieterThreshold": "10",
        "ChannelNoisierThreshold": "10",
        "NonGSMEPoorCommsPercentageThreshold": "60.00",
        "NonGSMEPoorCommsMeasurementPeriods": "100",
        "LocalCHNoiseMeasurementPeriod": "3600",
        "LocalCHFailurePercentage": "50.00",
        "LocalCHRetryPercentage": "50.00",
    },
    _example,
)


serves(
    "6.28",
    # The DCC's reference sends it from the ACB, as the hub reads.
    Codec(
        read=_read,
        build=_build,
        builds=frozenset({"DBCH04"}),
        acb_use_cases=frozenset({"DBCH04"}),
        example=_EXAMPLE,
    ),
)
serves(
    "6.29",
    # Sent from the ACB, as DBCH04 (6.28) is in the DCC's reference: the CHF trusts it.
    Codec(
        read=_read_scan,
        build=_build_scan,
        builds=frozenset({"DBCH05"}),
        acb_use_cases=frozenset({"DBCH05"}),
        example=EMPTY,
    ),
)
