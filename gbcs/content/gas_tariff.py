"""The GSME's prices (GCS01b): ZCL Price PublishTariffInformation and PublishPriceMatrix.

The DCC fills in the Issuer Event ID from its own clock (``issued``, ZigBee UTC seconds),
and the start time from the request's execution date-time: 0 for now, the execution
date-time, or the cancellation values (0xFFFFFFFF in the tariff information, 0xFFFFFFFE in
the price matrix, as the DCC's reference commands carry them). Fields are little-endian.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar

from gbcs.content._common import _check_exact, register
from gbcs.content._zcl import _FROM_SERVER, _gbz, _payloads, _u32, _unpack
from gbcs.content.account import ZclStatus
from gbcs.errors import DecodeError, EncodeError
from gbcs.payloads import gbz
from gbcs.payloads.gbz import Cluster

TARIFF_INFORMATION = 0x04
PRICE_MATRIX = 0x05
BLOCK_SCHEME = 0x10
"""TariffTypeChargingScheme of a block tariff (0x00: TOU)."""
GBP, EUR = 826, 978
"""ISO 4217 currency codes (DUIS ``GBP`` and ``ECB``)."""
PRICE_DIGITS = 0x50
"""PriceTrailingDigit: five digits after the point (prices in 1e-5 of the currency)."""
THRESHOLD_DIVISOR = 1000
"""Block thresholds in m3 / 1000 (dm3)."""
CANCEL_INFORMATION = 0xFFFF_FFFF
CANCEL_MATRIX = 0xFFFF_FFFE
_INFO = "<IIIIBBBBBHBIB"
"""Tariff information up to the tier block mode (the label is empty: one zero byte)."""


@dataclass(frozen=True, slots=True)
class GasPrice:
    """GCS01b Set Price on GSME: the standing charge and either TOU prices (up to 4 tiers)
    or block prices (up to 4 blocks with ``thresholds`` thresholds in use), from ``start``
    (ZigBee UTC seconds; 0 now) or cancelling the pending one (``cancel``)."""

    issued: int
    standing_charge: int
    prices: tuple[int, ...]
    block: bool = False
    thresholds: int = 0
    start: int = 0
    cancel: bool = False
    currency: int = GBP
    message_code: ClassVar[int] = 0x00A3

    def __post_init__(self) -> None:
        if not 1 <= len(self.prices) <= 4:
            raise EncodeError(f"GCS01b: 1 to 4 prices, not {len(self.prices)}")

    def _information(self) -> bytes:
        start = CANCEL_INFORMATION if self.cancel else self.start
        head = struct.pack("<IIII", 0, _u32(self.issued, "GCS01b"), 1, _u32(start, "GCS01b start"))
        counts = bytes(
            [
                BLOCK_SCHEME if self.block else 0,
                0,  # empty tariff label
                0 if self.block else len(self.prices),
                self.thresholds if self.block else 0,
                0,  # unit of measure
            ]
        )
        tail = struct.pack(
            "<HBIB", self.currency, PRICE_DIGITS, _u32(self.standing_charge, "GCS01b"), 0xFF
        )
        scaling = (1).to_bytes(3, "little") + THRESHOLD_DIVISOR.to_bytes(3, "little")
        return head + counts + tail + scaling

    def _matrix(self) -> bytes:
        start = CANCEL_MATRIX if self.cancel else self.start
        head = struct.pack("<IIII", 0, _u32(self.issued, "GCS01b"), _u32(start, "GCS01b"), 1)
        control = bytes([0, 1, 0 if self.block else 1])
        entries = b"".join(
            bytes([i if self.block else i + 1]) + _u32(p, "GCS01b price").to_bytes(4, "little")
            for i, p in enumerate(self.prices)
        )
        return head + control + entries

    def encode(self) -> bytes:
        frames = [(TARIFF_INFORMATION, self._information()), (PRICE_MATRIX, self._matrix())]
        return _gbz(Cluster.PRICE, _FROM_SERVER, frames)

    @classmethod
    def decode(cls, content: bytes) -> GasPrice:
        payload = gbz.GbzPayload.from_bytes(content)
        if len(payload.components) != 2:
            raise DecodeError("GCS01b: tariff information and price matrix")
        (info,) = _payloads(
            gbz.GbzPayload(payload.components[:1]).to_bytes(), Cluster.PRICE, 0x04, "GCS01b"
        )
        (matrix,) = _payloads(
            gbz.GbzPayload(payload.components[1:]).to_bytes(), Cluster.PRICE, 0x05, "GCS01b"
        )
        fields = _unpack("<IIIIBBBBB", info[:21], "GCS01b")
        _, issued, _, start, scheme, _, _, thresholds, _ = fields
        currency, _, standing, _ = _unpack("<HBIB", info[21:29], "GCS01b")
        block = scheme == BLOCK_SCHEME
        prices = tuple(
            int.from_bytes(matrix[at + 1 : at + 5], "little") for at in range(19, len(matrix), 5)
        )
        cancel = start == CANCEL_INFORMATION
        found = cls(
            issued,
            standing,
            prices,
            block,
            thresholds,
            0 if cancel else start,
            cancel,
            currency,
        )
        _check_exact(found, content)
        return found


PUBLISH_CALENDAR, PUBLISH_DAY, PUBLISH_WEEK, PUBLISH_SEASONS, PUBLISH_SPECIAL = range(5)
BLOCK_THRESHOLDS = 0x06
CANCEL_CALENDAR = 0xFFFF_FFFE
"""The start time of a calendar (and its special days) that cancels a pending one."""


@dataclass(frozen=True, slots=True)
class GasDay:
    """A day profile: the price tier all day (0 on a block tariff)."""

    day_id: int
    tier: int


@dataclass(frozen=True, slots=True)
class GasSeason:
    """A season: its start as a ZCL date (year - 1900, month, day, day of week; 0xFF any)
    and the week profile it uses."""

    start: bytes
    week_id: int


@dataclass(frozen=True, slots=True)
class GasSpecialDay:
    date: bytes
    day_id: int


@dataclass(frozen=True, slots=True)
class GasTariff:
    """GCS01a Set Tariff and Price on GSME: the calendar (PublishCalendar, one
    PublishDayProfile a day profile, one PublishWeekProfile a week, PublishSeasons,
    PublishSpecialDays) then the prices of :class:`GasPrice` (with PublishBlockThresholds
    between its two commands on a block tariff)."""

    price: GasPrice
    days: tuple[GasDay, ...]
    weeks: tuple[tuple[int, tuple[int, ...]], ...]
    """(week id, the day ids of Monday .. Sunday)."""
    seasons: tuple[GasSeason, ...]
    special_days: tuple[GasSpecialDay, ...] = ()
    thresholds: tuple[int, ...] = ()
    message_code: ClassVar[int] = 0x006B

    def problems(self) -> list[str]:
        """Why a GSME would reject this tariff (empty when it is consistent)."""
        found: list[str] = []
        days = {d.day_id for d in self.days}
        weeks = {w for w, _ in self.weeks}
        if not self.days or not self.weeks or not self.seasons:
            found.append("the switching table needs day profiles, week profiles and seasons")
        if len(days) != len(self.days) or len(weeks) != len(self.weeks):
            found.append("a day or week profile is defined twice")
        for d in self.days:
            if not 0 <= d.tier <= len(self.price.prices) or (d.tier == 0) != self.price.block:
                found.append(f"day profile {d.day_id}: tier {d.tier} has no price")
        for week, day_ids in self.weeks:
            if not set(day_ids) <= days:
                found.append(f"week profile {week} names a day profile that is not defined")
        for season in self.seasons:
            if season.week_id not in weeks:
                found.append(f"a season names week profile {season.week_id}, not defined")
        for special in self.special_days:
            if special.day_id not in days:
                found.append(f"a special day names day profile {special.day_id}, not defined")
        if self.price.block and len(self.thresholds) != self.price.thresholds:
            found.append("the block thresholds in use differ from the threshold matrix")
        if list(self.thresholds) != sorted(self.thresholds):
            found.append("block thresholds must not decrease")
        return found

    def _start(self, cancel_value: int) -> int:
        return cancel_value if self.price.cancel else self.price.start

    def _frames(self) -> list[tuple[int, int, bytes]]:
        issued = _u32(self.price.issued, "GCS01a")
        ids = struct.pack("<III", 0, issued, issued)  # the calendar id is the event id
        start = self._start(CANCEL_CALENDAR)
        counts = bytes([len(self.seasons), len(self.weeks), len(self.days)])
        frames: list[tuple[int, int, bytes]] = [
            (
                Cluster.CALENDAR,
                PUBLISH_CALENDAR,
                ids + struct.pack("<IBBB", start, 0, 0, 0) + counts,
            )
        ]
        for day in self.days:
            entry = struct.pack("<HB", 0, day.tier)
            frames.append(
                (Cluster.CALENDAR, PUBLISH_DAY, ids + bytes([day.day_id, 1, 0, 1, 0]) + entry)
            )
        for week_id, day_ids in self.weeks:
            frames.append((Cluster.CALENDAR, PUBLISH_WEEK, ids + bytes([week_id, *day_ids])))
        seasons = b"".join(s.start + bytes([s.week_id]) for s in self.seasons)
        frames.append((Cluster.CALENDAR, PUBLISH_SEASONS, ids + b"\x00\x01" + seasons))
        special = b"".join(d.date + bytes([d.day_id]) for d in self.special_days)
        head = struct.pack("<IBBBB", start, 0, len(self.special_days), 0, 1)
        frames.append((Cluster.CALENDAR, PUBLISH_SPECIAL, ids + head + special))
        frames.append((Cluster.PRICE, TARIFF_INFORMATION, self.price._information()))
        if self.price.block:
            frames.append((Cluster.PRICE, BLOCK_THRESHOLDS, self._thresholds()))
        frames.append((Cluster.PRICE, PRICE_MATRIX, self.price._matrix()))
        return frames

    def _thresholds(self) -> bytes:
        start = self._start(CANCEL_MATRIX)
        head = struct.pack("<IIII", 0, _u32(self.price.issued, "GCS01a"), start, 1)
        values = b"".join(t.to_bytes(6, "little") for t in self.thresholds)
        return head + bytes([0, 1, 1, len(self.thresholds)]) + values

    def encode(self) -> bytes:
        frames = self._frames()
        components = tuple(
            gbz.GbzComponent(
                cluster,
                gbz.ZclFrame(_FROM_SERVER, seq, command, payload),
                gbz.CONTROL_LAST if seq == len(frames) - 1 else 0,
            )
            for seq, (cluster, command, payload) in enumerate(frames)
        )
        return gbz.GbzPayload(components).to_bytes()

    @classmethod
    def decode(cls, content: bytes) -> GasTariff:
        payload = gbz.GbzPayload.from_bytes(content)
        frames = []
        for component in payload.components:
            frame = component.frame
            if not isinstance(frame, gbz.ZclFrame):
                raise DecodeError("GCS01a: expected plain ZCL components")
            frames.append((component.cluster_id, frame.command_id, frame.payload))
        try:
            return cls._from_frames(frames, content)
        except (IndexError, ValueError, struct.error) as exc:
            raise DecodeError(f"GCS01a: {exc}") from None

    @classmethod
    def _from_frames(cls, frames: list[tuple[int, int, bytes]], content: bytes) -> GasTariff:
        by_kind: dict[tuple[int, int], list[bytes]] = {}
        for cluster, command, payload in frames:
            by_kind.setdefault((cluster, command), []).append(payload)
        calendar = Cluster.CALENDAR
        days = tuple(GasDay(p[12], p[19]) for p in by_kind.get((calendar, PUBLISH_DAY), []))
        weeks = tuple((p[12], tuple(p[13:20])) for p in by_kind.get((calendar, PUBLISH_WEEK), []))
        (raw_seasons,) = by_kind[(calendar, PUBLISH_SEASONS)]
        seasons = tuple(
            GasSeason(raw_seasons[at : at + 4], raw_seasons[at + 4])
            for at in range(14, len(raw_seasons), 5)
        )
        (raw_special,) = by_kind[(calendar, PUBLISH_SPECIAL)]
        special = tuple(
            GasSpecialDay(raw_special[at : at + 4], raw_special[at + 4])
            for at in range(20, len(raw_special), 5)
        )
        (info,) = by_kind[(Cluster.PRICE, TARIFF_INFORMATION)]
        (matrix,) = by_kind[(Cluster.PRICE, PRICE_MATRIX)]
        price_content = _gbz(
            Cluster.PRICE, _FROM_SERVER, [(TARIFF_INFORMATION, info), (PRICE_MATRIX, matrix)]
        )
        price = GasPrice.decode(price_content)
        thresholds: tuple[int, ...] = ()
        for raw in by_kind.get((Cluster.PRICE, BLOCK_THRESHOLDS), []):
            thresholds = tuple(
                int.from_bytes(raw[at : at + 6], "little") for at in range(20, len(raw), 6)
            )
        found = cls(price, days, weeks, seasons, special, thresholds)
        _check_exact(found, content)
        return found


register(0x006B, GasTariff.decode, ZclStatus.decode)

register(0x00A3, GasPrice.decode, ZclStatus.decode)

Command = GasPrice | GasTariff

__all__ = ["EUR", "GBP", "GasDay", "GasPrice", "GasSeason", "GasSpecialDay", "GasTariff"]
