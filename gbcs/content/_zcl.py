"""What the GBZ (ZigBee cluster) contents of the tariff family share: building and reading
components, little-endian fields, ZCL strings, and the Issuer Event ID the DCC takes from its
clock."""

from __future__ import annotations

import datetime as _dt
import struct

from gbcs.errors import DecodeError, EncodeError
from gbcs.payloads import gbz
from gbcs.payloads.gbz import CONTROL_LAST, GbzComponent, GbzPayload, ZclFrame

_TO_DEVICE = gbz.FC_CLUSTER_SPECIFIC
"""ZCL commands the DCC sends as a client of the meter's server cluster (prepayment, events)."""
_FROM_SERVER = gbz.FC_CLUSTER_SPECIFIC | gbz.FC_SERVER_TO_CLIENT
"""ZCL commands the DCC publishes as the server of the cluster (messaging, device management)."""


def _gbz(cluster: int, frame_control: int, frames: list[tuple[int, bytes]]) -> bytes:
    components = tuple(
        GbzComponent(
            cluster,
            ZclFrame(frame_control, seq, command, payload),
            CONTROL_LAST if seq == len(frames) - 1 else 0,
        )
        for seq, (command, payload) in enumerate(frames)
    )
    return GbzPayload(components).to_bytes()


def _payloads(content: bytes, cluster: int, command: int, what: str) -> list[bytes]:
    payload = GbzPayload.from_bytes(content)
    found = []
    for component in payload.components:
        frame = component.frame
        if component.cluster_id != cluster or not isinstance(frame, ZclFrame):
            raise DecodeError(f"{what}: expected plain components of cluster 0x{cluster:04X}")
        if frame.command_id != command:
            raise DecodeError(f"{what}: expected ZCL command 0x{command:02X}")
        found.append(frame.payload)
    if not found:
        raise DecodeError(f"{what}: no component")
    return found


def _unpack(layout: str, raw: bytes, what: str) -> tuple[int, ...]:
    try:
        return struct.unpack(layout, raw)
    except struct.error:
        raise DecodeError(f"{what}: {len(raw)} bytes is not its ZCL payload") from None


def _zcl_string(text: bytes, what: str) -> bytes:
    if len(text) > 0xFE:
        raise EncodeError(f"{what}: at most 254 bytes in a ZCL octet string")
    return bytes([len(text)]) + text


def _read_strings(raw: bytes, n: int, what: str) -> tuple[list[bytes], bytes]:
    found = []
    for _ in range(n):
        if not raw or len(raw) < 1 + raw[0]:
            raise DecodeError(f"{what}: a ZCL octet string runs past the payload")
        found.append(raw[1 : 1 + raw[0]])
        raw = raw[1 + raw[0] :]
    return found, raw


def _u32(value: int, what: str) -> int:
    if not 0 <= value <= 0xFFFF_FFFF:
        raise EncodeError(f"{what}: {value} is not an unsigned 32-bit value")
    return value


def issuer_id(when: _dt.datetime) -> int:
    """The Issuer Event ID the DCC gives a ZCL command it builds at ``when``."""
    return gbz.zigbee_time(when)
