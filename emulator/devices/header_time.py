"""The GBCS header date-time of the responses that carry one.

The DCC's reference responses (RTDS) of the use cases below carry a date-time in the general
ciphering / general signing header, success and error alike: for a command that may be
future dated, when the device executed it; for a read, when the device read the values. Both
are the device's clock at the time it answers (a future-dated command held for later answers
when the device accepts it). One rule for all of them, applied by :class:`Device` to the
reply of whichever handler answers the use case - or to its error response - so a new
handler cannot forget it.
"""

from __future__ import annotations

import functools
from typing import Any

from emulator.clock import from_seconds
from gbcs.payloads.dlms import CosemDateTime
from gbcs.usecases import USE_CASES

_DATED_NAMES = frozenset(
    {
        # tariffs, prices, debt, payment mode, firmware activation: may be future dated
        "ECS01a", "ECS01b", "GCS01a", "GCS01b", "ECS02", "ECS03", "GCS02", "GCS03",
        "ECS08a", "GCS05", "ECS46c", "CS06",
        # top ups
        "CS01a", "CS01b",
        # register, prepayment and billing reads
        "ECS17b", "ECS17c", "ECS17d", "ECS17e", "GCS13a", "GCS13c", "ECS18a", "ECS18b",
        "ECS19", "GCS14",
    }
)  # fmt: skip
_DATED_PREFIXES = ("CS02b", "CS02g")  # certificate replacements (may be future dated)

DATED_RESPONSES: frozenset[int] = frozenset(
    code
    for code, uc in USE_CASES.items()
    if uc.name in _DATED_NAMES or uc.name.startswith(_DATED_PREFIXES)
)
"""Message codes whose responses carry the header date-time."""


def device_now(device: Any, now: int) -> bytes:
    """The device's clock at host time ``now``, as the header's COSEM date-time."""
    return _cosem(int(device.device_time(now)))


@functools.lru_cache(maxsize=4096)
def _cosem(seconds: int) -> bytes:
    # Many devices answer within the same second: the encoding is made once for each.
    return CosemDateTime.from_datetime(from_seconds(seconds)).to_bytes()
