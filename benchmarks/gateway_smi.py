"""Non-device SRs at the service layer (no HTTP, no XML): what the SMI rules and SQLite cost.

Prints one JSON object: requests/s and p50/p99 latency of SR12.2 (a write: pre-notify) and
SR8.2 (a read by MPxN), one transaction per request (``handle``) and grouped (``handle_batch``,
one commit per batch), for both durabilities. The HTTP figures are in
``benchmarks/gateway_nondevice.py``.

    python benchmarks/gateway_smi.py [--requests N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from gateway.inventory import MIGRATIONS
from gateway.model import (
    NON_DEVICE_ACB,
    DevicePrenotification,
    NonDeviceRequest,
    ReadInventory,
    RequestId,
    UpdateMPxN,
)
from gateway.services.nondevice import NonDeviceService
from gateway.storage import Durability, Storage
from gateway.users import DEFAULT_SUPPLIER, MeterPoints, seed_default_identities
from gbcs.devices import DeviceType

MPXN = "1312345678111"


def _service(folder: Path, durability: Durability) -> NonDeviceService:
    storage = Storage.open(folder / "gateway.db", migrations=MIGRATIONS, durability=durability)
    seed_default_identities(storage)
    MeterPoints(storage).register_meter_point(MPXN, "electricity", DEFAULT_SUPPLIER)
    return NonDeviceService(storage, clock=lambda: datetime.now(UTC))


def _requests(n: int, start: int) -> list[DevicePrenotification]:
    return [
        DevicePrenotification(
            (0x00DB000000000000 + start + i).to_bytes(8, "big"),
            "AB01",
            "010A030B",
            DeviceType.ESME,
            "SMETS V1.58",
            "0002012F",
            "A",
        )
        for i in range(n)
    ]


def _run(
    service: NonDeviceService,
    requests: Sequence[NonDeviceRequest],
    counter: list[int],
    batch: int,
) -> dict[str, float]:
    latencies: list[float] = []
    began = time.perf_counter()
    for first in range(0, len(requests), batch):
        chunk = requests[first : first + batch]
        items = []
        for request in chunk:
            counter[0] += 1
            items.append(
                (DEFAULT_SUPPLIER, RequestId(DEFAULT_SUPPLIER, NON_DEVICE_ACB, counter[0]), request)
            )
        t0 = time.perf_counter()
        if batch == 1:
            service.handle(*items[0])
        else:
            results = service.handle_batch(items)
            assert all(not isinstance(r, Exception) for r in results)
        elapsed = time.perf_counter() - t0
        latencies.extend([elapsed] * len(chunk))  # each waits for its batch's commit
    total = time.perf_counter() - began
    latencies.sort()
    return {
        "requests_per_s": round(len(requests) / total, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 3),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per measurement")
    args = parser.parse_args()
    n: int = args.requests
    results: dict[str, object] = {"benchmark": "gateway_smi", "requests": n}
    durabilities: tuple[Durability, ...] = ("full", "process")
    for durability in durabilities:
        with tempfile.TemporaryDirectory() as tmp:
            service = _service(Path(tmp), durability)
            counter = [0]
            try:
                for batch in (1, 32):
                    label = f"{durability}_batch{batch}"
                    start = counter[0] + 10
                    writes = _requests(n, start)
                    results[f"sr12.2_{label}"] = _run(service, writes, counter, batch)
                    reads: list[NonDeviceRequest] = [ReadInventory(mpxn=MPXN)] * n
                    # reads need a match: link one device to the meter point once
                    if batch == 1:
                        counter[0] += 1
                        service.handle(
                            DEFAULT_SUPPLIER,
                            RequestId(DEFAULT_SUPPLIER, NON_DEVICE_ACB, counter[0]),
                            UpdateMPxN(writes[0].device_id, import_mpxn=MPXN),
                        )
                    results[f"sr8.2_{label}"] = _run(service, reads, counter, batch)
            finally:
                service.storage.close()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
