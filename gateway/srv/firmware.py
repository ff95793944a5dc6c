"""Firmware SRs: 11.3 Activate Firmware (CS06), now or at a future date-time (the Device
response pattern: the command carries the execution date-time and the device executes it
then, alerting 0x8F66 / 0x8F67), and its cancellation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from lxml import etree

from gateway.schedule import is_cancellation
from gateway.srv.example import Example, Home
from gateway.srv.fields import Fields, invalid
from gateway.srv.registry import serves
from gateway.srv.spec import Codec, Command
from gbcs import content as gc

__all__ = ["GBCS_CANCEL_AT", "ActivateFirmware"]

GBCS_CANCEL_AT: Final = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
"""The execution date-time with which a GBCS command cancels a pending future-dated one (what
DUIS's 3000-12-31 becomes in the command)."""


@dataclass(frozen=True, slots=True)
class ActivateFirmware:
    """SR11.3 ``ActivateFirmware``: the SHA-256 hash of the manufacturer image to activate."""

    image_hash: bytes


def _read_activate(body: etree._Element) -> ActivateFirmware:
    # The gateway takes the ExecutionDateTime off the body it hands here (the command carries
    # it); the body as written, with it, reads the same.
    f = Fields(body, ("ExecutionDateTime", "FirmwareHash"), dated=True)
    text = f.text("FirmwareHash") or ""
    try:
        image_hash = bytes.fromhex(text)
    except ValueError:
        image_hash = b""
    if len(image_hash) != 32 or len(text) != 64:
        raise invalid("FirmwareHash", f"{text[:70]!r} is not 32 bytes of hex (a SHA-256 hash)")
    return ActivateFirmware(image_hash)


def _build_activate(cmd: Command) -> bytes:
    request: ActivateFirmware = cmd.request
    at = cmd.execution
    if at is not None and is_cancellation(at):
        at = GBCS_CANCEL_AT
    return gc.ActivateFirmware(request.image_hash, cmd.counter, at).encode()


serves(
    "11.3",
    Codec(
        read=_read_activate,
        build=_build_activate,
        builds=frozenset({"CS06"}),
        future_dated=True,
        # No default: the hash names an image the device was given (11.1 or the bench).
        # ExecutionDateTime=... makes it future-dated (the Device pattern).
        example=Example({"ExecutionDateTime": None, "FirmwareHash": Home.REQUIRED}),
    ),
)
