"""Reading SRs (service references 4, 6.2, 6.13, 11.2 and the other reads): registers, logs,
profile data, configuration and firmware versions. The device answers; the command only asks."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from gateway.srv.example import EMPTY
from gateway.srv.fields import Fields
from gateway.srv.registry import serves
from gateway.srv.spec import Codec, Command
from gbcs import content as gc

__all__ = ["ReadFirmwareVersion", "ReadImportRegisters"]


@dataclass(frozen=True, slots=True)
class ReadImportRegisters:
    """SR4.1.1 ``ReadInstantaneousImportRegisters``: ECS17b (ESME) / GCS13a (GSME, GPF)."""


@dataclass(frozen=True, slots=True)
class ReadFirmwareVersion:
    """SR11.2 ``ReadFirmwareVersion``."""


def _read_registers(body: etree._Element) -> ReadImportRegisters:
    Fields(body, ("ExecutionDateTime",))
    return ReadImportRegisters()


def _build_registers(cmd: Command) -> bytes:
    if cmd.use_case.name == "GCS13a":
        return gc.ReadGasRegister().encode()
    # ECS17b names the parties the response is encrypted for.
    return gc.ReadImportRegisters(cmd.counter, cmd.originator, cmd.device).encode()


def _read_firmware(body: etree._Element) -> ReadFirmwareVersion:
    Fields(body, ("ExecutionDateTime",))
    return ReadFirmwareVersion()


def _build_firmware(cmd: Command) -> bytes:
    return gc.ReadFirmwareVersion(cmd.counter).encode()


serves(
    "4.1.1",
    Codec(
        read=_read_registers,
        build=_build_registers,
        builds=frozenset({"ECS17b", "GCS13a"}),
        example=EMPTY,
    ),
)
serves(
    "11.2",
    Codec(read=_read_firmware, build=_build_firmware, builds=frozenset({"ECS52"}), example=EMPTY),
)
