"""Configuration SRs (service reference 6 and the commissioning of 8.1.1): the device's
clock and settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lxml import etree

from gateway.srv.fields import Fields, read_datetime, read_int
from gateway.srv.registry import serves
from gateway.srv.spec import Codec, Command
from gbcs import content as gc

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


serves(
    "6.11",
    Codec(
        read=lambda body: SynchroniseClock(*_read_clock(body)), build=_build_clock, builds=_CLOCKS
    ),
)
serves(
    "8.1.1",
    Codec(
        read=lambda body: CommissionDevice(*_read_clock(body)), build=_build_clock, builds=_CLOCKS
    ),
)
