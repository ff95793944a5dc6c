"""Round trips of real GBCS commands over the MQTT WAN, through a real mosquitto broker.

Starts mosquitto on a free loopback port and a fleet worker (:class:`smetsim.mqtt.
MqttFleetWorker`) in another process holding D ESMEs spread over H hubs; this process is the
gateway's side (:class:`smetsim.mqtt.MqttWan`). It sends N ECS17b commands (built and MACed
as the ACB builds them, before the timed window), at most W in flight, and times each from
its publish until the device's answer (MACed, its registers encrypted to the supplier) comes
back up. Every answer is checked to come from the device the command went to. The same
commands' cost through the fleet in-process (no broker) is given for comparison.
Prints ONE JSON object (``{"skipped": ...}`` when mosquitto is not installed).

    python benchmarks/mqtt_wan.py [--commands 3000] [--devices 200] [--hubs 4] [--window 64]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from fleet import PROFILE, SEED, HeadEndKeys, build_commands, eui  # noqa: E402

from emulator.fleet import Fleet  # noqa: E402
from gbcs.builders import Builder  # noqa: E402
from gbcs.keystore import generate_test_pki  # noqa: E402
from smetsim.mqtt import MqttFleetWorker, MqttWan  # noqa: E402

NOW = datetime(2024, 1, 15, 9, 0, tzinfo=UTC)


def hub_of(n: int, hubs: int) -> bytes:
    return bytes.fromhex("00db00ff") + (n % hubs).to_bytes(4, "big")


def make_fleet(devices: int, hubs: int) -> Fleet:
    fleet = Fleet(SEED, generate_test_pki(SEED), faults=False)
    for n in range(devices):
        fleet.add(eui(n), PROFILE, hub=hub_of(n, hubs))
    return fleet


def worker_main(port: int, devices: int, hubs: int, ready: Any) -> None:
    async def run() -> None:
        fleet = make_fleet(devices, hubs)
        worker = MqttFleetWorker(
            fleet,
            {hub_of(n, hubs) for n in range(hubs)},
            "127.0.0.1",
            port,
            clock=lambda: NOW,
            prefix="bench",
        )
        await worker.start()
        ready.set()
        await worker.wait_closed()

    asyncio.run(run())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def mosquitto() -> str | None:
    found = shutil.which("mosquitto")
    if found is not None:
        return found
    for candidate in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"):
        if Path(candidate).is_file():
            return candidate
    return None


async def round_trips(
    port: int, commands: list[tuple[bytes, bytes]], hubs: int, window: int
) -> dict[str, Any]:
    wan = MqttWan("127.0.0.1", port, prefix="bench")
    await wan.start()
    try:
        missing = await wan.wait_reachable({hub_of(n, hubs) for n in range(hubs)}, 30)
        if missing:
            raise SystemExit(f"the fleet worker did not come online: {len(missing)} hubs")
        waiting: dict[bytes, tuple[float, asyncio.Future[bytes]]] = {}
        latencies: list[float] = []

        def receive(source: bytes, frame: bytes) -> None:
            entry = waiting.pop(source, None)
            if entry is not None and not entry[1].done():
                latencies.append(time.perf_counter() - entry[0])
                entry[1].set_result(frame)

        wan.set_receiver(receive)
        loop = asyncio.get_running_loop()
        slots = asyncio.Semaphore(window)
        devices = len({target for target, _ in commands})

        locks = {target: asyncio.Lock() for target, _ in commands}

        async def one(index: int, target: bytes, frame: bytes) -> None:
            async with locks[target], slots:  # one command per device in flight
                future: asyncio.Future[bytes] = loop.create_future()
                waiting[target] = (time.perf_counter(), future)
                await wan.send(hub_of(index % devices, hubs), frame)
                await asyncio.wait_for(future, 30)

        cpu = time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(one(i, t, f) for i, (t, f) in enumerate(commands)))
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
    finally:
        await wan.close()
    ordered = sorted(latencies)
    return {
        "commands": len(commands),
        "answered": len(latencies),
        "seconds": round(seconds, 3),
        "round_trips_per_s": round(len(latencies) / seconds, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
        "gateway_side_cpu_ms_per_command": round(cpu / len(commands) * 1000, 3),
    }


def in_process(devices: int, hubs: int, commands: list[tuple[bytes, bytes]]) -> float:
    fleet = make_fleet(devices, hubs)
    started = time.process_time()
    for index, (_, frame) in enumerate(commands):
        fleet.deliver(hub_of(index % devices, hubs), frame, NOW)
    return len(commands) / (time.process_time() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=3000)
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--hubs", type=int, default=4)
    parser.add_argument("--window", type=int, default=64, help="commands in flight at most")
    args = parser.parse_args()
    binary = mosquitto()
    if binary is None:
        print(json.dumps({"benchmark": "mqtt_wan", "skipped": "mosquitto is not installed"}))
        return
    pki = generate_test_pki(SEED)
    builder = Builder(HeadEndKeys(pki, make_fleet(args.devices, args.hubs)))
    commands: list[tuple[bytes, bytes]] = []
    rounds = -(-args.commands // args.devices)
    for r in range(rounds):
        commands += build_commands(builder, args.devices, 0, 1_000 * (r + 1), False)
    commands = commands[: args.commands]
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "mosquitto.conf"
        config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        broker = subprocess.Popen(
            [binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        context = multiprocessing.get_context("spawn")
        ready = context.Event()
        worker = None
        try:
            for _ in range(500):
                try:
                    socket.create_connection(("127.0.0.1", port), 0.1).close()
                    break
                except OSError:
                    time.sleep(0.02)
            worker = context.Process(
                target=worker_main, args=(port, args.devices, args.hubs, ready), daemon=True
            )
            worker.start()
            if not ready.wait(60):
                raise SystemExit("the fleet worker did not start")
            figures = asyncio.run(round_trips(port, commands, args.hubs, args.window))
        finally:
            if worker is not None:
                worker.terminate()
                worker.join(10)
            broker.terminate()
            broker.wait(10)
    print(
        json.dumps(
            {
                "benchmark": "mqtt_wan",
                "transport": "mosquitto on loopback, QoS 1 both ways",
                "command": "ECS17b (MAC checked by the device, MACed encrypted answer)",
                "devices": args.devices,
                "hubs": args.hubs,
                "window": args.window,
                "over_mqtt": figures,
                "in_process_fleet_commands_per_s": round(
                    in_process(args.devices, args.hubs, commands)
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
