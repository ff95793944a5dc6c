"""The GBCS header date-time of the responses that carry one.

The DCC's reference responses (RTDS) of the use cases below carry a date-time in the general
ciphering / general signing header, success and error alike: for a command that may be
future dated, when the device executed it; for a read, when the device read the values. Both
are the device's clock at the time it answers (a future-dated command held for later answers
when the device accepts it). One rule for all of them, applied to whichever handler answers
the use case, so a new handler cannot forget it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from emulator.clock import from_seconds
from emulator.devices.families import FAMILY_HANDLERS, Handler, Reply
from emulator.devices.trust import DeviceContext
from gbcs.frames import Message
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
    return CosemDateTime.from_datetime(from_seconds(device.device_time(now))).to_bytes()


def dated(handler: Handler) -> Handler:
    """``handler``, its reply stamped with the device's time unless it set one itself."""

    def stamped(device: Any, command: Message, now: int, ctx: DeviceContext) -> Reply:
        reply = handler(device, command, now, ctx)
        if reply.date_time is not None:
            return reply
        return dataclasses.replace(reply, date_time=device_now(device, now))

    stamped.__doc__ = handler.__doc__
    stamped.__name__ = getattr(handler, "__name__", "stamped")
    return stamped


def dated_handlers(handlers: Mapping[int, Handler]) -> Mapping[int, Handler]:
    """A device class's own handlers, those of :data:`DATED_RESPONSES` stamped."""
    return MappingProxyType(
        {code: dated(h) if code in DATED_RESPONSES else h for code, h in handlers.items()}
    )


def stamp_family_handlers() -> None:
    """Stamp the family handlers registered so far (once, after every family imported)."""
    for key, handler in list(FAMILY_HANDLERS.items()):
        if key[1] in DATED_RESPONSES:
            FAMILY_HANDLERS[key] = dated(handler)
