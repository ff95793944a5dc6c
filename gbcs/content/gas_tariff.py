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
from gbcs.content._zcl import _gbz, _payloads, _u32, _unpack
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
_FROM_SERVER = gbz.FC_CLUSTER_SPECIFIC | gbz.FC_SERVER_TO_CLIENT
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


register(0x00A3, GasPrice.decode, ZclStatus.decode)

Command = GasPrice

__all__ = ["EUR", "GBP", "GasPrice"]
