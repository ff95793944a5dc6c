"""hil figures: the IEC 62056-21 codec, the dongle framing, and whole optical sessions.

Prints one JSON object:

- ``iec62056_21``: data readouts (``--registers`` data sets each, default 64) decoded per
  second, fed whole and fed in 16-byte pieces (split reads), and encoded per second;
- ``dongle``: DATA frames of a ``--frame-size`` byte GBCS message (default 300) encoded and
  decoded per second, and the payload megabytes per second that makes;
- ``sessions``: whole readouts per second (sign-on, identification, option select, baud
  switch, readout, BCC) between the client and the virtual port over a pseudo-terminal with
  software 7E1, reaction times set to zero - the protocol and I/O cost, not the standard's
  waiting.

Codec figures are CPU time of this process (best of ``--rounds``), so other load on the
machine does not skew them; sessions are wall time (they cross the kernel's pty).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hil.dongle import FrameDecoder, encode_frame  # noqa: E402
from hil.iec62056_21 import DataReadout, DataSet, Decoder  # noqa: E402
from hil.obis import SERIAL_NUMBER, import_tou  # noqa: E402
from hil.optical import OpticalClient, OpticalTiming, open_optical  # noqa: E402
from hil.virtual_port import (  # noqa: E402
    MeterIdentity,
    MeterTiming,
    OpticalMeter,
    PtyOpticalPort,
    Reading,
    StaticReadout,
)


def best_rate(count: int, work: Callable[[], None], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return count / best if best > 0 else float("inf")


def codec(registers: int, rounds: int) -> dict[str, float]:
    readout = DataReadout(
        tuple(DataSet(f"1-0:1.8.{i}", f"{i * 1000 + 0.5:012.3f}", "kWh") for i in range(registers))
    )
    wire = readout.to_bytes()
    n = 2000

    def decode_whole() -> None:
        for _ in range(n):
            decoder = Decoder()
            decoder.feed(wire)
            assert decoder.next_message({DataReadout}) is not None

    pieces = [wire[i : i + 16] for i in range(0, len(wire), 16)]

    def decode_split() -> None:
        for _ in range(n // 4):
            decoder = Decoder()
            got = None
            for piece in pieces:
                decoder.feed(piece)
                got = decoder.next_message({DataReadout}) or got
            assert got is not None

    def encode() -> None:
        for _ in range(n):
            readout.to_bytes()

    return {
        "readout_bytes": len(wire),
        "decoded_per_s": round(best_rate(n, decode_whole, rounds)),
        "decoded_split_16_per_s": round(best_rate(n // 4, decode_split, rounds)),
        "encoded_per_s": round(best_rate(n, encode, rounds)),
    }


def dongle(frame_size: int, rounds: int) -> dict[str, float]:
    eui = bytes.fromhex("00db1234567890a0")
    payload = bytes((i * 37) & 0xFF for i in range(frame_size))  # holds C0 and DB bytes
    n = 5000
    frames = [encode_frame(eui, payload, i % 256) for i in range(256)]
    stream = b"".join(frames)

    def encode() -> None:
        for i in range(n):
            encode_frame(eui, payload, i % 256)

    def decode() -> None:
        decoder = FrameDecoder()
        for _ in range(n // 256):
            assert len(decoder.feed(stream)) == 256

    decoded_per_s = best_rate((n // 256) * 256, decode, rounds)
    return {
        "frame_size": frame_size,
        "encoded_per_s": round(best_rate(n, encode, rounds)),
        "decoded_per_s": round(decoded_per_s),
        "decoded_payload_mb_per_s": round(decoded_per_s * frame_size / 1e6, 2),
    }


async def sessions(count: int, registers: int) -> dict[str, float]:
    source = StaticReadout(
        MeterIdentity("BEN", "BENCH-1", max_baud=19200),
        (
            Reading(SERIAL_NUMBER, "12345678"),
            *(Reading(import_tou(i), Decimal(i) / 8, "kWh") for i in range(1, registers + 1)),
        ),
    )
    meter = OpticalMeter(source, timing=MeterTiming(0, 0, 1.5, 10))
    timing = OpticalTiming(reaction=0, fast_reaction=0, retry_pause=0)
    async with PtyOpticalPort(meter) as port:
        assert port.path is not None
        link = await open_optical(port.path)
        try:
            client = OpticalClient(link, timing=timing)
            await client.read_out()  # warm up
            start = time.perf_counter()
            for _ in range(count):
                readout = await client.read_out()
            elapsed = time.perf_counter() - start
        finally:
            await link.close()
    assert len(readout.registers) == registers + 1
    return {"count": count, "registers": registers, "per_s": round(count / elapsed, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registers", type=int, default=64)
    parser.add_argument("--frame-size", type=int, default=300)
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    figures = {
        "benchmark": "hil_codec",
        "python": platform.python_version(),
        "iec62056_21": codec(args.registers, args.rounds),
        "dongle": dongle(args.frame_size, args.rounds),
        "sessions": asyncio.run(sessions(args.sessions, 16)),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
