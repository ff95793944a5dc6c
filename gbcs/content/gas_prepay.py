"""The GSME's prepayment configuration (GCS05): emergency credit, the overall debt cap, the
low credit warning level, the maximum credit limits, and the non-disablement calendar (the
times the valve must not close for lack of credit).

As in :mod:`gbcs.content.gas_tariff`: the Issuer Event ID (and calendar id) is the DCC's
clock when it builds the command, the start / implementation times the request's execution
date-time (0: now), and a cancellation carries 0xFFFFFFFF in the prepayment commands and
0xFFFFFFFE in the calendar's, as the DCC's reference commands do.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar

from gbcs.content._common import _check_exact, register
from gbcs.content._zcl import _FROM_SERVER, _TO_DEVICE, _u32
from gbcs.content.account import ZclStatus
from gbcs.content.gas_tariff import (
    CANCEL_CALENDAR,
    PUBLISH_CALENDAR,
    PUBLISH_DAY,
    PUBLISH_SEASONS,
    PUBLISH_SPECIAL,
    PUBLISH_WEEK,
    GasSeason,
    GasSpecialDay,
)
from gbcs.errors import DecodeError, EncodeError
from gbcs.payloads import gbz
from gbcs.payloads.gbz import Cluster

EMERGENCY_CREDIT_SETUP = 0x03
LOW_CREDIT_WARNING = 0x09
MAXIMUM_CREDIT_LIMIT = 0x0B
OVERALL_DEBT_CAP = 0x0C
NON_DISABLEMENT_CALENDAR = 0x03
"""CalendarType of the friendly credit (non-disablement) calendar."""
CANCEL_PREPAYMENT = 0xFFFF_FFFF


@dataclass(frozen=True, slots=True)
class NonDisablementDay:
    """A day profile of the non-disablement calendar: (minutes after midnight, start)
    switches; ``start`` True begins a non-disablement period, False ends it."""

    day_id: int
    switches: tuple[tuple[int, bool], ...]


@dataclass(frozen=True, slots=True)
class GasPrepayConfig:
    """GCS05 Update Prepayment Configurations on GSME."""

    issued: int
    debt_cap: int
    emergency_credit_limit: int
    emergency_credit_threshold: int
    low_credit_threshold: int
    max_meter_balance: int
    max_credit_threshold: int
    days: tuple[NonDisablementDay, ...]
    weeks: tuple[tuple[int, tuple[int, ...]], ...]
    seasons: tuple[GasSeason, ...]
    special_days: tuple[GasSpecialDay, ...] = ()
    start: int = 0
    cancel: bool = False
    message_code: ClassVar[int] = 0x006F

    def _frames(self) -> list[tuple[int, int, int, bytes, int | None]]:
        """(cluster, frame control, command, payload, from-date-time) a component."""
        issued = _u32(self.issued, "GCS05")
        at = CANCEL_PREPAYMENT if self.cancel else _u32(self.start, "GCS05 start")
        calendar_at = CANCEL_CALENDAR if self.cancel else at
        p = Cluster.PREPAYMENT
        values = [
            self.debt_cap,
            self.emergency_credit_limit,
            self.emergency_credit_threshold,
            self.low_credit_threshold,
            self.max_meter_balance,
            self.max_credit_threshold,
        ]
        for value in values:
            _u32(value, "GCS05 value")
        setup = struct.pack("<IIII", issued, at, *values[1:3])
        cap = struct.pack("<IIII", 0, issued, at, values[0])
        limits = struct.pack("<IIIII", 0, issued, at, *values[4:])
        frames: list[tuple[int, int, int, bytes, int | None]] = [
            (p, _TO_DEVICE, EMERGENCY_CREDIT_SETUP, setup, None),
            (p, _TO_DEVICE, OVERALL_DEBT_CAP, cap, None),
            (p, _TO_DEVICE, LOW_CREDIT_WARNING, struct.pack("<I", values[3]), at),
            (p, _TO_DEVICE, MAXIMUM_CREDIT_LIMIT, limits, None),
        ]
        c = Cluster.CALENDAR
        ids = struct.pack("<III", 0, issued, issued)
        counts = bytes([len(self.seasons), len(self.weeks), len(self.days)])
        head = struct.pack("<IBBB", calendar_at, NON_DISABLEMENT_CALENDAR, 0, 0)
        frames.append((c, _FROM_SERVER, PUBLISH_CALENDAR, ids + head + counts, None))
        for day in self.days:
            entries = b"".join(struct.pack("<HB", m, int(s)) for m, s in day.switches)
            n = len(day.switches)
            info = bytes([day.day_id, n, 0, 1, NON_DISABLEMENT_CALENDAR])
            frames.append((c, _FROM_SERVER, PUBLISH_DAY, ids + info + entries, None))
        for week_id, day_ids in self.weeks:
            frames.append((c, _FROM_SERVER, PUBLISH_WEEK, ids + bytes([week_id, *day_ids]), None))
        seasons = b"".join(s.start + bytes([s.week_id]) for s in self.seasons)
        frames.append((c, _FROM_SERVER, PUBLISH_SEASONS, ids + b"\x00\x01" + seasons, None))
        special = b"".join(d.date + bytes([d.day_id]) for d in self.special_days)
        n = len(self.special_days)
        info = struct.pack("<IBBBB", calendar_at, NON_DISABLEMENT_CALENDAR, n, 0, 1)
        frames.append((c, _FROM_SERVER, PUBLISH_SPECIAL, ids + info + special, None))
        return frames

    def encode(self) -> bytes:
        frames = self._frames()
        if len(frames) > 0xFF:
            raise EncodeError("GCS05: too many calendar entries")
        components = tuple(
            gbz.GbzComponent(
                cluster,
                gbz.ZclFrame(fc, seq, command, payload),
                (gbz.CONTROL_LAST if seq == len(frames) - 1 else 0)
                | (gbz.CONTROL_FROM_DATE_TIME if when is not None else 0),
                when,
            )
            for seq, (cluster, fc, command, payload, when) in enumerate(frames)
        )
        return gbz.GbzPayload(components).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> GasPrepayConfig:
        try:
            return cls._decode(content)
        except (IndexError, ValueError, KeyError, struct.error) as exc:
            raise DecodeError(f"GCS05: {exc}") from None

    @classmethod
    def _decode(cls, content: bytes) -> GasPrepayConfig:
        by: dict[tuple[int, int], list[bytes]] = {}
        low_at = 0
        for component in gbz.GbzPayload.from_bytes(content).components:
            frame = component.frame
            if not isinstance(frame, gbz.ZclFrame):
                raise DecodeError("GCS05: expected plain ZCL components")
            by.setdefault((component.cluster_id, frame.command_id), []).append(frame.payload)
            if component.from_date_time is not None:
                low_at = component.from_date_time
        p, c = Cluster.PREPAYMENT, Cluster.CALENDAR
        issued, at, limit, threshold = struct.unpack("<IIII", by[(p, EMERGENCY_CREDIT_SETUP)][0])
        *_, cap = struct.unpack("<IIII", by[(p, OVERALL_DEBT_CAP)][0])
        (low,) = struct.unpack("<I", by[(p, LOW_CREDIT_WARNING)][0])
        *_, balance, per_top_up = struct.unpack("<IIIII", by[(p, MAXIMUM_CREDIT_LIMIT)][0])
        days = tuple(
            NonDisablementDay(
                raw[12],
                tuple(
                    (int.from_bytes(raw[k : k + 2], "little"), bool(raw[k + 2]))
                    for k in range(17, len(raw), 3)
                ),
            )
            for raw in by.get((c, PUBLISH_DAY), [])
        )
        weeks = tuple((raw[12], tuple(raw[13:20])) for raw in by.get((c, PUBLISH_WEEK), []))
        (raw_seasons,) = by[(c, PUBLISH_SEASONS)]
        seasons = tuple(
            GasSeason(raw_seasons[k : k + 4], raw_seasons[k + 4])
            for k in range(14, len(raw_seasons), 5)
        )
        (raw_special,) = by[(c, PUBLISH_SPECIAL)]
        special = tuple(
            GasSpecialDay(raw_special[k : k + 4], raw_special[k + 4])
            for k in range(20, len(raw_special), 5)
        )
        cancel = at == CANCEL_PREPAYMENT
        found = cls(
            issued,
            cap,
            limit,
            threshold,
            low,
            balance,
            per_top_up,
            days,
            weeks,
            seasons,
            special,
            0 if cancel else at,
            cancel,
        )
        if low_at != (CANCEL_PREPAYMENT if cancel else at):
            raise DecodeError("GCS05: the low credit level starts at another time")
        _check_exact(found, content)
        return found


register(0x006F, GasPrepayConfig.decode, ZclStatus.decode)

Command = GasPrepayConfig

__all__ = ["GasPrepayConfig", "NonDisablementDay"]
