"""A ring buffer of recent frames with timestamps, dumped when a session fails.

Each entry records when (wall clock and monotonic), which way (``tx`` we sent, ``rx`` we
received, ``--`` a note such as a baud switch), the line speed, and the bytes. The dump is
text, one frame a line, readable by people and easy to diff.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path


class Direction(StrEnum):
    TX = "tx"
    RX = "rx"
    NOTE = "--"


@dataclass(frozen=True, slots=True)
class FrameRecord:
    wall: float
    monotonic: float
    direction: Direction
    data: bytes
    baud: int | None = None
    note: str = ""

    def render(self, origin: float) -> str:
        stamp = datetime.fromtimestamp(self.wall, UTC).strftime("%H:%M:%S.%f")[:-3]
        offset = f"+{self.monotonic - origin:8.3f}s"
        baud = f"{self.baud:>6}" if self.baud is not None else "      "
        if self.direction is Direction.NOTE:
            return f"{stamp} {offset} {baud} -- {self.note}"
        note = f"  # {self.note}" if self.note else ""
        return (
            f"{stamp} {offset} {baud} {self.direction.value} {len(self.data):5d} "
            f"{self.data.hex(' ')}  |{printable(self.data)}|{note}"
        )


def printable(data: bytes) -> str:
    """ASCII rendering with control characters named (``<STX>``) and others as ``.``."""
    names = {0x01: "<SOH>", 0x02: "<STX>", 0x03: "<ETX>", 0x04: "<EOT>", 0x06: "<ACK>"}
    names |= {0x15: "<NAK>", 0x0D: "<CR>", 0x0A: "<LF>", 0x00: "<NUL>"}
    out = []
    for byte in data:
        if byte in names:
            out.append(names[byte])
        elif 0x20 <= byte <= 0x7E:
            out.append(chr(byte))
        else:
            out.append(".")
    return "".join(out)


class FrameLog:
    """The last ``capacity`` frames; ``dump()`` renders them, ``write()`` saves them to a file."""

    def __init__(self, capacity: int = 128) -> None:
        if capacity < 1:
            raise ValueError(f"frame log capacity must be at least 1: {capacity}")
        self._records: deque[FrameRecord] = deque(maxlen=capacity)
        self.capacity = capacity

    def record(
        self, direction: Direction, data: bytes, *, baud: int | None = None, note: str = ""
    ) -> None:
        self._records.append(
            FrameRecord(time.time(), time.monotonic(), direction, bytes(data), baud, note)
        )

    def note(self, text: str, *, baud: int | None = None) -> None:
        self.record(Direction.NOTE, b"", baud=baud, note=text)

    @property
    def records(self) -> tuple[FrameRecord, ...]:
        return tuple(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def clear(self) -> None:
        self._records.clear()

    def dump(self) -> str:
        if not self._records:
            return "(no frames)\n"
        origin = self._records[0].monotonic
        lines = ["# time (UTC)  since first  baud  dir  bytes  hex  |ascii|"]
        lines += [record.render(origin) for record in self._records]
        return "\n".join(lines) + "\n"

    def write(self, path: Path) -> None:
        path.write_text(self.dump(), encoding="utf-8")
