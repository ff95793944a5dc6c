"""Supply and load-control SRs (service reference 7): the load switch and the gas valve."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from lxml import etree

from gateway.srv.example import EMPTY
from gateway.srv.fields import Fields
from gateway.srv.registry import serves
from gateway.srv.spec import Codec, Command
from gbcs import content as gc

__all__ = ["ArmSupply", "DisableSupply", "EnableSupply", "ReadSupplyStatus"]


@dataclass(frozen=True, slots=True)
class EnableSupply:
    """SR7.1 ``EnableSupply``: ECS42 (ESME). GBCS has no remote valve opening for gas."""


@dataclass(frozen=True, slots=True)
class DisableSupply:
    """SR7.2 ``DisableSupply``: ECS43 (ESME) / GCS32 (GSME)."""


@dataclass(frozen=True, slots=True)
class ArmSupply:
    """SR7.3 ``ArmSupply``: ECS44 (ESME) / GCS39 (GSME)."""


_CONTENT: Final[Mapping[str, Callable[[int], bytes]]] = MappingProxyType(
    {
        "ECS42": lambda counter: gc.SupplyEnable(counter).encode(),
        "ECS43": lambda counter: gc.SupplyDisable(counter).encode(),
        "ECS44": lambda counter: gc.SupplyArm(counter).encode(),
        # ZCL commands carry a 32-bit issuer event id where DLMS carries the counter.
        "GCS32": lambda counter: gc.ValveClose(issuer_event_id=counter & 0xFFFF_FFFF).encode(),
        "GCS39": lambda counter: gc.ValveArm(issuer_event_id=counter & 0xFFFF_FFFF).encode(),
    }
)


def _build(cmd: Command) -> bytes:
    return _CONTENT[cmd.use_case.name](cmd.counter)


def _reader(
    kind: type[EnableSupply | DisableSupply | ArmSupply],
) -> Callable[[etree._Element], EnableSupply | DisableSupply | ArmSupply]:
    def read(body: etree._Element) -> EnableSupply | DisableSupply | ArmSupply:
        Fields(body, ())
        return kind()

    return read


serves(
    "7.1",
    Codec(read=_reader(EnableSupply), build=_build, builds=frozenset({"ECS42"}), example=EMPTY),
)
serves(
    "7.2",
    Codec(
        read=_reader(DisableSupply),
        build=_build,
        builds=frozenset({"ECS43", "GCS32"}),
        example=EMPTY,
    ),
)
serves(
    "7.3",
    Codec(
        read=_reader(ArmSupply), build=_build, builds=frozenset({"ECS44", "GCS39"}), example=EMPTY
    ),
)


@dataclass(frozen=True, slots=True)
class ReadSupplyStatus:
    """SR7.4 ``ReadSupplyStatus``: ECS45 (the ESME's load switch: a DLMS GET of the
    disconnect control's state) or GCS33 (the GSME's valve and battery)."""


def _read_status(body: etree._Element) -> ReadSupplyStatus:
    Fields(body, ())
    return ReadSupplyStatus()


def _build_status(cmd: Command) -> bytes:
    if cmd.use_case.name == "ECS45":
        return gc.DlmsRead(cmd.use_case.code, cmd.counter).encode()
    return gc.ReadValve().encode()


serves(
    "7.4",
    Codec(
        read=_read_status,
        build=_build_status,
        builds=frozenset({"ECS45", "GCS33"}),
        example=EMPTY,
    ),
)
