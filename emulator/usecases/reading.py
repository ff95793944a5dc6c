"""The reading family on the emulated devices: the ESME's half-hour active import profile
(ECS22b, SR4.8.1) answered from the meter's recorded half hours, encrypted for the party
that asked, in the DCC's response shape."""

from __future__ import annotations

import struct
from typing import Any

from emulator.devices.base import DeviceContext, Reply, handles
from emulator.errors import CommandError
from gbcs import content as gc
from gbcs.devices import DeviceType
from gbcs.frames import Message
from gbcs.payloads._buf import Reader, axdr_length

UNIX_2000 = 946_684_800
"""2000-01-01T00:00:00Z in Unix seconds: the origin of the profile's capture times."""
HALF_HOUR = 1800
ECS22B = 0x0037

_ENTRY = struct.Struct(">II")
_PROFILE_HEAD = bytes.fromhex("02011302020606")
"""structure { compact-array of structure { capture time, active import } }: the capture
time and the half hour's import (Wh) both double-long-unsigned."""


def profile_plaintext(entries: list[tuple[int, int]]) -> bytes:
    """The ECS22b plaintext of (capture time in seconds since 2000, Wh) entries."""
    body = b"".join(_ENTRY.pack(t, v & 0xFFFF_FFFF) for t, v in entries)
    return _PROFILE_HEAD + axdr_length(len(body)) + body


def read_profile_plaintext(plaintext: bytes) -> list[tuple[int, int]]:
    """The entries of an ECS22b plaintext (the inverse of :func:`profile_plaintext`)."""
    if not plaintext.startswith(_PROFILE_HEAD):
        raise ValueError("not an ECS22b profile")
    reader = Reader(plaintext, len(_PROFILE_HEAD))
    n = reader.axdr_length()
    body = plaintext[reader.pos :]
    if len(body) != n or n % _ENTRY.size:
        raise ValueError("ECS22b profile length does not match its entries")
    return list(_ENTRY.iter_unpack(body))


def profile_entries(meter: Any, span: gc.Span) -> list[tuple[int, int]]:
    """The recorded half hours whose capture time (the end of the half hour) is in ``span``
    (inclusive), oldest first, as (seconds since 2000, Wh)."""
    start, end = span.seconds()
    out = []
    for begin, used in meter.half_hours():
        captured = begin + HALF_HOUR - UNIX_2000
        if start <= captured <= end:
            out.append((captured, used))
    return out


@handles(DeviceType.ESME, ECS22B)
def read_active_import_profile(
    device: Any, command: Message, now: int, ctx: DeviceContext
) -> Reply:
    """ECS22b: the half hours of the period asked, encrypted for the requester."""
    cmd = gc.decode_command(ECS22B, command.content)
    if not isinstance(cmd, gc.ProtectedRead) or cmd.span is None:
        raise CommandError("ECS22b content is not a profile read")
    if cmd.device != device.eui or cmd.requester != command.business_originator:
        raise CommandError("ECS22b protection parameters name other parties")
    plaintext = profile_plaintext(profile_entries(device.meter, cmd.span))
    encrypted = ctx.builder.encrypt_payload(
        device=device.eui,
        target=command.business_originator,
        counter=command.originator_counter,
        plaintext=plaintext,
    )
    return Reply(gc.ProtectedResponse(cmd.counter, cmd.device, cmd.requester, encrypted).encode())
