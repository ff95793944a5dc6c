"""Shared pieces of the hil tests: a hand-made readout source, fast timings, a scripted meter."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Self

from hil.obis import (
    DATE,
    EXPORT_TOTAL,
    FIRMWARE_VERSION,
    IMPORT_TOTAL,
    SERIAL_NUMBER,
    TIME,
    import_tou,
)
from hil.optical import OpticalTiming
from hil.virtual_port import MeterIdentity, MeterTiming, Reading, StaticReadout

CLOCK = dt.datetime(2024, 3, 31, 0, 59, 58)

IDENTITY = MeterIdentity("LGZ", "E470SMETS2", max_baud=9600, device_address="12345678")

READINGS = (
    Reading(SERIAL_NUMBER, "12345678"),
    Reading(FIRMWARE_VERSION, "1.2.3"),
    Reading(DATE, CLOCK.date()),
    Reading(TIME, CLOCK.time()),
    Reading(IMPORT_TOTAL, Decimal("001234.567"), "kWh"),
    Reading(import_tou(1), Decimal("001000.000"), "kWh"),
    Reading(import_tou(2), Decimal("000234.567"), "kWh"),
    Reading(EXPORT_TOTAL, Decimal("000012.001"), "kWh"),
)


def static_source(identity: MeterIdentity = IDENTITY) -> StaticReadout:
    return StaticReadout(identity, READINGS)


# Small but not razor-thin: a loaded CI machine must still make these.
METER_TIMING = MeterTiming(
    reaction=0.002, fast_reaction=0.001, inactivity=0.5, programming_inactivity=2.0
)
CLIENT_TIMING = OpticalTiming(
    reaction=0.002,
    fast_reaction=0.001,
    answer_timeout=0.5,
    inter_char_timeout=0.5,
    session_timeout=5.0,
    retries=2,
    retry_pause=0.01,
    wake_up_duration=0.1,  # 3 NUL at 300 baud
    wake_up_pause=0.01,
)
SILENT_TIMING = OpticalTiming(
    reaction=0.001,
    answer_timeout=0.08,
    inter_char_timeout=0.08,
    session_timeout=1.0,
    retries=2,
    retry_pause=0.01,
)


@dataclass
class ScriptedMeter:
    """A TCP 'meter' that answers each sign-on and option select with scripted byte chunks.

    ``on_sign_on`` and ``on_select`` are lists of chunks (sent with ``gap`` seconds between
    them), so that tests can split messages anywhere, add noise, or stop half-way.
    """

    on_sign_on: Sequence[bytes]
    on_select: Sequence[bytes] = ()
    on_command: Sequence[bytes] = ()
    gap: float = 0.001
    echo: bool = False  # hand every received byte straight back, as a half-duplex head does
    received: bytearray = field(default_factory=bytearray)
    url: str = ""
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        host, port = self._server.sockets[0].getsockname()[:2]
        self.url = f"socket://{host}:{port}"
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while data := await reader.read(1024):
                self.received += data
                if self.echo:
                    writer.write(data)
                if data.startswith(b"/?"):
                    await self._play(writer, self.on_sign_on)
                elif data.startswith(b"\x06"):
                    await self._play(writer, self.on_select)
                elif data.startswith(b"\x01") and not data.startswith(b"\x01B0"):
                    await self._play(writer, self.on_command)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()
            self._tasks.discard(task)

    async def _play(self, writer: asyncio.StreamWriter, chunks: Sequence[bytes]) -> None:
        for chunk in chunks:
            await asyncio.sleep(self.gap)
            writer.write(chunk)
            await writer.drain()

    async def __aexit__(self, *exc: Any) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()


def split(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]
