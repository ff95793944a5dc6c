"""Load limiting, tamper and randomisation settings of the configuration family: the load
limiting general settings (6.4.1, ECS28a), the supply tamper state (6.25, ECS81) and the
randomised offset limit (7.12, ECS38).

Each is one :class:`gbcs.content.DeviceSettings` command writing the objects the matching
read returns, so that a read after the write shows it:

* ECS28a writes, as GBCS lays the use case out, four future-dated configuration objects
  (class 9000): the load limit supply state (``0-0:94.44.0.3``, true: disable the supply when
  the limit is exceeded), the power threshold (W, ``0-0:94.44.128.7``), the load limit period
  (s, ``.128.6``) and the restoration period (s, ``.128.8``) - each value to apply in
  attribute 4 - then each one's activation date-time in attribute 6: all-zero (take effect at
  once), the request's ``ExecutionDateTime`` (future-dated, the Device pattern: the ESME holds
  them until then and alerts 0x8F66 per object), or all wildcards (DUIS's 3000-12-31: cancel
  the pending ones). Once active the ESME holds them where ECS27 (4.15) reads them: the supply
  state's attribute 2 and the limiter ``0-0:17.0.0.255``'s attributes 4, 6 and 7.
* ECS81 writes the supply tamper state ECS26m (6.2.4) reads (``0-0:94.44.0.4``, true:
  locked).
* ECS38 writes the randomised offset limit (s), the third of ECS26c's (6.2.2) values
  (``0-0:94.44.0.1``; ECS26c reads offset, offset number, offset limit).

ECS81 and ECS38 write the objects the reads return, with their types (ECS26m, ECS26c)."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from gateway.schedule import is_cancellation
from gateway.srv.example import Example
from gateway.srv.fields import Fields, invalid, read_int
from gateway.srv.registry import serves
from gateway.srv.spec import Codec, Command
from gbcs import content as gc
from gbcs.content._common import _stamp
from gbcs.content.tariff import CANCEL, IMMEDIATE
from gbcs.payloads import dlms

__all__ = ["LoadLimitSettings", "RandomisedOffsetLimit", "SupplyTamperState", "activation"]

LOAD_LIMIT_SUPPLY_STATE = "0-0:94.44.0.3"
LOAD_LIMIT_THRESHOLD = "0-0:94.44.128.7"
LOAD_LIMIT_PERIOD = "0-0:94.44.128.6"
LOAD_LIMIT_RESTORATION = "0-0:94.44.128.8"
SUPPLY_TAMPER_STATE = "0-0:94.44.0.4"
RANDOMISED_OFFSET_LIMIT = "0-0:94.44.0.1"
MAX_RANDOMISED_OFFSET = 1799
"""Seconds: DUIS caps the limit below the half hour."""


def activation(cmd: Command) -> dlms.Data:
    """When a future-dated configuration object takes effect: at once (all-zero), at the
    request's execution date-time (the device holds it until then), or never (all wildcards:
    a cancellation of the pending one)."""
    if cmd.execution is None:
        return dlms.octet_string(IMMEDIATE)
    if is_cancellation(cmd.execution):
        return dlms.octet_string(CANCEL)
    return _stamp(cmd.execution)


def _choice(name: str, text: str | None, values: tuple[str, str]) -> bool:
    """True for the first of ``values`` (the one that acts), False for the second."""
    if text not in values:
        raise invalid(name, f"{text!r} is not {values[0]} or {values[1]}")
    return text == values[0]


@dataclass(frozen=True, slots=True)
class LoadLimitSettings:
    """SR6.4.1 ``UpdateDeviceConfigurationLoadLimitingGeneralSettings``: ECS28a."""

    period: int
    """Seconds the power must stay above the threshold before the limit acts."""
    threshold: int
    """W."""
    restoration: int
    """Seconds the power must stay below the threshold before the limit ends."""
    disable_supply: bool


_LOAD_LIMIT = (
    "LoadLimitPeriod",
    "LoadLimitPowerThreshold",
    "LoadLimitRestorationPeriod",
    "LoadLimitSupplyState",
)


def _read_load_limit(body: etree._Element) -> LoadLimitSettings:
    f = Fields(body, _LOAD_LIMIT)
    period, threshold, restoration = (
        read_int(name, f.text(name), 0, 0xFFFF_FFFF) for name in _LOAD_LIMIT[:3]
    )
    if threshold == 0:
        raise invalid("LoadLimitPowerThreshold", "0 W would hold every half hour over the limit")
    disable = _choice(
        "LoadLimitSupplyState", f.text("LoadLimitSupplyState"), ("Disable", "Unchanged")
    )
    return LoadLimitSettings(period, threshold, restoration, disable)


def _build_load_limit(cmd: Command) -> bytes:
    r: LoadLimitSettings = cmd.request
    u32 = dlms.double_long_unsigned
    values = (
        (LOAD_LIMIT_SUPPLY_STATE, dlms.boolean(r.disable_supply)),
        (LOAD_LIMIT_THRESHOLD, u32(r.threshold)),
        (LOAD_LIMIT_PERIOD, u32(r.period)),
        (LOAD_LIMIT_RESTORATION, u32(r.restoration)),
    )
    at = activation(cmd)
    writes = (
        *((dlms.set_(9000, obis, 4), value) for obis, value in values),
        *((dlms.set_(9000, obis, 6), at) for obis, _ in values),
    )
    return gc.DeviceSettings(cmd.use_case.code, cmd.counter, writes).encode()


@dataclass(frozen=True, slots=True)
class SupplyTamperState:
    """SR6.25 ``SetElectricitySupplyTamperState``: ECS81 - whether a tamper locks the supply."""

    locked: bool


def _read_tamper(body: etree._Element) -> SupplyTamperState:
    f = Fields(body, ("SupplyTamperState",))
    return SupplyTamperState(
        _choice("SupplyTamperState", f.text("SupplyTamperState"), ("Locked", "Unchanged"))
    )


def _build_tamper(cmd: Command) -> bytes:
    r: SupplyTamperState = cmd.request
    writes = ((dlms.set_(1, SUPPLY_TAMPER_STATE, 2), dlms.boolean(r.locked)),)
    return gc.DeviceSettings(cmd.use_case.code, cmd.counter, writes).encode()


@dataclass(frozen=True, slots=True)
class RandomisedOffsetLimit:
    """SR7.12 ``SetRandomisedOffsetLimit``: ECS38 - seconds (0 .. 1799)."""

    seconds: int


def _read_offset(body: etree._Element) -> RandomisedOffsetLimit:
    f = Fields(body, ("RandomisedOffsetLimit",))
    text = f.text("RandomisedOffsetLimit")
    return RandomisedOffsetLimit(read_int("RandomisedOffsetLimit", text, 0, MAX_RANDOMISED_OFFSET))


def _build_offset(cmd: Command) -> bytes:
    r: RandomisedOffsetLimit = cmd.request
    writes = ((dlms.set_(1, RANDOMISED_OFFSET_LIMIT, 2), dlms.long_unsigned(r.seconds)),)
    return gc.DeviceSettings(cmd.use_case.code, cmd.counter, writes).encode()


# ---------------------------------------------------------------------------- examples

serves(
    "6.4.1",
    Codec(
        read=_read_load_limit,
        build=_build_load_limit,
        builds=frozenset({"ECS28a"}),
        future_dated=True,
        example=Example(
            {
                "LoadLimitPeriod": "300",
                "LoadLimitPowerThreshold": "12000",
                "LoadLimitRestorationPeriod": "60",
                "LoadLimitSupplyState": "Unchanged",
            }
        ),
    ),
)
serves(
    "6.25",
    Codec(
        read=_read_tamper,
        build=_build_tamper,
        builds=frozenset({"ECS81"}),
        example=Example({"SupplyTamperState": "Locked"}),
    ),
)
serves(
    "7.12",
    Codec(
        read=_read_offset,
        build=_build_offset,
        builds=frozenset({"ECS38"}),
        example=Example({"RandomisedOffsetLimit": "600"}),
    ),
)
