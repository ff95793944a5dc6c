"""The GSME's alert and event behaviours (GCS20, SR 6.22 to a GSME).

A GSME keeps one event configuration byte per event / alert code (the Device Management
cluster's Event Configuration): bits 0-2 how it is logged (0 not logged, 3 logged as a general
event), bit 3 push the alert to the WAN, bit 4 push it to the HAN, bit 6 raise the physical
(audible) alarm. GCS20 sets them with the cluster's Set Event Configuration command, published
by the supplier as the server of the cluster: ``Issuer Event ID, Start Time (0: now), Event
Configuration, Configuration Control (0: apply by list), the list: count, event ids``
(little-endian). One command carries one configuration, so a body whose events differ in
their settings is one command per distinct configuration, in one GBZ payload (the DCC's GCS20
reference command groups its template's eleven events so, in four components). The Issuer
Event ID is the DCC's clock when it builds the command, as in the other GBZ writes
(:mod:`gbcs.content.gas_tariff`).

The GSME answers a ZCL Default Response per component (:class:`~gbcs.content.ZclStatus`,
command 0x04; the meter is the client of the cluster).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Final

from gbcs.content._common import _check_exact, register
from gbcs.content._zcl import _FROM_SERVER, _gbz, _payloads, _u32, _unpack
from gbcs.content.account import ZclStatus
from gbcs.errors import DecodeError, EncodeError
from gbcs.payloads.gbz import Cluster

SET_EVENT_CONFIGURATION: Final = 0x04
"""Device Management cluster command (server to client)."""
APPLY_BY_LIST: Final = 0x00
"""Configuration Control: the configuration applies to the events listed."""
LOG_GENERAL: Final = 0x03
"""Event Configuration bits 0-2: log as a general event."""
PUSH_WAN: Final = 0x08
PUSH_HAN: Final = 0x10
RAISE_ALARM: Final = 0x40
"""Raise Alarm (Physical): the meter's audible alarm."""


@dataclass(frozen=True, slots=True)
class EventBehaviour:
    """What a GSME does with one event: the four switches of DUIS ``WANHANEventLogAlarm``."""

    wan: bool
    han: bool
    log: bool
    alarm: bool

    def to_bits(self) -> int:
        return (
            (LOG_GENERAL if self.log else 0)
            | (PUSH_WAN if self.wan else 0)
            | (PUSH_HAN if self.han else 0)
            | (RAISE_ALARM if self.alarm else 0)
        )

    @classmethod
    def from_bits(cls, bits: int) -> EventBehaviour:
        log = bits & 0x07
        if log not in (0, LOG_GENERAL) or bits & ~(0x07 | PUSH_WAN | PUSH_HAN | RAISE_ALARM):
            raise DecodeError(f"GCS20: event configuration 0x{bits:02X} is not one GBCS sets")
        return cls(
            wan=bool(bits & PUSH_WAN),
            han=bool(bits & PUSH_HAN),
            log=log == LOG_GENERAL,
            alarm=bool(bits & RAISE_ALARM),
        )


@dataclass(frozen=True, slots=True)
class GasEventBehaviours:
    """GCS20 Set Alert Behaviours - GSME: ``groups`` of (configuration, the event codes it
    applies to), one Set Event Configuration each."""

    issued: int
    groups: tuple[tuple[EventBehaviour, tuple[int, ...]], ...]
    message_code: ClassVar[int] = 0x00AD

    @classmethod
    def of(cls, issued: int, settings: Iterable[tuple[int, EventBehaviour]]) -> GasEventBehaviours:
        """The command setting each (code, behaviour): one group per distinct behaviour, in
        the order of each behaviour's first code."""
        groups: dict[EventBehaviour, list[int]] = {}
        for code, behaviour in settings:
            groups.setdefault(behaviour, []).append(code)
        return cls(issued, tuple((b, tuple(codes)) for b, codes in groups.items()))

    def answer(self, status: int = 0) -> ZclStatus:
        """The GSME's answer: a Default Response of ``status`` to each command."""
        return ZclStatus(
            Cluster.DEVICE_MANAGEMENT,
            False,
            tuple((SET_EVENT_CONFIGURATION, status) for _ in self.groups),
        )

    def settings(self) -> dict[int, EventBehaviour]:
        """Each event code's behaviour."""
        return {code: b for b, codes in self.groups for code in codes}

    def encode(self) -> bytes:
        if not self.groups:
            raise EncodeError("GCS20: no event to configure")
        issued = _u32(self.issued, "GCS20")
        frames = []
        seen: set[int] = set()
        for behaviour, codes in self.groups:
            if not codes or len(codes) > 0xFF:
                raise EncodeError("GCS20: 1 to 255 events a configuration")
            for code in codes:
                if not 0 <= code <= 0xFFFF or code in seen:
                    raise EncodeError(f"GCS20: event 0x{code:04X} is not one new 2-byte code")
                seen.add(code)
            head = struct.pack("<IIBBB", issued, 0, behaviour.to_bits(), APPLY_BY_LIST, len(codes))
            frames.append((SET_EVENT_CONFIGURATION, head + struct.pack(f"<{len(codes)}H", *codes)))
        return _gbz(Cluster.DEVICE_MANAGEMENT, _FROM_SERVER, frames)

    @classmethod
    def decode(cls, content: bytes) -> GasEventBehaviours:
        payloads = _payloads(content, Cluster.DEVICE_MANAGEMENT, SET_EVENT_CONFIGURATION, "GCS20")
        issued: int | None = None
        groups = []
        for payload in payloads:
            this, start, bits, control, count = _unpack("<IIBBB", payload[:11], "GCS20")
            if issued is not None and this != issued:
                raise DecodeError("GCS20: the commands carry different Issuer Event IDs")
            if start != 0 or control != APPLY_BY_LIST:
                raise DecodeError("GCS20: expected a configuration from now, applied by list")
            issued = this
            codes = _unpack(f"<{count}H", payload[11:], "GCS20")
            groups.append((EventBehaviour.from_bits(bits), tuple(codes)))
        assert issued is not None  # _payloads found at least one component
        found = cls(issued, tuple(groups))
        _check_exact(found, content)
        return found


register(GasEventBehaviours.message_code, GasEventBehaviours.decode, ZclStatus.decode)

Command = GasEventBehaviours

__all__ = ["EventBehaviour", "GasEventBehaviours"]
