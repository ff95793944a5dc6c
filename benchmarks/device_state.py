"""What a meter's half-hour record costs once the meter has run for a while: the size of its
saved state (what the device store writes after every command it answers), the time to save
and restore it, the Python heap each meter holds, and the time to regenerate the last 30 days
of its half hours (the core of a 4.8.1 read) and all it holds.

Creates ``--meters`` ESMEs (and as many GSMEs), runs each ``--days`` days of half hours on its
clock, then measures. Save: ``to_json`` and the device store's JSON encoding; restore:
``json.loads`` and ``Fleet.load_state`` into a fresh fleet. Times are the median over the
meters, in process CPU time. Prints ONE JSON object.

    python benchmarks/device_state.py [--days 400] [--meters 50]
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emulator.fleet import Fleet  # noqa: E402
from gbcs.keystore import generate_test_pki  # noqa: E402

SEED = b"device-state-benchmark"
START = datetime(2024, 1, 15, 9, 0, tzinfo=UTC)
PROFILES = {"esme": "northbrook-nb100", "gsme": "northbrook-ng20"}
ENCODE = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode
MONTH = 30 * 48


def _eui(kind: int, n: int) -> bytes:
    return bytes.fromhex("00db00") + bytes([kind]) + n.to_bytes(4, "big")


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 3)


def _cpu() -> float:
    return time.process_time()


def run(days: int, meters: int) -> dict[str, object]:
    pki = generate_test_pki(SEED)
    now = int(START.timestamp())
    later = now + days * 86_400
    out: dict[str, object] = {"benchmark": "device_state", "days_run": days, "meters": meters}
    for kind, (name, profile) in enumerate(PROFILES.items()):
        fleet = Fleet(SEED, pki)
        euis = [_eui(kind, n) for n in range(meters)]
        for eui in euis:
            fleet.add(eui, profile)
        devices = [fleet.device(eui, now) for eui in euis]
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for device in devices:
            device.tick(later)
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        saves, restores, months, reads, sizes = [], [], [], [], []
        fresh = Fleet(SEED, pki)
        for eui in euis:
            fresh.add(eui, profile)
        for eui, device in zip(euis, devices, strict=True):
            t0 = _cpu()
            text = ENCODE(fleet.state_of(eui))
            t1 = _cpu()
            fresh.load_state(json.loads(text))
            t2 = _cpu()
            month = device.meter.half_hours(MONTH)  # type: ignore[attr-defined]
            t3 = _cpu()
            held = device.meter.half_hours()  # type: ignore[attr-defined]
            t4 = _cpu()
            saves.append(t1 - t0)
            restores.append(t2 - t1)
            months.append(t3 - t2)
            reads.append(t4 - t3)
            sizes.append(len(text))
            restored = fresh.device(eui, later).meter  # type: ignore[attr-defined]
            if restored.half_hours(MONTH) != month:
                raise SystemExit("the restored meter holds other half hours")
        out[name] = {
            "half_hours_held": len(held),
            "saved_state_bytes": round(statistics.median(sizes)),
            "save_ms": _median_ms(saves),
            "restore_ms": _median_ms(restores),
            "last_30_days_ms": _median_ms(months),
            "last_30_days_held": len(month),
            "all_half_hours_ms": _median_ms(reads),
            "heap_bytes_per_meter_for_the_run": round((after - before) / meters),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument("--meters", type=int, default=50)
    args = parser.parse_args()
    print(json.dumps(run(args.days, args.meters)))


if __name__ == "__main__":
    main()
