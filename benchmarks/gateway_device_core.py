"""The device SR path without HTTP: what `benchmarks/gateway_device.py` costs once the DUIS
request is read and its XML signature checked, measured in one process.

Starts a sandbox in-process (fresh temporary state, devices answering at once, ``--devices``
ESMEs shared between ``--suppliers`` + 1 supplier users) and, for each user, one client
submitting SR 4.1.1 (ECS17b) as a typed :class:`gateway.services.device.DeviceCall` straight
to the device service - rules, GBCS command MACed as the ACB, group commit, in-process WAN,
emulated ESME, response matched, DUIS response built and signed, filed in the inbox - one
after another, and one poller following the user's inbox through the route's handler
(``DeviceDuis._by_user``: the JSON a GET would answer). No HTTP, no XML parsing or request
signature check: the rest of the path, so a change to it can be judged without the noise of
the HTTP side. Each mode is run in turn: the storage work in the gateway's storage thread
(as with ``durability = "full"``) and on the event loop (as the sandbox runs it with
``durability = "process"``); the database is the same (``process``) in both.

An SR counts when its response is in the poller's answer. Reports process CPU per SR (all
threads) and SRs/s; warm-up requests (each device twice) are not timed. Prints ONE JSON
object.

    python benchmarks/gateway_device_core.py [--suppliers 15] [--requests 80] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gateway.model import RequestId  # noqa: E402
from gateway.services.device import DeviceCall  # noqa: E402
from gateway.srv.reading import ReadImportRegisters  # noqa: E402
from smetsim.sandbox import Sandbox, SandboxSettings, extra_device, supplier_of  # noqa: E402


async def run_mode(args: argparse.Namespace, on_loop: bool) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="smetsim-bench-device-core-"))
    n_users = args.suppliers + 1
    config = tmp / "sandbox.toml"
    config.write_text(
        '[gateway]\ndurability = "process"\nrdp_flush_interval = 3600\n'
        f"[sandbox]\ndevices = {n_users * args.devices_per_client}\n"
        f"suppliers = {args.suppliers}\nlatency = false\ntick_interval = 0\n"
    )
    settings = SandboxSettings.create(state=tmp / "state", port=0, config=config)
    sandbox = await Sandbox.start(settings)
    try:
        commits = sandbox.devices.commits
        commits.on_loop = on_loop
        users: dict[bytes, list[bytes]] = {}
        for index in range(1, n_users * args.devices_per_client + 1):
            users.setdefault(supplier_of(index, args.suppliers), []).append(extra_device(index))
        counter = int(time.time() * 1000)

        def call(user: bytes, device: bytes) -> DeviceCall:
            nonlocal counter
            counter += 1
            return DeviceCall(
                user, RequestId(user, device, counter), 1, "4.1.1", ReadImportRegisters()
            )

        async def client(user: bytes, devices: list[bytes], count: int) -> None:
            for n in range(count):
                accepted = await sandbox.devices.submit(call(user, devices[n % len(devices)]))
                if accepted.code != "I99":
                    raise RuntimeError(f"not sent: {accepted}")

        await asyncio.gather(*(client(u, d, 2 * len(d)) for u, d in users.items()))
        await asyncio.sleep(0.2)  # the warm-up's answers filed
        start = {u: max([0, *(r.seq for r in sandbox.devices.reports(recipient=u))]) for u in users}
        seen: dict[bytes, set[str]] = {u: set() for u in users}

        async def poller(user: bytes) -> None:
            after = start[user]
            eui = user.hex("-").upper()
            while len(seen[user]) < args.requests:
                answer = await sandbox.duis._by_user(eui, str(after), "1000", "2")
                assert answer.text is not None
                for report in json.loads(answer.text):
                    after = max(after, report["seq"])
                    if report["kind"] != "response":
                        raise RuntimeError(f"unexpected report: {report['kind']}")
                    seen[user].add(report["requestId"])

        batches, jobs = commits.batches, commits.jobs
        began, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(
            *(client(u, d, args.requests) for u, d in users.items()),
            *(poller(u) for u in users),
        )
        wall, cpu = time.perf_counter() - began, time.process_time() - cpu
        done = sum(len(s) for s in seen.values())
        return {
            "srs": done,
            "cpu_ms_per_sr": cpu * 1000 / done,
            "srs_per_second": done / wall,
            "jobs_per_batch": (commits.jobs - jobs) / max(1, commits.batches - batches),
        }
    finally:
        await sandbox.close()
        shutil.rmtree(tmp, ignore_errors=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suppliers", type=int, default=15, help="extra supplier users")
    parser.add_argument("--requests", type=int, default=80, help="SRs per user")
    parser.add_argument("--devices-per-client", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2, help="runs of each mode, interleaved")
    args = parser.parse_args()
    runs: dict[str, list[dict[str, Any]]] = {"storage_thread": [], "event_loop": []}
    for _ in range(args.rounds):
        runs["storage_thread"].append(await run_mode(args, on_loop=False))
        runs["event_loop"].append(await run_mode(args, on_loop=True))
    result: dict[str, Any] = {
        "benchmark": "gateway_device_core",
        "sr": "4.1.1 ECS17b (CV1) through DeviceService, fleet and inbox handler; no HTTP",
        "users": args.suppliers + 1,
        "srs_per_run": runs["event_loop"][0]["srs"],
        "rounds": args.rounds,
    }
    for mode, results in runs.items():
        cpu = [r["cpu_ms_per_sr"] for r in results]
        rate = [r["srs_per_second"] for r in results]
        result[mode] = {
            "cpu_ms_per_sr_min": round(min(cpu), 3),
            "cpu_ms_per_sr_median": round(statistics.median(cpu), 3),
            "srs_per_second_median": round(statistics.median(rate), 1),
            "jobs_per_batch": round(statistics.median(r["jobs_per_batch"] for r in results), 1),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
